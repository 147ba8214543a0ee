import { describe, expect, it } from '@jest/globals';
import { ev, history, POLICY_SET, record, sha, TENANT, type Given } from '../../amplification/query.test-kit.js';
import { modelInputDigest } from '../../amplification/query.events.js';
import type { InferenceEvent } from '../jobs/inference.events.js';
import { rehydrateJobStream } from '../jobs/job-stream.js';
import type { GrantClaims, GrantVerification } from '../leases/grant.js';
import { decideResult, type ResultBody, type ResultSubmission } from './result.decider.js';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const INPUT = { question: 'Dose within label?' };
const leased = (jti: string, workerId = 'w-1', until = NOW + 30_000): InferenceEvent => ({
  type: 'InferenceLeased',
  schema: 1,
  data: { jobId: 'j-1', workerId, jti, leasedUntil: new Date(until).toISOString(), grantExpiresAt: new Date(until).toISOString() },
});

/** The query stream: the gated history, then inference events; decision position of j-1 = 104. */
function streamOf(givens: Given[], inference: InferenceEvent[] = [leased('jti-1')]) {
  const recorded = record(givens);
  const extra = inference.map((e, i) => ({ ...e, meta: { tenant: TENANT, actor: { sub: 'w-1', role: 'worker' as const }, recordedAt: 'x' }, revision: recorded.length + i }));
  return rehydrateJobStream([...recorded, ...extra] as never);
}
const granted = (): Given[] => history.proxyGranted();
const positions = new Map([['j-1', 104]]);

const claims = (over: Partial<GrantClaims> = {}): GrantClaims => ({
  iss: 'ledger',
  aud: 'ida-ledger-worker',
  sub: 'w-1',
  jti: 'jti-1',
  iat: 0,
  exp: 0,
  job: 'j-1',
  query: 'q-1',
  node: 'n-1',
  tenant: TENANT,
  model: sha('p-prod'),
  input: modelInputDigest(INPUT),
  policy: POLICY_SET,
  decision: 104,
  ...over,
});
const body = (over: Partial<ResultBody> = {}): ResultBody => ({
  grant: 'g',
  jobId: 'j-1',
  output: { answer: 'yes', confidence: 0.9, scores: [0.1, 0.9] },
  provider: 'cpu',
  timing: { loadMs: 1, runMs: 2 },
  modelSha256: sha('p-prod'),
  inputDigest: modelInputDigest(INPUT),
  signature: 'sig',
  ...over,
});
const submission = (over: Partial<ResultSubmission> = {}): ResultSubmission => ({
  body: body(),
  grant: { ok: true, claims: claims() },
  signer: { workerId: 'w-1', revoked: false },
  signatureValid: true,
  now: NOW,
  ...over,
});
const decide = (over: Partial<ResultSubmission> = {}, state = streamOf(granted())) => decideResult(submission(over), state, positions);
const code = (over: Partial<ResultSubmission> = {}, state?: ReturnType<typeof streamOf>) => {
  const decision = decide(over, state);
  return decision.accepted ? 'accepted' : decision.code;
};

