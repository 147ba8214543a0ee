/**
 * Grants, on the ledger's side (docs/policy-gate.md "Grants"): a compact JWS (`alg: EdDSA`, `kid` in the
 * header) signed with the ledger's current log key, verifiable by anyone with `/.well-known/jwks.json`,
 * binding one lease of one job to its model, input, policy set and decision. `mintGrant` when a worker leases;
 * `verifyGrant` when it posts a result (signature by a known, unrevoked log key, `iss`, `aud`, `exp`, typed
 * claims). Plain TypeScript on the synchronous EdDSA JWTs of `ledger/compact-jws` (jose verifies them).
 */
import type { KeyObject } from 'node:crypto';
import { signJwt, verifyJwt } from '../../ledger/compact-jws.js';
import type { SigningKey } from '../../ledger/signing-key.js';
import { GRANT_AUDIENCE, grantClaimsOf, type GrantClaims } from '../worker/grant.js';

// One definition of the grant's claims for both sides: the ledger mints what the worker verifies.
export { GRANT_AUDIENCE, type GrantClaims };

export type GrantBinding = Omit<GrantClaims, 'iss' | 'aud' | 'iat'>;

export function mintGrant(binding: GrantBinding, options: { key: SigningKey; issuer: string; now: Date }): string {
  const { sub, jti, exp, ...custom } = binding;
  // The claims in the order jose's SignJWT wrote them before: a grant's bytes did not change with the signer.
  const claims = { ...custom, iss: options.issuer, aud: GRANT_AUDIENCE, sub, jti, iat: Math.floor(options.now.getTime() / 1000), exp };
  return signJwt(claims, options.key.kid, options.key.privateKey);
}

export type GrantVerification =
  | { ok: true; claims: GrantClaims }
  | { ok: false; code: 'INFERENCE.GRANT_INVALID' | 'INFERENCE.GRANT_EXPIRED'; reason: string };

/** The ledger's log keys a grant may be signed with: known and not revoked. */
export type LedgerKeyLookup = (kid: string) => KeyObject | undefined;

export function verifyGrant(grant: unknown, options: { keys: LedgerKeyLookup; issuer: string; now: Date }): GrantVerification {
  const invalid = (reason: string): GrantVerification => ({ ok: false, code: 'INFERENCE.GRANT_INVALID', reason });
  if (typeof grant !== 'string' || grant.length === 0) return invalid('no grant');
  if (grant.length > 8192 || grant.split('.').length !== 3) return invalid('the grant is not a compact JWS');
  const checked = verifyJwt(grant, (header) => (header.kid === undefined ? undefined : options.keys(header.kid)), {
    audience: GRANT_AUDIENCE,
    issuer: options.issuer,
    now: options.now,
    requiredClaims: ['exp', 'iat', 'sub', 'jti'],
  });
  if (!checked.ok) {
    switch (checked.failure) {
      case 'expired':
        return { ok: false, code: 'INFERENCE.GRANT_EXPIRED', reason: 'the grant has expired' };
      case 'key':
        return invalid('the grant is not signed by a current ledger key');
      case 'signature':
        return invalid('the grant signature does not verify');
      case 'claim':
        return invalid(`the grant's "${checked.claim}" claim is not valid`);
      case 'algorithm':
      case 'malformed':
        return invalid('the grant is malformed');
      default: {
        const unreachable: never = checked.failure;
        throw new Error(`unhandled JWT failure ${String(unreachable)}`);
      }
    }
  }
  const claims = grantClaimsOf(checked.claims);
  return typeof claims === 'string' ? invalid(claims) : { ok: true, claims };
}
