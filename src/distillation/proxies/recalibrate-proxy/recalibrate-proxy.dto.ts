/** Request body of `POST /v1/proxies/:proxyVersionId/recalibrations`. */
import { z } from 'zod';
import { MAX_ID_LENGTH } from '../../../common/domain-values.js';
import { MAX_ANSWER_LENGTH, MAX_SAMPLES } from './recalibrate-proxy.command.js';

const id = z.string().min(1).max(MAX_ID_LENGTH);
const answer = z.string().max(MAX_ANSWER_LENGTH);

export const RecalibrateProxyBodySchema = z.strictObject({
  samples: z
    .array(z.strictObject({ queryId: id, nodeId: id, humanAnswer: answer, proxyAnswer: answer }))
    .max(MAX_SAMPLES)
    .describe(`1..${MAX_SAMPLES} paired answers; they agree when equal after trimming and case-folding`),
});
export type RecalibrateProxyBody = z.infer<typeof RecalibrateProxyBodySchema>;
