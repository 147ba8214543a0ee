import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, createSecretKey } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { FixedClock } from '../common/clock.js';
import { LedgerError } from '../common/ledger-error.js';
import { LocalKeyTokenVerifier } from './local-key-token-verifier.js';
import { assertSameTenant } from './tenant.js';
import { DEFAULT_TOKEN_TTL_SECONDS, mintDevelopmentToken, type MintTokenOptions } from './token-issuer.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const T0 = new Date('2025-06-01T12:00:00Z');

function mint(overrides: Partial<MintTokenOptions> = {}): Promise<string> {
  return mintDevelopmentToken({ privateKey: keys.privateKey, kid: 'dev-1', sub: 'alice', role: 'overseer', tenant: 'acme', now: T0, ...overrides });
}

function verifier(clock = new FixedClock(T0), extra: Partial<ConstructorParameters<typeof LocalKeyTokenVerifier>[0]> = {}) {
  return new LocalKeyTokenVerifier({ publicKey: keys.publicKey, clock, ...extra });
}

/** Expects AUTH.UNAUTHENTICATED with a reason matching `reason`, and never the token in the message. */
async function expectRejected(token: string, reason: RegExp, v = verifier()): Promise<void> {
  const error = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LedgerError);
  const ledgerError = error as LedgerError;
  expect(ledgerError.code).toBe('AUTH.UNAUTHENTICATED');
  expect(ledgerError.status).toBe(401);
  expect(ledgerError.message).toMatch(reason);
  for (const part of [token, ...token.split('.')].filter((p) => p.length > 8)) expect(ledgerError.message).not.toContain(part);
}

/** Signs arbitrary claims with the dev key, bypassing the issuer's input checks. */
function signRaw(claims: Record<string, unknown>, opts: { exp?: number | null; iss?: string; aud?: string } = {}): Promise<string> {
  const iat = Math.floor(T0.getTime() / 1000);
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'dev-1' }).setIssuedAt(iat).setIssuer(opts.iss ?? 'ida-ledger-dev').setAudience(opts.aud ?? 'ida-ledger');
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? iat + 60);
  return jwt.sign(keys.privateKey);
}

