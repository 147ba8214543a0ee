import { describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { generateSigningKey, type SigningKey } from '../../ledger/signing-key.js';
import { trustedLedgerKeys, verifyGrant, type LeasedJob, type LedgerJwks } from './grant.js';
import { inputDigest } from './result-signature.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const ledger = generateSigningKey();
const jwksOf = (...keys: { key: SigningKey; revokedAt?: string }[]): LedgerJwks => ({
  keys: keys.map(({ key, revokedAt }) => ({ ...key.publicJwk, kid: key.kid, alg: 'EdDSA', use: 'sig', validFrom: '2026-01-01T00:00:00Z', ...(revokedAt ? { revokedAt } : {}) })),
});
const input = { features: [1, 2, 3], labels: ['a', 'b'] };
const job: LeasedJob = {
  jobId: 'job-1',
  queryId: 'q-1',
  nodeId: 'n-1',
  proxyVersionId: 'p-1',
  artifactSha256: `sha256:${'c'.repeat(64)}`,
  input,
  inputDigest: inputDigest(input),
};

async function grant(overrides: Record<string, unknown> = {}, key: SigningKey = ledger, header: Record<string, unknown> = {}): Promise<string> {
  const iat = Math.floor(NOW.getTime() / 1000) - 10;
  return new SignJWT({
    iss: 'ida-ledger.local/log',
    aud: 'ida-ledger-worker',
    sub: 'worker-1',
    jti: randomUUID(),
    iat,
    exp: iat + 60,
    job: job.jobId,
    query: job.queryId,
    node: job.nodeId,
    tenant: 'acme',
    model: job.artifactSha256,
    input: job.inputDigest,
    policy: `sha256:${'d'.repeat(64)}`,
    decision: 17,
    ...overrides,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, ...header })
    .sign(key.privateKey);
}

const verify = (token: string, jwks = jwksOf({ key: ledger }), extra: { issuer?: string } = {}) =>
  verifyGrant(token, { jwks, workerId: 'worker-1', job, now: NOW, ...extra });

describe('verifyGrant', () => {
  it('accepts a grant of the ledger key for this worker and this job, and returns its claims', async () => {
    const check = await verify(await grant());
    expect(check).toMatchObject({ ok: true, claims: { sub: 'worker-1', job: 'job-1', model: job.artifactSha256, input: job.inputDigest, decision: 17 } });
    expect(await verify(await grant(), jwksOf({ key: ledger }), { issuer: 'ida-ledger.local/log' })).toMatchObject({ ok: true });
  });

  it.each([
    ['another key with the same kid', async () => grant({}, generateSigningKey(), { kid: ledger.kid }), 'GRANT_SIGNATURE_INVALID'],
    ['a key not in the JWKS', async () => grant({}, generateSigningKey()), 'GRANT_KEY_UNKNOWN'],
    ['the wrong audience', async () => grant({ aud: 'ida-ledger' }), 'GRANT_AUDIENCE_INVALID'],
    ['an expired grant', async () => grant({ exp: Math.floor(NOW.getTime() / 1000) - 1 }), 'GRANT_EXPIRED'],
    ['a grant without exp', async () => grant({ exp: undefined }), 'GRANT_MALFORMED'],
    ['a grant for another worker', async () => grant({ sub: 'worker-2' }), 'GRANT_SUBJECT_MISMATCH'],
    ['another job', async () => grant({ job: 'job-2' }), 'GRANT_JOB_MISMATCH'],
    ['another model', async () => grant({ model: `sha256:${'e'.repeat(64)}` }), 'GRANT_JOB_MISMATCH'],
    ['another input', async () => grant({ input: inputDigest({ features: [0] }) }), 'GRANT_JOB_MISMATCH'],
    ['another node', async () => grant({ node: 'n-2' }), 'GRANT_JOB_MISMATCH'],
    ['a missing policy claim', async () => grant({ policy: undefined }), 'GRANT_MALFORMED'],
    ['a non-integer decision', async () => grant({ decision: '17' }), 'GRANT_MALFORMED'],
    ['an HS256 token', async () => new SignJWT({ sub: 'worker-1' }).setProtectedHeader({ alg: 'HS256', kid: ledger.kid }).sign(new Uint8Array(32)), 'GRANT_SIGNATURE_INVALID'],
    ['garbage', async () => 'a.b', 'GRANT_MALFORMED'],
  ])('refuses %s', async (_name, make, code) => {
    expect(await verify(await make())).toMatchObject({ ok: false, code });
  });

  it('refuses a grant signed by a key the JWKS marks revoked, and a wrong issuer when one is required', async () => {
    expect(await verify(await grant(), jwksOf({ key: ledger, revokedAt: '2026-02-01T00:00:00Z' }))).toMatchObject({ ok: false, code: 'GRANT_KEY_UNKNOWN' });
    expect(await verify(await grant(), jwksOf({ key: ledger }), { issuer: 'elsewhere' })).toMatchObject({ ok: false, code: 'GRANT_MALFORMED' });
  });

  it('trusts only unrevoked Ed25519 keys of the JWKS', () => {
    const other = generateSigningKey();
    const jwks = jwksOf({ key: ledger }, { key: other, revokedAt: '2026-01-02T00:00:00Z' });
    jwks.keys.push({ kty: 'EC', crv: 'P-256', x: 'x', kid: 'ec' });
    expect(trustedLedgerKeys(jwks).map((k) => k.kid)).toEqual([ledger.kid]);
  });

  it('verifies grants synchronously, without WebCrypto; a re-fetched JWKS (a new object) that revokes the key is honoured', async () => {
    const jwks = jwksOf({ key: ledger });
    const grants = await Promise.all([grant(), grant(), grant()]);
    const subtleVerify = jest.spyOn(globalThis.crypto.subtle, 'verify');
    const importKey = jest.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      for (const token of grants) expect(verify(token, jwks)).toMatchObject({ ok: true });
      expect(subtleVerify).not.toHaveBeenCalled();
      expect(importKey).not.toHaveBeenCalled();
      // The ledger revoked its key: the worker's re-fetch is a new object, and the grant is refused.
      expect(verify(grants[0]!, jwksOf({ key: ledger, revokedAt: '2026-02-01T00:00:00Z' }))).toMatchObject({ ok: false, code: 'GRANT_KEY_UNKNOWN' });
    } finally {
      subtleVerify.mockRestore();
      importKey.mockRestore();
    }
  });

  it('takes the only trusted key for a grant without kid, as a JWKS lookup does, and no key when there are several', async () => {
    const token = await new SignJWT({ iss: 'ida-ledger.local/log', aud: 'ida-ledger-worker', sub: 'worker-1', jti: randomUUID(), iat: Math.floor(NOW.getTime() / 1000), exp: Math.floor(NOW.getTime() / 1000) + 60, job: job.jobId, query: job.queryId, node: job.nodeId, tenant: 'acme', model: job.artifactSha256, input: job.inputDigest, policy: `sha256:${'d'.repeat(64)}`, decision: 1 })
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(ledger.privateKey);
    expect(verify(token)).toMatchObject({ ok: true });
    expect(verify(token, jwksOf({ key: ledger }, { key: generateSigningKey() }))).toMatchObject({ ok: false, code: 'GRANT_KEY_UNKNOWN' });
  });
});
