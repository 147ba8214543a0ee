/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { generateSigningKey } from '../../ledger/signing-key.js';
import { predict } from '../onnx/mlp.js';
import { OnnxSessionCache, runOnnx, type OnnxRunner } from '../onnx/run-onnx.js';
import { buildTestMlp, buildTestModel } from '../onnx/test-model.js';
import { FakeLedger } from './fake-ledger.test-kit.js';
import { inputDigest, verifyResultSignature } from './result-signature.js';
import { answerFromScores, InferenceWorker, modelInputProblem, silentLogger, type InferenceWorkerOptions } from './worker.js';

const WORKER = 'worker-1';
const key = generateSigningKey();
const model = buildTestModel(7, 4, 3);
const mlp = buildTestMlp(7, 4, 3);
const cache = new OnnxSessionCache();
afterAll(() => cache.clear());

let fake: FakeLedger;
let runner: jest.Mock<OnnxRunner>;
let digest: string;

beforeEach(async () => {
  fake = await FakeLedger.start();
  fake.registerWorker(WORKER, key.publicJwk);
  digest = fake.addArtifact(model);
  runner = jest.fn<OnnxRunner>((bytes, features, options) => runOnnx(bytes, features, { ...options, cache }));
});

afterEach(async () => {
  await fake.close();
});

function worker(options: Partial<InferenceWorkerOptions> = {}): InferenceWorker {
  return new InferenceWorker({ ledgerUrl: fake.url, key, workerId: WORKER, runner, logger: silentLogger, waitMs: 100, ...options });
}

const features = [0.5, -1, 2, 0.25];
const labels = ['red', 'green', 'blue'];

/** Nothing was loaded, run or posted for the job. */
function expectNothingRunOrPosted(): void {
  expect(runner).not.toHaveBeenCalled();
  expect(fake.requestsTo('/v1/inference/results')).toEqual([]);
  expect(fake.acceptedResults).toEqual([]);
  expect(fake.refusedResults).toEqual([]);
}

describe('a valid job', () => {
  it('is verified, run, and answered with a result signed by the worker key', async () => {
    const job = fake.job(digest, { features, labels });
    await fake.offerJob(job, { workerId: WORKER });
    const outcome = await worker().runOnce();

    const expected = predict(mlp, features);
    expect(outcome).toMatchObject({ status: 'completed', jobId: job.jobId });
    if (outcome?.status !== 'completed') throw new Error('not completed');
    const result = outcome.result;
    expect(result.output.answer).toBe(labels[expected.index]);
    expect(result.output.confidence).toBeCloseTo(expected.confidence, 5);
    expect(result.output.scores).toHaveLength(3);
    expect(['cpu', 'cuda']).toContain(result.provider);
    expect(result.timing.loadMs).toBeGreaterThanOrEqual(0);
    expect(result.timing.runMs).toBeGreaterThanOrEqual(0);
    expect(result).toMatchObject({ jobId: job.jobId, modelSha256: digest, inputDigest: inputDigest({ features, labels }) });
    expect(await verifyResultSignature(result, key.publicJwk)).toBe(true);
    expect(fake.acceptedResults).toEqual([result]);
    expect(runner).toHaveBeenCalledTimes(1);
    expect(runner.mock.calls[0]![1]).toEqual(features);

    // lease → JWKS → model → result; every request but the public JWKS carries the worker's own JWT.
    expect(fake.requests.map((r) => `${r.method} ${r.path.replace(/sha256:.*/u, 'sha256:…')} ${r.workerId}`)).toEqual([
      `POST /v1/inference/leases ${WORKER}`,
      'GET /.well-known/jwks.json null',
      `GET /v1/artifacts/sha256:… ${WORKER}`,
      `POST /v1/inference/results ${WORKER}`,
    ]);
  });

  it('answers the argmax index when the input has no labels, and reuses the verified model bytes', async () => {
    const w = worker();
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    await fake.offerJob(fake.job(digest, { features: [0, 0, 0, 1] }), { workerId: WORKER });
    const first = await w.runOnce();
    const second = await w.runOnce();
    expect(first).toMatchObject({ status: 'completed', result: { output: { answer: String(predict(mlp, features).index) } } });
    expect(second).toMatchObject({ status: 'completed', result: { output: { answer: String(predict(mlp, [0, 0, 0, 1]).index) } } });
    expect(fake.requestsTo('/v1/artifacts')).toHaveLength(1);
    expect(fake.requestsTo('/.well-known/jwks.json')).toHaveLength(1);
  });

  it('returns null when no job comes within the long poll', async () => {
    expect(await worker().runOnce()).toBeNull();
    expect(fake.requestsTo('/v1/inference/leases')).toEqual([expect.objectContaining({ status: 204 })]);
  });
});

