/** HTTP pieces shared by the projections' controllers: their stable problem codes and the OpenAPI helper. */
import { apiProblemsFor } from '../common/http/command-http.js';
import type { ErrorCategory } from '../common/ledger-error.js';

export const PROJECTION_REFUSALS = {
  'REQUEST.VALIDATION_FAILED': 'bad_request',
  'LINEAGE.PROXY_NOT_FOUND': 'not_found',
  /** Same code as the proxy registry's routes under /v1/proxies: the same meaning for the same resource. */
  'PROXY.NOT_FOUND': 'not_found',
  'PROJECTIONS.FAILED': 'internal',
  'PROJECTIONS.LAGGING': 'unavailable',
  'PROJECTIONS.STOPPED': 'unavailable',
} as const satisfies Record<string, ErrorCategory>;

/** Every read here waits for the live projections first, and may fail with these. */
export const READ_PROBLEMS = ['PROJECTIONS.FAILED', 'PROJECTIONS.LAGGING', 'PROJECTIONS.STOPPED'] as const;

export const ApiProblems = apiProblemsFor(PROJECTION_REFUSALS);
