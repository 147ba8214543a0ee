/** Request body of `POST /v1/proxies/:proxyVersionId/retire`. */
import { z } from 'zod';
import { MAX_PROXY_REASON_LENGTH } from '../proxy.guards.js';

export const RetireProxyBodySchema = z.strictObject({
  reason: z.string().max(MAX_PROXY_REASON_LENGTH).describe('Why the proxy is retired (non-blank)'),
});
export type RetireProxyBody = z.infer<typeof RetireProxyBodySchema>;
