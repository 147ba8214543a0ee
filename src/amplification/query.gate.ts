/**
 * The policy gate's events on a job (docs/policy-gate.md, "Decisions"): `PolicyDecisionRecorded`, then
 * `InferenceAuthorized` (an allow) or `InferenceDenied` (a deny), all in the assignment's append. Both folds of
 * query.state.ts apply them through `applyGateEvent`, so the rules live in one place.
 * Plain TypeScript: no Nest, no storage.
 */
import type {
  InferenceAuthorized,
  InferenceDenied,
  PolicyDecisionRecorded,
  RecordedQueryEvent,
} from './query.events.js';

/** What the gate decided on one job, as the decision tree shows it. */
export interface JobGate {
  readonly decision: 'allow' | 'deny';
  /** Sorted: the permits that allowed; the forbids that denied; the policies that errored. */
  readonly determiningPolicies: readonly string[];
  readonly errors: readonly string[];
  /** Null only when no set was in force (then the decision is deny). */
  readonly policySetDigest: string | null;
  readonly cedarVersion: string;
  readonly requestDigest: string;
  /** Stream revision of the `PolicyDecisionRecorded` entry. */
  readonly revision: number;
  readonly at: string;
  /** Set by `InferenceAuthorized` / `InferenceDenied` (same append as the decision). */
  readonly outcome: 'authorized' | 'denied' | null;
  /** `InferenceDenied.reason`; null otherwise. */
  readonly reason: string | null;
}

/** The job fields the gate reads and changes. */
export interface GatedJob {
  readonly jobId: string;
  readonly proxyVersionId: string;
  readonly artifactSha256: string;
  readonly inputDigest: string;
  readonly status: 'pending' | 'completed' | 'abandoned' | 'denied';
  readonly gate: JobGate | null;
}

export type GateEvent = RecordedQueryEvent<PolicyDecisionRecorded | InferenceAuthorized | InferenceDenied>;

/**
 * The job's new `status` and `gate` after `recorded`, or why it cannot be applied (the fold turns that into
 * `QUERY.CORRUPT_STREAM`). A decision comes once, on a pending job; the outcome must follow from it and name
 * exactly what the job was requested with.
 */
export function applyGateEvent(job: GatedJob, recorded: GateEvent): Pick<GatedJob, 'status' | 'gate'> | string {
  const at = recorded.meta.recordedAt;
  switch (recorded.type) {
    case 'PolicyDecisionRecorded': {
      const d = recorded.data;
      if (job.gate !== null) return `job ${job.jobId} was already decided`;
      if (job.status !== 'pending') return `job ${job.jobId} is ${job.status}, not pending`;
      return {
        status: job.status,
        gate: {
          decision: d.decision,
          determiningPolicies: [...d.determiningPolicies],
          errors: [...d.errors],
          policySetDigest: d.policySetDigest,
          cedarVersion: d.cedarVersion,
          requestDigest: d.requestDigest,
          revision: recorded.revision,
          at,
          outcome: null,
          reason: null,
        },
      };
    }
    case 'InferenceAuthorized': {
      const d = recorded.data;
      const gate = job.gate;
      if (gate === null || gate.outcome !== null) return `job ${job.jobId} has no decision awaiting its outcome`;
      if (gate.decision !== 'allow') return `job ${job.jobId} was denied, not allowed`;
      if (
        d.proxyVersionId !== job.proxyVersionId ||
        d.artifactSha256 !== job.artifactSha256 ||
        d.inputDigest !== job.inputDigest ||
        d.policySetDigest !== gate.policySetDigest
      ) {
        return `authorisation of job ${job.jobId} does not match its request and decision`;
      }
      return { status: job.status, gate: { ...gate, outcome: 'authorized' } };
    }
    case 'InferenceDenied': {
      const d = recorded.data;
      const gate = job.gate;
      if (gate === null || gate.outcome !== null) return `job ${job.jobId} has no decision awaiting its outcome`;
      if (gate.decision !== 'deny') return `job ${job.jobId} was allowed, not denied`;
      if (d.proxyVersionId !== job.proxyVersionId) return `denial of job ${job.jobId} names another proxy version`;
      return { status: 'denied', gate: { ...gate, outcome: 'denied', reason: d.reason } };
    }
    default: {
      const unreachable: never = recorded;
      return `unexpected event ${String((unreachable as { type: string }).type)}`;
    }
  }
}

/** True for a job the gate authorised (or one requested before the gate existed: `gate` null). */
export function isAuthorized(job: { gate: JobGate | null }): boolean {
  return job.gate !== null && job.gate.outcome === 'authorized';
}
