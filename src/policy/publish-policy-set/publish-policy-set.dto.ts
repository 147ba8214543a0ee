/** Body of `POST /v1/policy-sets` and the policy-set view answered by both routes. */
import { z } from 'zod';
import { MAX_POLICIES, MAX_POLICY_TEXT, MAX_SCHEMA_TEXT } from '../policy-set.js';

const PolicyTextSchema = z.strictObject({
  id: z.string().min(1).max(128).describe('Policy id: what decisions name (`determiningPolicies`)'),
  text: z.string().min(1).max(MAX_POLICY_TEXT).describe('One Cedar policy; an `@id("…")` annotation, if any, must equal `id`'),
});

export const PublishPolicySetBodySchema = z.strictObject({
  schema: z
    .string()
    .min(1)
    .max(MAX_SCHEMA_TEXT)
    .optional()
    .describe('Cedar schema (human format); default: the schema of the set in force for the tenant'),
  policies: z.array(PolicyTextSchema).min(1).max(MAX_POLICIES),
});
export type PublishPolicySetBody = z.infer<typeof PublishPolicySetBodySchema>;

export const PolicySetResponseSchema = z.object({
  digest: z.string().describe('sha256: of RFC 8785 JSON of {schema, policies sorted by id}'),
  source: z.enum(['startup', 'admin']),
  scope: z.enum(['tenant', 'system']).describe("tenant: the tenant's own set; system: the shipped set (the tenant has none)"),
  schema: z.string(),
  policies: z.array(z.object({ id: z.string(), text: z.string() })),
  cedarVersion: z.string(),
  position: z.number().int().min(0).describe('Global log position of the PolicySetPublished entry'),
  revision: z.number().int().min(0).describe('Revision of that entry in its stream (policy-<tenant> or policy-system)'),
  publishedAt: z.string(),
});
export type PolicySetResponse = z.infer<typeof PolicySetResponseSchema>;
