import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import { generateSigningKey } from '../../ledger/signing-key.js';
import { inputDigest, resultSigningInput, signResult, verifyResultSignature, type UnsignedResultBody } from './result-signature.js';
import { mintWorkerToken } from './worker-token.js';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

const body: UnsignedResultBody = {
  grant: 'eyJ.grant.sig',
  jobId: 'job-1',
  output: { answer: '7', confidence: 0.91, scores: [0.1, -2.5, 3] },
  provider: 'cpu',
  timing: { loadMs: 3.25, runMs: 0.031 },
  modelSha256: `sha256:${'a'.repeat(64)}`,
  inputDigest: `sha256:${'b'.repeat(64)}`,
};

describe('inputDigest', () => {
  it('is sha256: of the RFC 8785 JSON, independent of member order', () => {
    const expected = `sha256:${createHash('sha256').update('{"features":[1,0.5],"labels":["a","b"]}').digest('hex')}`;
    expect(inputDigest({ features: [1, 0.5], labels: ['a', 'b'] })).toBe(expected);
    expect(inputDigest({ labels: ['a', 'b'], features: [1.0, 0.5] })).toBe(expected);
    expect(inputDigest({ features: [1, 0.5], labels: ['b', 'a'] })).not.toBe(expected);
    expect(inputDigest({ features: [1, 0.5] })).toMatch(/^sha256:[0-9a-f]{64}$/u);
  });
});

describe('result signature', () => {
  it('signs the RFC 8785 JSON of the body without `signature`', async () => {
    const key = generateSigningKey();
    const signed = await signResult(body, key);
    expect(resultSigningInput(signed)).toBe(resultSigningInput(body));
    expect(resultSigningInput(body)).not.toContain('signature');
    expect(resultSigningInput(body).startsWith('{"grant":')).toBe(true);
    const [header, payload] = signed.signature.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'EdDSA', kid: key.kid });
    expect(Buffer.from(payload!, 'base64url').toString()).toBe(resultSigningInput(body));
    expect(await verifyResultSignature(signed, key.publicJwk)).toBe(true);
  });

  it('survives a JSON round trip (what the ledger receives over HTTP)', async () => {
    const key = generateSigningKey();
    const signed = await signResult({ ...body, output: { ...body.output, scores: [Math.fround(0.1), -0, 1e-7] } }, key);
    expect(await verifyResultSignature(JSON.parse(JSON.stringify(signed)), key.publicJwk)).toBe(true);
  });

  it('fails for any change of the body, another key, a foreign kid, or garbage', async () => {
    const key = generateSigningKey();
    const other = generateSigningKey();
    const signed = await signResult(body, key);
    expect(await verifyResultSignature({ ...signed, output: { ...signed.output, answer: '8' } }, key.publicJwk)).toBe(false);
    expect(await verifyResultSignature({ ...signed, timing: { loadMs: 3.25, runMs: 0.03 } }, key.publicJwk)).toBe(false);
    expect(await verifyResultSignature({ ...signed, provider: 'cuda' }, key.publicJwk)).toBe(false);
    expect(await verifyResultSignature(signed, other.publicJwk)).toBe(false);
    // Signed by the right key, but the header names another kid.
    const payload = new TextEncoder().encode(resultSigningInput(body));
    const foreignKid = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: other.kid }).sign(key.privateKey);
    expect(await verifyResultSignature({ ...body, signature: foreignKid }, key.publicJwk)).toBe(false);
    // A valid JWS over other bytes.
    const elsewhere = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(key.privateKey);
    expect(await verifyResultSignature({ ...body, signature: elsewhere }, key.publicJwk)).toBe(false);
    expect(await verifyResultSignature({ ...body, signature: 'not-a-jws' }, key.publicJwk)).toBe(false);
    expect(await verifyResultSignature({ ...body } as never, key.publicJwk)).toBe(false);
  });
});

describe('worker token', () => {
  it('is an EdDSA JWT with kid = thumbprint, sub = workerId, aud ida-ledger and a short exp', async () => {
    const key = generateSigningKey();
    const now = new Date('2026-01-01T00:00:00Z');
    const token = await mintWorkerToken({ privateKey: key.privateKey, kid: key.kid, workerId: 'w-1', now, ttlSeconds: 60 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'w-1', iss: 'w-1', aud: 'ida-ledger', iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 60 });
    expect(typeof claims.jti).toBe('string');
    await expect(jwtVerify(token, key.publicKey, { currentDate: now, audience: 'ida-ledger' })).resolves.toBeDefined();
  });

  it('refuses lifetimes over 5 minutes and blank worker ids', async () => {
    const key = generateSigningKey();
    const now = new Date();
    await expect(mintWorkerToken({ privateKey: key.privateKey, kid: key.kid, workerId: 'w', now, ttlSeconds: 301 })).rejects.toThrow(RangeError);
    await expect(mintWorkerToken({ privateKey: key.privateKey, kid: key.kid, workerId: ' ', now })).rejects.toThrow(TypeError);
  });
});
