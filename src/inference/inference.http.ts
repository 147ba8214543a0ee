/** HTTP pieces of the inference routes: every code they may answer (OpenAPI), bound to the shared helpers. */
import { apiProblemsFor } from '../common/http/command-http.js';
import type { ErrorCategory } from '../common/ledger-error.js';
import { INFERENCE_REJECTIONS } from './jobs/inference.events.js';
import { WORKER_REFUSALS } from './workers/worker.commands.js';

export const INFERENCE_CODES = {
  ...WORKER_REFUSALS,
  ...INFERENCE_REJECTIONS,
  'INFERENCE.JOB_NOT_FOUND': 'not_found',
  'INFERENCE.NOT_A_WORKER': 'forbidden',
} as const satisfies Record<string, ErrorCategory>;

export const ApiProblems = apiProblemsFor(INFERENCE_CODES, 'INFERENCE.GRANT_EXPIRED');
