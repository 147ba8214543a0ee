/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPrivateKeyFile } from '../../ledger/signing-key.js';
import { OnnxSessionCache, runOnnx } from '../onnx/run-onnx.js';
import { buildTestModel } from '../onnx/test-model.js';
import { FakeLedger } from './fake-ledger.test-kit.js';
import { silentLogger } from './worker.js';
import { defaultWorkerId, registrationHint, runWorkerCommand } from './worker-cli.js';

const folder = mkdtempSync(join(tmpdir(), 'ida-ledger-worker-cli-'));
const cache = new OnnxSessionCache();
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  await cache.clear();
});

let fake: FakeLedger;
beforeEach(async () => {
  fake = await FakeLedger.start({ maxWaitMs: 10_000 });
});
afterEach(() => fake.close());

function io(signals = new EventEmitter()) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    signals,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      signals: signals as unknown as Pick<NodeJS.Process, 'once' | 'off'>,
      worker: { logger: silentLogger, runner: (b: Uint8Array, f: ArrayLike<number>, o?: object) => runOnnx(b, f, { ...o, cache }) },
    },
  };
}

describe('ida-ledger worker', () => {
  it('creates the key file (0600), prints the public JWK and the registration call, then runs one job with --once', async () => {
    const keyFile = join(folder, 'a', 'worker.jwk');
    // First run: the key does not exist yet; nothing is registered, so the lease is refused (exit 1).
    const first = io();
    expect(await runWorkerCommand({ url: fake.url, key: keyFile, once: true, waitMs: 100 }, first.io)).toBe(1);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readPrivateKeyFile(keyFile);
    const workerId = defaultWorkerId(key.kid);
    const printed = first.out.join('');
    expect(printed).toContain(JSON.stringify(key.publicJwk));
    expect(printed).toContain(`${fake.url}/v1/workers`);
    expect(printed).toContain(`"workerId":"${workerId}"`);
    expect(JSON.parse(readFileSync(keyFile, 'utf8'))).toHaveProperty('d');

    // Registered, with a job waiting: the second run (same key, nothing printed) answers it and exits 0.
    fake.registerWorker(workerId, key.publicJwk);
    const digest = fake.addArtifact(buildTestModel(1, 3, 2));
    await fake.offerJob(fake.job(digest, { features: [1, 2, 3], labels: ['no', 'yes'] }), { workerId });
    const second = io();
    expect(await runWorkerCommand({ url: fake.url, key: keyFile, once: true, waitMs: 100 }, second.io)).toBe(0);
    expect(second.out).toEqual([]);
    expect(fake.acceptedResults).toHaveLength(1);
    expect(['no', 'yes']).toContain(fake.acceptedResults[0]!.output.answer);
  });

  it('runs until SIGTERM, then stops gracefully with exit 0', async () => {
    const keyFile = join(folder, 'b.jwk');
    const run = io();
    fake.registerWorker('w-b', (await import('../../ledger/signing-key.js')).loadOrCreateKeyFile(keyFile).key.publicJwk);
    const done = runWorkerCommand({ url: fake.url, key: keyFile, workerId: 'w-b' }, run.io);
    await new Promise((r) => setTimeout(r, 100));
    run.signals.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(run.signals.listenerCount('SIGINT')).toBe(0);
  });

  it('refuses a URL that is not absolute', async () => {
    await expect(runWorkerCommand({ url: 'localhost:3000', key: join(folder, 'c.jwk') }, io().io)).rejects.toThrow(/absolute URL|--url/u);
  });

  it('the registration hint is a POST /v1/workers with the public JWK only', () => {
    const hint = registrationHint('http://x:3000/', 'w-1', { kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'secret' } as never);
    expect(hint).toContain('http://x:3000/v1/workers');
    expect(hint).toContain('{"workerId":"w-1","name":"w-1","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"abc"}}');
    expect(hint).not.toContain('secret');
  });

  it('is a command of the ida-ledger program', async () => {
    const { buildProgram } = await import('../../cli/program.js');
    const worker = buildProgram().commands.find((c) => c.name() === 'worker');
    expect(worker?.options.map((o) => o.long)).toEqual(['--url', '--key', '--worker-id', '--once']);
  });
});
