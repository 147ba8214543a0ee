/** Request body of `POST /v1/queries`. Types and bounds here (400); meaning in `decideOpenQuery` (422). */
import { z } from 'zod';
import { DATA_CLASSIFICATIONS } from '../query.events.js';
import { MAX_MAX_DEPTH, MAX_TASK_CLASS_LENGTH, MAX_TASK_LENGTH } from './open-query.command.js';

export const OpenQueryBodySchema = z.strictObject({
  task: z.string().max(MAX_TASK_LENGTH).describe('The question to amplify; becomes the root node'),
  input: z.unknown().describe('Any JSON value the task is about (required; null allowed)'),
  taskClass: z
    .string()
    .max(MAX_TASK_CLASS_LENGTH)
    .optional()
    .describe("A task class of the tenant's settings (GET /v1/tenant/settings); its limits apply where none is given here"),
  maxDepth: z
    .number()
    .int()
    .min(1)
    .max(MAX_MAX_DEPTH)
    .optional()
    .describe("Deepest node depth allowed (root = 0); default: the task class's, else the tenant's default"),
  confidenceThreshold: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("Proxy answers below it are escalated to a human; default: the task class's, else the tenant's default"),
  dataClassification: z
    .enum(DATA_CLASSIFICATIONS)
    .optional()
    .describe('How sensitive the data is; the inference policy gate reads it (default internal)'),
});
export type OpenQueryBody = z.infer<typeof OpenQueryBodySchema>;
