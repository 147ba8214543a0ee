/**
 * Accepting a worker's result (pure; docs/policy-gate.md "Workers"): the ledger records no result it did not
 * authorise. A result is accepted only when, in this order:
 *
 *   1. the job was authorised by the policy gate (else JOB_NOT_AUTHORIZED: denied, or requested before the gate);
 *   2. the grant verifies — a current ledger key, `iss`, `aud`, `exp` (GRANT_INVALID / GRANT_EXPIRED; checked
 *      by the caller, async, and passed in);
 *   3. the grant binds exactly this job: query, node, tenant, model (artifact digest), input digest, policy-set
 *      digest and decision position; and the body's `modelSha256` / `inputDigest` are the grant's (GRANT_MISMATCH);
 *   4. the signing worker is registered (WORKER_UNKNOWN), not revoked (WORKER_REVOKED), and the grant's subject
 *      (GRANT_MISMATCH);
 *   5. the result signature verifies with that worker's registered key (SIGNATURE_INVALID);
 *   6. the grant was not used already (GRANT_CONSUMED), the job still takes a result (JOB_NOT_PENDING), and
 *      the grant is the job's current, unexpired lease for this worker (LEASE_SUPERSEDED / GRANT_EXPIRED).
 *
 * Then `InferenceCompleted` (schema 2) with the amplification rules for confidence and ensembles
 * (`decideRecordInferenceResult`); otherwise one `InferenceRejected` with the code and why. A job the stream
 * does not hold is 404 and recorded nowhere.
 */
import {
  decideRecordInferenceResult,
  type RecordInferenceResultEvents,
} from '../../amplification/record-inference-result/record-inference-result.command.js';
import type { ExecutionProvider } from '../../amplification/query.events.js';
import type { GrantVerification } from '../leases/grant.js';
import type { InferenceEvent, InferenceRejectionCode } from '../jobs/inference.events.js';
import { locateJob, type JobStreamState } from '../jobs/job-stream.js';

/** The posted body, its shape already checked (result.dto.ts). */
export interface ResultBody {
  grant?: string | undefined;
  jobId: string;
  output: { answer: string; confidence: number; scores?: number[] | undefined };
  provider: ExecutionProvider;
  timing: { loadMs: number; runMs: number };
  modelSha256: string;
  inputDigest: string;
  signature?: string | undefined;
}

export interface ResultSubmission {
  body: ResultBody;
  grant: GrantVerification;
  /** The registered worker that signed (by the signature's kid; else the grant's subject); null when none is. */
  signer: { workerId: string; revoked: boolean } | null;
  /** `body.signature` verifies with `signer`'s registered key. */
  signatureValid: boolean;
  /** ms since the epoch. */
  now: number;
}

export type ResultDecision =
  | { accepted: true; events: RecordInferenceResultEvents; ensemble: boolean }
  | { accepted: false; code: InferenceRejectionCode; reason: string; events: [InferenceEvent] };

