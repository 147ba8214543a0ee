/**
 * The short-lived JWT a worker signs itself for each request to the ledger (docs/policy-gate.md, "Workers"):
 * `alg: EdDSA`, `kid` = its key's RFC 7638 thumbprint, `sub` = workerId, `aud` = `ida-ledger`, `exp` at most
 * 5 minutes after `iat`. `iss` is the worker id too (a self-issued token), `jti` a random UUID.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export const WORKER_TOKEN_AUDIENCE = 'ida-ledger';
/** The contract's upper bound on a worker token's lifetime. */
export const WORKER_TOKEN_MAX_TTL_SECONDS = 300;
export const WORKER_TOKEN_DEFAULT_TTL_SECONDS = 60;

export interface WorkerTokenOptions {
  privateKey: KeyObject;
  kid: string;
  workerId: string;
  now: Date;
  /** 1..300 seconds (default 60). */
  ttlSeconds?: number;
  audience?: string;
}

export async function mintWorkerToken(options: WorkerTokenOptions): Promise<string> {
  const ttl = options.ttlSeconds ?? WORKER_TOKEN_DEFAULT_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > WORKER_TOKEN_MAX_TTL_SECONDS) {
    throw new RangeError(`a worker token lives 1..${WORKER_TOKEN_MAX_TTL_SECONDS} seconds, got ${ttl}`);
  }
  if (!options.workerId.trim()) throw new TypeError('workerId must not be blank');
  const iat = Math.floor(options.now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: options.kid, typ: 'JWT' })
    .setIssuer(options.workerId)
    .setSubject(options.workerId)
    .setAudience(options.audience ?? WORKER_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(randomUUID())
    .sign(options.privateKey);
}
