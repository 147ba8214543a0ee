/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/escalate` (optional: no body means no note). */
import { z } from 'zod';
import { MAX_NOTE_LENGTH } from './escalate-node.command.js';

export const EscalateNodeBodySchema = z.strictObject({
  note: z.string().max(MAX_NOTE_LENGTH).optional().describe('Why, for the overseer who picks the node up'),
});
export type EscalateNodeBody = z.infer<typeof EscalateNodeBodySchema>;
