import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { generateSigningKey } from '../../ledger/signing-key.js';
import { WorkerTokenSource } from './worker-token.js';

const key = generateSigningKey();
const start = new Date('2026-03-01T10:00:00.400Z');

function source(ttlSeconds?: number) {
  const clock = { at: start.getTime(), now: () => new Date(clock.at) };
  const tokens = new WorkerTokenSource({ privateKey: key.privateKey, kid: key.kid, workerId: 'gpu-1', ...(ttlSeconds === undefined ? {} : { ttlSeconds }) }, clock);
  return { clock, tokens };
}

describe('WorkerTokenSource', () => {
  it('reuses a token for the first half of its lifetime, then mints a new one', async () => {
    const { clock, tokens } = source(60);
    const first = await tokens.token();
    expect(decodeJwt(first)).toMatchObject({ sub: 'gpu-1', iss: 'gpu-1', aud: 'ida-ledger', iat: 1772359200, exp: 1772359260 });
    clock.at += 29_000;
    expect(await tokens.token()).toBe(first);
    clock.at += 1_000; // 30.4 s after the mint: 30 s after its iat, half its lifetime
    const second = await tokens.token();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).iat).toBe(1772359230);
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
  });

  it('never hands out a token with less than half its lifetime left (default lifetime: 60 s)', async () => {
    const { clock, tokens } = source();
    for (let step = 0; step < 40; step++) {
      const claims = decodeJwt(await tokens.token());
      expect(claims.exp! - clock.at / 1000).toBeGreaterThan(30);
      clock.at += 2_700;
    }
  });

  it('mints anew when the clock went back past the token it holds', async () => {
    const { clock, tokens } = source(60);
    const first = await tokens.token();
    clock.at -= 5_000;
    const again = await tokens.token();
    expect(again).not.toBe(first);
    expect(decodeJwt(again).iat).toBe(1772359195);
  });

  it('refuses a lifetime beyond the contract at the first token, as minting does', async () => {
    await expect(source(301).tokens.token()).rejects.toThrow(RangeError);
  });
});
