/**
 * The inference index at start reads only the entry types its queue and registry fold (filtered by the store);
 * it must end exactly where folding every entry ends, and then follow new entries without a gap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { EntryMeta, JsonObject } from '../ledger/entry.js';
import { KeyRing } from '../ledger/key-ring.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { InferenceIndex } from './inference.index.js';
import { JobQueue } from './jobs/job-queue.js';

let dir: string;
let store: SqliteEventStore;

const meta = (tenant: string): EntryMeta => ({
  tenant,
  actor: { sub: 'orchestrator', role: 'pipeline' },
  correlationId: randomUUID(),
  causationId: null,
  commandId: randomUUID(),
  recordedAt: new Date(0).toISOString(),
});

async function append(stream: string, type: string, data: JsonObject, tenant = 'acme'): Promise<void> {
  await store.append({ stream, expectedRevision: 'any', events: [{ type, schema: 1, data }], meta: meta(tenant) });
}

/** Jobs authorised, leased, completed, escalated, stopped — with entries of other types in between. */
async function writeJobs(prefix: string, queries: number): Promise<void> {
  for (let q = 0; q < queries; q++) {
    const stream = `query-${prefix}${q}`;
    const tenant = q % 3 === 0 ? 'globex' : 'acme';
    await append(stream, 'NodeAssigned', { nodeId: 'n1' }, tenant);
    for (const job of ['a', 'b']) {
      const jobId = `${prefix}${q}-${job}`;
      const nodeId = `n-${job}`;
      await append(stream, 'InferenceRequested', { jobId, nodeId }, tenant);
      await append(stream, 'PolicyDecisionRecorded', { jobId, nodeId }, tenant);
      await append(stream, 'InferenceAuthorized', { jobId, nodeId }, tenant);
    }
    await append(`proxy-${prefix}${q}`, 'ProxyPromoted', { to: 'shadow' }, tenant);
    if (q % 4 === 1) await append(stream, 'InferenceLeased', { jobId: `${prefix}${q}-a`, leasedUntil: new Date(60_000).toISOString() }, tenant);
    if (q % 4 === 2) await append(stream, 'InferenceCompleted', { jobId: `${prefix}${q}-b` }, tenant);
    if (q % 5 === 3) await append(stream, 'EscalatedToHuman', { nodeId: 'n-a' }, tenant);
    if (q % 7 === 4) await append(stream, q % 2 === 0 ? 'QueryStopped' : 'QueryCompleted', {}, tenant);
  }
}

/** What a queue shows, for comparison. */
function view(queue: JobQueue, jobIds: string[]) {
  return {
    acme: queue.leasable('acme', 1000).map((job) => ({ ...job })),
    globex: queue.leasable('globex', 1000).map((job) => ({ ...job })),
    nextLeaseEnd: queue.nextLeaseEnd('acme', 1000),
    locations: jobIds.map((jobId) => queue.location(jobId)),
    decisions: jobIds.map((jobId) => queue.decisionPosition(jobId, queue.location(jobId)?.queryId ?? '')),
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ida-inference-index-'));
  store = await SqliteEventStore.open({ path: join(dir, 'ledger.sqlite'), signer: KeyRing.inMemory() });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('InferenceIndex at start', () => {
  it('reads only the types it folds and ends as folding every entry ends; then follows new entries', async () => {
    await writeJobs('q', 24);
    const index = new InferenceIndex(store);
    await index.onModuleInit();

    const reference = new JobQueue();
    for (const integrated of await store.readAll(0, 100_000)) reference.apply(integrated);
    const jobIds = Array.from({ length: 24 }, (_, q) => [`q${q}-a`, `q${q}-b`]).flat();
    expect(view(index.jobs, jobIds)).toEqual(view(reference, jobIds));
    expect(index.jobs.openCount('acme')).toBeGreaterThan(0);

    // Live: entries appended after start reach the index through the subscription.
    await writeJobs('r', 6);
    const size = await store.size();
    await index.caughtUp(size - 1);
    const all = new JobQueue();
    for (const integrated of await store.readAll(0, 100_000)) all.apply(integrated);
    const allIds = [...jobIds, ...Array.from({ length: 6 }, (_, q) => [`r${q}-a`, `r${q}-b`]).flat()];
    expect(view(index.jobs, allIds)).toEqual(view(all, allIds));
    await index.onModuleDestroy();
  });
});
