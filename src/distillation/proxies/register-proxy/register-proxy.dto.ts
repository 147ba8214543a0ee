/** Request body of `POST /v1/proxies`: register the proxy a completed run produced. */
import { z } from 'zod';
import { MAX_ID_LENGTH } from '../../../common/domain-values.js';
import { MAX_PROXY_NAME_LENGTH, MAX_PROXY_VERSION_LENGTH } from '../proxy.guards.js';

export const RegisterProxyBodySchema = z.strictObject({
  runId: z.string().min(1).max(MAX_ID_LENGTH).describe('A completed distillation run of the tenant; becomes the proxy version id'),
  name: z.string().max(MAX_PROXY_NAME_LENGTH),
  version: z.string().max(MAX_PROXY_VERSION_LENGTH),
});
export type RegisterProxyBody = z.infer<typeof RegisterProxyBodySchema>;
