/** Request body of `POST /v1/distillation-runs/:runId/fail`. */
import { z } from 'zod';
import { MAX_REASON_LENGTH } from './fail-run.command.js';

export const FailRunBodySchema = z.strictObject({
  reason: z.string().max(MAX_REASON_LENGTH).describe('Why the run failed (non-blank)'),
});
export type FailRunBody = z.infer<typeof FailRunBodySchema>;
