/**
 * The policy gate end to end with REAL worker processes (`node dist/src/cli/ida-ledger.js worker`, built by
 * `npm run build`) and a REAL small ONNX model (`buildTestModel`, uploaded to the artifact store): the ledger
 * in process, listening on loopback; the workers as child processes, with their own key files.
 *
 * - happy path: the worker leases, verifies the grant, fetches and checks the model, runs it with
 *   onnxruntime-node and posts a signed result: InferenceCompleted with the model's answer;
 * - every refusal the issue lists is refused, recorded (InferenceRejected, with why) and yields no
 *   InferenceCompleted: no grant, an expired grant, a reused grant, a grant for another model or input, an
 *   unregistered or revoked worker key, a tampered model file, a job the gate denied;
 * - a worker killed (SIGKILL) after it leased: the lease runs out, another worker leases the job, exactly one
 *   result is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { dataPaths } from '../src/ledger/embedded-ledger.js';
import type { JsonObject, SignedEntry } from '../src/ledger/entry.js';
import { generateSigningKey, writePrivateKeyFile, type SigningKey } from '../src/ledger/signing-key.js';
import { predict } from '../src/inference/onnx/mlp.js';
import { buildTestMlp, buildTestModel } from '../src/inference/onnx/test-model.js';
import { inputDigest, sha256Digest } from '../src/inference/worker/result-signature.js';
import { assertBuilt, CLI_PATH, REPO_ROOT } from './support/server-process.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { TestWorker } from './support/test-worker.js';

const LEASE_MS = 3000;
const SEED = 7;
const FEATURES = [0.5, -1.25, 2];
const LABELS = ['negative', 'positive'];
const INPUT = { features: FEATURES, labels: LABELS };
const GATES = { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 };

let t: TestApp;
let url: string;
let folder: string;
const children = new Set<ChildProcess>();

/** One tenant per test: its admin, its pipeline, its proxies; workers of other tests never see its jobs. */
interface Tenant {
  name: string;
  admin: string;
  pipeline: string;
}

async function tenant(): Promise<Tenant> {
  const name = `t-${randomUUID().slice(0, 8)}`;
  return { name, admin: await t.token('admin', name, 'root'), pipeline: await t.token('pipeline', name, 'orchestrator') };
}

const as = (bearer: string) => ({ Authorization: `Bearer ${bearer}` });

async function upload(bytes: Uint8Array, pipeline: string): Promise<string> {
  const res = await request(t.server).post('/v1/artifacts').set(as(pipeline)).set('Content-Type', 'application/octet-stream').send(Buffer.from(bytes)).expect(201);
  return res.body.sha256 as string;
}

