/**
 * Mints development bearer tokens (`ida-ledger token`, tests). Plain TypeScript, no Nest. Production tokens
 * come from an external issuer and are verified by RemoteJwksTokenVerifier.
 */
import { KeyObject, randomUUID, type webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import { isTokenRole, type TokenRole } from './principal.js';

export const DEV_ISSUER = 'ida-ledger-dev';
export const DEV_AUDIENCE = 'ida-ledger';
export const DEFAULT_TOKEN_TTL_SECONDS = 12 * 60 * 60;

export interface MintTokenOptions {
  /** Ed25519 private key. */
  privateKey: KeyObject | webcrypto.CryptoKey;
  kid: string;
  sub: string;
  role: TokenRole;
  tenant: string;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
  /** Issue time; now when absent (pass a Clock's `now()` for deterministic tests). */
  now?: Date;
  /** Token id; a random UUID when absent. */
  jti?: string;
}

function isEd25519(key: KeyObject | webcrypto.CryptoKey): boolean {
  if (key instanceof KeyObject) return key.asymmetricKeyType === 'ed25519';
  return key.algorithm.name === 'Ed25519';
}

/** An EdDSA-signed JWT with `sub`, `role`, `tenant`, `iss`, `aud`, `iat`, `exp`, `jti`; `kid` in the header. */
export async function mintDevelopmentToken(options: MintTokenOptions): Promise<string> {
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  // Fail at mint time rather than hand out a token every verifier will refuse.
  if (!isEd25519(options.privateKey)) throw new TypeError('mintDevelopmentToken needs an Ed25519 private key');
  if (!isTokenRole(options.role)) throw new TypeError(`role must be one of the token roles, got ${JSON.stringify(options.role)}`);
  if (!options.sub.trim()) throw new TypeError('sub must not be blank');
  if (!options.tenant.trim() || options.tenant !== options.tenant.trim()) throw new TypeError('tenant must be non-blank, without surrounding spaces');
  if (options.tenant === 'system') throw new TypeError('the "system" tenant is reserved for the ledger\'s own entries');
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new RangeError('ttlSeconds must be a positive integer');
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ role: options.role, tenant: options.tenant })
    .setProtectedHeader({ alg: 'EdDSA', kid: options.kid, typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.issuer ?? DEV_ISSUER)
    .setAudience(options.audience ?? DEV_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(options.jti ?? randomUUID())
    .sign(options.privateKey);
}
