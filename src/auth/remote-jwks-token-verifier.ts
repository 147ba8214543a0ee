/** Verifies tokens of an external issuer against its JWKS (production: AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE). */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../common/clock.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.port.js';
import { baseVerifyOptions, checkTokenShape, KeysUnavailableError, principalFromPayload, verificationFailure } from './token-claims.js';

/** Asymmetric only: with a JWKS, an HMAC algorithm would let anyone holding the public key mint tokens. */
export const DEFAULT_REMOTE_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'RS256', 'PS256'];

export interface RemoteJwksTokenVerifierOptions {
  jwksUrl: string | URL;
  issuer: string;
  audience: string;
  algorithms?: string[];
  clock?: Clock;
  /** jose's remote JWKS tuning: fetch timeout, minimum time between refetches, cache lifetime. */
  timeoutMs?: number;
  cooldownMs?: number;
  cacheMaxAgeMs?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export class RemoteJwksTokenVerifier implements TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly options: RemoteJwksTokenVerifierOptions) {
    const url = new URL(options.jwksUrl);
    // Keys fetched over plain HTTP could be swapped in transit, and with them every identity.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
      throw new Error(`AUTH_JWKS_URL must use https (got ${url.protocol}//${url.host})`);
    }
    if (!options.issuer || !options.audience) throw new Error('RemoteJwksTokenVerifier needs an issuer and an audience');
    const remote = createRemoteJWKSet(url, {
      timeoutDuration: options.timeoutMs,
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: options.cacheMaxAgeMs,
    });
    // Tell "the token names no key we trust" (401) apart from "we could not fetch keys" (503).
    this.getKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        if (error instanceof errors.JOSENotSupported || error instanceof errors.JOSEAlgNotAllowed) throw error;
        throw new KeysUnavailableError(error);
      }
    };
  }

  /** From AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE; all three are required. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, extra: Partial<RemoteJwksTokenVerifierOptions> = {}): RemoteJwksTokenVerifier {
    const missing = ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'].filter((name) => !env[name]);
    if (missing.length > 0) throw new Error(`Remote token verification needs ${missing.join(', ')}`);
    return new RemoteJwksTokenVerifier({ ...extra, jwksUrl: env.AUTH_JWKS_URL!, issuer: env.AUTH_ISSUER!, audience: env.AUTH_AUDIENCE! });
  }

  async verify(bearer: string): Promise<Principal> {
    try {
      checkTokenShape(bearer);
      const { payload } = await jwtVerify(
        bearer,
        this.getKey,
        baseVerifyOptions(this.options.issuer, this.options.audience, this.options.algorithms ?? DEFAULT_REMOTE_ALGORITHMS, this.options.clock),
      );
      return principalFromPayload(payload);
    } catch (error) {
      throw verificationFailure(error);
    }
  }
}
