/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/decompose`. */
import { z } from 'zod';
import { MAX_QUESTION_LENGTH, MAX_SUBQUESTIONS } from './decompose-node.command.js';

export const DecomposeNodeBodySchema = z.strictObject({
  subquestions: z
    .array(z.string().max(MAX_QUESTION_LENGTH))
    .min(1)
    .max(MAX_SUBQUESTIONS)
    .describe('Each becomes a child node one level deeper, in this order'),
});
export type DecomposeNodeBody = z.infer<typeof DecomposeNodeBodySchema>;