describe('mintDevelopmentToken + LocalKeyTokenVerifier', () => {
  it('round-trips sub, role and tenant', async () => {
    const principal = await verifier().verify(await mint());
    expect(principal).toEqual({ sub: 'alice', role: 'overseer', tenant: 'acme' });
  });

  it('sets the documented claims and header', async () => {
    const token = await mint({ ttlSeconds: 600 });
    const [headerPart, payloadPart] = token.split('.');
    const header = JSON.parse(Buffer.from(headerPart!, 'base64url').toString());
    const payload = JSON.parse(Buffer.from(payloadPart!, 'base64url').toString());
    expect(header).toEqual({ alg: 'EdDSA', kid: 'dev-1', typ: 'JWT' });
    const iat = T0.getTime() / 1000;
    expect(payload).toMatchObject({ sub: 'alice', role: 'overseer', tenant: 'acme', iss: 'ida-ledger-dev', aud: 'ida-ledger', iat, exp: iat + 600 });
    expect(typeof payload.jti).toBe('string');
    expect(payload.jti).not.toBe(JSON.parse(Buffer.from((await mint()).split('.')[1]!, 'base64url').toString()).jti);
  });

  it('defaults to a 12 h lifetime', async () => {
    expect(DEFAULT_TOKEN_TTL_SECONDS).toBe(43_200);
    const token = await mint();
    await expect(verifier(new FixedClock(T0).advance(43_200_000 - 1000)).verify(token)).resolves.toBeDefined();
    await expectRejected(token, /expired/, verifier(new FixedClock(T0).advance(43_200_000 + 6000)));
  });

  it('rejects an expired token, allowing 5 s of clock skew', async () => {
    const token = await mint({ ttlSeconds: 60 });
    await expect(verifier(new FixedClock(T0).advance(64_000)).verify(token)).resolves.toBeDefined();
    await expectRejected(token, /expired/, verifier(new FixedClock(T0).advance(66_000)));
  });

  it('accepts a token whose iat is a little ahead (issuer clock skew)', async () => {
    const token = await mint({ now: new Date(T0.getTime() + 3000) });
    await expect(verifier().verify(token)).resolves.toBeDefined();
  });

  it('rejects a token signed with another key', async () => {
    await expectRejected(await mint({ privateKey: otherKeys.privateKey }), /invalid signature/);
  });

  it('rejects a tampered payload', async () => {
    const [h, , s] = (await mint()).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'alice', role: 'admin', tenant: 'acme', iss: 'ida-ledger-dev', aud: 'ida-ledger', exp: 9_999_999_999 })).toString('base64url');
    await expectRejected(`${h}.${forged}.${s}`, /invalid signature/);
  });

  it('rejects the wrong audience and the wrong issuer', async () => {
    await expectRejected(await mint({ audience: 'someone-else' }), /unexpected audience/);
    await expectRejected(await mint({ issuer: 'evil' }), /unexpected issuer/);
    // and honours configured values
    await expect(verifier(undefined, { audience: 'x', issuer: 'y' }).verify(await mint({ audience: 'x', issuer: 'y' }))).resolves.toBeDefined();
  });

  it('rejects missing, unknown and system roles', async () => {
    await expectRejected(await signRaw({ sub: 'a', tenant: 'acme' }), /missing "role"/);
    await expectRejected(await signRaw({ sub: 'a', tenant: 'acme', role: 'root' }), /unknown "role"/);
    await expectRejected(await signRaw({ sub: 'a', tenant: 'acme', role: 'system' }), /unknown "role"/);
    await expectRejected(await signRaw({ sub: 'a', tenant: 'acme', role: ['admin'] }), /unknown "role"/);
  });

  it('rejects a missing, blank or padded tenant', async () => {
    await expectRejected(await signRaw({ sub: 'a', role: 'auditor' }), /missing or blank "tenant"/);
    await expectRejected(await signRaw({ sub: 'a', role: 'auditor', tenant: '   ' }), /missing or blank "tenant"/);
    await expectRejected(await signRaw({ sub: 'a', role: 'auditor', tenant: 42 }), /missing or blank "tenant"/);
    await expectRejected(await signRaw({ sub: 'a', role: 'auditor', tenant: ' acme' }), /malformed "tenant"/);
  });

  it('rejects a token that is not yet valid (nbf beyond the 5 s tolerance)', async () => {
    const nbf = Math.floor(T0.getTime() / 1000) + 30;
    const token = await new SignJWT({ role: 'auditor', tenant: 'acme' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('a')
      .setIssuer('ida-ledger-dev')
      .setAudience('ida-ledger')
      .setNotBefore(nbf)
      .setExpirationTime(nbf + 60)
      .sign(keys.privateKey);
    await expectRejected(token, /not-before/);
    await expect(verifier(new FixedClock(T0).advance(26_000)).verify(token)).resolves.toBeDefined();
  });

  it('rejects a token without exp or sub', async () => {
    await expectRejected(await signRaw({ sub: 'a', role: 'auditor', tenant: 'acme' }, { exp: null }), /missing "exp"/);
    await expectRejected(await signRaw({ role: 'auditor', tenant: 'acme' }), /missing "sub"/);
  });

  it('rejects unsigned and HMAC tokens', async () => {
    const unsecured = new UnsecuredJWT({ sub: 'a', role: 'admin', tenant: 'acme' }).setIssuer('ida-ledger-dev').setAudience('ida-ledger').setExpirationTime('1h').encode();
    await expectRejected(unsecured, /malformed token|not allowed/);
    const hmac = await new SignJWT({ sub: 'a', role: 'admin', tenant: 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('ida-ledger-dev')
      .setAudience('ida-ledger')
      .setExpirationTime(Math.floor(T0.getTime() / 1000) + 60)
      .sign(createSecretKey(Buffer.alloc(32, 1)));
    await expectRejected(hmac, /algorithm not allowed/);
  });

  it('rejects garbage, empty and oversized tokens', async () => {
    await expectRejected('not-a-jwt', /malformed token/);
    await expectRejected('', /empty token/);
    await expectRejected('a'.repeat(9000), /too long/);
  });

  it('checks the key id when configured', async () => {
    await expect(verifier(undefined, { kid: 'dev-1' }).verify(await mint())).resolves.toBeDefined();
    await expectRejected(await mint({ kid: 'dev-2' }), /unknown key id/, verifier(undefined, { kid: 'dev-1' }));
  });

  it('refuses to mint with bad inputs', async () => {
    await expect(mint({ role: 'system' as never })).rejects.toThrow(/role/);
    await expect(mint({ tenant: '' })).rejects.toThrow(/tenant/);
    await expect(mint({ ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(mint({ privateKey: rsa.privateKey })).rejects.toThrow(/Ed25519/);
  });
});

describe('assertSameTenant', () => {
  it('passes for the own tenant and answers 403 AUTH.TENANT_FORBIDDEN otherwise', () => {
    const principal = { sub: 'a', role: 'auditor' as const, tenant: 'acme' };
    expect(() => assertSameTenant(principal, 'acme')).not.toThrow();
    try {
      assertSameTenant(principal, 'globex');
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(LedgerError);
      expect((error as LedgerError).code).toBe('AUTH.TENANT_FORBIDDEN');
      expect((error as LedgerError).status).toBe(403);
      expect((error as LedgerError).message).not.toContain('globex');
    }
  });
});
