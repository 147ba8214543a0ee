import type { IntegratedEntry, ProposedEvent } from './entry.js';
import type { Jwks, JwksKey } from './key-ring.js';
import { jwkThumbprint, type Ed25519PublicJwk, type SigningKey } from './signing-key.js';

/**
 * Signing keys are themselves recorded in the log (DESIGN §5): `SigningKeyActivated` (signed by the new key,
 * which proves possession) and `SigningKeyRevoked`, on stream `key-<kid>` of the `system` tenant.
 * The service, the JWKS endpoint and the offline verifier all derive key validity from these entries.
 */

export const SYSTEM_TENANT = 'system';
export const keyStream = (kid: string): string => `key-${kid}`;

export const SIGNING_KEY_ACTIVATED = 'SigningKeyActivated';
export const SIGNING_KEY_REVOKED = 'SigningKeyRevoked';

export interface KeyRecord {
  kid: string;
  publicJwk: Ed25519PublicJwk;
  activatedAt: string;
  activatedAtPosition: number;
  revokedAt?: string;
  revokedAtPosition?: number;
  revocationReason?: string;
}

export function signingKeyActivated(key: SigningKey): ProposedEvent {
  return {
    type: SIGNING_KEY_ACTIVATED,
    schema: 1,
    data: { kid: key.kid, publicJwk: { ...key.publicJwk }, purposes: ['entries', 'checkpoints'] },
  };
}

export function signingKeyRevoked(kid: string, reason: string): ProposedEvent {
  return { type: SIGNING_KEY_REVOKED, schema: 1, data: { kid, reason } };
}

function isPublicJwk(value: unknown): value is Ed25519PublicJwk {
  const jwk = value as Partial<Ed25519PublicJwk> | null;
  return !!jwk && jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string';
}

export type KeyEntryProblem = string | null;

/**
 * Folds one key entry into `records`. Returns a problem description when the entry is not a consistent key
 * event (wrong stream, thumbprint mismatch, activation not signed by the key itself, unknown key revoked).
 */
export function applyKeyEntry(records: Map<string, KeyRecord>, integrated: IntegratedEntry): KeyEntryProblem {
  const { entry, position } = integrated;
  if (entry.type === SIGNING_KEY_ACTIVATED) {
    const { kid, publicJwk } = entry.data as { kid?: unknown; publicJwk?: unknown };
    if (typeof kid !== 'string' || !isPublicJwk(publicJwk)) return 'SigningKeyActivated has no valid kid/publicJwk';
    if (jwkThumbprint(publicJwk) !== kid) return `SigningKeyActivated kid ${kid} is not the thumbprint of its key`;
    if (entry.stream !== keyStream(kid)) return `SigningKeyActivated for ${kid} is on stream ${entry.stream}`;
    if (entry.kid !== kid) return `SigningKeyActivated for ${kid} is not signed by that key`;
    if (records.has(kid)) return `signing key ${kid} activated twice`;
    records.set(kid, {
      kid,
      publicJwk: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x },
      activatedAt: entry.meta.recordedAt,
      activatedAtPosition: position,
    });
    return null;
  }
  if (entry.type === SIGNING_KEY_REVOKED) {
    const { kid, reason } = entry.data as { kid?: unknown; reason?: unknown };
    if (typeof kid !== 'string') return 'SigningKeyRevoked has no kid';
    const record = records.get(kid);
    if (!record) return `SigningKeyRevoked names unknown key ${kid}`;
    if (entry.stream !== keyStream(kid)) return `SigningKeyRevoked for ${kid} is on stream ${entry.stream}`;
    if (record.revokedAtPosition !== undefined) return `signing key ${kid} revoked twice`;
    record.revokedAt = entry.meta.recordedAt;
    record.revokedAtPosition = position;
    record.revocationReason = typeof reason === 'string' ? reason : '';
    return null;
  }
  return null;
}

export function isKeyEntryType(type: string): boolean {
  return type === SIGNING_KEY_ACTIVATED || type === SIGNING_KEY_REVOKED;
}

export function jwksOf(records: Iterable<KeyRecord>): Jwks {
  const keys: JwksKey[] = [];
  for (const record of records) {
    const key: JwksKey = { ...record.publicJwk, kid: record.kid, alg: 'EdDSA', use: 'sig', validFrom: record.activatedAt };
    if (record.revokedAt !== undefined) key.revokedAt = record.revokedAt;
    keys.push(key);
  }
  return { keys };
}
