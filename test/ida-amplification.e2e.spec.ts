/**
 * The IDA side of amplification over HTTP, against the real application (SQLite store, signed entries, JWT
 * auth): limits from tenant settings and task classes, nodes assigned to proxies and ensembles through the
 * policy gate, inference results from a registered worker (leased, granted, signed: the in-process test worker
 * of test/support/test-worker.ts), low-confidence escalation, the overseer's answer, composition, every
 * refusal (nothing appended).
 *
 * Proxies and tenant settings are set up by appending their events directly (signed by the ledger, as the
 * registry and the settings API would), so this suite depends only on the documented event contract.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { JsonObject } from '../src/ledger/entry.js';
import { callersOf } from './support/callers.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { TestWorker } from './support/test-worker.js';

const PROBLEM = /^application\/problem\+json/u;
const TENANT = 'tenant-a';
const OTHER_TENANT = 'tenant-b';
/** A tenant with its own settings, so the defaults of TENANT stay untouched. */
const CLASS_TENANT = 'tenant-c';
const GATES = { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 };

let t: TestApp;
const { bearer, mint, post, tokens } = callersOf(() => t);
/** The registered worker that runs every proxy job here. */
const gpu = new TestWorker(() => t, 'gpu-w1');
const api = () => request(t.server);
const size = () => t.ledger.store.size();

