/**
 * Grants, on the ledger's side (docs/policy-gate.md "Grants"): a compact JWS (`alg: EdDSA`, `kid` in the
 * header) signed with the ledger's current log key, verifiable by anyone with `/.well-known/jwks.json`,
 * binding one lease of one job to its model, input, policy set and decision. `mintGrant` when a worker leases;
 * `verifyGrant` when it posts a result (signature by a known, unrevoked log key, `iss`, `aud`, `exp`, typed
 * claims). Plain TypeScript over jose.
 */
import type { KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { SigningKey } from '../../ledger/signing-key.js';
import { GRANT_AUDIENCE, type GrantClaims } from '../worker/grant.js';

// One definition of the grant's claims for both sides: the ledger mints what the worker verifies.
export { GRANT_AUDIENCE, type GrantClaims };

export type GrantBinding = Omit<GrantClaims, 'iss' | 'aud' | 'iat'>;

export async function mintGrant(binding: GrantBinding, options: { key: SigningKey; issuer: string; now: Date }): Promise<string> {
  const { sub, jti, exp, ...custom } = binding;
  return new SignJWT({ ...custom })
    .setProtectedHeader({ alg: 'EdDSA', kid: options.key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(GRANT_AUDIENCE)
    .setSubject(sub)
    .setJti(jti)
    .setIssuedAt(Math.floor(options.now.getTime() / 1000))
    .setExpirationTime(exp)
    .sign(options.key.privateKey);
}

export type GrantVerification =
  | { ok: true; claims: GrantClaims }
  | { ok: false; code: 'INFERENCE.GRANT_INVALID' | 'INFERENCE.GRANT_EXPIRED'; reason: string };

/** The ledger's log keys a grant may be signed with: known and not revoked. */
export type LedgerKeyLookup = (kid: string) => KeyObject | undefined;

const STRING_CLAIMS = ['sub', 'jti', 'job', 'query', 'node', 'tenant', 'model', 'input', 'policy'] as const;

export async function verifyGrant(grant: unknown, options: { keys: LedgerKeyLookup; issuer: string; now: Date }): Promise<GrantVerification> {
  const invalid = (reason: string): GrantVerification => ({ ok: false, code: 'INFERENCE.GRANT_INVALID', reason });
  if (typeof grant !== 'string' || grant.length === 0) return invalid('no grant');
  if (grant.length > 8192 || grant.split('.').length !== 3) return invalid('the grant is not a compact JWS');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      grant,
      (header) => {
        const key = typeof header.kid === 'string' ? options.keys(header.kid) : undefined;
        if (key === undefined) throw new joseErrors.JWKSNoMatchingKey();
        return key;
      },
      {
        algorithms: ['EdDSA'],
        audience: GRANT_AUDIENCE,
        issuer: options.issuer,
        currentDate: options.now,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      },
    ));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { ok: false, code: 'INFERENCE.GRANT_EXPIRED', reason: 'the grant has expired' };
    if (error instanceof joseErrors.JWKSNoMatchingKey) return invalid('the grant is not signed by a current ledger key');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return invalid('the grant signature does not verify');
    if (error instanceof joseErrors.JWTClaimValidationFailed) return invalid(`the grant's "${error.claim}" claim is not valid`);
    if (error instanceof joseErrors.JOSEError) return invalid('the grant is malformed');
    throw error;
  }
  for (const claim of STRING_CLAIMS) {
    if (typeof payload[claim] !== 'string' || payload[claim] === '') return invalid(`the grant's "${claim}" claim is missing`);
  }
  if (!Number.isSafeInteger(payload['decision'])) return invalid('the grant\'s "decision" claim is not a position');
  return { ok: true, claims: payload as unknown as GrantClaims };
}
