/** Request body of `POST /v1/queries/:queryId/complete`: `{}` or no body at all. */
import { z } from 'zod';

export const CompleteQueryBodySchema = z.strictObject({});
export type CompleteQueryBody = z.infer<typeof CompleteQueryBodySchema>;
