/**
 * HTTP pieces of the amplification controllers: the generic command HTTP helpers (src/common/http/command-http.ts)
 * bound to the query refusal codes, and the problem lists shared by the query routes.
 */
import { apiProblemsFor, LAYER_CODES } from '../common/http/command-http.js';
import { QUERY_REFUSALS } from './query.guards.js';

export {
  ApiCommandResponse,
  Envelope,
  etagOf,
  IDEMPOTENT_REPLAYED_HEADER,
  OptionalZodBody,
  reply,
} from '../common/http/command-http.js';

/** Every documented code of the query routes, in the order problem lists show them. */
const ALL_CODES = { ...QUERY_REFUSALS, ...LAYER_CODES };

export type DocumentedCode = keyof typeof LAYER_CODES | keyof typeof QUERY_REFUSALS;

/** Refusals of every command on an existing query: headers, body, tenant, existence, stopped, concurrency. */
export const QUERY_COMMAND_PROBLEMS = [
  'REQUEST.VALIDATION_FAILED',
  'REQUEST.INVALID_IF_MATCH',
  'REQUEST.INVALID_IDEMPOTENCY_KEY',
  'REQUEST.IDEMPOTENCY_KEY_REUSED',
  'AUTH.TENANT_FORBIDDEN',
  'QUERY.NOT_FOUND',
  'QUERY.STOPPED',
  'LEDGER.CONCURRENT_MODIFICATION',
  'LEDGER.REVISION_CONFLICT',
] as const satisfies readonly DocumentedCode[];

/** ... and of every command on one node of it (which also checks the node id and the command's fields). */
export const NODE_COMMAND_PROBLEMS = [
  ...QUERY_COMMAND_PROBLEMS,
  'QUERY.NODE_NOT_FOUND',
  'QUERY.INVALID_COMMAND',
] as const satisfies readonly DocumentedCode[];

/** One `@ApiResponse` per status with its stable codes (see `apiProblemsFor`). */
export const ApiProblems: (...codes: DocumentedCode[]) => MethodDecorator = apiProblemsFor(ALL_CODES);
