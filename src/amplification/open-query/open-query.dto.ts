/** Request body of `POST /v1/queries`. Types and bounds here (400); meaning in `decideOpenQuery` (422). */
import { z } from 'zod';
import { DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_MAX_DEPTH, MAX_MAX_DEPTH, MAX_TASK_LENGTH } from './open-query.command.js';

export const OpenQueryBodySchema = z.strictObject({
  task: z.string().max(MAX_TASK_LENGTH).describe('The question to amplify; becomes the root node'),
  input: z.unknown().describe('Any JSON value the task is about (required; null allowed)'),
  maxDepth: z
    .number()
    .int()
    .min(1)
    .max(MAX_MAX_DEPTH)
    .optional()
    .describe(`Deepest node depth allowed (root = 0); default ${DEFAULT_MAX_DEPTH}`),
  confidenceThreshold: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe(`Answers below it are escalated to a human; default ${DEFAULT_CONFIDENCE_THRESHOLD}`),
});
export type OpenQueryBody = z.infer<typeof OpenQueryBodySchema>;
