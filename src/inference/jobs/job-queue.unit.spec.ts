import { describe, expect, it } from '@jest/globals';
import type { IntegratedEntry, JsonObject } from '../../ledger/entry.js';
import { JobQueue } from './job-queue.js';

let position = 0;
const entry = (stream: string, type: string, data: JsonObject, tenant = 'acme'): IntegratedEntry =>
  ({ position: position++, entry: { stream, type, schema: 1, data, meta: { tenant } } }) as unknown as IntegratedEntry;
const authorize = (q: string, jobId: string, nodeId = 'n', tenant = 'acme') => [
  entry(`query-${q}`, 'InferenceRequested', { jobId, nodeId }, tenant),
  entry(`query-${q}`, 'InferenceAuthorized', { jobId, nodeId }, tenant),
];

describe('the job queue', () => {
  it('authorised jobs are leasable oldest first, per tenant; a running lease hides a job until it ends', () => {
    const queue = new JobQueue();
    const changed: string[] = [];
    queue.onChange((tenant) => changed.push(tenant));
    for (const e of [...authorize('q1', 'a'), ...authorize('q2', 'b'), ...authorize('q3', 'c', 'n', 'other')]) queue.apply(e);
    expect(queue.leasable('acme', 0).map((j) => j.jobId)).toEqual(['a', 'b']);
    expect(queue.location('c')).toEqual({ tenant: 'other', queryId: 'q3', nodeId: 'n' });
    queue.apply(entry('query-q1', 'InferenceLeased', { jobId: 'a', leasedUntil: new Date(5000).toISOString() }));
    expect(queue.leasable('acme', 1000).map((j) => j.jobId)).toEqual(['b']);
    expect(queue.nextLeaseEnd('acme', 1000)).toBe(5000);
    expect(queue.leasable('acme', 5000).map((j) => j.jobId)).toEqual(['a', 'b']);
    expect(changed).toEqual(['acme', 'acme', 'other']);
  });

  it('a job leaves the queue on its result, on an escalation of its node, and when its query stops or completes', () => {
    const queue = new JobQueue();
    for (const e of [...authorize('q1', 'a', 'n1'), ...authorize('q1', 'b', 'n2'), ...authorize('q2', 'c'), ...authorize('q3', 'd')]) queue.apply(e);
    queue.apply(entry('query-q1', 'InferenceCompleted', { jobId: 'a' }));
    queue.apply(entry('query-q1', 'EscalatedToHuman', { nodeId: 'n2' }));
    queue.apply(entry('query-q2', 'QueryStopped', {}));
    expect(queue.leasable('acme', 0).map((j) => j.jobId)).toEqual(['d']);
    queue.apply(entry('query-q3', 'QueryCompleted', {}));
    expect(queue.openCount('acme')).toBe(0);
    // Locations stay: a late result still finds the stream to be refused on.
    expect(queue.location('a')).toEqual({ tenant: 'acme', queryId: 'q1', nodeId: 'n1' });
  });

  it("keeps each job's decision position (the stream need not be read again), only for the query the job lives on", () => {
    const queue = new JobQueue();
    const requested = entry('query-q1', 'InferenceRequested', { jobId: 'a', nodeId: 'n' });
    const decided = entry('query-q1', 'PolicyDecisionRecorded', { jobId: 'a', nodeId: 'n', decision: 'allow' });
    queue.apply(requested);
    expect(queue.decisionPosition('a', 'q1')).toBeUndefined(); // not applied yet: the caller reads the stream
    queue.apply(decided);
    expect(queue.decisionPosition('a', 'q1')).toBe(decided.position);
    expect(queue.decisionPosition('a', 'q2')).toBeUndefined();
    // A decision on another query than the job's, or one recorded before the job's latest request, is not its own.
    queue.apply(entry('query-q2', 'PolicyDecisionRecorded', { jobId: 'a', nodeId: 'n', decision: 'allow' }));
    expect(queue.decisionPosition('a', 'q1')).toBe(decided.position);
    queue.apply(entry('query-q1', 'InferenceRequested', { jobId: 'a', nodeId: 'n' }));
    expect(queue.decisionPosition('a', 'q1')).toBeUndefined();
    expect(queue.decisionPosition('nobody', 'q1')).toBeUndefined();
  });

  it('ignores other streams and denied jobs', () => {
    const queue = new JobQueue();
    queue.apply(entry('proxy-p', 'InferenceAuthorized', { jobId: 'x', nodeId: 'n' }));
    queue.apply(entry('query-q', 'InferenceRequested', { jobId: 'y', nodeId: 'n' }));
    queue.apply(entry('query-q', 'InferenceDenied', { jobId: 'y', nodeId: 'n' }));
    expect(queue.leasable('acme', 0)).toEqual([]);
    expect(queue.location('x')).toBeUndefined();
  });
});