describe('a grant that does not verify: nothing fetched, loaded, run or posted', () => {
  it.each([
    ['a forged signature (another key under the ledger kid)', () => ({ key: generateSigningKey(), kid: fake.ledgerKey.kid }), 'GRANT_SIGNATURE_INVALID'],
    ['a key the ledger does not publish', () => ({ key: generateSigningKey() }), 'GRANT_KEY_UNKNOWN'],
    ['the wrong audience', () => ({ audience: 'ida-ledger' }), 'GRANT_AUDIENCE_INVALID'],
    ['an expired grant', () => ({ now: new Date(Date.now() - 3_600_000), ttlSeconds: 60 }), 'GRANT_EXPIRED'],
    ['a grant for another worker', () => ({ workerId: 'worker-2' }), 'GRANT_SUBJECT_MISMATCH'],
    ['a grant naming another model than the job', () => ({ claims: { model: `sha256:${'f'.repeat(64)}` } }), 'GRANT_JOB_MISMATCH'],
    ['a grant naming another input than the job', () => ({ claims: { input: inputDigest({ features: [9] }) } }), 'GRANT_JOB_MISMATCH'],
  ])('%s', async (_name, grantOptions, code) => {
    const job = fake.job(digest, { features, labels });
    await fake.offerJob(job, { workerId: WORKER, ...grantOptions() });
    expect(await worker().runOnce()).toMatchObject({ status: 'skipped', jobId: job.jobId, code });
    expectNothingRunOrPosted();
    expect(fake.requestsTo('/v1/artifacts')).toEqual([]);
  });

  it('a grant that has expired by the worker clock (injected)', async () => {
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER, ttlSeconds: 60 });
    const later = new Date(Date.now() + 61_000);
    expect(await worker({ clock: { now: () => later } }).runOnce()).toMatchObject({ status: 'skipped', code: 'GRANT_EXPIRED' });
    expectNothingRunOrPosted();
  });

  it('a grant signed by a key the ledger has revoked', async () => {
    fake.ledgerKeys[0]!.revokedAt = '2026-01-01T00:00:00.000Z';
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    expect(await worker().runOnce()).toMatchObject({ status: 'skipped', code: 'GRANT_KEY_UNKNOWN' });
    expectNothingRunOrPosted();
  });
});

describe('digests that do not match the grant: nothing loaded, run or posted', () => {
  it('model bytes whose SHA-256 is not the grant model', async () => {
    fake.servedArtifacts.set(digest, buildTestModel(8, 4, 3));
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    expect(await worker().runOnce()).toMatchObject({ status: 'skipped', code: 'MODEL_DIGEST_MISMATCH' });
    expectNothingRunOrPosted();
    expect(fake.requestsTo('/v1/artifacts')).toHaveLength(1);
  });

  it('an input changed after the grant was minted', async () => {
    const job = fake.job(digest, { features, labels });
    const lease = { job: { ...job, input: { features: [9, 9, 9, 9], labels } }, grant: await fake.mintGrant(job, { workerId: WORKER }), leasedUntil: new Date().toISOString() };
    fake.offer(lease);
    expect(await worker().runOnce()).toMatchObject({ status: 'skipped', code: 'INPUT_DIGEST_MISMATCH' });
    expectNothingRunOrPosted();
  });

  it('a missing model, and an input that is no model input', async () => {
    const missing = `sha256:${'9'.repeat(64)}`;
    await fake.offerJob(fake.job(missing, { features }), { workerId: WORKER });
    await fake.offerJob(fake.job(digest, { features: ['a', 'b'] }), { workerId: WORKER });
    const w = worker();
    expect(await w.runOnce()).toMatchObject({ status: 'skipped', code: 'MODEL_FETCH_FAILED' });
    expect(await w.runOnce()).toMatchObject({ status: 'skipped', code: 'INPUT_INVALID' });
    expectNothingRunOrPosted();
  });
});

