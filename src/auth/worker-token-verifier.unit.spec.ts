import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { generateSigningKey } from '../ledger/signing-key.js';
import { mintWorkerToken } from '../inference/worker/worker-token.js';
import { verifyWorkerToken, workerKeyOf } from './worker-token-verifier.js';
import type { WorkerKey } from './worker-keys.port.js';

const key = generateSigningKey();
const registered: WorkerKey = { workerId: 'gpu-1', tenant: 'acme', kid: key.kid, publicKeyJwk: key.publicJwk, revoked: false };
const directory = { byKid: (kid: string) => (kid === key.kid ? registered : undefined) };
const now = new Date('2026-03-01T10:00:00Z');
const token = (over: { sub?: string; aud?: string; ttl?: number; iat?: number } = {}) => {
  const iat = over.iat ?? Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setSubject(over.sub ?? 'gpu-1')
    .setAudience(over.aud ?? 'ida-ledger')
    .setIssuedAt(iat)
    .setExpirationTime(iat + (over.ttl ?? 60))
    .sign(key.privateKey);
};
const reason = async (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error & { code?: string }) => `${e.code}: ${e.message}`);

describe('worker self-signed tokens', () => {
  it('the worker client\'s token (src/inference/worker) is accepted: role worker, the registering tenant, the key\'s kid', async () => {
    const bearer = await mintWorkerToken({ privateKey: key.privateKey, kid: key.kid, workerId: 'gpu-1', now });
    expect(workerKeyOf(bearer, directory)).toBe(registered);
    expect(await verifyWorkerToken(bearer, registered, now)).toEqual({ sub: 'gpu-1', role: 'worker', tenant: 'acme', workerKid: key.kid });
  });

  it.each([
    ['another subject', { sub: 'gpu-2' }, /not the worker/u],
    ['another audience', { aud: 'elsewhere' }, /audience/u],
    ['a lifetime above 5 minutes', { ttl: 301 }, /at most 300/u],
    ['an expired token', { iat: Math.floor(now.getTime() / 1000) - 120 }, /expired/u],
  ])('refuses %s (401)', async (_, over, why) => {
    expect(await reason(verifyWorkerToken(await token(over), registered, now))).toMatch(why);
  });

  it('refuses a revoked worker, and a token signed by another key under its kid', async () => {
    expect(await reason(verifyWorkerToken(await token(), { ...registered, revoked: true }, now))).toMatch(/revoked/u);
    const other = generateSigningKey();
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).setSubject('gpu-1').setAudience('ida-ledger').setIssuedAt().setExpirationTime('1m').sign(other.privateKey);
    expect(await reason(verifyWorkerToken(forged, registered))).toMatch(/AUTH.UNAUTHENTICATED: .*signature/u);
  });

  it('a token whose kid is no registered worker key is not a worker token (the regular verifier handles it)', async () => {
    const other = generateSigningKey();
    const bearer = await mintWorkerToken({ privateKey: other.privateKey, kid: other.kid, workerId: 'gpu-1', now });
    expect(workerKeyOf(bearer, directory)).toBeUndefined();
    expect(workerKeyOf('not-a-jwt', directory)).toBeUndefined();
  });
});
