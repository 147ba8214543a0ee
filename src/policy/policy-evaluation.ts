/**
 * Evaluating one request against one policy set with Cedar, and turning Cedar's answer into a fail-closed
 * `PolicyDecision`. Two paths that MUST give the same decision for the same set and request:
 * - prepared (the engine): the set and its schema are parsed once into Cedar's cache under their digests;
 * - stateless (re-evaluation by an auditor): everything is parsed from the recorded texts on the call.
 * Plain TypeScript, no Nest.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../ledger/canonical-json.js';
import {
  CEDAR_VERSION,
  isAuthorized,
  preparePolicySet,
  prepareSchema,
  statefulIsAuthorized,
  type AuthorizationAnswer,
  type DetailedError,
} from './cedar.js';
import type { PolicyDecision, PolicyRequest } from './policy-engine.port.js';
import type { PolicyText } from './policy-set.js';

/** What evaluation needs of a set. */
export type EvaluableSet = { digest: string; schema: string; policies: readonly PolicyText[] };

/** `sha256:` of RFC 8785 JSON of the request. Throws a TypeError when the request is not JSON. */
export function requestDigest(request: PolicyRequest): string {
  return `sha256:${createHash('sha256').update(canonicalJson(request)).digest('hex')}`;
}

const schemaName = (schema: string) => `schema-sha256:${createHash('sha256').update(schema).digest('hex')}`;
const staticPolicies = (set: EvaluableSet) => Object.fromEntries(set.policies.map(({ id, text }) => [id, text]));

/** Prepared sets (by digest): spares rebuilding the policy map for a set Cedar already holds. */
const prepared = new Map<string, string>();

/**
 * Parses `set` into Cedar's cache (once per digest per process). Returns the schema's cache name, or the
 * errors when Cedar cannot parse it (a validated set always parses; a set read back from the log may not, under
 * another Cedar version).
 */
export function prepareSet(set: EvaluableSet): { schemaName: string } | { errors: string[] } {
  const known = prepared.get(set.digest);
  if (known !== undefined) return { schemaName: known };
  const name = schemaName(set.schema);
  const schemaAnswer = prepareSchema(name, set.schema);
  if (schemaAnswer.type === 'failure') return { errors: schemaAnswer.errors.map((e) => `policy set: schema: ${message(e)}`) };
  const setAnswer = preparePolicySet(set.digest, { staticPolicies: staticPolicies(set) });
  if (setAnswer.type === 'failure') return { errors: setAnswer.errors.map((e) => `policy set: ${message(e)}`) };
  prepared.set(set.digest, name);
  return { schemaName: name };
}

/**
 * The engine's path: against the prepared set (preparing it first if needed). `knownDigest`: the request's
 * digest when the caller computed it already. Never throws.
 */
export function evaluatePrepared(set: EvaluableSet, request: PolicyRequest, knownDigest?: string): PolicyDecision {
  return guarded(set.digest, request, (digest) => {
    const ready = prepareSet(set);
    if ('errors' in ready) return deny(set.digest, request, digest, [], ready.errors);
    const answer = statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context,
      entities: request.entities,
      preparsedPolicySetId: set.digest,
      preparsedSchemaName: ready.schemaName,
      validateRequest: true,
    });
    return toDecision(answer, set.digest, request, digest);
  }, knownDigest);
}

/** The auditor's path: parses the recorded texts on this call, touches no cache. Never throws. */
export function evaluateStateless(set: EvaluableSet, request: PolicyRequest): PolicyDecision {
  return guarded(set.digest, request, (digest) => {
    const answer = isAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context,
      entities: request.entities,
      policies: { staticPolicies: staticPolicies(set) },
      schema: set.schema,
      validateRequest: true,
    });
    return toDecision(answer, set.digest, request, digest);
  });
}

/** A deny for a request that could not be evaluated at all (no set in force, ...). Never throws. */
export function denyWithoutEvaluation(policySetDigest: string | null, request: PolicyRequest, errors: string[]): PolicyDecision {
  return guarded(policySetDigest, request, (digest) => deny(policySetDigest, request, digest, [], errors));
}

/**
 * Cedar's answer, failing closed: a failure (request not matching the schema, ...) is a deny; an allow that
 * came with any policy error is a deny determined by the policies that errored.
 */
export function toDecision(
  answer: AuthorizationAnswer,
  policySetDigest: string | null,
  request: PolicyRequest,
  digest: string,
): PolicyDecision {
  if (answer.type === 'failure') return deny(policySetDigest, request, digest, [], answer.errors.map((e) => `request: ${message(e)}`));
  const { decision, diagnostics } = answer.response;
  const errors = diagnostics.errors.map((e) => `${e.policyId}: ${message(e.error)}`);
  if (errors.length === 0) {
    return { decision, determiningPolicies: sorted(diagnostics.reason), errors, policySetDigest, cedarVersion: CEDAR_VERSION, request, requestDigest: digest };
  }
  const determining = decision === 'deny' ? diagnostics.reason : diagnostics.errors.map((e) => e.policyId);
  return deny(policySetDigest, request, digest, determining, errors);
}

function deny(policySetDigest: string | null, request: PolicyRequest, digest: string, determining: readonly string[], errors: string[]): PolicyDecision {
  return { decision: 'deny', determiningPolicies: sorted(determining), errors, policySetDigest, cedarVersion: CEDAR_VERSION, request, requestDigest: digest };
}

/** Runs `evaluate` with the request's digest; anything thrown becomes a deny (the port never throws). */
function guarded(
  policySetDigest: string | null,
  request: PolicyRequest,
  evaluate: (digest: string) => PolicyDecision,
  knownDigest?: string,
): PolicyDecision {
  let digest = '';
  try {
    digest = knownDigest ?? requestDigest(request);
    return evaluate(digest);
  } catch (error) {
    return deny(policySetDigest, request, digest, [], [`engine: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

function sorted(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

function message(error: DetailedError): string {
  return error.message;
}
