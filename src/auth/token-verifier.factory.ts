/** Picks the TokenVerifier for a configuration (`loadConfig().auth`): local dev key, or the issuer's JWKS. */
import type { KeyObject, webcrypto } from 'node:crypto';
import type { AppConfig } from '../common/config.js';
import type { Clock } from '../common/clock.js';
import { LocalKeyTokenVerifier } from './local-key-token-verifier.js';
import { RemoteJwksTokenVerifier } from './remote-jwks-token-verifier.js';
import type { TokenVerifier } from './token-verifier.port.js';

export function tokenVerifierFromConfig(
  auth: AppConfig['auth'],
  local: { publicKey?: KeyObject | webcrypto.CryptoKey; kid?: string; clock?: Clock } = {},
): TokenVerifier {
  if (auth.mode === 'jwks') {
    return new RemoteJwksTokenVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience, clock: local.clock });
  }
  // Failing here beats starting a service that answers 401 to everyone.
  if (!local.publicKey) throw new Error('Local token verification needs the development public key');
  return new LocalKeyTokenVerifier({ publicKey: local.publicKey, kid: local.kid, issuer: auth.issuer, audience: auth.audience, clock: local.clock });
}
