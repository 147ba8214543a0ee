/** Request body of `POST /v1/proxies/import`: a proxy trained outside the ledger, with declared provenance. */
import { z } from 'zod';
import { MAX_ID_LENGTH, SHA256_DIGEST } from '../../../common/domain-values.js';
import { MAX_PROXY_NAME_LENGTH, MAX_PROXY_VERSION_LENGTH } from '../proxy.guards.js';
import { MAX_DESCRIPTION_LENGTH, MAX_ORIGIN_LENGTH } from './import-proxy.command.js';

const unitOrNull = z.number().min(0).max(1).nullable().optional();

export const ImportProxyBodySchema = z.strictObject({
  name: z.string().max(MAX_PROXY_NAME_LENGTH),
  version: z.string().max(MAX_PROXY_VERSION_LENGTH),
  artifactSha256: z.string().regex(SHA256_DIGEST).describe('sha256:<hex> of the model, already uploaded to POST /v1/artifacts'),
  provenance: z.strictObject({
    origin: z.string().max(MAX_ORIGIN_LENGTH).describe('Where the model comes from (vendor, repository, earlier pipeline)'),
    description: z.string().max(MAX_DESCRIPTION_LENGTH),
  }),
  parentProxyVersionId: z.string().min(1).max(MAX_ID_LENGTH).optional(),
  metrics: z
    .strictObject({ fidelity: unitOrNull, groundTruthAgreement: unitOrNull, drift: unitOrNull })
    .optional()
    .describe('Known metrics; omitted ones are recorded as null (and a null fidelity passes no promotion gate)'),
});
export type ImportProxyBody = z.infer<typeof ImportProxyBodySchema>;
