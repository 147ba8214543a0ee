/**
 * What both token verifiers share: the claim rules of the TokenVerifier contract and the translation of jose's
 * errors into reasons a client may read. Plain TypeScript.
 */
import { errors, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { LedgerError } from '../common/ledger-error.js';
import type { Clock } from '../common/clock.js';
import { isTokenRole, type Principal } from './principal.js';
import { SYSTEM_TENANT } from '../ledger/key-lifecycle.js';

export const CLOCK_TOLERANCE_SECONDS = 5;
/** Far above any real token; stops a multi-megabyte header from reaching the JSON and base64 decoders. */
export const MAX_TOKEN_LENGTH = 8192;

export function unauthenticated(reason: string): LedgerError {
  return new LedgerError('AUTH.UNAUTHENTICATED', 'unauthenticated', `Bearer token rejected: ${reason}.`);
}

/** Raised by a key source that could not deliver keys: a server fault (503), not the client's token. */
export class KeysUnavailableError extends Error {
  constructor(cause: unknown) {
    super('token signing keys are unavailable', { cause });
    this.name = 'KeysUnavailableError';
  }
}

export function baseVerifyOptions(issuer: string, audience: string, algorithms: string[], clock?: Clock): JWTVerifyOptions {
  return {
    issuer,
    audience,
    algorithms,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    // A token without `exp` would be valid forever; without `sub` nothing can be attributed to anyone.
    requiredClaims: ['exp', 'sub'],
    ...(clock ? { currentDate: clock.now() } : {}),
  };
}

export function checkTokenShape(bearer: string): void {
  if (typeof bearer !== 'string' || bearer.length === 0) throw unauthenticated('empty token');
  if (bearer.length > MAX_TOKEN_LENGTH) throw unauthenticated('token too long');
}

/** The claim rules beyond signature, time, issuer and audience (jose checked those). */
export function principalFromPayload(payload: JWTPayload): Principal {
  const { sub, role, tenant } = payload as JWTPayload & { role?: unknown; tenant?: unknown };
  if (typeof sub !== 'string' || sub.trim() === '') throw unauthenticated('missing or blank "sub" claim');
  if (role === undefined) throw unauthenticated('missing "role" claim');
  // The value is not echoed: claims are the client's data and may be arbitrary text.
  if (!isTokenRole(role)) throw unauthenticated('unknown "role" claim');
  if (typeof tenant !== 'string' || tenant.trim() === '') throw unauthenticated('missing or blank "tenant" claim');
  // " acme" and "acme" would look alike in logs yet isolate nothing: refuse rather than normalise.
  if (tenant !== tenant.trim()) throw unauthenticated('malformed "tenant" claim');
  // `system` is the tenant of the ledger's own entries (keys); no caller may act as it.
  if (tenant === SYSTEM_TENANT) throw unauthenticated('the "system" tenant is reserved');
  return { sub, role, tenant };
}

/** Maps a failure of jose's `jwtVerify` (or of our claim checks) to the error the contract demands. */
export function verificationFailure(error: unknown): Error {
  if (error instanceof LedgerError) return error;
  if (error instanceof KeysUnavailableError) {
    return new LedgerError('AUTH.KEYS_UNAVAILABLE', 'unavailable', 'The token signing keys cannot be fetched; try again later.');
  }
  if (error instanceof errors.JWTExpired) return unauthenticated('token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const names: Record<string, string> = { iss: 'issuer', aud: 'audience', nbf: 'not-before time', iat: 'issued-at time' };
    const what = names[error.claim] ?? `"${error.claim}" claim`;
    return unauthenticated(error.reason === 'missing' ? `missing "${error.claim}" claim` : `unexpected ${what}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('invalid signature');
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthenticated('signature algorithm not allowed');
  if (error instanceof errors.JWKSNoMatchingKey) return unauthenticated('no trusted key matches the token');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return unauthenticated('the token matches several keys');
  // JWSInvalid, JWTInvalid, JOSENotSupported, ...: jose's message may quote header fields, so say little.
  if (error instanceof errors.JOSEError) return unauthenticated('malformed token');
  // Anything else is a fault of ours (a bad key configuration, a bug): it becomes a logged 500, never a pass.
  return error instanceof Error ? error : new Error(String(error));
}