/** `decisionPositions`: global position of each job's `PolicyDecisionRecorded` on this stream. */
export function decideResult(
  submission: ResultSubmission,
  state: JobStreamState,
  decisionPositions: ReadonlyMap<string, number>,
): ResultDecision {
  const { body, grant, signer } = submission;
  const { query, job, nodeId, lease } = locateJob(state, body.jobId);
  const claims = grant.ok ? grant.claims : null;
  const reject = (code: InferenceRejectionCode, reason: string): ResultDecision => ({
    accepted: false,
    code,
    reason,
    events: [
      {
        type: 'InferenceRejected',
        schema: 1,
        data: { jobId: job.jobId, nodeId, workerId: signer?.workerId ?? claims?.sub ?? null, jti: claims?.jti ?? null, code, reason },
      },
    ],
  });

  // 1. The gate.
  const gate = job.gate;
  if (gate === null) return reject('INFERENCE.JOB_NOT_AUTHORIZED', 'the job was requested before the policy gate and never authorised');
  if (gate.outcome !== 'authorized') return reject('INFERENCE.JOB_NOT_AUTHORIZED', `the policy gate denied the job: ${gate.reason ?? 'deny'}`);

  // 2. The grant.
  if (!grant.ok) return reject(grant.code, grant.reason);
  const c = grant.claims;

  // 3. Its bindings, and the body's.
  const decisionPosition = decisionPositions.get(job.jobId);
  const bindings: [string, unknown, unknown][] = [
    ['job', c.job, job.jobId],
    ['query', c.query, query.queryId],
    ['node', c.node, nodeId],
    ['tenant', c.tenant, query.tenant],
    ['model', c.model, job.artifactSha256],
    ['input', c.input, job.inputDigest],
    ['policy', c.policy, gate.policySetDigest],
    ['decision', c.decision, decisionPosition],
  ];
  for (const [claim, granted, actual] of bindings) {
    if (granted !== actual) return reject('INFERENCE.GRANT_MISMATCH', `the grant's ${claim} (${String(granted)}) is not the job's (${String(actual)})`);
  }
  if (body.modelSha256 !== c.model) return reject('INFERENCE.GRANT_MISMATCH', `the result ran model ${body.modelSha256}, the grant names ${c.model}`);
  if (body.inputDigest !== c.input) return reject('INFERENCE.GRANT_MISMATCH', `the result ran input ${body.inputDigest}, the grant names ${c.input}`);

  // 4. The worker.
  if (signer === null) return reject('INFERENCE.WORKER_UNKNOWN', 'the result is not signed by a registered worker key');
  if (signer.revoked) return reject('INFERENCE.WORKER_REVOKED', `worker ${signer.workerId} is revoked`);
  if (signer.workerId !== c.sub) return reject('INFERENCE.GRANT_MISMATCH', `the grant was issued to worker ${c.sub}, not ${signer.workerId}`);

  // 5. The signature.
  if (!submission.signatureValid) return reject('INFERENCE.SIGNATURE_INVALID', `the result signature does not verify with worker ${signer.workerId}'s key`);

  // 6. Single use, the job, the lease.
  if (lease.consumedJti === c.jti) return reject('INFERENCE.GRANT_CONSUMED', `grant ${c.jti} was already used for a result`);
  if (!lease.issued.has(c.jti)) return reject('INFERENCE.LEASE_SUPERSEDED', `grant ${c.jti} is no lease of this job`);
  if (query.status !== 'open') return reject('INFERENCE.JOB_NOT_PENDING', `the query is ${query.status}`);
  if (job.status === 'completed') return reject('INFERENCE.LEASE_SUPERSEDED', 'another lease of the job already delivered its result');
  if (job.status !== 'pending') return reject('INFERENCE.JOB_NOT_PENDING', `the job is ${job.status}`);
  const current = lease.current;
  if (current === null || current.jti !== c.jti || current.workerId !== signer.workerId) {
    return reject('INFERENCE.LEASE_SUPERSEDED', `grant ${c.jti} is not the job's current lease`);
  }
  if (current.leasedUntil <= submission.now) return reject('INFERENCE.GRANT_EXPIRED', 'the lease has run out');

  const events = decideRecordInferenceResult(
    {
      nodeId,
      jobId: job.jobId,
      proxyVersionId: job.proxyVersionId,
      answer: body.output.answer,
      confidence: body.output.confidence,
      output: body.output.scores === undefined ? null : { scores: [...body.output.scores] },
      worker: {
        workerId: signer.workerId,
        jti: c.jti,
        decisionPosition: c.decision,
        provider: body.provider,
        timing: { loadMs: body.timing.loadMs, runMs: body.timing.runMs },
        resultSignature: body.signature ?? '',
      },
    },
    query,
  );
  return { accepted: true, events, ensemble: job.ensemble };
}
