/**
 * Verification of a worker's self-signed JWT (docs/policy-gate.md, "Workers"): `alg: EdDSA`, `kid` = the
 * registered key's thumbprint, `sub` = the worker id, `aud: 'ida-ledger'`, `exp` present, at most 5 minutes
 * after `iat` and at most 5 minutes ahead of now (plus the usual 5 s tolerance). The principal is role
 * `worker` of the tenant that registered the worker. A revoked worker's token is refused. Plain TypeScript.
 */
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { ed25519PublicKey } from '../inference/worker/ed25519-public-key.js';
// The token's contract is written once, on the worker's side (plain TypeScript both sides share, as for grants).
import { WORKER_TOKEN_AUDIENCE, WORKER_TOKEN_MAX_TTL_SECONDS } from '../inference/worker/worker-token.js';
import type { Principal } from './principal.js';
import { checkTokenShape, CLOCK_TOLERANCE_SECONDS, unauthenticated, verificationFailure } from './token-claims.js';
import type { WorkerKey, WorkerKeyDirectory } from './worker-keys.port.js';

/** The registered worker whose key the token's header names; undefined when it names none (not a worker token). */
export function workerKeyOf(bearer: string, directory: WorkerKeyDirectory): WorkerKey | undefined {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(bearer).kid;
  } catch {
    return undefined;
  }
  return typeof kid === 'string' ? directory.byKid(kid) : undefined;
}

/** A token that passed every check once: what may change since (the key, the time) is checked again. */
interface VerifiedWorkerToken {
  kid: string;
  x: string;
  workerId: string;
  exp: number;
}

/**
 * Tokens verified lately, by their exact text (workers reuse a token for half its lifetime): a repeat costs a
 * lookup instead of an EdDSA verification. Bounded; the oldest entry goes first. Only what the signature and the
 * token's own claims settled is remembered; revocation, the key and the expiry are checked on every use.
 */
const VERIFIED_TOKENS_MAX = 4096;
const verifiedTokens = new Map<string, VerifiedWorkerToken>();

function rememberVerified(bearer: string, verified: VerifiedWorkerToken): void {
  if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) verifiedTokens.delete(verifiedTokens.keys().next().value!);
  verifiedTokens.set(bearer, verified);
}

/** The principal of a token verified before with this very key, still unexpired and not too long-lived; else undefined. */
function verifiedBefore(bearer: string, key: WorkerKey, now: Date): Principal | undefined {
  const verified = verifiedTokens.get(bearer);
  if (verified === undefined || verified.kid !== key.kid || verified.x !== key.publicKeyJwk.x || verified.workerId !== key.workerId) return undefined;
  const nowSeconds = now.getTime() / 1000;
  // jose's checks, as `jwtVerify` applied them the first time: expired once `exp` ≤ now − tolerance.
  if (verified.exp <= nowSeconds - CLOCK_TOLERANCE_SECONDS) return undefined;
  if (expiresTooFarAhead(verified.exp, now)) return undefined;
  return principalOf(key);
}

/** `exp` more than the longest lifetime (plus the tolerance) ahead of now. */
function expiresTooFarAhead(exp: number, now: Date): boolean {
  return exp - now.getTime() / 1000 > WORKER_TOKEN_MAX_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS;
}

function principalOf(key: WorkerKey): Principal {
  return { sub: key.workerId, role: 'worker', tenant: key.tenant, workerKid: key.kid };
}

export async function verifyWorkerToken(bearer: string, key: WorkerKey, now: Date = new Date()): Promise<Principal> {
  try {
    checkTokenShape(bearer);
    if (key.revoked) throw unauthenticated('the worker key is revoked');
    const known = verifiedBefore(bearer, key, now);
    if (known !== undefined) return known;
    const publicKey = ed25519PublicKey(key.publicKeyJwk.x);
    const { payload } = await jwtVerify(bearer, publicKey, {
      algorithms: ['EdDSA'],
      audience: WORKER_TOKEN_AUDIENCE,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'iat', 'sub'],
      currentDate: now,
    });
    if (payload.sub !== key.workerId) throw unauthenticated('"sub" is not the worker the key is registered to');
    const exp = payload.exp!;
    const iat = payload.iat!;
    if (exp - iat > WORKER_TOKEN_MAX_TTL_SECONDS) throw unauthenticated(`a worker token lives at most ${WORKER_TOKEN_MAX_TTL_SECONDS} s`);
    if (expiresTooFarAhead(exp, now)) throw unauthenticated('the worker token expires too far in the future');
    rememberVerified(bearer, { kid: key.kid, x: key.publicKeyJwk.x, workerId: key.workerId, exp });
    return principalOf(key);
  } catch (error) {
    throw verificationFailure(error);
  }
}
