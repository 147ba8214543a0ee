/** Request body of `POST /v1/queries/:queryId/nodes/:nodeId/assign`. Types and bounds here (400); meaning in `decideAssignNode` (422/409). */
import { z } from 'zod';
import { MAX_ID_LENGTH } from '../query.guards.js';
import { MAX_ENSEMBLE_SIZE, MIN_ENSEMBLE_SIZE } from './assign-node.command.js';

const proxyVersionId = z.string().min(1).max(MAX_ID_LENGTH).describe('A proxy version of the tenant, in stage shadow or production');

const input = z
  .unknown()
  .optional()
  .describe(
    'The model input for the proxy jobs (any JSON value; a worker runs `{features: number[], labels?: string[]}`); ' +
      'default `{question: <the node question>}`. The grant binds its RFC 8785 SHA-256.',
  );

export const AssignNodeBodySchema = z.discriminatedUnion('to', [
  z.strictObject({ to: z.literal('human') }),
  z.strictObject({ to: z.literal('proxy'), proxyVersionId, input }),
  z.strictObject({
    to: z.literal('ensemble'),
    input,
    proxyVersionIds: z
      .array(proxyVersionId)
      .min(MIN_ENSEMBLE_SIZE)
      .max(MAX_ENSEMBLE_SIZE)
      .describe(`${MIN_ENSEMBLE_SIZE}..${MAX_ENSEMBLE_SIZE} distinct proxy versions; the node's answer is their majority vote`),
  }),
]);
export type AssignNodeBody = z.infer<typeof AssignNodeBodySchema>;
