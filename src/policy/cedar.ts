/**
 * The one place that imports Cedar (`@cedar-policy/cedar-wasm`, its Node.js build). Everything else in
 * src/policy goes through these wrappers, so that:
 * - no Cedar call can throw past us (the wasm bindings throw plain `Error`s on malformed calls, e.g. an unknown
 *   field): every wrapper answers a `failure` instead;
 * - the names of the preparsed (thread-local, never evicted) policy sets and schemas follow one scheme: the
 *   digest of what was parsed, so the same text is parsed once per process however often it is published.
 * Plain TypeScript, no Nest.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type {
  AuthorizationAnswer,
  AuthorizationCall,
  CheckParseAnswer,
  DetailedError,
  PolicySet,
  PolicySetTextToPartsAnswer,
  PolicyToJsonAnswer,
  Schema,
  StatefulAuthorizationCall,
  ValidationAnswer,
  ValidationCall,
} from '@cedar-policy/cedar-wasm/nodejs';

export type { AuthorizationAnswer, DetailedError };

/** The version of the Cedar library that evaluates (recorded with every set and every decision). */
export const CEDAR_VERSION: string = cedar.getCedarVersion();

function thrown(error: unknown): { type: 'failure'; errors: DetailedError[]; warnings: DetailedError[] } {
  const message = error instanceof Error ? error.message : String(error);
  return { type: 'failure', errors: [{ message, help: null, code: null, url: null, severity: null }], warnings: [] };
}

export function checkParseSchema(schema: Schema): CheckParseAnswer {
  try {
    return cedar.checkParseSchema(schema);
  } catch (error) {
    return thrown(error);
  }
}

export function policySetTextToParts(text: string): PolicySetTextToPartsAnswer {
  try {
    return cedar.policySetTextToParts(text);
  } catch (error) {
    return thrown(error);
  }
}

export function policyToJson(text: string): PolicyToJsonAnswer {
  try {
    return cedar.policyToJson(text);
  } catch (error) {
    return thrown(error);
  }
}

export function validate(call: ValidationCall): ValidationAnswer {
  try {
    return cedar.validate(call);
  } catch (error) {
    return thrown(error);
  }
}

/** Stateless: parses policies and schema on every call (~3× the prepared cost). For re-evaluation. */
export function isAuthorized(call: AuthorizationCall): AuthorizationAnswer {
  try {
    return cedar.isAuthorized(call);
  } catch (error) {
    return thrown(error);
  }
}

const preparedSets = new Set<string>();
const preparedSchemas = new Set<string>();

/**
 * Parses `policies` once into Cedar's thread-local cache under `name` (callers use the set's digest: the same
 * name always means the same text). Idempotent. Returns Cedar's failure, if any.
 */
export function preparePolicySet(name: string, policies: PolicySet): CheckParseAnswer {
  if (preparedSets.has(name)) return { type: 'success' };
  let answer: CheckParseAnswer;
  try {
    answer = cedar.preparsePolicySet(name, policies);
  } catch (error) {
    return thrown(error);
  }
  if (answer.type === 'success') preparedSets.add(name);
  return answer;
}

/** As {@link preparePolicySet}, for a schema. */
export function prepareSchema(name: string, schema: Schema): CheckParseAnswer {
  if (preparedSchemas.has(name)) return { type: 'success' };
  let answer: CheckParseAnswer;
  try {
    answer = cedar.preparseSchema(name, schema);
  } catch (error) {
    return thrown(error);
  }
  if (answer.type === 'success') preparedSchemas.add(name);
  return answer;
}

/** Evaluates against a prepared set and schema (~0.1 ms). */
export function statefulIsAuthorized(call: StatefulAuthorizationCall): AuthorizationAnswer {
  try {
    return cedar.statefulIsAuthorized(call);
  } catch (error) {
    return thrown(error);
  }
}
