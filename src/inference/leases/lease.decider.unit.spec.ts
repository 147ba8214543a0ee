import { describe, expect, it } from '@jest/globals';
import { ev, history, record, TENANT, type Given } from '../../amplification/query.test-kit.js';
import type { InferenceEvent } from '../jobs/inference.events.js';
import { rehydrateJobStream } from '../jobs/job-stream.js';
import { decideLease } from './lease.decider.js';

const NOW = Date.parse('2026-03-01T10:00:00.500Z');
const stream = (givens: Given[], inference: InferenceEvent[] = []) => {
  const recorded = record(givens);
  const extra = inference.map((e, i) => ({ ...e, meta: { tenant: TENANT, actor: { sub: 'w', role: 'worker' as const }, recordedAt: 'x' }, revision: recorded.length + i }));
  return rehydrateJobStream([...recorded, ...extra] as never);
};
const lease = (state: ReturnType<typeof stream>, workerId = 'w-2', now = NOW) =>
  decideLease({ jobId: 'j-1', workerId, now, leaseMs: 60_000, newId: () => 'jti-new' }, state);
const leased = (until: number): InferenceEvent => ({
  type: 'InferenceLeased',
  schema: 1,
  data: { jobId: 'j-1', workerId: 'w-1', jti: 'jti-1', leasedUntil: new Date(until).toISOString(), grantExpiresAt: new Date(until).toISOString() },
});
const refusalCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'no refusal';
};

describe('leasing (decideLease)', () => {
  it('given an authorised job never leased, then InferenceLeased for the worker; the grant expires on a whole second, not after the lease', () => {
    expect(lease(stream(history.proxyGranted()))).toEqual([
      {
        type: 'InferenceLeased',
        schema: 1,
        data: { jobId: 'j-1', workerId: 'w-2', jti: 'jti-new', leasedUntil: '2026-03-01T10:01:00.500Z', grantExpiresAt: '2026-03-01T10:01:00.000Z' },
      },
    ]);
  });

  it('given a lease that ran out, then InferenceLeaseExpired (the old worker and jti) + the new lease', () => {
    const events = lease(stream(history.proxyGranted(), [leased(NOW - 1)]));
    expect(events.map((e) => e.type)).toEqual(['InferenceLeaseExpired', 'InferenceLeased']);
    expect(events[0]!.data).toEqual({ jobId: 'j-1', workerId: 'w-1', jti: 'jti-1' });
  });

  it.each<[string, Given[], InferenceEvent[]]>([
    ['a running lease', history.proxyGranted(), [leased(NOW + 1)]],
    ['a job requested before the gate (never authorised)', history.proxyPending(), []],
    ['a completed job', [...history.proxyGranted(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9)], []],
    ['a job abandoned by an escalation', [...history.proxyGranted(), ev.escalated('n-1')], []],
    ['a stopped query', [...history.proxyGranted(), ev.stopped('budget', 'open')], []],
  ])('given %s, then INFERENCE.JOB_NOT_LEASABLE', (_, givens, inference) => {
    expect(refusalCode(() => lease(stream(givens, inference)))).toBe('INFERENCE.JOB_NOT_LEASABLE');
  });

  it('given a job the stream does not hold, then INFERENCE.JOB_NOT_FOUND', () => {
    expect(refusalCode(() => decideLease({ jobId: 'ghost', workerId: 'w', now: NOW, leaseMs: 1000, newId: () => 'x' }, stream(history.proxyGranted())))).toBe(
      'INFERENCE.JOB_NOT_FOUND',
    );
  });
});
