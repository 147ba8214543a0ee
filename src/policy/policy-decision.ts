/**
 * `PolicyDecisionRecorded` (schema 1, on the query stream, in the same append as the request it gates —
 * docs/policy-gate.md "Decisions"): its payload, built from an engine answer, and its re-evaluation by an
 * auditor against the recorded policy set. Plain TypeScript, no Nest.
 */
import { CEDAR_VERSION } from './cedar.js';
import type { PolicyDecision, PolicyDecisionValue, PolicyRequest } from './policy-engine.port.js';
import { evaluateStateless, requestDigest } from './policy-evaluation.js';
import { policySetDigest } from './policy-set.js';
import type { PolicySetPublishedData } from './policy-set.events.js';

export const POLICY_DECISION_RECORDED = 'PolicyDecisionRecorded';
export const POLICY_DECISION_RECORDED_SCHEMA = 1 as const;

export type PolicyDecisionRecordedData = {
  jobId: string;
  nodeId: string;
  action: 'RunInference';
  decision: PolicyDecisionValue;
  determiningPolicies: string[];
  errors: string[];
  policySetDigest: string | null;
  cedarVersion: string;
  request: PolicyRequest;
  requestDigest: string;
};

export type PolicyDecisionRecorded = {
  type: typeof POLICY_DECISION_RECORDED;
  schema: typeof POLICY_DECISION_RECORDED_SCHEMA;
  data: PolicyDecisionRecordedData;
};

/** The event recording `decision` for one job (append it with the job's `InferenceRequested`). */
export function policyDecisionRecorded(decision: PolicyDecision, job: { jobId: string; nodeId: string }): PolicyDecisionRecorded {
  return {
    type: POLICY_DECISION_RECORDED,
    schema: POLICY_DECISION_RECORDED_SCHEMA,
    data: {
      jobId: job.jobId,
      nodeId: job.nodeId,
      action: 'RunInference',
      decision: decision.decision,
      determiningPolicies: [...decision.determiningPolicies],
      errors: [...decision.errors],
      policySetDigest: decision.policySetDigest,
      cedarVersion: decision.cedarVersion,
      request: decision.request,
      requestDigest: decision.requestDigest,
    },
  };
}

/** One line for `InferenceDenied.reason` (and logs): why a deny is a deny. Null for an allow. */
export function denyReason(decision: Pick<PolicyDecision, 'decision' | 'determiningPolicies' | 'errors'>): string | null {
  if (decision.decision === 'allow') return null;
  if (decision.errors.length > 0) return `evaluation failed closed: ${decision.errors.join('; ')}`;
  if (decision.determiningPolicies.length > 0) return `forbidden by ${decision.determiningPolicies.join(', ')}`;
  return 'no policy permits it';
}

export type Reevaluation = {
  /** True when the recorded decision and its determining policies follow from the recorded request and set. */
  same: boolean;
  recorded: { decision: PolicyDecisionValue; determiningPolicies: string[]; errors: string[] };
  /** The decision evaluated now (stateless, from the texts); null when the inputs do not fit together. */
  now: { decision: PolicyDecisionValue; determiningPolicies: string[]; errors: string[] } | null;
  /** Why `same` is false besides a different outcome: a set that is not the decision's, digests that lie. */
  problems: string[];
  cedarVersion: { recorded: string; now: string };
};

/**
 * Re-runs a recorded decision's request against the exact policy texts of the recorded set. Pure: parses the
 * texts on this call and touches no cache and no log. `same` needs the set to be the one the decision names
 * (its digest recomputed from its texts), the request to match its recorded digest, and the decision and
 * determining policies to come out equal, errors or none alike. The errors' wording is not compared: it belongs
 * to Cedar and may change between versions; the decision they caused must not.
 */
export function reevaluate(decision: PolicyDecisionRecordedData, publishedSet: PolicySetPublishedData): Reevaluation {
  const problems: string[] = [];
  const recorded = {
    decision: decision.decision,
    determiningPolicies: [...decision.determiningPolicies],
    errors: [...decision.errors],
  };
  const cedarVersion = { recorded: decision.cedarVersion, now: CEDAR_VERSION };

  let computedSetDigest: string | null = null;
  try {
    computedSetDigest = policySetDigest({ schema: publishedSet.schema, policies: publishedSet.policies });
  } catch (error) {
    problems.push(`the policy set cannot be digested: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (computedSetDigest !== null && computedSetDigest !== publishedSet.digest) {
    problems.push(`the policy set's texts digest to ${computedSetDigest}, not to its recorded digest ${publishedSet.digest}`);
  }
  if (decision.policySetDigest !== publishedSet.digest) {
    problems.push(`the decision names policy set ${String(decision.policySetDigest)}, not ${publishedSet.digest}`);
  }
  let computedRequestDigest: string | null = null;
  try {
    computedRequestDigest = requestDigest(decision.request);
  } catch (error) {
    problems.push(`the request is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (computedRequestDigest !== null && computedRequestDigest !== decision.requestDigest) {
    problems.push(`the request digests to ${computedRequestDigest}, not to its recorded digest ${decision.requestDigest}`);
  }
  if (problems.length > 0) return { same: false, recorded, now: null, problems, cedarVersion };

  const answer = evaluateStateless(publishedSet, decision.request);
  const now = { decision: answer.decision, determiningPolicies: answer.determiningPolicies, errors: answer.errors };
  const recordedIds = [...recorded.determiningPolicies].sort();
  const same =
    now.decision === recorded.decision &&
    (now.errors.length > 0) === (recorded.errors.length > 0) &&
    now.determiningPolicies.length === recordedIds.length &&
    now.determiningPolicies.every((id, i) => id === recordedIds[i]);
  return { same, recorded, now, problems, cedarVersion };
}
