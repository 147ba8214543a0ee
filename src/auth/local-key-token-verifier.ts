/** Verifies tokens signed with one local Ed25519 key: development tokens from `ida-ledger token`. */
import type { KeyObject, webcrypto } from 'node:crypto';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import type { Clock } from '../common/clock.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.port.js';
import { DEV_AUDIENCE, DEV_ISSUER } from './token-issuer.js';
import { baseVerifyOptions, checkTokenShape, principalFromPayload, unauthenticated, verificationFailure } from './token-claims.js';

export interface LocalKeyTokenVerifierOptions {
  /** Ed25519 public key. */
  publicKey: KeyObject | webcrypto.CryptoKey;
  issuer?: string;
  audience?: string;
  /** When set, a token must name this `kid` in its header (catches tokens minted with another dev key). */
  kid?: string;
  /** Time source for expiry checks; the system clock when absent. */
  clock?: Clock;
}

export class LocalKeyTokenVerifier implements TokenVerifier {
  private readonly issuer: string;
  private readonly audience: string;

  constructor(private readonly options: LocalKeyTokenVerifierOptions) {
    this.issuer = options.issuer ?? DEV_ISSUER;
    this.audience = options.audience ?? DEV_AUDIENCE;
  }

  async verify(bearer: string): Promise<Principal> {
    try {
      checkTokenShape(bearer);
      if (this.options.kid !== undefined) {
        let kid: unknown;
        try {
          kid = decodeProtectedHeader(bearer).kid;
        } catch {
          throw unauthenticated('malformed token');
        }
        if (kid !== this.options.kid) throw unauthenticated('unknown key id');
      }
      const { payload } = await jwtVerify(
        bearer,
        this.options.publicKey,
        baseVerifyOptions(this.issuer, this.audience, ['EdDSA', 'Ed25519'], this.options.clock),
      );
      return principalFromPayload(payload);
    } catch (error) {
      throw verificationFailure(error);
    }
  }
}
