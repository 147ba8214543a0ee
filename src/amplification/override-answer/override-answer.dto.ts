/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/override`. */
import { z } from 'zod';

export const OverrideAnswerBodySchema = z.strictObject({
  answer: z.string().describe('The answer that replaces the current one (the original stays in the history)'),
  rationale: z.string().describe('Why; required and non-blank'),
});
export type OverrideAnswerBody = z.infer<typeof OverrideAnswerBodySchema>;
