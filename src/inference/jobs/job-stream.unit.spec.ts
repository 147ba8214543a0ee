import { describe, expect, it } from '@jest/globals';
import { ev, history, record, TENANT } from '../../amplification/query.test-kit.js';
import type { InferenceEvent } from './inference.events.js';
import { continueJobStream, rehydrateJobStream } from './job-stream.js';

const leased = (jti: string, workerId: string): InferenceEvent => ({
  type: 'InferenceLeased',
  schema: 1,
  data: { jobId: 'j-1', workerId, jti, leasedUntil: '2026-03-01T10:01:00.000Z', grantExpiresAt: '2026-03-01T10:01:00.000Z' },
});
const expired = (jti: string, workerId: string): InferenceEvent => ({ type: 'InferenceLeaseExpired', schema: 1, data: { jobId: 'j-1', workerId, jti } });

/** A job's whole stream: granted, leased, expired, leased again, rejected once, completed. */
function entries() {
  const recorded = record(history.proxyGranted());
  const inference: InferenceEvent[] = [
    leased('jti-1', 'w-1'),
    expired('jti-1', 'w-1'),
    leased('jti-2', 'w-2'),
    { type: 'InferenceRejected', schema: 1, data: { jobId: 'j-1', nodeId: 'n-1', code: 'INFERENCE.GRANT_EXPIRED', reason: 'late', workerId: 'w-1', jti: 'jti-1' } },
  ];
  const extra = inference.map((e, i) => ({ ...e, meta: { tenant: TENANT, actor: { sub: 'w', role: 'worker' as const }, recordedAt: 'x' }, revision: recorded.length + i }));
  const done = record([...history.proxyGranted(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9)]).slice(recorded.length);
  const last = done.map((e, i) => ({ ...e, revision: recorded.length + extra.length + i, data: { ...e.data, jti: 'jti-2' } }));
  return [...recorded, ...extra, ...last] as never[];
}

describe('the job stream fold, continued (the command runner keeps it between commands)', () => {
  it('continued at any revision equals one fold of the whole stream, and leaves the state it went on from as it was', () => {
    const all = entries();
    const whole = rehydrateJobStream(all);
    expect(whole.leases.get('j-1')).toMatchObject({ consumedJti: 'jti-2', leaseCount: 2, rejections: 1, current: { jti: 'jti-2', workerId: 'w-2' } });
    for (let k = 0; k <= all.length; k++) {
      const first = rehydrateJobStream(all.slice(0, k));
      const snapshot = structuredClone(first);
      expect(continueJobStream(first, all.slice(k))).toEqual(whole);
      expect(first).toEqual(snapshot);
    }
  });
});
