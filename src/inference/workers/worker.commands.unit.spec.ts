import { describe, expect, it } from '@jest/globals';
import { refusal } from '../../amplification/query.test-kit.js';
import { generateSigningKey } from '../../ledger/signing-key.js';
import { decideRegisterWorker, decideRevokeWorker } from './worker.commands.js';
import { rehydrateWorker } from './worker.events.js';

const key = generateSigningKey();
const nobody = () => undefined;
const recorded = (events: { type: string; schema: number; data: object }[], tenant = 'acme') =>
  events.map((e, revision) => ({ ...e, data: e.data as never, meta: { tenant, actor: { sub: 'root', role: 'admin' as const }, recordedAt: `t${revision}` }, revision }));

describe('worker registry deciders', () => {
  it('register: WorkerRegistered with exactly {kty, crv, x} and the RFC 7638 thumbprint as kid', () => {
    expect(decideRegisterWorker({ workerId: 'gpu-1', name: 'GPU 1', publicKeyJwk: { ...key.publicJwk } }, null, nobody)).toEqual([
      { type: 'WorkerRegistered', schema: 1, data: { workerId: 'gpu-1', name: 'GPU 1', publicKeyJwk: key.publicJwk, kid: key.kid } },
    ]);
  });

  it.each([
    ['a worker id with a slash', { workerId: 'a/b' }, 'WORKER.INVALID_COMMAND'],
    ['a blank name', { name: '  ' }, 'WORKER.INVALID_COMMAND'],
    ['an x that is not 32 bytes', { publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }, 'WORKER.INVALID_KEY'],
    ['an X25519 key', { publicKeyJwk: { kty: 'OKP', crv: 'X25519', x: key.publicJwk.x } }, 'WORKER.INVALID_KEY'],
  ])('register with %s: %s', (_, over, code) => {
    expect(refusal(() => decideRegisterWorker({ workerId: 'gpu-1', name: 'n', publicKeyJwk: key.publicJwk, ...over }, null, nobody)).code).toBe(code);
  });

  it('register an id twice: ALREADY_REGISTERED; a key registered to another worker: KEY_IN_USE', () => {
    const state = rehydrateWorker(recorded(decideRegisterWorker({ workerId: 'gpu-1', name: 'n', publicKeyJwk: key.publicJwk }, null, nobody)));
    expect(refusal(() => decideRegisterWorker({ workerId: 'gpu-1', name: 'n', publicKeyJwk: generateSigningKey().publicJwk }, state, nobody)).code).toBe(
      'WORKER.ALREADY_REGISTERED',
    );
    expect(refusal(() => decideRegisterWorker({ workerId: 'gpu-2', name: 'n', publicKeyJwk: key.publicJwk }, null, () => 'gpu-1')).code).toBe('WORKER.KEY_IN_USE');
  });

  it('revoke: WorkerRevoked once; the fold keeps who and why; unknown or revoked again are refused', () => {
    const registered = decideRegisterWorker({ workerId: 'gpu-1', name: 'n', publicKeyJwk: key.publicJwk }, null, nobody);
    const state = rehydrateWorker(recorded(registered));
    const revoked = decideRevokeWorker({ workerId: 'gpu-1', reason: 'leaked' }, state);
    const after = rehydrateWorker(recorded([...registered, ...revoked]));
    expect(after).toMatchObject({ workerId: 'gpu-1', tenant: 'acme', kid: key.kid, revokeReason: 'leaked', revokedAt: 't1', revision: 1 });
    expect(refusal(() => decideRevokeWorker({ workerId: 'gpu-1', reason: 'again' }, after)).code).toBe('WORKER.ALREADY_REVOKED');
    expect(refusal(() => decideRevokeWorker({ workerId: 'ghost', reason: 'x' }, null)).code).toBe('WORKER.NOT_FOUND');
    expect(refusal(() => decideRevokeWorker({ workerId: 'gpu-1', reason: ' ' }, state)).code).toBe('WORKER.INVALID_COMMAND');
  });

  it('the fold refuses a revocation by another tenant (a defect of the log)', () => {
    const registered = recorded(decideRegisterWorker({ workerId: 'gpu-1', name: 'n', publicKeyJwk: key.publicJwk }, null, nobody));
    const foreign = recorded([{ type: 'WorkerRevoked', schema: 1, data: { workerId: 'gpu-1', reason: 'mine' } }], 'evil').map((e) => ({ ...e, revision: 1 }));
    expect(refusal(() => rehydrateWorker([...registered, ...foreign])).code).toBe('WORKER.EVENT_INVALID');
  });
});
