/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/inference-results`. */
import { z } from 'zod';
import { MAX_ID_LENGTH } from '../query.guards.js';

export const RecordInferenceResultBodySchema = z.strictObject({
  jobId: z.string().min(1).max(MAX_ID_LENGTH).describe('A pending job of this node (from the assign response)'),
  proxyVersionId: z.string().min(1).max(MAX_ID_LENGTH).describe('The proxy version the job was assigned to'),
  answer: z.string().describe("The proxy's answer to the node's question"),
  confidence: z.number().min(0).max(1).describe('0..1; below the query threshold the node is escalated to a human'),
  output: z.unknown().optional().describe('The raw model output, any JSON value, kept for audit (default null)'),
});
export type RecordInferenceResultBody = z.infer<typeof RecordInferenceResultBodySchema>;
