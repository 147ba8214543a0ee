/**
 * The distillation HTTP API against the real application (SQLite store, signed entries, JWT auth, filesystem
 * artifact store): a run over completed queries, its artifact, the proxy it yields through shadow and
 * production; every refusal as problem+json with its code and nothing appended; idempotent retries; tenant
 * isolation; and the dataset root recomputed offline from the log.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { verifyDatasetRoot, datasetInclusionProof, verifyDatasetInclusion } from '../src/distillation/dataset-root.js';
import { callersOf } from './support/callers.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const PROBLEM = /^application\/problem\+json/u;
const TENANT = 'tenant-d';
const OTHER_TENANT = 'tenant-e';
const MAX_ARTIFACT = 64 * 1024;
const TRAINING = `sha256:${'cd'.repeat(32)}`;

let t: TestApp;
const { bearer, get, mint, post } = callersOf(() => t);
const api = () => request(t.server);
const size = () => t.ledger.store.size();

function upload(bytes: Buffer, who = 'pipeline', headers: Record<string, string> = {}) {
  return api().post('/v1/artifacts').set(bearer(who)).set('Content-Type', 'application/octet-stream').set(headers).send(bytes);
}

/** A query answered at its root by `overseer`, then completed (or left open / stopped). */
async function query(end: 'completed' | 'open' | 'stopped' = 'completed', overseer = 'alice', who = 'pipeline'): Promise<string> {
  const opened = await post('/v1/queries', who, { task: `Task ${randomBytes(4).toString('hex')}`, input: null }).expect(201);
  const { queryId, rootNodeId } = opened.body as { queryId: string; rootNodeId: string };
  if (end === 'open') return queryId;
  await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/answer`, overseer, { answer: 'yes', confidence: 0.9 }).expect(200);
  await post(`/v1/queries/${queryId}/complete`, who).expect(200);
  if (end === 'stopped') await post(`/v1/queries/${queryId}/stop`, overseer, { reason: 'withdrawn' }).expect(200);
  return queryId;
}

const student = { name: 'student-s', architecture: 'mlp-2x16', hyperparameters: { epochs: 3, lr: 0.01 } };
const runBody = (queryIds: string[], extra: object = {}) => ({ queryIds, student, trainingDigest: TRAINING, ...extra });
const metrics = { fidelity: 0.92, groundTruthAgreement: 0.9, drift: null, heldOutQueryIds: [] as string[] };

/** A refusal: status, problem+json with the code, and nothing appended. */
async function expectRefusal(send: () => request.Test, status: number, code: string): Promise<request.Response> {
  const before = await size();
  const res = await send();
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(PROBLEM);
  expect(await size()).toBe(before);
  return res;
}

beforeAll(async () => {
  t = await createTestApp({ ARTIFACT_MAX_BYTES: String(MAX_ARTIFACT) });
  await Promise.all([
    mint('pipeline', 'pipeline', TENANT, 'svc-orchestrator'),
    mint('alice', 'overseer', TENANT, 'alice'),
    mint('bob', 'overseer', TENANT, 'bob'),
    mint('auditor', 'auditor', TENANT, 'audrey'),
    mint('admin', 'admin', TENANT, 'root'),
    mint('compliance', 'compliance', TENANT, 'carl'),
    mint('worker', 'worker', TENANT, 'gpu-1'),
    mint('pipelineB', 'pipeline', OTHER_TENANT, 'svc-b'),
    mint('overseerB', 'overseer', OTHER_TENANT, 'bea'),
    mint('auditorB', 'auditor', OTHER_TENANT, 'bart'),
  ]);
});

afterAll(async () => {
  await t?.close();
});

describe('distillation: the full flow', () => {
  const s: Record<string, any> = {};

  it('two completed queries → run started: dataset root over their exact entries, teacher derived (humans only)', async () => {
    s.q1 = await query('completed', 'alice');
    s.q2 = await query('completed', 'bob');
    const before = await size();
    const started = await post('/v1/distillation-runs', 'pipeline', runBody([s.q1, s.q2]), { 'Idempotency-Key': 'start-run-1' }).expect(201);
    expect(await size()).toBe(before + 1);
    expect(started.headers.etag).toBe('"0"');
    expect(started.headers.location).toBe(`/v1/distillation-runs/${started.body.runId}`);
    expect(started.body).toMatchObject({
      status: 'running',
      parentProxyVersionId: null,
      teacher: { proxyVersionIds: [], humanPool: ['alice', 'bob'] },
      dataset: {
        queryIds: [s.q1, s.q2],
        transcripts: [
          { queryId: s.q1, entryCount: 3 },
          { queryId: s.q2, entryCount: 3 },
        ],
        leafCount: 6,
      },
      revision: 0,
    });
    s.runId = started.body.runId;
    s.started = started.body;

    // The same Idempotency-Key again: the first result, nothing appended.
    const retried = await expectOk(() => post('/v1/distillation-runs', 'pipeline', runBody([s.q1, s.q2]), { 'Idempotency-Key': 'start-run-1' }), 201);
    expect(retried.body).toEqual(started.body);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    // ... but not for another request.
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([s.q1]), { 'Idempotency-Key': 'start-run-1' }), 422, 'REQUEST.IDEMPOTENCY_KEY_REUSED');
  });

  it('the dataset root is recomputed offline from the log alone, and proves each transcript entry', async () => {
    const entries = [...(await t.ledger.store.readStream(`query-${s.q1}`)), ...(await t.ledger.store.readStream(`query-${s.q2}`))];
    expect(verifyDatasetRoot(entries, s.started.dataset)).toEqual({ valid: true, leafCount: 6, transcriptRoot: s.started.dataset.transcriptRoot });
    const proof = datasetInclusionProof(entries, s.started.dataset, s.q2, 1);
    expect(verifyDatasetInclusion(proof, s.started.dataset, entries[4]!)).toBe(true);
    // Later entries of a query (here: a stop) do not change what the run committed to.
    await post(`/v1/queries/${s.q1}/stop`, 'alice', { reason: 'after the run started' }).expect(200);
    const later = [...(await t.ledger.store.readStream(`query-${s.q1}`)), ...(await t.ledger.store.readStream(`query-${s.q2}`))];
    expect(later).toHaveLength(7);
    expect(verifyDatasetRoot(later, s.started.dataset).valid).toBe(true);
  });

  it('an artifact is uploaded (content-addressed, 0600 under <data>/artifacts/sha256) and read back byte for byte', async () => {
    const bytes = randomBytes(10_000);
    const hex = createHash('sha256').update(bytes).digest('hex');
    const before = await size();
    const res = await upload(bytes).expect(201);
    expect(res.body).toEqual({ sha256: `sha256:${hex}`, sizeBytes: bytes.length });
    expect(res.headers.location).toBe(`/v1/artifacts/sha256:${hex}`);
    expect(await size()).toBe(before); // bytes are not log entries; the run's completion records the digest
    const file = join(t.dataDir, 'artifacts', 'sha256', hex);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Idempotent, and checked against a stated RFC 9530 digest.
    await upload(bytes, 'pipeline', { 'Content-Digest': `sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:` }).expect(201);

    const back = await get(`/v1/artifacts/sha256:${hex}`, 'worker').responseType('blob').expect(200);
    expect(back.headers['content-type']).toBe('application/octet-stream');
    expect(back.headers['content-digest']).toBe(`sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:`);
    expect(Buffer.compare(back.body as Buffer, bytes)).toBe(0);
    // Artifacts are content, not tenant data: another tenant may fetch by digest.
    await get(`/v1/artifacts/sha256:${hex}`, 'auditorB').expect(200);
    s.artifact = res.body;
  });

  it('the run completes with the stored artifact, and reads back completed', async () => {
    const done = await post(`/v1/distillation-runs/${s.runId}/complete`, 'pipeline', { artifactSha256: s.artifact.sha256, metrics }, { 'If-Match': '"0"' }).expect(200);
    expect(done.body).toEqual({
      runId: s.runId,
      status: 'completed',
      artifact: { ...s.artifact, mediaType: 'application/onnx' },
      metrics,
      revision: 1,
    });
    const run = await get(`/v1/distillation-runs/${s.runId}`, 'auditor').expect(200);
    expect(run.headers.etag).toBe('"1"');
    expect(run.body).toMatchObject({
      runId: s.runId,
      tenant: TENANT,
      status: 'completed',
      startedBy: { sub: 'svc-orchestrator', role: 'pipeline' },
      artifact: { sha256: s.artifact.sha256, sizeBytes: s.artifact.sizeBytes },
      dataset: s.started.dataset,
      teacher: s.started.teacher,
      student,
      trainingDigest: TRAINING,
    });
  });

  it('the proxy is registered (id = run id), promoted to shadow, recalibrated and promoted to production', async () => {
    const registered = await post('/v1/proxies', 'pipeline', { runId: s.runId, name: 'triage', version: '1.0.0' }, { 'Idempotency-Key': 'reg-1' }).expect(201);
    expect(registered.body).toEqual({
      proxyVersionId: s.runId,
      stage: 'candidate',
      source: { kind: 'distillation', runId: s.runId },
      parentProxyVersionId: null,
      artifact: s.artifact,
      metrics: { fidelity: 0.92, groundTruthAgreement: 0.9, drift: null },
      revision: 0,
    });
    const retried = await post('/v1/proxies', 'pipeline', { runId: s.runId, name: 'triage', version: '1.0.0' }, { 'Idempotency-Key': 'reg-1' }).expect(201);
    expect(retried.body).toEqual(registered.body);
    const p = `/v1/proxies/${s.runId}`;

    const shadow = await post(`${p}/promote`, 'pipeline', { to: 'shadow' }).expect(200);
    expect(shadow.body).toMatchObject({ from: 'candidate', to: 'shadow', stage: 'shadow', revision: 1 });
    expect(shadow.body.checks).toEqual([
      { gate: 'minFidelity', required: 0.8, observed: 0.92, passed: true },
      { gate: 'maxDrift', required: 0.2, observed: null, passed: true },
    ]);

    const recal = await post(`${p}/recalibrations`, 'pipeline', {
      samples: [
        { queryId: s.q1, nodeId: 'n-1', humanAnswer: 'Yes', proxyAnswer: ' yes ' },
        { queryId: s.q2, nodeId: 'n-1', humanAnswer: 'no', proxyAnswer: 'NO' },
      ],
    }).expect(200);
    expect(recal.body).toMatchObject({ agreement: 1, minAgreement: 0.8, sampleCount: 2, demoted: null, stage: 'shadow', revision: 2 });

    const production = await post(`${p}/promote`, 'admin', { to: 'production' }, { 'If-Match': '"2"' }).expect(200);
    expect(production.body).toMatchObject({ from: 'shadow', to: 'production', stage: 'production', revision: 3 });
    expect(production.body.checks.map((c: any) => [c.gate, c.passed])).toEqual([
      ['minFidelity', true],
      ['maxDrift', true],
      ['minAgreement', true],
      ['maxRecalibrationAgeDays', true],
    ]);

    const view = await get(p, 'alice').expect(200);
    expect(view.headers.etag).toBe('"3"');
    expect(view.body).toMatchObject({
      proxyVersionId: s.runId,
      stage: 'production',
      artifact: s.artifact,
      lastRecalibration: { agreement: 1, sampleCount: 2 },
    });
    expect(view.body.transitions.map((tr: any) => `${tr.from}->${tr.to}:${tr.by.sub}`)).toEqual(['candidate->shadow:svc-orchestrator', 'shadow->production:root']);

    const list = await get('/v1/proxies?stage=production', 'auditor').expect(200);
    expect(list.body.proxies.map((x: any) => x.proxyVersionId)).toEqual([s.runId]);
  });
});

describe('distillation: OpenAPI', () => {
  it('documents every route with its problem codes', async () => {
    const doc = await api().get('/docs/openapi.json').expect(200);
    const paths = doc.body.paths as Record<string, Record<string, any>>;
    for (const [path, method] of [
      ['/v1/artifacts', 'post'],
      ['/v1/artifacts/{sha256}', 'get'],
      ['/v1/distillation-runs', 'post'],
      ['/v1/distillation-runs/{runId}', 'get'],
      ['/v1/distillation-runs/{runId}/complete', 'post'],
      ['/v1/distillation-runs/{runId}/fail', 'post'],
      ['/v1/proxies', 'post'],
      ['/v1/proxies', 'get'],
      ['/v1/proxies/import', 'post'],
      ['/v1/proxies/{proxyVersionId}', 'get'],
      ['/v1/proxies/{proxyVersionId}/promote', 'post'],
      ['/v1/proxies/{proxyVersionId}/recalibrations', 'post'],
      ['/v1/proxies/{proxyVersionId}/retire', 'post'],
    ] as const) {
      expect(paths[path]?.[method]).toBeDefined();
    }
    expect(paths['/v1/proxies/{proxyVersionId}/promote']!['post'].responses['409'].description).toContain('PROXY.GATES_NOT_MET');
  });
});

describe('distillation: refusals (problem+json, nothing appended)', () => {
  const s: Record<string, any> = {};

  beforeAll(async () => {
    s.done = await query('completed');
    s.open = await query('open');
    s.stopped = await query('stopped');
    s.foreign = await query('completed', 'overseerB', 'pipelineB');
    s.artifact = (await upload(randomBytes(512)).expect(201)).body;
  });

  it('start: empty dataset, duplicate, unknown, open, stopped and foreign queries, unknown parent, bad body, wrong role', async () => {
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([])), 422, 'DISTILLATION.EMPTY_DATASET');
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([s.done, s.done])), 422, 'DISTILLATION.DUPLICATE_QUERY');
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([s.done, 'no-such-query'])), 422, 'DISTILLATION.QUERY_NOT_FOUND');
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([s.open])), 409, 'DISTILLATION.QUERY_NOT_COMPLETED');
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([s.stopped])), 409, 'DISTILLATION.QUERY_STOPPED');
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', runBody([s.done, s.foreign])), 403, 'AUTH.TENANT_FORBIDDEN');
    await expectRefusal(
      () => post('/v1/distillation-runs', 'pipeline', runBody([s.done], { parentProxyVersionId: 'ghost' })),
      422,
      'DISTILLATION.PARENT_NOT_FOUND',
    );
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', { ...runBody([s.done]), trainingDigest: 'md5:1' }), 400, 'REQUEST.VALIDATION_FAILED');
    await expectRefusal(() => post('/v1/distillation-runs', 'pipeline', { ...runBody([s.done]), extra: 1 }), 400, 'REQUEST.VALIDATION_FAILED');
    await expectRefusal(() => post('/v1/distillation-runs', 'auditor', runBody([s.done])), 403, 'AUTH.FORBIDDEN_ROLE');
  });

  it('complete / fail: unknown artifact, drift missing with a parent, twice, after failure, stale If-Match, unknown run', async () => {
    const run = async (extra: object = {}) => (await post('/v1/distillation-runs', 'pipeline', runBody([s.done], extra)).expect(201)).body.runId as string;
    const r1 = await run();
    const complete = (runId: string, body: object = { artifactSha256: s.artifact.sha256, metrics }, headers = {}) =>
      post(`/v1/distillation-runs/${runId}/complete`, 'pipeline', body, headers);

    await expectRefusal(() => complete(r1, { artifactSha256: `sha256:${'0'.repeat(64)}`, metrics }), 422, 'DISTILLATION.ARTIFACT_NOT_FOUND');
    await expectRefusal(() => complete(r1, { artifactSha256: s.artifact.sha256, metrics: { ...metrics, heldOutQueryIds: ['other'] } }), 422, 'DISTILLATION.INVALID_COMMAND');
    await expectRefusal(() => complete(r1, undefined, { 'If-Match': '"7"' }), 412, 'LEDGER.REVISION_CONFLICT');
    await complete(r1).expect(200);
    await expectRefusal(() => complete(r1), 409, 'DISTILLATION.ALREADY_COMPLETED');
    await expectRefusal(() => post(`/v1/distillation-runs/${r1}/fail`, 'pipeline', { reason: 'late' }), 409, 'DISTILLATION.ALREADY_COMPLETED');

    const r2 = await run();
    await post(`/v1/distillation-runs/${r2}/fail`, 'pipeline', { reason: 'loss diverged' }).expect(200);
    await expectRefusal(() => complete(r2), 409, 'DISTILLATION.ALREADY_FAILED');
    await expectRefusal(() => post(`/v1/distillation-runs/${r2}/fail`, 'pipeline', { reason: 'again' }), 409, 'DISTILLATION.ALREADY_FAILED');
    await expectRefusal(() => post(`/v1/distillation-runs/${r2}/fail`, 'pipeline', { reason: '   ' }), 422, 'DISTILLATION.INVALID_COMMAND');

    // A run with a parent must state its drift.
    await post('/v1/proxies', 'pipeline', { runId: r1, name: 'p', version: '1' }).expect(201);
    const r3 = await run({ parentProxyVersionId: r1 });
    await expectRefusal(() => complete(r3), 422, 'DISTILLATION.DRIFT_REQUIRED');
    await complete(r3, { artifactSha256: s.artifact.sha256, metrics: { ...metrics, drift: 0.05 } }).expect(200);

    await expectRefusal(() => complete('no-such-run'), 404, 'DISTILLATION.NOT_FOUND');
    await expectRefusal(() => get('/v1/distillation-runs/no-such-run', 'auditor'), 404, 'DISTILLATION.NOT_FOUND');
    s.failedRun = r2;
    s.completedRun = r3;
  });

  it('register: from a failed run, from a running one, twice, unknown run', async () => {
    await expectRefusal(() => post('/v1/proxies', 'pipeline', { runId: s.failedRun, name: 'p', version: '1' }), 409, 'PROXY.RUN_NOT_COMPLETED');
    const running = (await post('/v1/distillation-runs', 'pipeline', runBody([s.done])).expect(201)).body.runId;
    await expectRefusal(() => post('/v1/proxies', 'pipeline', { runId: running, name: 'p', version: '1' }), 409, 'PROXY.RUN_NOT_COMPLETED');
    await post('/v1/proxies', 'pipeline', { runId: s.completedRun, name: 'p', version: '2' }).expect(201);
    await expectRefusal(() => post('/v1/proxies', 'pipeline', { runId: s.completedRun, name: 'p', version: '2b' }), 409, 'PROXY.ALREADY_REGISTERED');
    await expectRefusal(() => post('/v1/proxies', 'pipeline', { runId: 'no-such-run', name: 'p', version: '1' }), 422, 'PROXY.RUN_NOT_FOUND');
  });

  it('import, gates, transitions, demotion on recalibration, retirement', async () => {
    const imp = (body: object = {}) =>
      post('/v1/proxies/import', 'pipeline', {
        name: 'vendor',
        version: '1',
        artifactSha256: s.artifact.sha256,
        provenance: { origin: 'vendor.example', description: 'Bought in' },
        ...body,
      });
    await expectRefusal(() => imp({ artifactSha256: `sha256:${'1'.repeat(64)}` }), 422, 'PROXY.ARTIFACT_NOT_FOUND');
    await expectRefusal(() => imp({ parentProxyVersionId: 'ghost' }), 422, 'PROXY.PARENT_NOT_FOUND');

    // Imported without metrics: no fidelity, so no promotion; the checks say why.
    const bare = (await imp().expect(201)).body;
    expect(bare).toMatchObject({ stage: 'candidate', source: { kind: 'imported', provenance: { origin: 'vendor.example', declaredBy: 'svc-orchestrator' } } });
    const gates = await expectRefusal(() => post(`/v1/proxies/${bare.proxyVersionId}/promote`, 'pipeline', { to: 'shadow' }), 409, 'PROXY.GATES_NOT_MET');
    expect(gates.body.checks).toEqual([
      { gate: 'minFidelity', required: 0.8, observed: null, passed: false },
      { gate: 'maxDrift', required: 0.2, observed: null, passed: true },
    ]);
    await expectRefusal(() => post(`/v1/proxies/${bare.proxyVersionId}/promote`, 'pipeline', { to: 'production' }), 409, 'PROXY.INVALID_TRANSITION');

    // A good one goes to shadow, then a failing recalibration demotes it in the same append.
    const good = (await imp({ metrics: { fidelity: 0.95, drift: 0.01 } }).expect(201)).body.proxyVersionId;
    await post(`/v1/proxies/${good}/promote`, 'pipeline', { to: 'shadow' }).expect(200);
    await expectRefusal(() => post(`/v1/proxies/${good}/promote`, 'pipeline', { to: 'production' }), 409, 'PROXY.GATES_NOT_MET');
    const before = await size();
    const recal = await post(`/v1/proxies/${good}/recalibrations`, 'pipeline', {
      samples: [
        { queryId: s.done, nodeId: 'n', humanAnswer: 'yes', proxyAnswer: 'no' },
        { queryId: s.done, nodeId: 'm', humanAnswer: 'yes', proxyAnswer: 'yes' },
      ],
    }).expect(200);
    expect(await size()).toBe(before + 2);
    expect(recal.body).toMatchObject({ agreement: 0.5, demoted: { from: 'shadow', to: 'candidate' }, stage: 'candidate', revision: 3 });
    const entries = await t.ledger.store.readStream(`proxy-${good}`);
    expect(entries.slice(-2).map((e) => e.entry.type)).toEqual(['ProxyRecalibrated', 'ProxyDemoted']);
    expect(new Set(entries.slice(-2).map((e) => e.entry.meta.commandId)).size).toBe(1);

    await expectRefusal(() => post(`/v1/proxies/${good}/recalibrations`, 'pipeline', { samples: [] }), 422, 'PROXY.INVALID_COMMAND');
    await expectRefusal(() => post(`/v1/proxies/${good}/retire`, 'overseerB', { reason: 'x' }), 403, 'AUTH.FORBIDDEN_ROLE');
    await expectRefusal(() => post(`/v1/proxies/${good}/retire`, 'pipelineB', { reason: 'x' }), 403, 'AUTH.TENANT_FORBIDDEN');
    await post(`/v1/proxies/${good}/retire`, 'admin', { reason: 'replaced' }).expect(200);
    await expectRefusal(() => post(`/v1/proxies/${good}/retire`, 'admin', { reason: 'again' }), 409, 'PROXY.INVALID_TRANSITION');
    await expectRefusal(() => post(`/v1/proxies/${good}/promote`, 'admin', { to: 'shadow' }), 409, 'PROXY.INVALID_TRANSITION');
    await expectRefusal(
      () => post(`/v1/proxies/${good}/recalibrations`, 'pipeline', { samples: [{ queryId: 'q', nodeId: 'n', humanAnswer: 'a', proxyAnswer: 'a' }] }),
      409,
      'PROXY.RETIRED',
    );
    await expectRefusal(() => post('/v1/proxies/no-such-proxy/promote', 'pipeline', { to: 'shadow' }), 404, 'PROXY.NOT_FOUND');
    await expectRefusal(() => get('/v1/proxies?stage=beta', 'auditor'), 400, 'REQUEST.VALIDATION_FAILED');
  });

  it('tenant isolation: another tenant neither reads nor writes runs and proxies', async () => {
    const runId = (await post('/v1/distillation-runs', 'pipeline', runBody([s.done])).expect(201)).body.runId;
    await expectRefusal(() => get(`/v1/distillation-runs/${runId}`, 'auditorB'), 403, 'AUTH.TENANT_FORBIDDEN');
    await expectRefusal(() => post(`/v1/distillation-runs/${runId}/fail`, 'pipelineB', { reason: 'x' }), 403, 'AUTH.TENANT_FORBIDDEN');
    await expectRefusal(() => get(`/v1/proxies/${s.completedRun}`, 'auditorB'), 403, 'AUTH.TENANT_FORBIDDEN');
    await expectRefusal(() => post('/v1/proxies', 'pipelineB', { runId: s.completedRun, name: 'stolen', version: '1' }), 403, 'AUTH.TENANT_FORBIDDEN');
    await expectRefusal(
      () => post('/v1/distillation-runs', 'pipelineB', runBody([s.foreign], { parentProxyVersionId: s.completedRun })),
      403,
      'AUTH.TENANT_FORBIDDEN',
    );
    const listB = await get('/v1/proxies', 'auditorB').expect(200);
    expect(listB.body.proxies).toEqual([]);
    await expectRefusal(() => get('/v1/proxies', 'compliance'), 403, 'AUTH.FORBIDDEN_ROLE');
  });

  it('artifacts: wrong media type, empty, too large, bad Content-Digest, wrong role, unknown and malformed addresses', async () => {
    await expectRefusal(() => api().post('/v1/artifacts').set(bearer('pipeline')).set('Content-Type', 'text/plain').send('weights'), 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
    await expectRefusal(() => api().post('/v1/artifacts').set(bearer('pipeline')).set('Content-Type', 'application/octet-stream'), 400, 'ARTIFACT.EMPTY');
    await expectRefusal(() => upload(randomBytes(MAX_ARTIFACT + 1)), 413, 'REQUEST.BODY_TOO_LARGE');
    const bytes = randomBytes(100);
    const wrong = createHash('sha256').update('other').digest('base64');
    await expectRefusal(() => upload(bytes, 'pipeline', { 'Content-Digest': `sha-256=:${wrong}:` }), 422, 'ARTIFACT.DIGEST_MISMATCH');
    await expectRefusal(() => upload(bytes, 'pipeline', { 'Content-Digest': 'sha-256=:abc:' }), 400, 'ARTIFACT.INVALID_CONTENT_DIGEST');
    await expectRefusal(() => upload(bytes, 'auditor'), 403, 'AUTH.FORBIDDEN_ROLE');
    await expectRefusal(() => api().post('/v1/artifacts').set('Content-Type', 'application/octet-stream').send(bytes), 401, 'AUTH.UNAUTHENTICATED');
    const unknown = createHash('sha256').update(bytes).digest('hex');
    await expectRefusal(() => get(`/v1/artifacts/sha256:${unknown}`, 'auditor'), 404, 'ARTIFACT.NOT_FOUND');
    await expectRefusal(() => get('/v1/artifacts/sha256:..%2F..%2Fledger.sqlite', 'auditor'), 400, 'ARTIFACT.INVALID_DIGEST');
  });

  it('artifacts are streamed to the store: a chunked upload is bounded as it arrives; gzip and deflate bodies are stored decoded', async () => {
    const part = () => randomBytes(30 * 1024);
    // No Content-Length: the bound holds while the body streams in.
    const tooLong = await chunkedUpload([part(), part(), part()]);
    expect(tooLong.status).toBe(413);
    expect(tooLong.body).toMatchObject({ code: 'REQUEST.BODY_TOO_LARGE' });
    const pieces = [part(), part()];
    const whole = Buffer.concat(pieces);
    const stored = await chunkedUpload(pieces);
    expect(stored.status).toBe(201);
    expect(stored.body).toEqual({ sha256: `sha256:${createHash('sha256').update(whole).digest('hex')}`, sizeBytes: whole.length });
    for (const [encoding, encode] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
      const bytes = Buffer.from(`compressible weights ${encoding} `.repeat(1000));
      const res = await upload(encode(bytes), 'pipeline', { 'Content-Encoding': encoding }).expect(201);
      expect(res.body).toEqual({ sha256: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, sizeBytes: bytes.length });
      const back = await get(`/v1/artifacts/${res.body.sha256 as string}`, 'auditor').responseType('blob').expect(200);
      expect(Buffer.compare(back.body as Buffer, bytes)).toBe(0);
    }
    // The bound is on the decoded bytes: a small gzip body that inflates past it is refused.
    await expectRefusal(() => upload(gzipSync(Buffer.alloc(MAX_ARTIFACT + 1)), 'pipeline', { 'Content-Encoding': 'gzip' }), 413, 'REQUEST.BODY_TOO_LARGE');
    await expectRefusal(() => upload(randomBytes(100), 'pipeline', { 'Content-Encoding': 'gzip' }), 400, 'REQUEST.MALFORMED_BODY');
    await expectRefusal(() => upload(randomBytes(100), 'pipeline', { 'Content-Encoding': 'br' }), 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
  });
});

/** An upload sent in chunks, without a Content-Length (Transfer-Encoding: chunked). */
function chunkedUpload(chunks: Buffer[]): Promise<request.Response> {
  return new Promise((resolve, reject) => {
    const req = api().post('/v1/artifacts').set(bearer('pipeline')).set('Content-Type', 'application/octet-stream');
    for (const chunk of chunks) req.write(chunk);
    req.end((error, res) => (res ? resolve(res) : reject(error)));
  });
}

/** A success that must append nothing (an idempotent replay). */
async function expectOk(send: () => request.Test, status: number): Promise<request.Response> {
  const before = await size();
  const res = await send().expect(status);
  expect(await size()).toBe(before);
  return res;
}
