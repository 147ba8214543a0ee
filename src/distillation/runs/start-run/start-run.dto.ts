/** Request body of `POST /v1/distillation-runs`. Types and bounds here (400); meaning in `decideStartRun` (422/409). */
import { z } from 'zod';
import { MAX_ID_LENGTH, SHA256_DIGEST } from '../../../common/domain-values.js';
import { MAX_DATASET_QUERIES, MAX_NAME_LENGTH } from './start-run.command.js';

const id = z.string().min(1).max(MAX_ID_LENGTH);

export const StartRunBodySchema = z.strictObject({
  // No minimum here: an empty list is a domain refusal (DISTILLATION.EMPTY_DATASET), not a malformed body.
  queryIds: z.array(id).max(MAX_DATASET_QUERIES).describe('Completed queries of the tenant, in dataset order; no duplicates'),
  parentProxyVersionId: id.optional().describe('The proxy this run distils from (drift is measured against it)'),
  student: z.strictObject({
    name: z.string().max(MAX_NAME_LENGTH),
    architecture: z.string().max(MAX_NAME_LENGTH),
    hyperparameters: z.record(z.string(), z.unknown()).describe('Any JSON object'),
  }),
  trainingDigest: z.string().regex(SHA256_DIGEST).describe('sha256:<hex> of the training configuration / code'),
});
export type StartRunBody = z.infer<typeof StartRunBodySchema>;
