import { afterEach, describe, expect, it, jest } from '@jest/globals';
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

  describe('a token verified before (workers reuse theirs for half its lifetime)', () => {
    afterEach(() => {
      jest.restoreAllMocks();
    });

    it('is accepted again without another signature check, with the same principal', async () => {
      const bearer = await token();
      const first = await verifyWorkerToken(bearer, registered, now);
      const verify = jest.spyOn(globalThis.crypto.subtle, 'verify');
      expect(await verifyWorkerToken(bearer, registered, new Date(now.getTime() + 20_000))).toEqual(first);
      expect(verify).not.toHaveBeenCalled();
    });

    it('is still refused once its key is revoked, once it expired, or under another key or worker', async () => {
      const bearer = await token();
      await verifyWorkerToken(bearer, registered, now);
      expect(await reason(verifyWorkerToken(bearer, { ...registered, revoked: true }, now))).toMatch(/revoked/u);
      expect(await reason(verifyWorkerToken(bearer, registered, new Date(now.getTime() + 66_000)))).toMatch(/expired/u);
      const other = generateSigningKey();
      expect(await reason(verifyWorkerToken(bearer, { ...registered, publicKeyJwk: other.publicJwk }, now))).toMatch(/signature/u);
      expect(await reason(verifyWorkerToken(bearer, { ...registered, workerId: 'gpu-2' }, now))).toMatch(/not the worker/u);
      // And the original key still accepts it: nothing above was remembered in its place.
      expect(await verifyWorkerToken(bearer, registered, now)).toMatchObject({ sub: 'gpu-1', tenant: 'acme' });
    });

    it('takes the tenant from the key as registered now', async () => {
      const bearer = await token();
      await verifyWorkerToken(bearer, registered, now);
      expect(await verifyWorkerToken(bearer, { ...registered, tenant: 'globex' }, now)).toMatchObject({ tenant: 'globex' });
    });
  });
});
