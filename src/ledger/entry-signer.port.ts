import type { SignedEntry, UnsignedEntry } from './entry.js';

/**
 * Signs entries before they are appended (the key ring behind it holds the private keys).
 *
 * Contract:
 * - `currentKid()` MUST name the key that `sign` uses right now; a writer puts it in `entry.kid` before signing.
 * - `sign` MUST reject an entry whose `kid` is not the current key, and MUST NOT sign with a revoked key.
 * - `sign` MUST produce the DESIGN §5 detached JWS (see `entry-signature.ts`), verifiable by jose.
 * - `sign` MAY run on another thread; many calls may be in flight at once.
 * - `payload`, when given, is exactly `canonicalJson(entry)` (the caller composed it from pieces it had
 *   canonicalised already); `sign` MAY sign it instead of serialising the entry again, and MUST NOT change it.
 */
export interface EntrySigner {
  currentKid(): string;
  sign(entry: UnsignedEntry, payload?: string): Promise<SignedEntry>;
}
