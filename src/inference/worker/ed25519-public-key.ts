/**
 * Ed25519 public keys from their JWK `x`, imported once: every worker token and every result signature is checked
 * against one of a few registered keys, so importing the key per check was repeated work on the gate's hot path.
 * Plain TypeScript (the worker and the ledger share it).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** Registered worker keys are few; the bound only keeps a flood of bogus keys from growing memory. */
const MAX_CACHED_KEYS = 1024;
const cache = new Map<string, KeyObject>();

/** The public key of base64url `x`; throws on a value that is not an Ed25519 public key. */
export function ed25519PublicKey(x: string): KeyObject {
  let key = cache.get(x);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    cache.set(x, key);
  }
  return key;
}
