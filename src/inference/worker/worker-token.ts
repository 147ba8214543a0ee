/**
 * The short-lived JWT a worker signs itself for its requests to the ledger (docs/policy-gate.md, "Workers"):
 * `alg: EdDSA`, `kid` = its key's RFC 7638 thumbprint, `sub` = workerId, `aud` = `ida-ledger`, `exp` at most
 * 5 minutes after `iat`. `iss` is the worker id too (a self-issued token), `jti` a random UUID.
 * A worker reuses each token for the first half of its lifetime (`WorkerTokenSource`).
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

/**
 * A worker's bearer tokens: each one minted is reused for the first half of its lifetime, then a new one is
 * minted. A bearer token is valid for its whole lifetime wherever it is presented (the ledger keeps no `jti` of
 * worker tokens), so reusing it within that time gives nothing away; it saves an EdDSA signature per request
 * (two per job: the lease and the result), and a token is never sent with less than half its lifetime left.
 * A clock that went back past the token's `iat` gets a new token.
 */
export class WorkerTokenSource {
  private current: { token: string; issuedAtMs: number; renewAtMs: number } | null = null;
  private readonly ttlSeconds: number;

  constructor(
    private readonly options: Omit<WorkerTokenOptions, 'now'>,
    private readonly clock: { now(): Date },
  ) {
    this.ttlSeconds = options.ttlSeconds ?? WORKER_TOKEN_DEFAULT_TTL_SECONDS;
  }

  async token(): Promise<string> {
    const now = this.clock.now();
    const nowMs = now.getTime();
    const current = this.current;
    if (current !== null && nowMs >= current.issuedAtMs && nowMs < current.renewAtMs) return current.token;
    const token = await mintWorkerToken({ ...this.options, now });
    const issuedAtMs = Math.floor(nowMs / 1000) * 1000;
    this.current = { token, issuedAtMs, renewAtMs: issuedAtMs + (this.ttlSeconds * 1000) / 2 };
    return token;
  }
}
