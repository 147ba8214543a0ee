/** Request body of `PUT /v1/tenant/settings`: the whole settings document (not a patch). */
import { z } from 'zod';

const unit = z.number().min(0).max(1);
const depth = z.number().int().min(1).max(16);

export const TenantSettingsSchema = z.strictObject({
  amplification: z.strictObject({
    defaultMaxDepth: depth.describe('Depth limit when neither the request nor its task class sets one'),
    defaultConfidenceThreshold: unit.describe('Escalation threshold when neither the request nor its task class sets one'),
    taskClasses: z
      .record(
        z.string().min(1).max(100),
        z.strictObject({ maxDepth: depth.optional(), confidenceThreshold: unit.optional() }),
      )
      .default({})
      .describe('Limits per task class, chosen by `taskClass` when a query is opened'),
  }),
  promotionGates: z.strictObject({
    minFidelity: unit.describe('Minimum fidelity against the teacher to promote'),
    maxDrift: unit.describe('Maximum drift against the parent proxy to promote'),
    minAgreement: unit.describe('Minimum recalibration agreement for production; below it a serving proxy is demoted'),
    maxRecalibrationAgeDays: z.number().gt(0).max(3650).describe('Production needs a recalibration at most this old'),
  }),
});

export const UpdateSettingsBodySchema = z.strictObject({ settings: TenantSettingsSchema });
export type UpdateSettingsBody = z.infer<typeof UpdateSettingsBodySchema>;

export const TenantSettingsResponseSchema = z.object({
  tenant: z.string(),
  settings: TenantSettingsSchema,
  revision: z.number().int().min(-1).describe('Revision of the tenant stream (-1: never set, defaults apply)'),
});
export type TenantSettingsResponse = z.infer<typeof TenantSettingsResponseSchema>;
