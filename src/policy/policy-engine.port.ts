/**
 * The policy-engine port (DESIGN §6, docs/policy-gate.md "Decisions"): asks whether a principal may perform an
 * action on a resource, under the policy set in force for a tenant, and answers with everything an auditor
 * needs to re-check the answer later from the log alone. Plain TypeScript, no Nest.
 *
 * Contract — an implementation:
 * - MUST NOT throw, whatever the request (malformed, not matching the schema, for an unknown tenant) and
 *   whatever goes wrong inside (no set in force, a set that fails to parse, an evaluation error). It MUST
 *   fail closed instead: any error makes the decision `deny`, with every error listed in `errors`.
 * - MUST answer `allow` only when Cedar allowed AND reported no error at all (Cedar skips a policy that errors
 *   and may still allow: a `forbid` that errored must not let the request through).
 * - MUST evaluate with the set in force for `tenant` at the moment of the call (its own latest published set,
 *   else the system's latest) and report that set's digest; a set published before `decide` was called is
 *   the one used.
 * - MUST validate the request against the set's schema (a request that does not match it is a deny with
 *   Cedar's message), and evaluate it exactly as given: `request` in the answer is the very object evaluated
 *   and `requestDigest` is `sha256:` of its RFC 8785 JSON, so re-evaluating the recorded request against the
 *   recorded policy texts gives the same decision (see `reevaluate`).
 * - MUST be synchronous and side-effect free on the log: a command calls it inside its pure `decide` step,
 *   against the very state it decides on, and records the answer itself (`policyDecisionRecorded`).
 * - MUST NOT keep or log the request beyond the call (it may carry tenant data).
 */

/** A Cedar entity uid, e.g. `{type: 'IdaLedger::Pipeline', id: 'orchestrator-1'}`. */
export type PolicyEntityUid = { type: string; id: string };

/** A JSON value Cedar accepts as an attribute: an entity reference is `{__entity: {type, id}}`. */
export type PolicyAttributeValue =
  | string
  | number
  | boolean
  | PolicyAttributeValue[]
  | { [key: string]: PolicyAttributeValue };

/** A Cedar entity (its JSON form): attributes and parents, as sent to and recorded from the engine. */
export type PolicyEntity = { uid: PolicyEntityUid; attrs: { [key: string]: PolicyAttributeValue }; parents: PolicyEntityUid[] };

/**
 * One authorization request, complete: besides principal, action, resource and context it carries every
 * entity the policies may read (the principal's tenant, the resource's attributes), so the recorded request
 * alone is enough to evaluate it again. Build RunInference requests with `runInferenceRequest`.
 */
export type PolicyRequest = {
  principal: PolicyEntityUid;
  action: PolicyEntityUid;
  resource: PolicyEntityUid;
  context: { [key: string]: PolicyAttributeValue };
  entities: PolicyEntity[];
};

export type PolicyDecisionValue = 'allow' | 'deny';

/** The engine's answer: what `PolicyDecisionRecorded` records (with the job's ids). */
export type PolicyDecision = {
  decision: PolicyDecisionValue;
  /**
   * Ids of the policies that determined the decision, sorted: the permits that allowed; the forbids that
   * denied (empty when nothing permitted: Cedar's default deny); when errors turned Cedar's allow into a deny,
   * the policies that errored.
   */
  determiningPolicies: string[];
  /** Every error met (`<policyId>: <message>` for a policy, `request: <message>`, `engine: <message>`); [] on a clean answer. */
  errors: string[];
  /** Digest of the set that was evaluated; null only when no set was in force (then the decision is deny). */
  policySetDigest: string | null;
  /** Version of the Cedar library that evaluated. */
  cedarVersion: string;
  /** Exactly the request evaluated. */
  request: PolicyRequest;
  /** `sha256:` of RFC 8785 JSON of `request`. */
  requestDigest: string;
};

export interface PolicyEngine {
  /** Decides `request` under the set in force for `tenant`. Never throws (see the contract above). */
  decide(tenant: string, request: PolicyRequest): PolicyDecision;
}

/** Injection token (Nest: `@Inject(POLICY_ENGINE) engine: PolicyEngine`); provided globally by `PolicyModule`. */
export const POLICY_ENGINE = 'ida-ledger:PolicyEngine';
