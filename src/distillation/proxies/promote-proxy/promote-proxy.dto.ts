/** Request body of `POST /v1/proxies/:proxyVersionId/promote`. */
import { z } from 'zod';
import { PROMOTION_TARGETS } from '../proxy.events.js';

export const PromoteProxyBodySchema = z.strictObject({
  to: z.enum(PROMOTION_TARGETS).describe('shadow (from candidate) or production (from shadow)'),
});
export type PromoteProxyBody = z.infer<typeof PromoteProxyBodySchema>;
