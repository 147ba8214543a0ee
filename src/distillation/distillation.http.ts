/**
 * HTTP pieces of the distillation controllers (runs, proxies, artifacts): the generic command HTTP helpers
 * (src/common/http/command-http.ts) bound to the distillation codes, and the problem lists its routes share.
 */
import { apiProblemsFor, LAYER_CODES } from '../common/http/command-http.js';
import type { ErrorCategory } from '../common/ledger-error.js';
import { PROXY_REFUSALS } from './proxies/proxy.guards.js';
import { RUN_REFUSALS } from './runs/run.guards.js';

export { ApiCommandResponse, ApiReadResponse, Envelope, etagOf, reply } from '../common/http/command-http.js';

/** Codes of the artifact store and its routes. */
export const ARTIFACT_CODES = {
  'ARTIFACT.INVALID_DIGEST': 'bad_request',
  'ARTIFACT.EMPTY': 'bad_request',
  'ARTIFACT.INVALID_CONTENT_DIGEST': 'bad_request',
  'ARTIFACT.NOT_FOUND': 'not_found',
  'ARTIFACT.DIGEST_MISMATCH': 'unprocessable',
} as const satisfies Record<string, ErrorCategory>;

/** Every refusal of the distillation routes, in the order problem lists show them (then `LAYER_CODES`). */
const DISTILLATION_CODES = { ...RUN_REFUSALS, ...PROXY_REFUSALS, ...ARTIFACT_CODES };

export type DocumentedCode = keyof typeof LAYER_CODES | keyof typeof DISTILLATION_CODES;

/** Refusals every command may answer: headers, body, tenant, concurrency, idempotency. */
export const COMMAND_PROBLEMS = [
  'REQUEST.VALIDATION_FAILED',
  'REQUEST.BODY_TOO_LARGE',
  'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  'REQUEST.INVALID_IDEMPOTENCY_KEY',
  'REQUEST.IDEMPOTENCY_KEY_REUSED',
  'AUTH.TENANT_FORBIDDEN',
  'LEDGER.CONCURRENT_MODIFICATION',
] as const satisfies readonly DocumentedCode[];

/** ... and every command on an existing stream (If-Match). */
export const UPDATE_PROBLEMS = [...COMMAND_PROBLEMS, 'REQUEST.INVALID_IF_MATCH', 'LEDGER.REVISION_CONFLICT'] as const satisfies readonly DocumentedCode[];

/** One `@ApiResponse` per status with its stable codes (see `apiProblemsFor`). */
export const ApiProblems: (...codes: DocumentedCode[]) => MethodDecorator = apiProblemsFor(DISTILLATION_CODES, 'PROXY.GATES_NOT_MET');
