/**
 * The projections against the real application: traffic through the HTTP API where it exists (queries), the
 * newer event types (inference, escalation, distillation, proxies) appended directly as their command side
 * would; then the oversight queue, lineage and impact read over HTTP (auth, tenants, validation, problem+json),
 * and the live digests compared with a rebuild of the same data folder, in process and through the CLI.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Actor, JsonObject } from '../src/ledger/entry.js';
import { rebuildProjectionsFromDataDir } from '../src/projections/projection-rebuild.js';
import { runCli } from './support/ledger-fixture.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const A = 'tenant-a';
const B = 'tenant-b';
const PROBLEM = /^application\/problem\+json/u;
const PIPELINE: Actor = { sub: 'svc-orchestrator', role: 'pipeline' };

let t: TestApp;
const tokens: Record<string, string> = {};
const api = () => request(t.server);
const get = (path: string, who: string) => api().get(path).set('Authorization', `Bearer ${tokens[who]}`);
const post = (path: string, who: string, body: object = {}) => api().post(path).set('Authorization', `Bearer ${tokens[who]}`).send(body);

/** Appends events as their (parallel) command side would: at the stream's current revision, one command. */
async function append(stream: string, tenant: string, events: { type: string; data: JsonObject }[], actor: Actor = PIPELINE): Promise<void> {
  const existing = await t.ledger.events.readStream(stream);
  const commandId = randomUUID();
  await t.ledger.events.append({
    stream,
    expectedRevision: existing.length === 0 ? 'no_stream' : existing[existing.length - 1]!.entry.revision,
    events: events.map((event) => ({ ...event, schema: 1 })),
    meta: { tenant, actor, correlationId: commandId, causationId: null, commandId, recordedAt: new Date().toISOString() },
  });
}

