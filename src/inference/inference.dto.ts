/** Bodies and responses of `POST /v1/inference/leases` and `POST /v1/inference/results` (docs/policy-gate.md). */
import { z } from 'zod';
import { EXECUTION_PROVIDERS } from '../amplification/query.events.js';
import { INFERENCE_OUTCOMES } from '../amplification/query.responses.js';
import { MAX_LEASE_WAIT_MS } from './inference.options.js';

export const LeaseBodySchema = z.strictObject({
  waitMs: z
    .number()
    .int()
    .min(0)
    .max(MAX_LEASE_WAIT_MS)
    .optional()
    .describe(`Long poll: wait up to this long for a job (default and maximum ${MAX_LEASE_WAIT_MS})`),
});
export type LeaseBody = z.infer<typeof LeaseBodySchema>;

export const LeaseResponseSchema = z.object({
  job: z.object({
    jobId: z.string(),
    queryId: z.string(),
    nodeId: z.string(),
    proxyVersionId: z.string(),
    artifactSha256: z.string().describe('The model to fetch (GET /v1/artifacts/:sha256) and check'),
    input: z.unknown().describe('The model input'),
    inputDigest: z.string().describe('sha256: of its RFC 8785 JSON'),
  }),
  grant: z.string().describe('JWT signed with the ledger log key (kid in the header; /.well-known/jwks.json)'),
  leasedUntil: z.string().describe('ISO time the lease ends'),
});

const digest = z.string().max(100);

/**
 * Lenient where a refusal must still be recorded: a result without a grant or a signature is refused and
 * recorded (GRANT_INVALID / SIGNATURE_INVALID), not a 400.
 */
export const ResultBodySchema = z.strictObject({
  grant: z.string().max(8192).optional().describe('The grant received with the lease, as received'),
  jobId: z.string().min(1).max(200),
  output: z.strictObject({
    answer: z.string().min(1).max(10_000),
    confidence: z.number().min(0).max(1).describe('The top softmax probability'),
    scores: z.array(z.number()).max(100_000).optional().describe("The model's first output for the input row"),
  }),
  provider: z.enum(EXECUTION_PROVIDERS).describe('The execution provider that ran the model'),
  timing: z.strictObject({ loadMs: z.number().min(0), runMs: z.number().min(0) }),
  modelSha256: digest.describe('sha256: of the model bytes run (must be the grant\'s `model`)'),
  inputDigest: digest.describe("sha256: of the RFC 8785 JSON of the input run (must be the grant's `input`)"),
  signature: z
    .string()
    .max(8192)
    .optional()
    .describe("Compact JWS (EdDSA, the worker's registered key, kid = its thumbprint) over RFC 8785 JSON of this body without `signature`"),
});
export type ResultBody = z.infer<typeof ResultBodySchema>;

export const ResultResponseSchema = z.object({
  queryId: z.string(),
  nodeId: z.string(),
  jobId: z.string(),
  outcome: z.enum(INFERENCE_OUTCOMES),
  revision: z.number().int(),
});
export type ResultResponse = z.infer<typeof ResultResponseSchema>;
