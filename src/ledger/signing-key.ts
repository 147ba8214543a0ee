import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Public Ed25519 key as a JWK (RFC 8037). */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  d: string;
}

/** An Ed25519 key pair; `kid` is its RFC 7638 JWK thumbprint. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Ed25519PublicJwk;
}

/** RFC 7638 thumbprint of an OKP key: base64url(SHA-256 of the required members in lexicographic order). */
export function jwkThumbprint(jwk: Ed25519PublicJwk): string {
  const json = `{"crv":${JSON.stringify(jwk.crv)},"kty":${JSON.stringify(jwk.kty)},"x":${JSON.stringify(jwk.x)}}`;
  return createHash('sha256').update(json).digest('base64url');
}

export function publicJwkOf(publicKey: KeyObject): Ed25519PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' }) as { kty?: string; crv?: string; x?: string };
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 public key');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
}

export function signingKeyFromPrivateJwk(jwk: Ed25519PrivateJwk): SigningKey {
  const privateKey = createPrivateKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicJwkOf(publicKey);
  return { kid: jwkThumbprint(publicJwk), privateKey, publicKey, publicJwk };
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicJwkOf(publicKey);
  return { kid: jwkThumbprint(publicJwk), privateKey, publicKey, publicJwk };
}

export function privateJwkOf(key: SigningKey): Ed25519PrivateJwk {
  const jwk = key.privateKey.export({ format: 'jwk' }) as Ed25519PrivateJwk;
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d };
}

export function publicKeyFromJwk(jwk: Ed25519PublicJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
}

/** Writes a private JWK with file mode 0600 (the folder is created 0700 when missing). */
export function writePrivateKeyFile(path: string, key: SigningKey): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(privateJwkOf(key)) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readPrivateKeyFile(path: string): SigningKey {
  const jwk = JSON.parse(readFileSync(path, 'utf8')) as Ed25519PrivateJwk;
  return signingKeyFromPrivateJwk(jwk);
}

/**
 * Loads the key at `path`, generating it (mode 0600) on first use. Returns whether it was created.
 * Two processes starting at once must end up with the same key: the new key is written whole to a private
 * temporary file and then linked into place, which fails if `path` appeared meanwhile (then that key wins).
 */
export function loadOrCreateKeyFile(path: string): { key: SigningKey; created: boolean } {
  try {
    return { key: readPrivateKeyFile(path), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = generateSigningKey();
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writePrivateKeyFile(temporary, key);
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { key: readPrivateKeyFile(path), created: false };
  } finally {
    unlinkSync(temporary);
  }
  return { key, created: true };
}