async function openAndSplit(who: string, task: string, parts: string[]) {
  const opened = await post('/v1/queries', who, { task, input: { task } }).expect(201);
  const { queryId, rootNodeId } = opened.body as { queryId: string; rootNodeId: string };
  const split = await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/decompose`, who, { subquestions: parts }).expect(200);
  return { queryId, rootNodeId, leaves: split.body.childNodeIds as string[] };
}

/** NodeAssigned + InferenceRequested (one append), then the result (+ the escalation below the threshold 0.7). */
async function proxyAnswers(queryId: string, nodeId: string, proxyVersionId: string, answer: string, confidence: number): Promise<string> {
  const jobId = randomUUID();
  const stream = `query-${queryId}`;
  await append(stream, A, [
    { type: 'NodeAssigned', data: { nodeId, assignee: { kind: 'proxy', proxyVersionId, jobId } } },
    {
      type: 'InferenceRequested',
      data: { jobId, nodeId, proxyVersionId, artifactSha256: `sha256:${'ab'.repeat(32)}`, question: 'q', ensemble: false },
    },
  ]);
  const completed = { type: 'InferenceCompleted', data: { jobId, nodeId, proxyVersionId, answer, confidence, output: null } };
  const escalated = {
    type: 'EscalatedToHuman',
    data: { nodeId, reason: 'low_confidence', confidence, threshold: 0.7, jobId, note: null },
  };
  await append(stream, A, confidence >= 0.7 ? [completed] : [completed, escalated]);
  return jobId;
}

async function distil(runId: string, queryIds: string[], parent: string | null, humanPool: string[]): Promise<void> {
  await append(`distillation-${runId}`, A, [
    {
      type: 'DistillationRunStarted',
      data: {
        runId,
        parentProxyVersionId: parent,
        teacher: { proxyVersionIds: parent === null ? [] : [parent], humanPool },
        dataset: { queryIds, transcripts: queryIds.map((queryId) => ({ queryId, entryCount: 8 })), leafCount: 8 * queryIds.length, transcriptRoot: 'cd'.repeat(32) },
        student: { name: 'student', architecture: 'mlp-2x16', hyperparameters: { epochs: 20 } },
        trainingDigest: `sha256:${'ef'.repeat(32)}`,
      },
    },
  ]);
  await append(`distillation-${runId}`, A, [
    {
      type: 'DistillationRunCompleted',
      data: {
        runId,
        artifact: { sha256: 'aa'.repeat(32), sizeBytes: 10, mediaType: 'application/onnx' },
        metrics: { fidelity: 0.9, groundTruthAgreement: 0.9, drift: parent === null ? null : 0.05, heldOutQueryIds: [] },
      },
    },
  ]);
  await append(`proxy-${runId}`, A, [
    {
      type: 'ProxyRegistered',
      data: {
        proxyVersionId: runId,
        name: 'summer',
        version: runId.slice(0, 8),
        source: { kind: 'distillation', runId },
        parentProxyVersionId: parent,
        artifact: { sha256: 'aa'.repeat(32), sizeBytes: 10 },
        metrics: { fidelity: 0.9, groundTruthAgreement: 0.9, drift: null },
        stage: 'candidate',
      },
    },
  ]);
}

const state: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  const who = {
    pipeline: ['pipeline', A, 'svc-orchestrator'],
    overseer: ['overseer', A, 'alice'],
    auditor: ['auditor', A, 'audrey'],
    compliance: ['compliance', A, 'carl'],
    admin: ['admin', A, 'root'],
    worker: ['worker', A, 'gpu-1'],
    pipelineB: ['pipeline', B, 'svc-b'],
    overseerB: ['overseer', B, 'bea'],
    auditorB: ['auditor', B, 'bert'],
  } as const;
  for (const [name, [role, tenant, sub]] of Object.entries(who)) tokens[name] = await t.token(role, tenant, sub);

  // Iteration 0: humans answer; run 1 on it registers v1.
  const q0 = await openAndSplit('pipeline', 'sum 3 5 7 9', ['sum 3 5', 'sum 7 9']);
  for (const [i, leaf] of q0.leaves.entries()) await post(`/v1/queries/${q0.queryId}/nodes/${leaf}/answer`, 'overseer', { answer: ['8', '16'][i] }).expect(200);
  await post(`/v1/queries/${q0.queryId}/nodes/${q0.rootNodeId}/compose`, 'pipeline', { answer: '24' }).expect(200);
  await post(`/v1/queries/${q0.queryId}/complete`, 'pipeline').expect(200);
  state.q0 = q0.queryId;
  state.v1 = randomUUID();
  await distil(state.v1, [q0.queryId], null, ['alice']);

  // Iteration 1: v1 answers one leaf, falls short on the other (escalated).
  const q1 = await openAndSplit('pipeline', 'sum 1 2 4 8', ['sum 1 2', 'sum 4 8']);
  state.q1 = q1.queryId;
  state.q1root = q1.rootNodeId;
  state.leaf0 = q1.leaves[0]!;
  state.leaf1 = q1.leaves[1]!;
  state.job0 = await proxyAnswers(q1.queryId, state.leaf0, state.v1, '3', 0.93);
  state.job1 = await proxyAnswers(q1.queryId, state.leaf1, state.v1, '13', 0.42);

  // Tenant B has a query with an escalation of its own.
  const qb = await post('/v1/queries', 'pipelineB', { task: 'theirs', input: {} }).expect(201);
  await append(`query-${qb.body.queryId}`, B, [
    { type: 'EscalatedToHuman', data: { nodeId: qb.body.rootNodeId, reason: 'requested', confidence: null, threshold: null, jobId: null, note: 'B only' } },
  ]);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('GET /v1/oversight/queue', () => {
  it("lists the tenant's escalated nodes, and no more once answered (read-your-writes)", async () => {
    const queue = await get('/v1/oversight/queue', 'overseer').expect(200);
    expect(queue.body).toEqual({
      total: 1,
      items: [
        {
          queryId: state.q1,
          nodeId: state.leaf1,
          question: 'sum 4 8',
          reason: 'low_confidence',
          confidence: 0.42,
          threshold: 0.7,
          note: null,
          escalatedAt: expect.any(String),
          position: expect.any(Number),
        },
      ],
    });
    const theirs = await get('/v1/oversight/queue', 'overseerB').expect(200);
    expect(theirs.body.items.map((item: { note: string }) => item.note)).toEqual(['B only']);

    await post(`/v1/queries/${state.q1}/nodes/${state.leaf1}/answer`, 'overseer', { answer: '12' }).expect(200);
    // No wait: the read itself catches up with every entry integrated before it.
    expect((await get('/v1/oversight/queue', 'overseer').expect(200)).body).toEqual({ total: 0, items: [] });
  });

  it('drops the escalations of a stopped query', async () => {
    const q = await post('/v1/queries', 'pipeline', { task: 'to stop', input: {} }).expect(201);
    await append(`query-${q.body.queryId}`, A, [
      { type: 'EscalatedToHuman', data: { nodeId: q.body.rootNodeId, reason: 'requested', confidence: null, threshold: null, jobId: null, note: 'look' } },
    ]);
    expect((await get('/v1/oversight/queue?limit=5', 'auditor').expect(200)).body.total).toBe(1);
    await post(`/v1/queries/${q.body.queryId}/stop`, 'overseer', { reason: 'not needed' }).expect(200);
    expect((await get('/v1/oversight/queue', 'admin').expect(200)).body.total).toBe(0);
  });

  it('needs a token and an overseer, auditor or admin role; validates its parameters', async () => {
    expect((await api().get('/v1/oversight/queue').expect(401)).body.code).toBe('AUTH.UNAUTHENTICATED');
    for (const role of ['worker', 'pipeline', 'compliance']) expect((await get('/v1/oversight/queue', role).expect(403)).body.code).toBe('AUTH.FORBIDDEN_ROLE');
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'page=2']) {
      const res = await get(`/v1/oversight/queue?${query}`, 'overseer').expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('REQUEST.VALIDATION_FAILED');
    }
  });
});

describe('lineage and impact', () => {
  beforeAll(async () => {
    await post(`/v1/queries/${state.q1}/nodes/${state.leaf0}/override`, 'overseer', { answer: '3 (checked)', rationale: 'spot check' }).expect(200);
    await post(`/v1/queries/${state.q1}/nodes/${state.q1root}/compose`, 'pipeline', { answer: '15' }).expect(200);
    await post(`/v1/queries/${state.q1}/complete`, 'pipeline').expect(200);
    state.v2 = randomUUID();
    await distil(state.v2, [state.q1], state.v1, ['alice']);
  });

  it("walks v2's ancestors back to the human iteration 0, and v1's descendants to v2", async () => {
    const res = await get(`/v1/lineage/${state.v2}?direction=ancestors`, 'auditor').expect(200);
    const ids = (kind: string) =>
      res.body.nodes
        .filter((n: { kind: string }) => n.kind === kind)
        .map((n: { id: string }) => n.id)
        .sort();
    expect(res.body).toMatchObject({ root: state.v2, direction: 'ancestors', depth: null, truncated: false });
    expect(ids('proxy')).toEqual([state.v1, state.v2].sort());
    expect(ids('run')).toEqual([state.v1, state.v2].sort());
    expect(ids('query')).toEqual([state.q0, state.q1].sort());
    expect(ids('human')).toEqual(['alice']);
    const answeredBy = (queryId: string) =>
      res.body.edges.filter((e: { kind: string; from: string }) => e.kind === 'answeredBy' && e.from === queryId).map((e: { to: string }) => e.to);
    expect(answeredBy(state.q0)).toEqual(['alice']);
    expect(answeredBy(state.q1).sort()).toEqual(['alice', state.v1].sort());

    const shallow = await get(`/v1/lineage/${state.v2}?depth=1`, 'pipeline').expect(200);
    expect(shallow.body.truncated).toBe(true);
    const down = await get(`/v1/lineage/${state.v1}?direction=descendants`, 'compliance').expect(200);
    expect(down.body.nodes.filter((n: { kind: string }) => n.kind === 'proxy').map((n: { id: string }) => n.id)).toContain(state.v2);
  });

  it("lists v1's answers — one overridden, one escalated — and the run trained on them", async () => {
    const res = await get(`/v1/proxies/${state.v1}/impact`, 'pipeline').expect(200);
    expect(res.body.proxyVersionId).toBe(state.v1);
    expect(res.body.answers).toEqual([
      expect.objectContaining({ queryId: state.q1, nodeId: state.leaf0, jobId: state.job0, role: 'single', answer: '3', escalated: false, overridden: true }),
      expect.objectContaining({ queryId: state.q1, nodeId: state.leaf1, jobId: state.job1, role: 'single', confidence: 0.42, escalated: true, overridden: false }),
    ]);
    expect(res.body.runs).toEqual([{ runId: state.v2, status: 'completed', queryIds: [state.q1] }]);
  });

  it("keeps tenants apart and answers problem+json with stable codes", async () => {
    const lineage = await get(`/v1/lineage/${state.v2}`, 'auditorB').expect(404);
    expect(lineage.headers['content-type']).toMatch(PROBLEM);
    expect(lineage.body.code).toBe('LINEAGE.PROXY_NOT_FOUND');
    expect((await get(`/v1/proxies/${state.v1}/impact`, 'auditorB').expect(404)).body.code).toBe('PROXY.NOT_FOUND');
    expect((await get(`/v1/lineage/${randomUUID()}`, 'auditor').expect(404)).body.code).toBe('LINEAGE.PROXY_NOT_FOUND');
    for (const query of ['direction=sideways', 'depth=0', 'depth=-1', 'depth=1.5', 'colour=red']) {
      expect((await get(`/v1/lineage/${state.v2}?${query}`, 'auditor').expect(400)).body.code).toBe('REQUEST.VALIDATION_FAILED');
    }
    expect((await get(`/v1/proxies/${state.v1}/impact?x=1`, 'auditor').expect(400)).body.code).toBe('REQUEST.VALIDATION_FAILED');
    expect((await get(`/v1/lineage/${state.v2}`, 'overseer').expect(403)).body.code).toBe('AUTH.FORBIDDEN_ROLE');
    expect((await get(`/v1/proxies/${state.v1}/impact`, 'worker').expect(403)).body.code).toBe('AUTH.FORBIDDEN_ROLE');
  });
});

describe('GET /v1/projections', () => {
  it('gives the live digests, equal to a fresh rebuild of the same data folder, in process and through the CLI', async () => {
    const live = await get('/v1/projections', 'auditor').expect(200);
    const size = await t.ledger.store.size();
    expect(live.body.position).toBe(size);
    expect(live.body.projections.map((p: { name: string }) => p.name)).toEqual(['decision-trees', 'oversight-queue', 'lineage', 'proxy-impact']);
    for (const projection of live.body.projections) {
      expect(projection).toEqual({ name: expect.any(String), position: size, applied: expect.any(Number), digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/u) });
      expect(projection.applied).toBeGreaterThan(0);
    }

    expect(await rebuildProjectionsFromDataDir(t.dataDir)).toEqual(live.body.projections);

    const cli = await runCli(['rebuild', '--data-dir', t.dataDir, '--json']);
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.stdout) as { entries: number; projections: unknown[] };
    expect(report.entries).toBe(size);
    expect(report.projections).toEqual(live.body.projections);
    const text = await runCli(['rebuild', '--data-dir', t.dataDir]);
    expect(text.code).toBe(0);
    for (const projection of live.body.projections) expect(text.stdout).toContain(`${projection.name}`);
    expect(text.stdout).toContain(live.body.projections[0].digest);
  });

  it('is for auditors and admins; the CLI refuses a folder without a ledger', async () => {
    expect((await get('/v1/projections', 'admin').expect(200)).body.projections).toHaveLength(4);
    for (const role of ['overseer', 'pipeline', 'compliance', 'worker']) expect((await get('/v1/projections', role).expect(403)).body.code).toBe('AUTH.FORBIDDEN_ROLE');
    const missing = await runCli(['rebuild', '--data-dir', `${t.dataDir}/nowhere`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('holds no ledger.sqlite');
  });
});
