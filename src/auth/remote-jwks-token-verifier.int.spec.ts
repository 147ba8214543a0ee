import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { LedgerError } from '../common/ledger-error.js';
import { RemoteJwksTokenVerifier } from './remote-jwks-token-verifier.js';
import { mintDevelopmentToken } from './token-issuer.js';

// A stand-in identity provider: serves a JWKS on loopback, and can be told to fail.
const trusted = generateKeyPairSync('ed25519');
const untrusted = generateKeyPairSync('ed25519');
let mode: 'ok' | 'error' = 'ok';
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const jwk = { ...(await exportJWK(trusted.publicKey)), kid: 'idp-1', alg: 'EdDSA', use: 'sig' };
  server = createServer((req, res) => {
    if (mode === 'error' || req.url !== '/jwks.json') {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const opts = { issuer: 'https://idp.example', audience: 'ida-ledger' };
const mint = (overrides: Partial<Parameters<typeof mintDevelopmentToken>[0]> = {}) =>
  mintDevelopmentToken({ privateKey: trusted.privateKey, kid: 'idp-1', sub: 'svc-pipeline', role: 'pipeline', tenant: 'acme', ...opts, ...overrides });

async function failure(promise: Promise<unknown>): Promise<LedgerError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LedgerError);
  return error as LedgerError;
}

describe('RemoteJwksTokenVerifier', () => {
  it('verifies a token against the issuer JWKS', async () => {
    const verifier = new RemoteJwksTokenVerifier({ jwksUrl: `${baseUrl}/jwks.json`, ...opts });
    await expect(verifier.verify(await mint())).resolves.toEqual({ sub: 'svc-pipeline', role: 'pipeline', tenant: 'acme' });
  });

  it('rejects unknown keys, wrong audience, bad role and missing tenant with 401', async () => {
    const verifier = new RemoteJwksTokenVerifier({ jwksUrl: `${baseUrl}/jwks.json`, ...opts, cooldownMs: 0 });
    expect((await failure(verifier.verify(await mint({ privateKey: untrusted.privateKey })))).message).toMatch(/invalid signature/);
    expect((await failure(verifier.verify(await mint({ kid: 'idp-9' })))).message).toMatch(/no trusted key/);
    expect((await failure(verifier.verify(await mint({ audience: 'other' })))).message).toMatch(/audience/);
    const raw = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'idp-1' }).setSubject('s').setIssuer(opts.issuer).setAudience(opts.audience).setExpirationTime('1h').sign(trusted.privateKey);
    const badRole = await failure(verifier.verify(await raw({ role: 'ghost', tenant: 'acme' })));
    expect([badRole.code, badRole.message]).toEqual(['AUTH.UNAUTHENTICATED', expect.stringMatching(/unknown "role"/)]);
    const noTenant = await failure(verifier.verify(await raw({ role: 'auditor' })));
    expect([noTenant.code, noTenant.message]).toEqual(['AUTH.UNAUTHENTICATED', expect.stringMatching(/"tenant"/)]);
  });

  it('answers 503 AUTH.KEYS_UNAVAILABLE when the JWKS cannot be fetched', async () => {
    mode = 'error';
    try {
      const verifier = new RemoteJwksTokenVerifier({ jwksUrl: `${baseUrl}/jwks.json`, ...opts });
      const error = await failure(verifier.verify(await mint()));
      expect(error.code).toBe('AUTH.KEYS_UNAVAILABLE');
      expect(error.status).toBe(503);
    } finally {
      mode = 'ok';
    }
  });

  it('refuses plain-HTTP JWKS URLs other than loopback, and reads its settings from the environment', () => {
    expect(() => new RemoteJwksTokenVerifier({ jwksUrl: 'http://idp.example/jwks.json', ...opts })).toThrow(/https/);
    expect(() => RemoteJwksTokenVerifier.fromEnv({ AUTH_JWKS_URL: 'https://idp.example/jwks.json' })).toThrow(/AUTH_ISSUER, AUTH_AUDIENCE/);
    expect(
      RemoteJwksTokenVerifier.fromEnv({ AUTH_JWKS_URL: 'https://idp.example/jwks.json', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }),
    ).toBeInstanceOf(RemoteJwksTokenVerifier);
  });
});
