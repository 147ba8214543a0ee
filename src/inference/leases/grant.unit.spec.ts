import { describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { generateSigningKey } from '../../ledger/signing-key.js';
import { verifyGrant as workerVerifiesGrant } from '../worker/grant.js';
import { inputDigest } from '../worker/result-signature.js';
import { GRANT_AUDIENCE, mintGrant, verifyGrant, type GrantBinding } from './grant.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const ISSUER = 'ida-ledger.local/log';
const logKey = generateSigningKey();
const input = { features: [1, 2], labels: ['a', 'b'] };
const binding: GrantBinding = {
  sub: 'worker-1',
  jti: 'grant-1',
  exp: Math.floor(NOW.getTime() / 1000) + 60,
  job: 'job-1',
  query: 'q-1',
  node: 'n-1',
  tenant: 'acme',
  model: `sha256:${'c'.repeat(64)}`,
  input: inputDigest(input),
  policy: `sha256:${'d'.repeat(64)}`,
  decision: 17,
};
const keys = (kid: string) => (kid === logKey.kid ? logKey.publicKey : undefined);
const minted = mintGrant(binding, { key: logKey, issuer: ISSUER, now: NOW });

describe('grants on the ledger side', () => {
  it('mints a JWT that jose verifies against the JWKS, with every binding as a claim', async () => {
    const jwks = createLocalJWKSet({ keys: [{ ...logKey.publicJwk, kid: logKey.kid, alg: 'EdDSA' }] });
    const { payload, protectedHeader } = await jwtVerify(minted, jwks, { algorithms: ['EdDSA'], audience: GRANT_AUDIENCE, issuer: ISSUER, currentDate: NOW });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: logKey.kid, typ: 'JWT' });
    expect(payload).toEqual({ ...binding, iss: ISSUER, aud: GRANT_AUDIENCE, iat: Math.floor(NOW.getTime() / 1000) });
  });

  it('verifies its own grant, and the worker verifies it too', () => {
    expect(verifyGrant(minted, { keys, issuer: ISSUER, now: NOW })).toMatchObject({ ok: true, claims: { ...binding, iss: ISSUER } });
    const job = { jobId: 'job-1', queryId: 'q-1', nodeId: 'n-1', proxyVersionId: 'p', artifactSha256: binding.model, input, inputDigest: binding.input };
    const jwks = { keys: [{ ...logKey.publicJwk, kid: logKey.kid }] };
    expect(workerVerifiesGrant(minted, { jwks, workerId: 'worker-1', job, now: NOW, issuer: ISSUER })).toMatchObject({ ok: true });
  });

  it.each([
    ['an expired grant', () => mintGrant({ ...binding, exp: Math.floor(NOW.getTime() / 1000) }, { key: logKey, issuer: ISSUER, now: NOW }), 'INFERENCE.GRANT_EXPIRED', /expired/],
    ['a grant of a revoked or unknown key', () => mintGrant(binding, { key: generateSigningKey(), issuer: ISSUER, now: NOW }), 'INFERENCE.GRANT_INVALID', /current ledger key/],
    ['a grant of another ledger', () => mintGrant(binding, { key: logKey, issuer: 'elsewhere', now: NOW }), 'INFERENCE.GRANT_INVALID', /"iss"/],
    ['a grant without a policy', () => mintGrant({ ...binding, policy: '' }, { key: logKey, issuer: ISSUER, now: NOW }), 'INFERENCE.GRANT_INVALID', /"policy"/],
    ['a grant whose decision is not a position', () => mintGrant({ ...binding, decision: 1.5 }, { key: logKey, issuer: ISSUER, now: NOW }), 'INFERENCE.GRANT_INVALID', /"decision"/],
    ['a changed grant', () => minted.slice(0, -2) + (minted.endsWith('AA') ? 'BA' : 'AA'), 'INFERENCE.GRANT_INVALID', /does not verify|malformed/],
    ['no grant', () => '', 'INFERENCE.GRANT_INVALID', /no grant/],
    ['an oversized grant', () => `${'a'.repeat(9000)}.b.c`, 'INFERENCE.GRANT_INVALID', /compact JWS/],
  ])('refuses %s', (_name, make, code, reason) => {
    const check = verifyGrant(make(), { keys, issuer: ISSUER, now: NOW });
    expect(check).toMatchObject({ ok: false, code });
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });
});
