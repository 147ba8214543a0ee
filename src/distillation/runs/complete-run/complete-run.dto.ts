/** Request body of `POST /v1/distillation-runs/:runId/complete`. */
import { z } from 'zod';
import { MAX_ID_LENGTH, SHA256_DIGEST } from '../../../common/domain-values.js';
import { MAX_DATASET_QUERIES } from '../start-run/start-run.command.js';

const unit = z.number().min(0).max(1);

export const CompleteRunBodySchema = z.strictObject({
  artifactSha256: z.string().regex(SHA256_DIGEST).describe('sha256:<hex> of the trained model, already uploaded to POST /v1/artifacts'),
  metrics: z.strictObject({
    fidelity: unit.describe('Agreement of the student with the amplified teacher'),
    groundTruthAgreement: unit.describe('Agreement of the student with ground-truth human answers'),
    drift: unit.nullable().optional().describe('Drift from the parent proxy; null (or omitted) only for a run without a parent'),
    heldOutQueryIds: z
      .array(z.string().min(1).max(MAX_ID_LENGTH))
      .max(MAX_DATASET_QUERIES)
      .optional()
      .describe("Queries of the run's dataset kept for evaluation; default none"),
  }),
});
export type CompleteRunBody = z.infer<typeof CompleteRunBodySchema>;