/** Appends events as another context of the service would: signed, with the tenant's meta. */
async function appendAs(tenant: string, stream: string, events: { type: string; schema?: number; data: JsonObject }[]) {
  await t.ledger.events.append({
    stream,
    expectedRevision: 'any',
    events: events.map(({ type, schema = 1, data }) => ({ type, schema, data })),
    meta: {
      tenant,
      actor: { sub: 'svc-registry', role: 'pipeline' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: randomUUID(),
      recordedAt: new Date().toISOString(),
    },
  });
}

const digestOf = (id: string) => `sha256:${Buffer.from(id).toString('hex').padEnd(64, '0').slice(0, 64)}`;

/** Registers `proxy-<id>` and promotes it to `stage`, with the registry's event shapes (docs/ida-domain.md). */
async function createProxy(id: string, stage: 'candidate' | 'shadow' | 'production', tenant = TENANT) {
  const registered = {
    type: 'ProxyRegistered',
    data: {
      proxyVersionId: id,
      name: `proxy ${id}`,
      version: '1.0.0',
      source: { kind: 'imported', provenance: { origin: 'test', description: 'e2e fixture', declaredBy: 'qa' } },
      parentProxyVersionId: null,
      artifact: { sha256: digestOf(id), sizeBytes: 1024 },
      metrics: { fidelity: 0.95, groundTruthAgreement: 0.9, drift: 0.05 },
      stage: 'candidate',
    },
  };
  const promote = (from: string, to: string) => ({
    type: 'ProxyPromoted',
    data: { from, to, gates: GATES, checks: [{ gate: 'minFidelity', required: 0.8, observed: 0.95, passed: true }] },
  });
  const events: { type: string; data: JsonObject }[] = [registered];
  if (stage !== 'candidate') events.push(promote('candidate', 'shadow'));
  if (stage === 'production') events.push(promote('shadow', 'production'));
  await appendAs(tenant, `proxy-${id}`, events);
}

async function openQuery(body: object = { task: 'Is the dosage safe?', input: { patient: 'adult' } }, who = 'pipeline') {
  const res = await post('/v1/queries', who, body).expect(201);
  return res.body as { queryId: string; rootNodeId: string; revision: number };
}

async function decompose(queryId: string, nodeId: string, subquestions: string[]) {
  const res = await post(`/v1/queries/${queryId}/nodes/${nodeId}/decompose`, 'pipeline', { subquestions }).expect(200);
  return res.body.childNodeIds as string[];
}

async function assign(queryId: string, nodeId: string, body: object) {
  const res = await post(`/v1/queries/${queryId}/nodes/${nodeId}/assign`, 'pipeline', body).expect(200);
  return res.body as {
    jobs: { jobId: string; proxyVersionId: string; decision: 'allow' | 'deny' | null; inputDigest: string }[];
    revision: number;
    assignee: { kind: string };
    escalated: boolean;
  };
}

async function tree(queryId: string) {
  return (await api().get(`/v1/queries/${queryId}`).set(bearer('auditor')).expect(200)).body;
}

async function types(queryId: string) {
  return (await t.ledger.store.readStream(`query-${queryId}`)).map((e) => e.entry.type);
}

beforeAll(async () => {
  t = await createTestApp();
  await Promise.all([
    mint('pipeline', 'pipeline', TENANT, 'svc-orchestrator'),
    mint('overseer', 'overseer', TENANT, 'alice'),
    mint('auditor', 'auditor', TENANT, 'audrey'),
    mint('worker', 'worker', TENANT, 'gpu-1'),
    mint('admin', 'admin', TENANT, 'root'),
    mint('pipelineB', 'pipeline', OTHER_TENANT, 'svc-b'),
    mint('overseerB', 'overseer', OTHER_TENANT, 'bea'),
    mint('pipelineC', 'pipeline', CLASS_TENANT, 'svc-c'),
    mint('auditorC', 'auditor', CLASS_TENANT, 'carla'),
  ]);
  await createProxy('p-prod', 'production');
  await createProxy('p-prod2', 'production');
  await createProxy('p-prod3', 'production');
  await createProxy('p-shadow', 'shadow');
  await createProxy('p-cand', 'candidate');
  await createProxy('p-foreign', 'production', OTHER_TENANT);
  await gpu.register(tokens['admin']!).expect(201);
  await appendAs(CLASS_TENANT, `tenant-${CLASS_TENANT}`, [
    {
      type: 'TenantSettingsUpdated',
      data: {
        settings: {
          amplification: {
            defaultMaxDepth: 5,
            defaultConfidenceThreshold: 0.65,
            taskClasses: { triage: { maxDepth: 2, confidenceThreshold: 0.9 }, 'quick-check': { maxDepth: 1 } },
          },
          promotionGates: GATES,
        },
      },
    },
  ]);
});

afterAll(async () => {
  await t?.close();
});

describe('opening: limits from the request, the task class or the tenant defaults', () => {
  it('a tenant with settings: its defaults, then a task class, then the request, each recorded with its source', async () => {
    const plain = await openQuery({ task: 'Plain?', input: null }, 'pipelineC');
    expect(await api().get(`/v1/queries/${plain.queryId}`).set(bearer('auditorC')).expect(200).then((r) => r.body)).toMatchObject({
      maxDepth: 5,
      confidenceThreshold: 0.65,
      taskClass: null,
      limitSources: { maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' },
    });

    const triage = await openQuery({ task: 'Triage?', input: null, taskClass: 'triage' }, 'pipelineC');
    const quick = await openQuery({ task: 'Quick?', input: null, taskClass: 'quick-check', maxDepth: 3 }, 'pipelineC');
    const read = async (id: string) => (await api().get(`/v1/queries/${id}`).set(bearer('auditorC')).expect(200)).body;
    expect(await read(triage.queryId)).toMatchObject({
      maxDepth: 2,
      confidenceThreshold: 0.9,
      taskClass: 'triage',
      limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'taskClass' },
    });
    expect(await read(quick.queryId)).toMatchObject({
      maxDepth: 3,
      confidenceThreshold: 0.65,
      taskClass: 'quick-check',
      limitSources: { maxDepth: 'request', confidenceThreshold: 'tenantDefault' },
    });
    const [entry] = await t.ledger.store.readStream(`query-${triage.queryId}`);
    expect(entry!.entry.schema).toBe(3);
  });

  it('a tenant without settings: the default settings, sourced tenantDefault', async () => {
    const { queryId } = await openQuery({ task: 'Defaults?', input: null });
    const body = await tree(queryId);
    expect(body.limitSources).toEqual({ maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' });
    expect(body.taskClass).toBeNull();
    expect(body.maxDepth).toEqual(expect.any(Number));
    expect(body.confidenceThreshold).toEqual(expect.any(Number));
  });

  it.each([
    ['a task class the tenant does not define', 'pipelineC', 'nope'],
    ["another tenant's task class", 'pipeline', 'triage'],
    ['an inherited property name', 'pipelineC', 'toString'],
  ])('%s: 422 QUERY.UNKNOWN_TASK_CLASS, nothing appended', async (_, who, taskClass) => {
    const before = await size();
    const res = await post('/v1/queries', who, { task: 'x', input: null, taskClass });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ code: 'QUERY.UNKNOWN_TASK_CLASS', taskClass });
    expect(await size()).toBe(before);
  });

  it('a query opened with schema 1 (before task classes) reads back upcast: limit sources unrecorded', async () => {
    const queryId = randomUUID();
    await appendAs(TENANT, `query-${queryId}`, [
      {
        type: 'AmplificationQueryOpened',
        data: { queryId, rootNodeId: 'root-v1', task: 'Old?', input: null, question: 'Old?', maxDepth: 3, confidenceThreshold: 0.7 },
      },
    ]);
    expect(await tree(queryId)).toMatchObject({
      maxDepth: 3,
      taskClass: null,
      limitSources: { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' },
      root: { nodeId: 'root-v1', status: 'open' },
    });
    // ... and takes new commands like any other.
    await post(`/v1/queries/${queryId}/nodes/root-v1/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' }).expect(200);
  });
});

describe('proxies answer, low confidence escalates, the overseer answers, composition goes on', () => {
  it('confident proxy → answered; low confidence → escalated; compose refused; overseer answers; compose, override, complete', async () => {
    const { queryId, rootNodeId } = await openQuery({ task: 'Is the dosage safe?', input: { patient: 'adult' }, confidenceThreshold: 0.7 });
    const q = `/v1/queries/${queryId}`;
    const [label, interactions] = (await decompose(queryId, rootNodeId, ['Within label?', 'Interactions?'])) as [string, string];

    // Assign the first leaf to a production proxy: NodeAssigned + InferenceRequested + the gate's decision and
    // authorisation, the job id in the answer.
    const assigned = await post(`${q}/nodes/${label}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' }).expect(200);
    expect(assigned.headers.etag).toBe('"5"');
    const job = assigned.body.jobs[0].jobId as string;
    expect(assigned.body).toEqual({
      queryId,
      nodeId: label,
      assignee: { kind: 'proxy', proxyVersionId: 'p-prod', jobId: job },
      jobs: [{ proxyVersionId: 'p-prod', jobId: job, decision: 'allow', inputDigest: expect.stringMatching(/^sha256:/u) }],
      escalated: false,
      revision: 5,
    });
    expect((await tree(queryId)).root.children[0]).toMatchObject({ status: 'assigned', jobs: [{ jobId: job, status: 'pending', artifactSha256: digestOf('p-prod') }] });

    // While the job is out, a human answer is refused.
    const waiting = await post(`${q}/nodes/${label}/answer`, 'overseer', { answer: 'yes' });
    expect(waiting.status).toBe(409);
    expect(waiting.body).toMatchObject({ code: 'QUERY.NODE_AWAITING_INFERENCE', pendingJobIds: [job] });

    // The worker leases the job and posts a confident result: it answers the node.
    const confident = await gpu.infer(job, { answer: 'within label', confidence: 0.92, scores: [0.08, 0.92] });
    expect(confident.status).toBe(200);
    expect(confident.body).toEqual({ queryId, nodeId: label, jobId: job, outcome: 'answered', revision: 7 });

    // The second leaf: a low-confidence result escalates it to a human in the same append.
    const second = await assign(queryId, interactions, { to: 'proxy', proxyVersionId: 'p-prod3' });
    const low = await gpu.infer(second.jobs[0]!.jobId, { answer: 'none known', confidence: 0.35 });
    expect(low.status).toBe(200);
    expect(low.body).toMatchObject({ outcome: 'escalated', revision: 14 });
    expect((await types(queryId)).slice(-2)).toEqual(['InferenceCompleted', 'EscalatedToHuman']);

    // Composing the root waits for the overseer.
    const before = await size();
    const blocked = await post(`${q}/nodes/${rootNodeId}/compose`, 'pipeline', { answer: 'safe' });
    expect(blocked.status).toBe(409);
    expect(blocked.headers['content-type']).toMatch(PROBLEM);
    expect(blocked.body).toMatchObject({ code: 'QUERY.CHILD_ESCALATED', escalatedChildIds: [interactions] });
    expect(await size()).toBe(before);

    // The overseer answers the escalated node; composing is allowed again.
    await post(`${q}/nodes/${interactions}/answer`, 'overseer', { answer: 'interacts with warfarin', confidence: 0.95 }).expect(200);
    await post(`${q}/nodes/${rootNodeId}/compose`, 'pipeline', { answer: 'safe without warfarin' }).expect(200);
    // An override over the proxy's answer, then completion; another override after completion.
    await post(`${q}/nodes/${label}/override`, 'overseer', { answer: 'within label for adults', rationale: 'label §2' }).expect(200);
    await post(`${q}/complete`, 'pipeline', {}).expect(200);
    await post(`${q}/nodes/${label}/override`, 'overseer', { answer: 'within label', rationale: 'revert' }).expect(200);

    const body = await tree(queryId);
    const [n1, n2] = body.root.children;
    expect(n1).toMatchObject({
      status: 'answered',
      answer: 'within label',
      originalAnswer: 'within label',
      answerKind: 'proxy',
      answerProxyVersionId: 'p-prod',
      answerJobId: job,
      confidence: 0.92,
      answeredBy: { sub: 'gpu-w1', role: 'worker' },
      overridden: true,
      overrides: [{ previousAnswer: 'within label' }, { previousAnswer: 'within label for adults' }],
      jobs: [
        {
          jobId: job,
          status: 'completed',
          result: { answer: 'within label', confidence: 0.92, output: { scores: [0.08, 0.92] }, by: { sub: 'gpu-w1', role: 'worker' } },
          policy: { decision: 'allow', outcome: 'authorized', determiningPolicies: ['run-inference.permit-production'] },
        },
      ],
    });
    expect(n2).toMatchObject({
      status: 'answered',
      answerKind: 'human',
      answer: 'interacts with warfarin',
      answeredBy: { sub: 'alice', role: 'overseer' },
      jobs: [{ status: 'completed', result: { answer: 'none known', confidence: 0.35 } }],
      escalations: [
        {
          reason: 'low_confidence',
          confidence: 0.35,
          threshold: 0.7,
          jobId: second.jobs[0]!.jobId,
          resolvedBy: { sub: 'alice', role: 'overseer' },
        },
      ],
    });
    expect(body.root).toMatchObject({ answerKind: 'composed', status: 'answered' });
    expect(await types(queryId)).toEqual([
      'AmplificationQueryOpened',
      'SubqueriesDelegated',
      'NodeAssigned',
      'InferenceRequested',
      'PolicyDecisionRecorded',
      'InferenceAuthorized',
      'InferenceLeased',
      'InferenceCompleted',
      'NodeAssigned',
      'InferenceRequested',
      'PolicyDecisionRecorded',
      'InferenceAuthorized',
      'InferenceLeased',
      'InferenceCompleted',
      'EscalatedToHuman',
      'HumanAnswerRecorded',
      'AnswerComposed',
      'HumanOverrideRecorded',
      'QueryCompleted',
      'HumanOverrideRecorded',
    ]);
  });

  it('an ensemble of three: members vote, the last result records the majority in the same append', async () => {
    const { queryId, rootNodeId } = await openQuery({ task: 'Contraindicated?', input: null, confidenceThreshold: 0.6 });
    const q = `/v1/queries/${queryId}`;
    const assigned = await assign(queryId, rootNodeId, { to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod3', 'p-prod2'] });
    expect(assigned.assignee).toEqual({
      kind: 'ensemble',
      method: 'majority',
      members: assigned.jobs.map(({ proxyVersionId, jobId }) => ({ proxyVersionId, jobId })),
    });
    expect(assigned.jobs.map((j) => j.proxyVersionId)).toEqual(['p-prod', 'p-prod3', 'p-prod2']);
    const [j1, j2, j3] = [assigned.jobs[0]!, assigned.jobs[1]!, assigned.jobs[2]!];

    const r1 = await gpu.infer(j1.jobId, { answer: 'No', confidence: 0.9 });
    expect(r1.body).toMatchObject({ outcome: 'awaiting_members' });
    const r2 = await gpu.infer(j2.jobId, { answer: 'yes', confidence: 0.99 });
    expect(r2.body).toMatchObject({ outcome: 'awaiting_members' });
    const r3 = await gpu.infer(j3.jobId, { answer: 'no ', confidence: 1 });
    expect(r3.body).toMatchObject({ outcome: 'answered' });
    expect((await types(queryId)).slice(-2)).toEqual(['InferenceCompleted', 'EnsembleAnswerAggregated']);

    const { root } = await tree(queryId);
    // "No" and "no " vote together (2 of 3): the earliest member's text, confidence mean(0.9, 1) × 2/3.
    expect(root).toMatchObject({ status: 'answered', answer: 'No', answerKind: 'ensemble', answerProxyVersionId: null });
    expect(root.confidence).toBeCloseTo(0.95 * (2 / 3), 10);
    expect(root.aggregation).toMatchObject({ method: 'majority', answer: 'No' });
    expect(root.aggregation.members.map((m: { proxyVersionId: string }) => m.proxyVersionId)).toEqual(['p-prod', 'p-prod3', 'p-prod2']);
    await post(`${q}/complete`, 'pipeline', {}).expect(200);
  });

  it('the gate denies a shadow proxy while serving: no job runs, the node goes to a human (inference_denied); in an ensemble the others vote', async () => {
    const alone = await openQuery({ task: 'Shadow alone?', input: null });
    const denied = await assign(alone.queryId, alone.rootNodeId, { to: 'proxy', proxyVersionId: 'p-shadow' });
    expect(denied).toMatchObject({ escalated: true, jobs: [{ proxyVersionId: 'p-shadow', decision: 'deny' }] });
    expect((await tree(alone.queryId)).root).toMatchObject({
      status: 'escalated',
      escalations: [{ reason: 'inference_denied', jobId: denied.jobs[0]!.jobId }],
      jobs: [{ status: 'denied', policy: { decision: 'deny', outcome: 'denied' } }],
    });

    const mixed = await openQuery({ task: 'Shadow among others?', input: null, confidenceThreshold: 0.6 });
    const ensemble = await assign(mixed.queryId, mixed.rootNodeId, { to: 'ensemble', proxyVersionIds: ['p-prod', 'p-shadow', 'p-prod2'] });
    expect(ensemble.escalated).toBe(false);
    expect(ensemble.jobs.map((j) => j.decision)).toEqual(['allow', 'deny', 'allow']);
    await gpu.infer(ensemble.jobs[0]!.jobId, { answer: 'no', confidence: 0.9 });
    const last = await gpu.infer(ensemble.jobs[2]!.jobId, { answer: 'No', confidence: 0.7 });
    expect(last.body.outcome).toBe('answered');
    const { root } = await tree(mixed.queryId);
    expect(root.aggregation.members.map((m: { proxyVersionId: string }) => m.proxyVersionId)).toEqual(['p-prod', 'p-prod2']);
    expect(root).toMatchObject({ status: 'answered', answerKind: 'ensemble', answer: 'no' });
  });

  it('an ensemble whose vote falls short of the threshold escalates; reassigned to a human, the overseer answers', async () => {
    const { queryId, rootNodeId } = await openQuery({ task: 'Split vote?', input: null, confidenceThreshold: 0.7 });
    const q = `/v1/queries/${queryId}`;
    const { jobs } = await assign(queryId, rootNodeId, { to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod2'] });
    expect((await gpu.infer(jobs[0]!.jobId, { answer: 'a', confidence: 0.9 })).status).toBe(200);
    const last = await gpu.infer(jobs[1]!.jobId, { answer: 'b', confidence: 0.9 });
    expect(last.status).toBe(200);
    expect(last.body.outcome).toBe('escalated');
    expect((await types(queryId)).slice(-3)).toEqual(['InferenceCompleted', 'EnsembleAnswerAggregated', 'EscalatedToHuman']);
    const refused = await post(`${q}/nodes/${rootNodeId}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' });
    expect(refused.body.code).toBe('QUERY.NODE_ESCALATED');
    await assign(queryId, rootNodeId, { to: 'human' });
    expect((await tree(queryId)).root.status).toBe('escalated');
    await post(`${q}/nodes/${rootNodeId}/answer`, 'overseer', { answer: 'a' }).expect(200);
    expect((await tree(queryId)).root).toMatchObject({ status: 'answered', answerKind: 'human', escalations: [{ reason: 'low_confidence', jobId: null }] });
  });

  it('manual escalation: by the pipeline (no body) or an overseer (with a note); pending jobs are abandoned', async () => {
    const { queryId, rootNodeId } = await openQuery({ task: 'Manual?', input: null });
    const q = `/v1/queries/${queryId}`;
    const [a, b] = (await decompose(queryId, rootNodeId, ['A?', 'B?'])) as [string, string];
    const { jobs } = await assign(queryId, a, { to: 'proxy', proxyVersionId: 'p-prod' });
    // The worker holds the job when the node is escalated: its result comes too late.
    const lease = await gpu.leaseJob(jobs[0]!.jobId);
    const escalated = await api().post(`${q}/nodes/${a}/escalate`).set(bearer('pipeline')).expect(200);
    expect(escalated.body).toEqual({ queryId, nodeId: a, revision: 7 });
    await post(`${q}/nodes/${b}/escalate`, 'overseer', { note: 'needs a pharmacist' }).expect(200);
    const late = await gpu.complete(lease, { answer: 'x', confidence: 1 });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'INFERENCE.JOB_NOT_PENDING', status: 409, recorded: true });
    expect((await types(queryId)).slice(-1)).toEqual(['InferenceRejected']);
    const { root } = await tree(queryId);
    expect(root.children.map((c: { status: string }) => c.status)).toEqual(['escalated', 'escalated']);
    expect(root.children[0].jobs[0]).toMatchObject({ status: 'abandoned', result: null });
    expect(root.children[1].escalations[0]).toMatchObject({ reason: 'requested', note: 'needs a pharmacist', by: { sub: 'alice', role: 'overseer' } });
  });
});

describe('refusals append nothing', () => {
  let q: string;
  let leaf: string;
  let assignedLeaf: string;
  let job: string;
  let escalatedLeaf: string;
  let doneLeaf: string;
  let foreign: { queryId: string; rootNodeId: string };

  beforeAll(async () => {
    const opened = await openQuery({ task: 'Refusals?', input: null });
    q = `/v1/queries/${opened.queryId}`;
    [leaf, assignedLeaf, escalatedLeaf, doneLeaf] = (await decompose(opened.queryId, opened.rootNodeId, ['A?', 'B?', 'C?', 'D?'])) as [
      string,
      string,
      string,
      string,
    ];
    job = (await assign(opened.queryId, assignedLeaf, { to: 'proxy', proxyVersionId: 'p-prod' })).jobs[0]!.jobId;
    await post(`${q}/nodes/${escalatedLeaf}/escalate`, 'overseer', {}).expect(200);
    const done = await assign(opened.queryId, doneLeaf, { to: 'proxy', proxyVersionId: 'p-prod2' });
    expect((await gpu.infer(done.jobs[0]!.jobId, { answer: 'd', confidence: 1 })).status).toBe(200);
    foreign = await openQuery({ task: 'Tenant B only', input: null }, 'pipelineB');
  });

  // The pipeline-posted result route is gone: the ledger accepts no result it did not authorise.
  const result = (over: object = {}) => ({ jobId: job, proxyVersionId: 'p-prod', answer: 'yes', confidence: 0.9, ...over });
  type Case = [name: string, send: () => request.Test, status: number, code: string];
  const cases: Case[] = [
    ['assign to a candidate proxy', () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-cand' }), 409, 'QUERY.PROXY_NOT_SERVING'],
    ["assign to another tenant's proxy", () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-foreign' }), 422, 'QUERY.PROXY_NOT_FOUND'],
    ['assign to an unknown proxy', () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-none' }), 422, 'QUERY.PROXY_NOT_FOUND'],
    [
      'an ensemble with a candidate member',
      () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'ensemble', proxyVersionIds: ['p-prod', 'p-cand'] }),
      409,
      'QUERY.PROXY_NOT_SERVING',
    ],
    [
      'an ensemble naming a version twice',
      () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'ensemble', proxyVersionIds: ['p-prod', 'p-prod'] }),
      422,
      'QUERY.INVALID_COMMAND',
    ],
    ['an ensemble of one', () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'ensemble', proxyVersionIds: ['p-prod'] }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['an unknown assignee kind', () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'robot' }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['an unknown field on assign', () => post(`${q}/nodes/${leaf}/assign`, 'pipeline', { to: 'human', proxyVersionId: 'p' }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['assign an assigned node', () => post(`${q}/nodes/${assignedLeaf}/assign`, 'pipeline', { to: 'human' }), 409, 'QUERY.NODE_ALREADY_ASSIGNED'],
    ['assign an answered node', () => post(`${q}/nodes/${doneLeaf}/assign`, 'pipeline', { to: 'human' }), 409, 'QUERY.NODE_ALREADY_ANSWERED'],
    [
      'assign an escalated node to a proxy',
      () => post(`${q}/nodes/${escalatedLeaf}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' }),
      409,
      'QUERY.NODE_ESCALATED',
    ],
    ['decompose an assigned node', () => post(`${q}/nodes/${assignedLeaf}/decompose`, 'pipeline', { subquestions: ['x?'] }), 409, 'QUERY.NODE_ALREADY_ASSIGNED'],
    ['decompose an escalated node', () => post(`${q}/nodes/${escalatedLeaf}/decompose`, 'pipeline', { subquestions: ['x?'] }), 409, 'QUERY.NODE_ESCALATED'],
    ['a pipeline posting a result (the old route is gone)', () => post(`${q}/nodes/${assignedLeaf}/inference-results`, 'pipeline', result()), 404, 'REQUEST.ROUTE_NOT_FOUND'],
    ['a result for an unknown job', () => api().post('/v1/inference/results').send({ jobId: 'no-such-job', output: { answer: 'x', confidence: 1 }, provider: 'cpu', timing: { loadMs: 0, runMs: 0 }, modelSha256: 'x', inputDigest: 'y' }), 404, 'INFERENCE.JOB_NOT_FOUND'],
    ['a result with a confidence above 1', () => api().post('/v1/inference/results').send({ jobId: job, output: { answer: 'x', confidence: 1.5 }, provider: 'cpu', timing: { loadMs: 0, runMs: 0 }, modelSha256: 'x', inputDigest: 'y' }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['a human answer while a job is out', () => post(`${q}/nodes/${assignedLeaf}/answer`, 'overseer', { answer: 'x' }), 409, 'QUERY.NODE_AWAITING_INFERENCE'],
    ['escalate an escalated node', () => post(`${q}/nodes/${escalatedLeaf}/escalate`, 'pipeline', {}), 409, 'QUERY.NODE_ALREADY_ESCALATED'],
    ['escalate an answered node', () => post(`${q}/nodes/${doneLeaf}/escalate`, 'pipeline', {}), 409, 'QUERY.NODE_ALREADY_ANSWERED'],
    ['a blank escalation note', () => post(`${q}/nodes/${leaf}/escalate`, 'pipeline', { note: '  ' }), 422, 'QUERY.INVALID_COMMAND'],
    ['an unknown node (assign)', () => post(`${q}/nodes/no-such-node/assign`, 'pipeline', { to: 'human' }), 404, 'QUERY.NODE_NOT_FOUND'],
    // Wrong role on each new route.
    ['an overseer assigning', () => post(`${q}/nodes/${leaf}/assign`, 'overseer', { to: 'human' }), 403, 'AUTH.FORBIDDEN_ROLE'],
    ['a pipeline leasing a job', () => post('/v1/inference/leases', 'pipeline', { waitMs: 0 }), 403, 'AUTH.FORBIDDEN_ROLE'],
    ['an auditor escalating', () => post(`${q}/nodes/${leaf}/escalate`, 'auditor', {}), 403, 'AUTH.FORBIDDEN_ROLE'],
    ['a worker escalating', () => post(`${q}/nodes/${leaf}/escalate`, 'worker', {}), 403, 'AUTH.FORBIDDEN_ROLE'],
    ['the pipeline answering', () => post(`${q}/nodes/${escalatedLeaf}/answer`, 'pipeline', { answer: 'x' }), 403, 'AUTH.FORBIDDEN_ROLE'],
    ['no token (assign)', () => api().post(`${q}/nodes/${leaf}/assign`).send({ to: 'human' }), 401, 'AUTH.UNAUTHENTICATED'],
    // Wrong tenant on each new route.
    [
      "another tenant assigning in this tenant's query",
      () => post(`${q}/nodes/${leaf}/assign`, 'pipelineB', { to: 'proxy', proxyVersionId: 'p-foreign' }),
      403,
      'AUTH.TENANT_FORBIDDEN',
    ],
    ["another tenant escalating", () => post(`${q}/nodes/${leaf}/escalate`, 'overseerB', {}), 403, 'AUTH.TENANT_FORBIDDEN'],
    [
      "this tenant assigning in another tenant's query (with its own proxy)",
      () => post(`/v1/queries/${foreign.queryId}/nodes/${foreign.rootNodeId}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' }),
      403,
      'AUTH.TENANT_FORBIDDEN',
    ],
  ];

  it.each(cases.map(([name, send, status, code]) => ({ name, send, status, code })))('$name → $status $code', async ({ send, status, code }) => {
    const before = await size();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.code).toBe(code);
    expect(res.body.status).toBe(status);
    expect(await size()).toBe(before);
  });

  it('a completed job is leased to nobody: the worker gets 204 (or other work), never it again', async () => {
    const tr = await tree(q.slice('/v1/queries/'.length));
    const doneJob = tr.root.children[3].jobs[0];
    expect(doneJob).toMatchObject({ status: 'completed', result: { answer: 'd' } });
    for (let lease = await gpu.lease(0); lease !== null; lease = await gpu.lease(0)) expect(lease.job.jobId).not.toBe(doneJob.jobId);
  });
});

describe('idempotency of the new commands', () => {
  it('assign twice under one key: the first result (decisions included), the log grows once; a result is single use', async () => {
    const { queryId, rootNodeId } = await openQuery({ task: 'Retry?', input: null });
    const path = `/v1/queries/${queryId}/nodes/${rootNodeId}`;
    const before = await size();
    const first = await post(`${path}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' }, { 'Idempotency-Key': 'assign-1' }).expect(200);
    const again = await post(`${path}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod' }, { 'Idempotency-Key': 'assign-1' }).expect(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await size()).toBe(before + 4); // NodeAssigned, InferenceRequested, PolicyDecisionRecorded, InferenceAuthorized
    // The same key for another model input is another request: refused, nothing appended.
    const otherInput = await post(`${path}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: 'p-prod', input: { features: [1] } }, { 'Idempotency-Key': 'assign-1' }).expect(422);
    expect(otherInput.body.code).toBe('REQUEST.IDEMPOTENCY_KEY_REUSED');
    const lease = await gpu.leaseJob(first.body.jobs[0].jobId);
    const r1 = await gpu.complete(lease, { answer: 'yes', confidence: 0.8 });
    expect(r1.body.outcome).toBe('answered');
    // The worker retrying the same post: the grant is spent (recorded, refused), still one result.
    const r2 = await gpu.complete(lease, { answer: 'yes', confidence: 0.8 });
    expect(r2.body.code).toBe('INFERENCE.GRANT_CONSUMED');
    expect((await types(queryId)).filter((type) => type === 'InferenceCompleted')).toHaveLength(1);
  });
});

describe('OpenAPI', () => {
  it('documents the new routes and their problem codes', async () => {
    const res = await api().get('/docs/openapi.json').expect(200);
    const paths = res.body.paths as Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    const assignRoute = paths['/v1/queries/{queryId}/nodes/{nodeId}/assign']!.post!;
    const resultRoute = paths['/v1/inference/results']!.post!;
    expect(paths['/v1/queries/{queryId}/nodes/{nodeId}/inference-results']).toBeUndefined();
    const escalateRoute = paths['/v1/queries/{queryId}/nodes/{nodeId}/escalate']!.post!;
    expect(assignRoute.responses['409']!.description).toContain('QUERY.PROXY_NOT_SERVING');
    expect(assignRoute.responses['422']!.description).toContain('QUERY.PROXY_NOT_FOUND');
    expect(resultRoute.responses['422']!.description).toContain('INFERENCE.GRANT_MISMATCH');
    expect(resultRoute.responses['409']!.description).toContain('INFERENCE.GRANT_CONSUMED');
    expect(resultRoute.responses['403']!.description).toContain('INFERENCE.WORKER_REVOKED');
    expect(escalateRoute.responses['409']!.description).toContain('QUERY.NODE_ALREADY_ESCALATED');
    expect(paths['/v1/queries/{queryId}/nodes/{nodeId}/compose']!.post!.responses['409']!.description).toContain('QUERY.CHILD_ESCALATED');
    expect(paths['/v1/queries/{queryId}/nodes/{nodeId}/answer']!.post!.responses['409']!.description).toContain('QUERY.NODE_AWAITING_INFERENCE');
    expect(paths['/v1/queries']!.post!.responses['422']!.description).toContain('QUERY.UNKNOWN_TASK_CLASS');
  });
});
