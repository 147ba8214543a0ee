import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { CompactSign, compactVerify, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { compactJwsHeader, signCompactJws, signJwt, verifyCompactJws, verifyJwt, type JwtExpectations } from './compact-jws.js';
import { generateSigningKey } from './signing-key.js';

const key = generateSigningKey();
const other = generateSigningKey();
const mine = () => key.publicKey;
const NOW = new Date('2026-03-01T12:00:00Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWS with any header and payload, signed over exactly those parts (to test what the verifier refuses). */
function handMade(header: unknown, payload: string, signWith = key) {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = signCompactJws({}, 'x', signWith.privateKey).split('.')[2]; // a real signature, of other bytes
  return { input, token: `${input}.${signature}` };
}

describe('compact JWS (EdDSA, node:crypto)', () => {
  it('signs byte for byte what jose signs, and jose verifies it', async () => {
    const payload = '{"hello":"wörld"}';
    const ours = signCompactJws({ kid: key.kid }, payload, key.privateKey);
    const jose = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(key.privateKey);
    expect(ours).toBe(jose);
    const verified = await compactVerify(ours, key.publicKey, { algorithms: ['EdDSA'] });
    expect(new TextDecoder().decode(verified.payload)).toBe(payload);
  });

  it('verifies what jose signs, and returns the header and the payload', async () => {
    const jose = await new CompactSign(new Uint8Array([0, 1, 2, 255])).setProtectedHeader({ alg: 'EdDSA', kid: 'k-1' }).sign(key.privateKey);
    const checked = verifyCompactJws(jose, (header) => (header.kid === 'k-1' ? key.publicKey : undefined));
    expect(checked).toEqual({ ok: true, header: { alg: 'EdDSA', kid: 'k-1' }, payload: Buffer.from([0, 1, 2, 255]) });
    expect(compactJwsHeader(jose)).toEqual({ alg: 'EdDSA', kid: 'k-1' });
  });

  it('refuses another key, a lookup that finds none, a private key and a key of another type', () => {
    const token = signCompactJws({ kid: key.kid }, 'payload', key.privateKey);
    expect(verifyCompactJws(token, () => other.publicKey)).toMatchObject({ ok: false, failure: 'signature' });
    expect(verifyCompactJws(token, () => undefined)).toMatchObject({ ok: false, failure: 'key' });
    expect(verifyCompactJws(token, () => key.privateKey)).toMatchObject({ ok: false, failure: 'key' });
    expect(verifyCompactJws(token, () => generateKeyPairSync('x25519').publicKey)).toMatchObject({ ok: false, failure: 'key' });
  });

  it.each([
    ['not a string', 42, 'malformed'],
    ['two parts', 'a.b', 'malformed'],
    ['four parts', `${signCompactJws({}, 'p', key.privateKey)}.x`, 'malformed'],
    ['a header that is not JSON', `${b64('{')}.${b64('p')}.${'A'.repeat(86)}`, 'malformed'],
    ['a header that is an array', handMade(['EdDSA'], 'p').token, 'malformed'],
    ['alg none', handMade({ alg: 'none' }, 'p').token, 'algorithm'],
    ['alg HS256', handMade({ alg: 'HS256' }, 'p').token, 'algorithm'],
    ['alg Ed25519 (not EdDSA)', handMade({ alg: 'Ed25519' }, 'p').token, 'algorithm'],
    ['a crit header', handMade({ alg: 'EdDSA', crit: ['exp'], exp: 1 }, 'p').token, 'malformed'],
    ['b64: false', handMade({ alg: 'EdDSA', b64: false, crit: ['b64'] }, 'p').token, 'malformed'],
    ['a kid that is not a string', handMade({ alg: 'EdDSA', kid: 7 }, 'p').token, 'malformed'],
    ['a short signature', `${handMade({ alg: 'EdDSA' }, 'p').input}.${b64('short')}`, 'malformed'],
    ['padding', `${handMade({ alg: 'EdDSA' }, 'p').input}.${'A'.repeat(86)}==`, 'malformed'],
    ['standard base64 characters', `${handMade({ alg: 'EdDSA' }, 'p').input}.${'+'.repeat(86)}`, 'malformed'],
  ])('refuses %s', (_name, token, failure) => {
    expect(verifyCompactJws(token, mine)).toMatchObject({ ok: false, failure });
  });

  it('refuses a second spelling of the same signature bytes (base64url is malleable in its last character)', () => {
    const token = signCompactJws({}, 'payload', key.privateKey);
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 64 bytes = 85⅓ characters: the last character carries 2 bits and 4 unused ones.
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    const respelled = token.slice(0, -1) + sibling;
    expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    expect(verifyCompactJws(token, mine)).toMatchObject({ ok: true });
    expect(verifyCompactJws(respelled, mine)).toMatchObject({ ok: false, failure: 'malformed' });
  });

  it('refuses a token with any one character changed (property)', () => {
    const token = signCompactJws({ kid: key.kid }, JSON.stringify({ n: 1, s: 'abc' }), key.privateKey);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCabc0189-_.'), (at, replacement) => {
        fc.pre(token[at] !== replacement);
        expect(verifyCompactJws(token.slice(0, at) + replacement + token.slice(at + 1), mine).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

/** What jose's jwtVerify says of a token, as a comparable outcome. */
async function joseOutcome(token: string, expect_: JwtExpectations): Promise<string> {
  try {
    await jwtVerify(token, key.publicKey, {
      algorithms: ['EdDSA'],
      currentDate: expect_.now,
      ...(expect_.audience === undefined ? {} : { audience: expect_.audience }),
      ...(expect_.issuer === undefined ? {} : { issuer: expect_.issuer }),
      ...(expect_.requiredClaims === undefined ? {} : { requiredClaims: [...expect_.requiredClaims] }),
      ...(expect_.clockToleranceSeconds === undefined ? {} : { clockTolerance: expect_.clockToleranceSeconds }),
    });
    return 'ok';
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return 'expired';
    if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim:${error.claim}`;
    return 'refused';
  }
}

function ourOutcome(token: string, expect_: JwtExpectations): string {
  const checked = verifyJwt(token, mine, expect_);
  if (checked.ok) return 'ok';
  if (checked.failure === 'expired') return 'expired';
  if (checked.failure === 'claim') return `claim:${checked.claim}`;
  return 'refused';
}

describe('JWT (EdDSA, node:crypto)', () => {
  const claims = { iss: 'ida-ledger.local/log', aud: 'ida-ledger-worker', sub: 'worker-1', jti: 'j-1', iat: nowSeconds - 5, exp: nowSeconds + 55, job: 'job-1', decision: 17 };
  const expectations: JwtExpectations = { now: NOW, audience: 'ida-ledger-worker', issuer: 'ida-ledger.local/log', requiredClaims: ['exp', 'iat', 'sub', 'jti'] };

  it('signs what jose signs byte for byte (typ JWT), jose verifies it, and it verifies jose\'s', async () => {
    const ours = signJwt(claims, key.kid, key.privateKey);
    const jose = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    expect(ours).toBe(jose);
    expect((await jwtVerify(ours, key.publicKey, { algorithms: ['EdDSA'], currentDate: NOW, audience: claims.aud, issuer: claims.iss })).payload).toEqual(claims);
    expect(verifyJwt(jose, mine, expectations)).toEqual({ ok: true, header: { alg: 'EdDSA', kid: key.kid, typ: 'JWT' }, claims });
  });

  it.each([
    ['an expired token', { exp: nowSeconds }, { ok: false, failure: 'expired', claim: 'exp' }],
    ['a token not valid yet', { nbf: nowSeconds + 1 }, { ok: false, failure: 'claim', claim: 'nbf' }],
    ['another audience', { aud: 'elsewhere' }, { ok: false, failure: 'claim', claim: 'aud' }],
    ['an audience list without ours', { aud: ['a', 'b'] }, { ok: false, failure: 'claim', claim: 'aud' }],
    ['another issuer', { iss: 'elsewhere' }, { ok: false, failure: 'claim', claim: 'iss' }],
    ['no jti', { jti: undefined }, { ok: false, failure: 'claim', claim: 'jti' }],
    ['a string exp', { exp: String(nowSeconds + 60) }, { ok: false, failure: 'claim', claim: 'exp' }],
    ['a string iat', { iat: 'yesterday' }, { ok: false, failure: 'claim', claim: 'iat' }],
  ])('refuses %s, as jose does', async (_name, change, outcome) => {
    const token = signJwt({ ...claims, ...change }, key.kid, key.privateKey);
    expect(verifyJwt(token, mine, expectations)).toMatchObject(outcome);
    expect(await joseOutcome(token, expectations)).toBe(ourOutcome(token, expectations));
  });

  it('accepts an audience list that holds ours, and honours the clock tolerance', () => {
    expect(verifyJwt(signJwt({ ...claims, aud: ['x', 'ida-ledger-worker'] }, key.kid, key.privateKey), mine, expectations)).toMatchObject({ ok: true });
    const justExpired = signJwt({ ...claims, exp: nowSeconds - 3 }, key.kid, key.privateKey);
    expect(verifyJwt(justExpired, mine, { ...expectations, clockToleranceSeconds: 5 })).toMatchObject({ ok: true });
    expect(verifyJwt(justExpired, mine, { ...expectations, clockToleranceSeconds: 2 })).toMatchObject({ ok: false, failure: 'expired' });
  });

  it('refuses claims that are not a JSON object', () => {
    for (const payload of ['[1,2]', 'null', '"text"', '{']) {
      expect(verifyJwt(signCompactJws({ typ: 'JWT' }, payload, key.privateKey), mine, { now: NOW })).toMatchObject({ ok: false, failure: 'malformed' });
    }
  });

  it('decides every claim set as jose\'s jwtVerify does (property)', async () => {
    const offset = fc.integer({ min: -120, max: 120 });
    const claimSet = fc.record(
      {
        iss: fc.constantFrom('ida-ledger.local/log', 'elsewhere'),
        aud: fc.oneof(fc.constantFrom('ida-ledger-worker', 'other'), fc.array(fc.constantFrom('ida-ledger-worker', 'other', 'x'), { maxLength: 3 })),
        sub: fc.string({ maxLength: 8 }),
        jti: fc.uuid(),
        iat: offset,
        nbf: offset,
        exp: offset,
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    const expectation = fc.record({
      audience: fc.option(fc.constantFrom('ida-ledger-worker', 'other'), { nil: undefined }),
      issuer: fc.option(fc.constantFrom('ida-ledger.local/log', 'elsewhere'), { nil: undefined }),
      requiredClaims: fc.subarray(['exp', 'iat', 'sub', 'jti', 'nbf']),
      clockToleranceSeconds: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(claimSet, expectation, async (drawn, shape) => {
        const body: Record<string, unknown> = { ...drawn };
        for (const time of ['iat', 'nbf', 'exp'] as const) if (typeof drawn[time] === 'number') body[time] = nowSeconds + drawn[time];
        const token = signJwt(body, key.kid, key.privateKey);
        const expect_: JwtExpectations = { now: NOW, ...shape };
        for (const name of ['audience', 'issuer', 'clockToleranceSeconds'] as const) if (expect_[name] === undefined) delete expect_[name];
        expect(ourOutcome(token, expect_)).toBe(await joseOutcome(token, expect_));
      }),
      { numRuns: 500 },
    );
  });
});
