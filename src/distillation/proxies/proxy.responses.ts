/**
 * Response bodies of the proxy commands and the proxy view, as zod schemas so OpenAPI documents them from one
 * source. Every command answers `{proxyVersionId, revision, ...}`; `revision` is the stream revision after it.
 */
import { z } from 'zod';
import { PROXY_STAGES } from './proxy.events.js';

const revision = z.number().int().min(0).describe('Stream revision after the command (also sent as ETag)');
const proxyVersionId = z.string();
const stage = z.enum(PROXY_STAGES);
const actor = z.object({ sub: z.string(), role: z.string() });

export const ProxySourceSchema = z.union([
  z.object({ kind: z.literal('distillation'), runId: z.string() }),
  z.object({
    kind: z.literal('imported'),
    provenance: z.object({ origin: z.string(), description: z.string(), declaredBy: z.string() }),
  }),
]);

export const PromotionCheckSchema = z.object({
  gate: z.enum(['minFidelity', 'maxDrift', 'minAgreement', 'maxRecalibrationAgeDays']),
  required: z.number(),
  observed: z.number().nullable(),
  passed: z.boolean(),
});

export const RegisterProxyResponseSchema = z.object({
  proxyVersionId,
  stage: z.literal('candidate'),
  source: ProxySourceSchema,
  parentProxyVersionId: z.string().nullable(),
  artifact: z.object({ sha256: z.string(), sizeBytes: z.number().int() }),
  metrics: z.object({ fidelity: z.number().nullable(), groundTruthAgreement: z.number().nullable(), drift: z.number().nullable() }),
  revision,
});
export type RegisterProxyResponse = z.infer<typeof RegisterProxyResponseSchema>;

export const PromoteProxyResponseSchema = z.object({
  proxyVersionId,
  from: stage,
  to: z.enum(['shadow', 'production']),
  stage: z.enum(['shadow', 'production']),
  checks: z.array(PromotionCheckSchema),
  revision,
});
export type PromoteProxyResponse = z.infer<typeof PromoteProxyResponseSchema>;

export const RecalibrateProxyResponseSchema = z.object({
  proxyVersionId,
  recalibrationId: z.string(),
  sampleCount: z.number().int(),
  agreement: z.number(),
  minAgreement: z.number(),
  demoted: z.object({ from: stage, to: z.literal('candidate'), reason: z.string() }).nullable().describe('Set when the recalibration demoted the proxy'),
  stage: stage.describe("The proxy's stage right after this recalibration"),
  revision,
});
export type RecalibrateProxyResponse = z.infer<typeof RecalibrateProxyResponseSchema>;

export const RetireProxyResponseSchema = z.object({ proxyVersionId, from: stage, stage: z.literal('retired'), reason: z.string(), revision });
export type RetireProxyResponse = z.infer<typeof RetireProxyResponseSchema>;

export const ProxyViewSchema = z.object({
  proxyVersionId,
  tenant: z.string(),
  name: z.string(),
  version: z.string(),
  stage,
  source: ProxySourceSchema,
  parentProxyVersionId: z.string().nullable(),
  artifact: z.object({ sha256: z.string(), sizeBytes: z.number().int() }),
  metrics: z.object({ fidelity: z.number().nullable(), groundTruthAgreement: z.number().nullable(), drift: z.number().nullable() }),
  registeredAt: z.string(),
  registeredBy: actor,
  lastRecalibration: z
    .object({ recalibrationId: z.string(), agreement: z.number(), minAgreement: z.number(), sampleCount: z.number().int(), at: z.string(), by: actor })
    .nullable(),
  transitions: z.array(
    z.object({
      kind: z.enum(['promoted', 'demoted', 'retired']),
      from: stage,
      to: stage,
      at: z.string(),
      by: actor,
      reason: z.string().nullable(),
      checks: z.array(PromotionCheckSchema).nullable(),
    }),
  ),
  revision: z.number().int(),
});

export const ProxyListSchema = z.object({ proxies: z.array(ProxyViewSchema) });
