/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/compose`. */
import { z } from 'zod';

export const ComposeAnswerBodySchema = z.strictObject({
  answer: z.string().describe("The node's answer, composed from its children's answers"),
});
export type ComposeAnswerBody = z.infer<typeof ComposeAnswerBodySchema>;