describe('the ledger side of the exchange', () => {
  it('a result the ledger refuses is reported with its problem code', async () => {
    fake.resultResponder = () => ({ status: 409, body: { code: 'INFERENCE.LEASE_SUPERSEDED', detail: 'leased again' } });
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    expect(await worker().runOnce()).toMatchObject({ status: 'rejected', httpStatus: 409, code: 'INFERENCE.LEASE_SUPERSEDED' });
    expect(runner).toHaveBeenCalledTimes(1);
  });

  it('fetches the JWKS again for a grant signed by a key it has not seen (rotation), at most every 10 s', async () => {
    let now = Date.now();
    const w = worker({ clock: { now: () => new Date(now) } });
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    expect(await w.runOnce()).toMatchObject({ status: 'completed' });
    fake.rotateKey();
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    expect(await w.runOnce()).toMatchObject({ status: 'skipped', code: 'GRANT_KEY_UNKNOWN' });
    now += 11_000;
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    expect(await w.runOnce()).toMatchObject({ status: 'completed' });
    expect(fake.requestsTo('/.well-known/jwks.json')).toHaveLength(2);
  });

  it('an unregistered worker gets 401 on lease: counted, and `once` ends the loop', async () => {
    const stranger = new InferenceWorker({ ledgerUrl: fake.url, key: generateSigningKey(), workerId: 'nobody', runner, logger: silentLogger, waitMs: 50 });
    expect(await stranger.run({ once: true })).toMatchObject({ leases: 0, leaseErrors: 1 });
    await expect(stranger.runOnce()).rejects.toMatchObject({ status: 401, code: 'AUTH.INVALID_TOKEN' });
  });
});

describe('the loop', () => {
  it('processes jobs as they come and stops gracefully, abandoning an open long poll', async () => {
    const slow = await FakeLedger.start({ maxWaitMs: 10_000 });
    try {
      slow.registerWorker(WORKER, key.publicJwk);
      const d = slow.addArtifact(model);
      const w = new InferenceWorker({ ledgerUrl: slow.url, key, workerId: WORKER, runner, logger: silentLogger, waitMs: 10_000 });
      const running = w.run();
      await slow.offerJob(slow.job(d, { features }), { workerId: WORKER });
      await slow.offerJob(slow.job(d, { features: [1, 1, 1, 1] }), { workerId: WORKER });
      const deadline = Date.now() + 5_000;
      while (slow.acceptedResults.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(slow.acceptedResults).toHaveLength(2);
      // The worker is now in a long poll that would last 10 s.
      await new Promise((r) => setTimeout(r, 50));
      const stoppedAt = Date.now();
      w.stop();
      expect(await running).toEqual({ leases: 2, completed: 2, skipped: 0, failed: 0, rejected: 0, leaseErrors: 0 });
      expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    } finally {
      await slow.close();
    }
  });
});

describe('answers from scores', () => {
  it('softmaxes logits, keeps probabilities, falls back to the index without a label', () => {
    expect(answerFromScores([0, 2, 1], 'logits', ['a', 'b', 'c'])).toMatchObject({ answer: 'b' });
    expect(answerFromScores([0, 2, 1], 'logits').confidence).toBeCloseTo(Math.exp(2) / (1 + Math.exp(2) + Math.exp(1)), 10);
    expect(answerFromScores([0.2, 0.7, 0.1], 'probabilities', ['a'])).toEqual({ answer: '1', confidence: 0.7, scores: [0.2, 0.7, 0.1] });
  });

  it('names what is wrong with a model input', () => {
    expect(modelInputProblem({ features: [1, 2] })).toBeNull();
    expect(modelInputProblem({ features: [1], labels: ['x'] })).toBeNull();
    expect(modelInputProblem([1, 2])).toMatch(/not an object/u);
    expect(modelInputProblem({ features: [] })).toMatch(/non-empty/u);
    expect(modelInputProblem({ features: [1, '2'] })).toMatch(/finite/u);
    expect(modelInputProblem({ features: [1], labels: [1] })).toMatch(/labels/u);
  });
});

describe('a model that misbehaves', () => {
  it('non-finite scores: the job fails, nothing is posted, the worker goes on', async () => {
    const nanRunner = jest.fn<OnnxRunner>(async () => ({
      scores: Float32Array.from([Number.NaN, 1]),
      scoresKind: 'logits',
      provider: 'cpu',
      loadMs: 1,
      runMs: 0.1,
      cached: false,
      modelSha256: digest,
    }));
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    await fake.offerJob(fake.job(digest, { features }), { workerId: WORKER });
    const w = worker({ runner: nanRunner });
    expect(await w.runOnce()).toMatchObject({ status: 'failed', code: 'RUN_FAILED', reason: expect.stringMatching(/finite/u) });
    expect(fake.requestsTo('/v1/inference/results')).toEqual([]);
    expect(await w.run({ once: true })).toMatchObject({ leases: 1, failed: 1 });
  });
});