/** A proxy version serving the uploaded model (the registry's events, as in the other e2e specs). */
async function registerProxy(tn: Tenant, artifactSha256: string, stage: 'shadow' | 'production' = 'production'): Promise<string> {
  const id = `proxy-${randomUUID().slice(0, 8)}`;
  const promote = (from: string, to: string) => ({ type: 'ProxyPromoted', data: { from, to, gates: GATES, checks: [] } });
  const events: { type: string; data: JsonObject }[] = [
    {
      type: 'ProxyRegistered',
      data: {
        proxyVersionId: id,
        name: 'mlp',
        version: '1',
        source: { kind: 'imported', provenance: { origin: 'test', description: 'buildTestModel', declaredBy: 'qa' } },
        parentProxyVersionId: null,
        artifact: { sha256: artifactSha256, sizeBytes: 1 },
        metrics: { fidelity: 0.95, groundTruthAgreement: 0.9, drift: 0.05 },
        stage: 'candidate',
      },
    },
    promote('candidate', 'shadow'),
    ...(stage === 'production' ? [promote('shadow', 'production')] : []),
  ];
  await t.ledger.events.append({
    stream: `proxy-${id}`,
    expectedRevision: 'no_stream',
    events: events.map(({ type, data }) => ({ type, schema: 1, data })),
    meta: {
      tenant: tn.name,
      actor: { sub: 'svc-registry', role: 'pipeline' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: randomUUID(),
      recordedAt: new Date().toISOString(),
    },
  });
  return id;
}

/** A query whose root is assigned to `proxyVersionId` with the model input; the job. */
async function job(tn: Tenant, proxyVersionId: string, input: object = INPUT) {
  const opened = await request(t.server).post('/v1/queries').set(as(tn.pipeline)).send({ task: 'Classify', input: null }).expect(201);
  const { queryId, rootNodeId } = opened.body as { queryId: string; rootNodeId: string };
  const res = await request(t.server)
    .post(`/v1/queries/${queryId}/nodes/${rootNodeId}/assign`)
    .set(as(tn.pipeline))
    .send({ to: 'proxy', proxyVersionId, input })
    .expect(200);
  return { queryId, nodeId: rootNodeId, jobId: res.body.jobs[0].jobId as string, decision: res.body.jobs[0].decision as string };
}

/** A key file for a worker process; registered with the tenant's admin unless `register` is false. */
async function workerKey(tn: Tenant, workerId: string, register = true): Promise<{ file: string; key: SigningKey }> {
  const key = generateSigningKey();
  const file = join(folder, `${workerId}.jwk`);
  writePrivateKeyFile(file, key);
  if (register) {
    await request(t.server).post('/v1/workers').set(as(tn.admin)).send({ workerId, name: workerId, publicKeyJwk: key.publicJwk }).expect(201);
  }
  return { file, key };
}

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** `ida-ledger worker --url … --key FILE --worker-id ID [--once]` as a child process. */
function startWorker(keyFile: string, workerId: string, once = false): WorkerProcess {
  const child = spawn(process.execPath, [CLI_PATH, 'worker', '--url', url, '--key', keyFile, '--worker-id', workerId, ...(once ? ['--once'] : [])], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return {
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function stream(queryId: string): Promise<SignedEntry[]> {
  return (await t.ledger.store.readStream(`query-${queryId}`)).map((e) => e.entry);
}

/** Polls the query stream until `until` holds (bounded). */
async function waitForStream(queryId: string, until: (entries: SignedEntry[]) => boolean, timeoutMs = 15_000, why = ''): Promise<SignedEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await stream(queryId);
    if (until(entries)) return entries;
    if (Date.now() > deadline) throw new Error(`timed out waiting on query-${queryId} ${why}: ${entries.map((e) => e.type).join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const completions = (entries: SignedEntry[]) => entries.filter((e) => e.type === 'InferenceCompleted');
const rejections = (entries: SignedEntry[]) => entries.filter((e) => e.type === 'InferenceRejected');

const MODEL = buildTestModel(SEED, FEATURES.length, LABELS.length);
const OTHER_MODEL = buildTestModel(SEED + 1, FEATURES.length, LABELS.length);
const EXPECTED = predict(buildTestMlp(SEED, FEATURES.length, LABELS.length), FEATURES);

beforeAll(async () => {
  assertBuilt();
  folder = mkdtempSync(join(tmpdir(), 'ida-ledger-workers-'));
  t = await createTestApp({ INFERENCE_LEASE_MS: String(LEASE_MS) });
  await t.app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await t?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('a real worker process with a real ONNX model', () => {
  it('leases, verifies, runs the model (CPU here) and posts a signed result: InferenceCompleted with the model\'s answer', async () => {
    const tn = await tenant();
    const proxy = await registerProxy(tn, await upload(MODEL, tn.pipeline));
    const j = await job(tn, proxy);
    expect(j.decision).toBe('allow');
    const { file } = await workerKey(tn, 'w-happy');
    const worker = startWorker(file, 'w-happy', true);
    const code = await worker.exited;
    expect({ code, output: code === 0 ? '' : worker.output() }).toEqual({ code: 0, output: '' });

    const entries = await stream(j.queryId);
    expect(entries.map((e) => e.type).slice(-2)).toEqual(['InferenceLeased', 'InferenceCompleted']);
    const [completed] = completions(entries);
    expect(completed!.schema).toBe(2);
    expect(completed!.data).toMatchObject({
      jobId: j.jobId,
      workerId: 'w-happy',
      answer: LABELS[EXPECTED.index],
      provider: expect.stringMatching(/^(cuda|cpu)$/u),
      decisionPosition: expect.any(Number),
      resultSignature: expect.any(String),
    });
    expect(completed!.data['confidence']).toBeCloseTo(EXPECTED.confidence, 5);
    expect(completed!.meta.actor).toEqual({ sub: 'w-happy', role: 'worker' });
  }, 30_000);

  it('a tampered model file: the worker refuses to load it (nothing run, nothing posted); a result claiming it is GRANT_MISMATCH, recorded', async () => {
    const tn = await tenant();
    const digest = await upload(MODEL, tn.pipeline);
    const proxy = await registerProxy(tn, digest);
    const j = await job(tn, proxy);
    // Someone with write access to the data folder swaps the bytes behind the recorded digest.
    const path = join(dataPaths(t.dataDir).artifacts, 'sha256', digest.slice('sha256:'.length));
    chmodSync(path, 0o600);
    writeFileSync(path, Buffer.from(OTHER_MODEL));
    try {
      const { file, key } = await workerKey(tn, 'w-tamper');
      const worker = startWorker(file, 'w-tamper', true);
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toMatch(/MODEL_DIGEST_MISMATCH/u);
      expect(worker.output()).toMatch(/nothing loaded or run/u);
      let entries = await stream(j.queryId);
      expect(entries.map((e) => e.type).slice(-1)).toEqual(['InferenceLeased']);
      expect(completions(entries)).toEqual([]);

      // A worker that ran the tampered bytes anyway cannot get its result in: the grant names the real model.
      const cheat = new TestWorker(() => t, 'w-tamper', key);
      await waitForStream(j.queryId, () => true);
      const lease = await cheat.leaseJob(j.jobId, LEASE_MS + 3000);
      const res = await cheat.complete(lease, { answer: 'positive', confidence: 0.99 }, { modelSha256: sha256Digest(OTHER_MODEL) });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 422, code: 'INFERENCE.GRANT_MISMATCH' });
      entries = await stream(j.queryId);
      expect(rejections(entries).map((e) => e.data['code'])).toEqual(['INFERENCE.GRANT_MISMATCH']);
      expect(completions(entries)).toEqual([]);
    } finally {
      writeFileSync(path, Buffer.from(MODEL));
    }
  }, 30_000);

  it('an unregistered worker key and a revoked one: the process is refused (401), leases nothing; their results are refused and recorded', async () => {
    const tn = await tenant();
    const proxy = await registerProxy(tn, await upload(MODEL, tn.pipeline));
    const j = await job(tn, proxy);
    const stranger = await workerKey(tn, 'w-stranger', false);
    const revoked = await workerKey(tn, 'w-revoked');
    await request(t.server).post('/v1/workers/w-revoked/revoke').set(as(tn.admin)).send({ reason: 'decommissioned' }).expect(200);
    for (const [file, id] of [[stranger.file, 'w-stranger'], [revoked.file, 'w-revoked']] as const) {
      const worker = startWorker(file, id, true);
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toMatch(/lease failed.*401|"status":401/u);
    }
    expect((await stream(j.queryId)).map((e) => e.type)).not.toContain('InferenceLeased');

    // With a real grant (leased by a registered worker), results signed by those keys are refused and recorded.
    const honest = await workerKey(tn, 'w-honest');
    const holder = new TestWorker(() => t, 'w-honest', honest.key);
    const lease = await holder.leaseJob(j.jobId);
    const unsigned = holder.unsigned(lease, { answer: 'positive', confidence: 0.9 });
    const byStranger = await TestWorker.post(t, await holder.sign(unsigned, stranger.key));
    expect(byStranger.body.code).toBe('INFERENCE.WORKER_UNKNOWN');
    const byRevoked = await TestWorker.post(t, await holder.sign(unsigned, revoked.key));
    expect(byRevoked.body.code).toBe('INFERENCE.WORKER_REVOKED');
    const entries = await stream(j.queryId);
    expect(rejections(entries).map((e) => [e.data['code'], e.data['workerId']])).toEqual([
      ['INFERENCE.WORKER_UNKNOWN', 'w-honest'],
      ['INFERENCE.WORKER_REVOKED', 'w-revoked'],
    ]);
    expect(completions(entries)).toEqual([]);
  }, 30_000);

  it('no grant, a grant for another model or input, an expired grant, a reused grant: each refused, recorded, no InferenceCompleted', async () => {
    const tn = await tenant();
    const digest = await upload(MODEL, tn.pipeline);
    const proxy = await registerProxy(tn, digest);
    const otherProxy = await registerProxy(tn, await upload(OTHER_MODEL, tn.pipeline));
    const j = await job(tn, proxy);
    const other = await job(tn, otherProxy, { features: [1, 1, 1], labels: LABELS });
    const { key } = await workerKey(tn, 'w-matrix');
    const w = new TestWorker(() => t, 'w-matrix', key);
    const lease = await w.leaseJob(j.jobId);
    const otherLease = await w.leaseJob(other.jobId);
    const out = { answer: LABELS[EXPECTED.index]!, confidence: EXPECTED.confidence };

    const { grant: _none, ...withoutGrant } = w.unsigned(lease, out);
    const codes: string[] = [];
    codes.push((await TestWorker.post(t, await w.sign(withoutGrant as never))).body.code);
    // The other job's grant: another model and another input than this job's.
    codes.push((await w.complete(lease, out, { grant: otherLease.grant })).body.code);
    codes.push((await w.complete(lease, out, { inputDigest: inputDigest({ features: [9, 9, 9], labels: LABELS }) })).body.code);
    expect(codes).toEqual(['INFERENCE.GRANT_INVALID', 'INFERENCE.GRANT_MISMATCH', 'INFERENCE.GRANT_MISMATCH']);
    expect(completions(await stream(j.queryId))).toEqual([]);

    // The right result is accepted once; the same grant again is consumed.
    expect((await w.complete(lease, out)).status).toBe(200);
    expect((await w.complete(lease, out)).body.code).toBe('INFERENCE.GRANT_CONSUMED');

    // The other job's lease runs out before its result: expired.
    await new Promise((r) => setTimeout(r, Date.parse(otherLease.leasedUntil) - Date.now() + 50));
    expect((await w.complete(otherLease, out)).body.code).toBe('INFERENCE.GRANT_EXPIRED');

    const entries = await stream(j.queryId);
    expect(rejections(entries).map((e) => e.data['code'])).toEqual([
      'INFERENCE.GRANT_INVALID',
      'INFERENCE.GRANT_MISMATCH',
      'INFERENCE.GRANT_MISMATCH',
      'INFERENCE.GRANT_CONSUMED',
    ]);
    expect(completions(entries)).toHaveLength(1);
    const otherEntries = await stream(other.queryId);
    expect(rejections(otherEntries).map((e) => e.data['code'])).toEqual(['INFERENCE.GRANT_EXPIRED']);
    expect(completions(otherEntries)).toEqual([]);
  }, 30_000);

  it('after a deny: no worker process ever receives the job; a result for it is JOB_NOT_AUTHORIZED, recorded', async () => {
    const tn = await tenant();
    const shadow = await registerProxy(tn, await upload(MODEL, tn.pipeline), 'shadow');
    const denied = await job(tn, shadow);
    expect(denied.decision).toBe('deny');
    const { file, key } = await workerKey(tn, 'w-deny');
    const worker = startWorker(file, 'w-deny');
    await new Promise((r) => setTimeout(r, 1500));
    await worker.stop();
    expect(worker.output()).not.toMatch(/result accepted/u);
    const entries = await stream(denied.queryId);
    expect(entries.map((e) => e.type)).not.toContain('InferenceLeased');

    // With a grant of some other job of the tenant, posted for the denied one.
    const prod = await registerProxy(tn, sha256Digest(MODEL));
    const allowed = await job(tn, prod);
    const w = new TestWorker(() => t, 'w-deny', key);
    const lease = await w.leaseJob(allowed.jobId);
    const res = await w.complete(lease, { answer: 'positive', confidence: 0.9 }, { jobId: denied.jobId });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'INFERENCE.JOB_NOT_AUTHORIZED' });
    const after = await stream(denied.queryId);
    expect(rejections(after).map((e) => e.data['code'])).toEqual(['INFERENCE.JOB_NOT_AUTHORIZED']);
    expect(completions(after)).toEqual([]);
  }, 30_000);

  it('a worker killed mid-job (SIGKILL after its lease): the lease runs out, another worker leases the job, exactly one result is accepted', async () => {
    const tn = await tenant();
    const proxy = await registerProxy(tn, await upload(MODEL, tn.pipeline));
    const a = await workerKey(tn, 'w-crash');
    const b = await workerKey(tn, 'w-rescue');
    const crashing = startWorker(a.file, 'w-crash');
    // Killed the moment its lease is integrated: before it can fetch the JWKS and the model, let alone post.
    const from = await t.ledger.store.size();
    const subscription = t.ledger.store.subscribe(from, ({ entry }) => {
      if (entry.type === 'InferenceLeased' && entry.data['workerId'] === 'w-crash') crashing.child.kill('SIGKILL');
    });
    let rescuer: WorkerProcess | undefined;
    try {
      const j = await job(tn, proxy);
      await waitForStream(j.queryId, (es) => es.some((e) => e.type === 'InferenceLeased'), 15_000, 'for the first lease');
      expect(await crashing.exited).toBeNull();
      expect(crashing.child.signalCode).toBe('SIGKILL');

      rescuer = startWorker(b.file, 'w-rescue');
      const entries = await waitForStream(j.queryId, (es) => completions(es).length > 0, LEASE_MS + 15_000, 'for a result');
      const types = entries.map((e) => e.type);
      expect(types.slice(types.indexOf('InferenceLeased'))).toEqual(['InferenceLeased', 'InferenceLeaseExpired', 'InferenceLeased', 'InferenceCompleted']);
      const [first, expired, second] = entries.filter((e) => e.type.startsWith('InferenceLease'));
      expect(first!.data['workerId']).toBe('w-crash');
      expect(expired!.data).toMatchObject({ workerId: 'w-crash', jti: first!.data['jti'] });
      expect(second!.data['workerId']).toBe('w-rescue');
      await rescuer.stop();
      const final = await stream(j.queryId);
      expect(completions(final)).toHaveLength(1);
      expect(completions(final)[0]!.data).toMatchObject({ workerId: 'w-rescue', jti: second!.data['jti'], answer: LABELS[EXPECTED.index] });
      expect(rejections(final)).toEqual([]);
    } finally {
      await subscription.close();
      await rescuer?.stop();
      crashing.child.kill('SIGKILL');
    }
  }, 40_000);
});
