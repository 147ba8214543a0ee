/**
 * The live host on a real store (SQLite on disk, signed entries): read-your-writes, equality with a rebuild
 * from the same file, and what happens when a projection meets an entry it cannot apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { KeyRing } from '../ledger/key-ring.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { IdaScript, scriptMeta, type ScriptAppend } from './ida-event-script.js';
import { RealisticMix } from './projection-bench.js';
import { ProjectionHost } from './projection-host.js';
import { rebuildProjections } from './projection-rebuild.js';
import { LiveProjections } from './projections.live.js';
import { createProjections } from './projections.registry.js';

let dir: string;
let store: SqliteEventStore;
let n = 0;

async function append(appends: readonly ScriptAppend[]): Promise<void> {
  for (const a of appends) await store.append({ stream: a.stream, expectedRevision: 'any', events: a.events, meta: scriptMeta(a, n++) });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ida-projections-'));
  store = await SqliteEventStore.open({ path: join(dir, 'ledger.sqlite'), signer: KeyRing.inMemory() });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ProjectionHost', () => {
  it('computes the status in slices while appends go on: digests of one position, the held entries applied after', async () => {
    const set = createProjections();
    const host = new ProjectionHost(store, set.all);
    host.start();
    const mix = new RealisticMix(5, 4, 3);
    for (let i = 0; i < 30; i++) await append(mix.next());
    await host.catchUp();
    const expected = { position: host.position, projections: host.status() };
    // Fresh projections (nothing cached), sliced as finely as possible, while more is appended.
    const fresh = createProjections();
    const slicedHost = new ProjectionHost(store, fresh.all);
    slicedHost.start();
    await slicedHost.catchUp();
    const sliced = slicedHost.statusInSlices(0);
    const again = slicedHost.statusInSlices(0);
    const writes = (async () => {
      for (let i = 0; i < 5; i++) await append(mix.next());
    })();
    const [status, shared] = await Promise.all([sliced, again, writes]);
    expect(status).toEqual(expected);
    expect(shared).toBe(status);
    // The entries integrated meanwhile were held, then applied.
    await slicedHost.catchUp();
    await host.catchUp();
    expect(slicedHost.position).toBe(await store.size());
    expect(slicedHost.status()).toEqual(host.status());
    await slicedHost.stop();
    await host.stop();
  });

  it('gives read-your-writes and ends with the digests of a rebuild from the same file', async () => {
    const set = createProjections();
    const host = new ProjectionHost(store, set.all);
    host.start();
    const mix = new RealisticMix(11, 5, 3);
    // Concurrent writers while the host follows.
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 6; i++) await append(mix.next());
    }));
    const script = new IdaScript();
    script.openQuery({ tenant: 'acme', queryId: 'mine' }).escalate('mine-root', 'look');
    await append(script.appends);
    await host.catchUp();
    expect(host.position).toBe(await store.size());
    expect(set.oversightQueue.queue('acme').items.map((item) => item.queryId)).toContain('mine');
    expect(set.decisionTrees.tree('acme', 'mine')!.root.status).toBe('escalated');

    const live = host.status();
    const reader = SqliteEventStore.openReadOnly(join(dir, 'ledger.sqlite'));
    try {
      const rebuilt = await rebuildProjections(reader, createProjections().all);
      expect(rebuilt.projections).toEqual(live);
    } finally {
      reader.close();
    }
    // The writing store is a source too: same digests.
    const fromStore = await rebuildProjections(store, createProjections().all);
    expect(fromStore.projections).toEqual(live);
    await host.stop();
    // Stopped: what it holds stays readable, but it cannot catch up with anything new.
    await host.catchUp();
    await append(new IdaScript().runStarted({ tenant: 'acme', runId: 'after', queryIds: [] }).appends);
    await expect(host.catchUp()).rejects.toMatchObject({ code: 'PROJECTIONS.STOPPED' });
  });

  it('stops at an entry a projection cannot apply, and reads then fail naming its position', async () => {
    const host = new ProjectionHost(store, createProjections().all);
    host.start();
    const script = new IdaScript();
    script.openQuery({ tenant: 'acme', queryId: 'q' });
    script.raw('query-q', 'acme', 'EscalatedToHuman', { nodeId: 'q-root', reason: 'bored', confidence: null, threshold: null, jobId: null, note: null });
    script.openQuery({ tenant: 'acme', queryId: 'later' });
    await append(script.appends);
    await expect(host.catchUp()).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', details: expect.objectContaining({ position: 1 }) });
    expect(() => host.status()).toThrow(/position 1/u);
    expect(host.position).toBe(1);
    await host.stop();
  });

  it('preloads what the log held from the store rows, then follows the subscription: the digests of a rebuild', async () => {
    const mix = new RealisticMix(17, 4, 3);
    for (let i = 0; i < 20; i++) await append(mix.next());
    const live = new LiveProjections(store);
    await live.onApplicationBootstrap();
    expect(live.host.position).toBe(await store.size());
    for (let i = 0; i < 5; i++) await append(mix.next());
    await live.catchUp();
    const reader = SqliteEventStore.openReadOnly(join(dir, 'ledger.sqlite'));
    try {
      expect((await rebuildProjections(reader, createProjections().all)).projections).toEqual(live.host.status());
    } finally {
      reader.close();
    }
    await live.onModuleDestroy();

    // A projection that fails while preloading fails the host just as during the subscription's catch-up.
    const script = new IdaScript();
    script.openQuery({ tenant: 'acme', queryId: 'broken' });
    script.raw('query-broken', 'acme', 'EscalatedToHuman', { nodeId: 'broken-root', reason: 'bored', confidence: null, threshold: null, jobId: null, note: null });
    await append(script.appends);
    const failing = new ProjectionHost(store, createProjections().all);
    failing.preload((from, limit) => store.readEntryJson(from, limit), await store.size());
    failing.start();
    const at = (await store.size()) - 1;
    await expect(failing.catchUp()).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', details: expect.objectContaining({ position: at }) });
    expect(failing.position).toBe(at);
    await failing.stop();
  });

  it('lets the service start on a log it cannot read: the projections answer PROJECTIONS.FAILED instead', async () => {
    const script = new IdaScript();
    script.raw('proxy-p', 'acme', 'ProxyPromoted', { from: 'candidate', to: 'the moon' });
    await append(script.appends);
    const live = new LiveProjections(store);
    await live.onApplicationBootstrap();
    await expect(live.catchUp()).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', details: expect.objectContaining({ position: 0 }) });
    await live.onModuleDestroy();
  });

  it('answers 503 PROJECTIONS.LAGGING when it cannot catch up in time', async () => {
    const slow = createProjections();
    const host = new ProjectionHost({ size: async () => 5, subscribe: () => ({ close: async () => undefined }) }, slow.all, 20);
    host.start();
    await expect(host.catchUp()).rejects.toMatchObject({ code: 'PROJECTIONS.LAGGING', category: 'unavailable' });
    await host.stop();
  });
});
