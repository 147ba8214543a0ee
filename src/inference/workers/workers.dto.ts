/** Bodies and responses of the worker registry routes. Types and bounds here (400); meaning in the deciders (409/422). */
import { z } from 'zod';
import { MAX_REVOKE_REASON, MAX_WORKER_NAME } from './worker.commands.js';

export const RegisterWorkerBodySchema = z.strictObject({
  workerId: z.string().min(1).max(200).describe('The worker id its tokens carry as `sub` (letters, digits, . _ : -)'),
  name: z.string().min(1).max(MAX_WORKER_NAME).describe('A human-readable name'),
  publicKeyJwk: z
    .strictObject({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519'),
      x: z.string().max(100),
      kid: z.string().max(100).optional(),
      alg: z.literal('EdDSA').optional(),
      use: z.literal('sig').optional(),
    })
    .describe('The Ed25519 public key (RFC 8037 JWK); kid, alg and use are accepted and ignored (kid is recomputed)'),
});
export type RegisterWorkerBody = z.infer<typeof RegisterWorkerBodySchema>;

export const RevokeWorkerBodySchema = z.strictObject({
  reason: z.string().min(1).max(MAX_REVOKE_REASON).describe('Why (recorded)'),
});
export type RevokeWorkerBody = z.infer<typeof RevokeWorkerBodySchema>;

export const WorkerViewSchema = z.object({
  workerId: z.string(),
  name: z.string(),
  kid: z.string().describe("RFC 7638 thumbprint of the key: the `kid` of the worker's tokens and result signatures"),
  publicKeyJwk: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string() }),
  status: z.enum(['registered', 'revoked']),
  registeredAt: z.string(),
  registeredBy: z.string(),
  revokedAt: z.string().nullable(),
  revokeReason: z.string().nullable(),
  revision: z.number().int(),
});
export type WorkerView = z.infer<typeof WorkerViewSchema>;