describe('result acceptance (decideResult)', () => {
  it('given a granted job leased to w-1, when w-1 posts a valid signed result, then InferenceCompleted schema 2 with the worker, grant and decision', () => {
    const decision = decide();
    expect(decision.accepted).toBe(true);
    expect(decision.events).toEqual([
      ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9, { scores: [0.1, 0.9] }, {
        workerId: 'w-1',
        jti: 'jti-1',
        decisionPosition: 104,
        provider: 'cpu',
        timing: { loadMs: 1, runMs: 2 },
        resultSignature: 'sig',
      }),
    ]);
  });

  it('a low confidence escalates in the same decision (the amplification rule)', () => {
    const decision = decide({ body: body({ output: { answer: 'maybe', confidence: 0.2 } }) });
    expect(decision.events.map((e) => e.type)).toEqual(['InferenceCompleted', 'EscalatedToHuman']);
  });

  it.each<[string, Partial<ResultSubmission>, string]>([
    ['no grant', { grant: { ok: false, code: 'INFERENCE.GRANT_INVALID', reason: 'no grant' } }, 'INFERENCE.GRANT_INVALID'],
    ['an expired grant', { grant: { ok: false, code: 'INFERENCE.GRANT_EXPIRED', reason: 'expired' } }, 'INFERENCE.GRANT_EXPIRED'],
    ['a grant for another job', { grant: { ok: true, claims: claims({ job: 'j-2' }) } }, 'INFERENCE.GRANT_MISMATCH'],
    ['a grant for another model', { grant: { ok: true, claims: claims({ model: sha('p-other') }) } }, 'INFERENCE.GRANT_MISMATCH'],
    ['a grant for another input', { grant: { ok: true, claims: claims({ input: modelInputDigest({ x: 1 }) }) } }, 'INFERENCE.GRANT_MISMATCH'],
    ['a grant under another policy set', { grant: { ok: true, claims: claims({ policy: `sha256:${'0'.repeat(64)}` }) } }, 'INFERENCE.GRANT_MISMATCH'],
    ['a grant naming another decision', { grant: { ok: true, claims: claims({ decision: 3 }) } }, 'INFERENCE.GRANT_MISMATCH'],
    ['a body that ran another model', { body: body({ modelSha256: sha('p-other') }) }, 'INFERENCE.GRANT_MISMATCH'],
    ['a body that ran another input', { body: body({ inputDigest: modelInputDigest({ x: 1 }) }) }, 'INFERENCE.GRANT_MISMATCH'],
    ['an unregistered signing key', { signer: null }, 'INFERENCE.WORKER_UNKNOWN'],
    ['a revoked worker', { signer: { workerId: 'w-1', revoked: true } }, 'INFERENCE.WORKER_REVOKED'],
    ['another registered worker', { signer: { workerId: 'w-2', revoked: false } }, 'INFERENCE.GRANT_MISMATCH'],
    ['a signature that does not verify', { signatureValid: false }, 'INFERENCE.SIGNATURE_INVALID'],
    ['a lease that ran out', { now: NOW + 60_000 }, 'INFERENCE.GRANT_EXPIRED'],
  ])('given the granted, leased job, when the result has %s, then %s, recorded as InferenceRejected', (_, over, expected) => {
    const decision = decide(over);
    expect(decision.accepted ? 'accepted' : decision.code).toBe(expected);
    expect(decision.events).toEqual([
      expect.objectContaining({ type: 'InferenceRejected', data: expect.objectContaining({ jobId: 'j-1', nodeId: 'n-1', code: expected }) }),
    ]);
  });

  it('a rejection names the worker and jti it could tell (the signer; else the grant subject; else null)', () => {
    const unknown = decide({ signer: null });
    expect(unknown.events[0]!.data).toMatchObject({ workerId: 'w-1', jti: 'jti-1' });
    const noGrant = decide({ signer: null, grant: { ok: false, code: 'INFERENCE.GRANT_INVALID', reason: 'no grant' } });
    expect(noGrant.events[0]!.data).toMatchObject({ workerId: null, jti: null, reason: 'no grant' });
  });

  it('given the job was completed with this grant, when posted again, then GRANT_CONSUMED', () => {
    const state = streamOf([...granted(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9, null, { jti: 'jti-1', workerId: 'w-1' })]);
    expect(code({}, state)).toBe('INFERENCE.GRANT_CONSUMED');
  });

  it('given the lease went to another worker after it ran out, when the first worker posts, then LEASE_SUPERSEDED (its grant is no longer current)', () => {
    const state = streamOf(granted(), [leased('jti-1', 'w-1', NOW - 1), leased('jti-2', 'w-2')]);
    expect(code({}, state)).toBe('INFERENCE.LEASE_SUPERSEDED');
    expect(code({ signer: { workerId: 'w-2', revoked: false }, grant: { ok: true, claims: claims({ sub: 'w-2', jti: 'jti-2' }) } }, state)).toBe('accepted');
  });

  it('given a grant the ledger never recorded for the job, then LEASE_SUPERSEDED', () => {
    expect(code({ grant: { ok: true, claims: claims({ jti: 'jti-ghost' }) } })).toBe('INFERENCE.LEASE_SUPERSEDED');
  });

  it('given the node was escalated by hand while the job was leased, then JOB_NOT_PENDING', () => {
    const state = streamOf([...granted(), ev.escalated('n-1')]);
    expect(code({}, state)).toBe('INFERENCE.JOB_NOT_PENDING');
  });

  it('given the gate denied the job, then JOB_NOT_AUTHORIZED whatever the grant; a job requested before the gate likewise', () => {
    const denied: Given[] = [
      ...history.decomposed(),
      ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
      ev.requested('n-1', 'j-1', 'p-prod', false, 'Dose within label?'),
      ev.decided('n-1', 'j-1', 'deny'),
      ev.denied('n-1', 'j-1', 'p-prod'),
      ev.escalated('n-1', { reason: 'inference_denied', jobId: 'j-1' }),
    ];
    expect(code({}, streamOf(denied, []))).toBe('INFERENCE.JOB_NOT_AUTHORIZED');
    expect(code({}, streamOf(history.proxyPending(), []))).toBe('INFERENCE.JOB_NOT_AUTHORIZED');
  });

  it('given a job the stream does not hold, then 404 INFERENCE.JOB_NOT_FOUND (nothing to record it on)', () => {
    expect(() => decide({ body: body({ jobId: 'j-ghost' }) })).toThrow(expect.objectContaining({ code: 'INFERENCE.JOB_NOT_FOUND' }) as never);
  });

  it('the grant is checked before the worker, the worker before the signature (the order of docs/policy-gate.md)', () => {
    expect(code({ grant: { ok: false, code: 'INFERENCE.GRANT_EXPIRED', reason: 'x' }, signer: null, signatureValid: false })).toBe('INFERENCE.GRANT_EXPIRED');
    expect(code({ signer: null, signatureValid: false })).toBe('INFERENCE.WORKER_UNKNOWN');
  });});
