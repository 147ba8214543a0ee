/** Request body of `POST /v1/queries/:queryId/stop`. */
import { z } from 'zod';

export const StopQueryBodySchema = z.strictObject({
  reason: z.string().describe('Why the query is stopped; required and non-blank'),
});
export type StopQueryBody = z.infer<typeof StopQueryBodySchema>;
