/**
 * The port the HTTP guard authenticates through. Two adapters: `LocalKeyTokenVerifier` (development tokens
 * minted by `ida-ledger token`) and `RemoteJwksTokenVerifier` (an issuer's JWKS in production).
 */
import type { Principal } from './principal.js';

export type { Principal } from './principal.js';

/** Injection token of the {@link TokenVerifier} the guard uses (Nest: `{ provide: TOKEN_VERIFIER, useValue }`). */
export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

/**
 * Contract. `verify(bearer)` takes the compact JWT (without the `Bearer ` prefix) and:
 * - MUST resolve to a Principal only if the signature verifies with a trusted key and an asymmetric algorithm
 *   (never `none`, never HMAC), `exp` is present and not past (5 s tolerance), `nbf` (if any) is reached,
 *   `iss` and `aud` equal the configured ones, `sub` is a non-empty string, `role` is one of TOKEN_ROLES
 *   (`system` is refused) and `tenant` is a non-blank string without surrounding whitespace.
 * - MUST otherwise reject with `LedgerError('AUTH.UNAUTHENTICATED', 'unauthenticated', <reason>)`, the reason
 *   naming what failed (expired, signature, issuer, ...) and never containing the token or its claims' values.
 * - MAY reject with `LedgerError('AUTH.KEYS_UNAVAILABLE', 'unavailable', ...)` when the keys cannot be
 *   fetched: that is a server fault, and the client's token may be fine.
 * - MUST NOT have side effects visible to callers beyond key caching; it is safe to call concurrently.
 */
export interface TokenVerifier {
  verify(bearer: string): Promise<Principal>;
}
