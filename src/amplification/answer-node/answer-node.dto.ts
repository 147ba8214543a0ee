/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/answer`. */
import { z } from 'zod';

export const AnswerNodeBodySchema = z.strictObject({
  answer: z.string().describe("The overseer's answer to the node's question"),
  confidence: z.number().min(0).max(1).optional().describe('0..1; omitted means none was stated'),
});
export type AnswerNodeBody = z.infer<typeof AnswerNodeBodySchema>;
