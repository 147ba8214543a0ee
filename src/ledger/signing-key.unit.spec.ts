import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import {
  generateSigningKey,
  jwkThumbprint,
  loadOrCreateKeyFile,
  privateJwkOf,
  publicJwkOf,
  publicKeyFromJwk,
  readPrivateKeyFile,
  signingKeyFromPrivateJwk,
  writePrivateKeyFile,
} from './signing-key.js';

/** RFC 8037 appendix A: the Ed25519 key (A.1, A.2), its RFC 7638 thumbprint (A.3) and a JWS (A.4). */
const RFC8037 = {
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  thumbprint: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
  signingInput: 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc',
  signature: 'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
};

const folder = mkdtempSync(join(tmpdir(), 'ida-ledger-signing-key-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('kid = RFC 7638 JWK thumbprint', () => {
  it("is RFC 8037 A.3's thumbprint for A.2's public key, as jose computes it", async () => {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: RFC8037.x } as const;
    expect(jwkThumbprint(jwk)).toBe(RFC8037.thumbprint);
    expect(await calculateJwkThumbprint(jwk, 'sha256')).toBe(RFC8037.thumbprint);
  });

  it('imports the RFC 8037 private key: its public half, kid and A.4 signature are the RFC\'s', () => {
    const key = signingKeyFromPrivateJwk({ kty: 'OKP', crv: 'Ed25519', d: RFC8037.d, x: RFC8037.x });
    expect(key.kid).toBe(RFC8037.thumbprint);
    expect(key.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: RFC8037.x });
    expect(cryptoSign(null, Buffer.from(RFC8037.signingInput), key.privateKey).toString('base64url')).toBe(RFC8037.signature);
    const publicKey = publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: RFC8037.x });
    expect(cryptoVerify(null, Buffer.from(RFC8037.signingInput), publicKey, Buffer.from(RFC8037.signature, 'base64url'))).toBe(true);
  });

  it('derives the public key from d, whatever x the file claims', () => {
    const other = generateSigningKey();
    const key = signingKeyFromPrivateJwk({ kty: 'OKP', crv: 'Ed25519', d: RFC8037.d, x: other.publicJwk.x });
    expect(key.kid).toBe(RFC8037.thumbprint);
  });

  it('agrees with jose for generated keys, and ignores members outside the thumbprint', async () => {
    for (let i = 0; i < 20; i++) {
      const key = generateSigningKey();
      expect(key.kid).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'));
      expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/u);
      expect(jwkThumbprint({ ...key.publicJwk, kid: 'x', use: 'sig' } as typeof key.publicJwk)).toBe(key.kid);
      expect(publicJwkOf(key.publicKey)).toEqual(key.publicJwk);
    }
  });

  it('refuses keys that are not Ed25519', () => {
    expect(() => publicJwkOf(generateKeyPairSync('x25519').publicKey)).toThrow('not an Ed25519 public key');
    expect(() => publicJwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toThrow('not an Ed25519 public key');
    expect(() => signingKeyFromPrivateJwk({ kty: 'OKP', crv: 'Ed448', d: RFC8037.d, x: RFC8037.x } as never)).toThrow();
  });
});

describe('key files', () => {
  it('round-trips a key through its private JWK', () => {
    const key = generateSigningKey();
    const jwk = privateJwkOf(key);
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'd', 'kty', 'x']);
    const again = signingKeyFromPrivateJwk(jwk);
    expect(again.kid).toBe(key.kid);
    const message = Buffer.from('m');
    expect(cryptoVerify(null, message, key.publicKey, cryptoSign(null, message, again.privateKey))).toBe(true);
  });

  it('writes the private key with mode 0600, in a 0700 folder it creates', () => {
    const path = join(folder, 'new', 'deeper', 'key.jwk');
    const key = generateSigningKey();
    writePrivateKeyFile(path, key);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(folder, 'new', 'deeper'))).toBe(0o700);
    expect(readPrivateKeyFile(path).kid).toBe(key.kid);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(privateJwkOf(key));
  });

  it('makes an existing, more open file 0600 when it writes it', () => {
    const path = join(folder, 'open.jwk');
    writeFileSync(path, '{}', { mode: 0o644 });
    chmodSync(path, 0o644);
    writePrivateKeyFile(path, generateSigningKey());
    expect(mode(path)).toBe(0o600);
  });

  it('load-or-create creates the key once (0600), then loads that same key, leaving no other file', () => {
    const dir = join(folder, 'data');
    const path = join(dir, 'dev-signing-key.jwk');
    const first = loadOrCreateKeyFile(path);
    expect(first.created).toBe(true);
    expect(mode(path)).toBe(0o600);
    const second = loadOrCreateKeyFile(path);
    expect(second.created).toBe(false);
    expect(second.key.kid).toBe(first.key.kid);
    expect(privateJwkOf(second.key)).toEqual(privateJwkOf(first.key));
    expect(loadOrCreateKeyFile(path).key.kid).toBe(first.key.kid);
    expect(readdirSync(dir)).toEqual(['dev-signing-key.jwk']);
  });

  it('load-or-create loads a key that is already there and never overwrites it', () => {
    const path = join(folder, 'existing.jwk');
    const key = generateSigningKey();
    writePrivateKeyFile(path, key);
    const before = readFileSync(path, 'utf8');
    expect(loadOrCreateKeyFile(path)).toMatchObject({ created: false, key: { kid: key.kid } });
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('load-or-create refuses a damaged key file instead of replacing it', () => {
    const path = join(folder, 'damaged.jwk');
    writeFileSync(path, 'not json', { mode: 0o600 });
    expect(() => loadOrCreateKeyFile(path)).toThrow();
    expect(readFileSync(path, 'utf8')).toBe('not json');
  });
});
