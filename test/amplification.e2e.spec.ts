/**
 * The amplification HTTP API against the real application (SQLite store, signed entries, JWT auth): the full
 * flow of a query, every rejection (with nothing appended), idempotency and preconditions.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { callersOf } from './support/callers.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u;
const PROBLEM = /^application\/problem\+json/u;
const TENANT = 'tenant-a';
const OTHER_TENANT = 'tenant-b';

let t: TestApp;
const { bearer, mint, post } = callersOf(() => t);
const api = () => request(t.server);
const size = () => t.ledger.store.size();

async function openQuery(who = 'pipeline', body: object = { task: 'Is the dosage safe?', input: { patient: 'adult' } }) {
  const res = await post('/v1/queries', who, body).expect(201);
  return res.body as { queryId: string; rootNodeId: string; revision: number };
}

async function decompose(queryId: string, nodeId: string, subquestions: string[], who = 'pipeline') {
  const res = await post(`/v1/queries/${queryId}/nodes/${nodeId}/decompose`, who, { subquestions }).expect(200);
  return res.body as { childNodeIds: string[]; revision: number };
}

beforeAll(async () => {
  t = await createTestApp();
  await Promise.all([
    mint('pipeline', 'pipeline', TENANT, 'svc-orchestrator'),
    mint('overseer', 'overseer', TENANT, 'alice'),
    mint('overseer2', 'overseer', TENANT, 'bob'),
    mint('auditor', 'auditor', TENANT, 'audrey'),
    mint('compliance', 'compliance', TENANT, 'carl'),
    mint('admin', 'admin', TENANT, 'root'),
    mint('worker', 'worker', TENANT, 'gpu-1'),
    mint('pipelineB', 'pipeline', OTHER_TENANT, 'svc-b'),
    mint('overseerB', 'overseer', OTHER_TENANT, 'bea'),
  ]);
});

afterAll(async () => {
  await t?.close();
});

describe('amplification: the full flow', () => {
  it('open → decompose → decompose again → answer leaves → compose up → override → complete → read the tree', async () => {
    const before = await size();

    // Open (pipeline), with a correlation id that every entry of the command must carry.
    const opened = await post('/v1/queries', 'pipeline', { task: 'Is the dosage safe?', input: { patient: 'adult' }, maxDepth: 3 }, {
      'X-Correlation-Id': 'corr-flow-1',
    }).expect(201);
    expect(opened.headers['content-type']).toMatch(/^application\/json/u);
    expect(opened.body).toEqual({ queryId: expect.stringMatching(UUID_V7), rootNodeId: expect.stringMatching(UUID_V7), revision: 0 });
    expect(opened.headers.etag).toBe('"0"');
    expect(opened.headers['x-correlation-id']).toBe('corr-flow-1');
    expect(opened.headers.location).toBe(`/v1/queries/${opened.body.queryId}`);
    const { queryId, rootNodeId } = opened.body as { queryId: string; rootNodeId: string };
    const q = `/v1/queries/${queryId}`;

    // Decompose the root into two, then the first child again.
    const rootSplit = await post(`${q}/nodes/${rootNodeId}/decompose`, 'pipeline', {
      subquestions: ['Is the dose within the label?', 'Any interactions?'],
    }).expect(200);
    expect(rootSplit.body).toEqual({
      queryId,
      nodeId: rootNodeId,
      childNodeIds: [expect.stringMatching(UUID_V7), expect.stringMatching(UUID_V7)],
      revision: 1,
    });
    expect(rootSplit.headers.etag).toBe('"1"');
    const [label, interactions] = rootSplit.body.childNodeIds as [string, string];

    const labelSplit = await decompose(queryId, label, ['Adult dose?', 'Renal adjustment?']);
    expect(labelSplit.revision).toBe(2);
    const [adultDose, renal] = labelSplit.childNodeIds as [string, string];

    // Answer the leaves (overseer); the second with If-Match of the current revision.
    const a1 = await post(`${q}/nodes/${adultDose}/answer`, 'overseer', { answer: '500 mg is on label', confidence: 0.9 }).expect(200);
    expect(a1.body).toEqual({ queryId, nodeId: adultDose, revision: 3 });
    expect(a1.headers.etag).toBe('"3"');
    await post(`${q}/nodes/${renal}/answer`, 'overseer', { answer: 'none needed' }, { 'If-Match': '"3"' }).expect(200);
    await post(`${q}/nodes/${interactions}/answer`, 'overseer2', { answer: 'none known', confidence: 0.55 }).expect(200);

    // Compose upwards (pipeline).
    const c1 = await post(`${q}/nodes/${label}/compose`, 'pipeline', { answer: 'within label' }).expect(200);
    expect(c1.body).toEqual({ queryId, nodeId: label, revision: 6 });
    await post(`${q}/nodes/${rootNodeId}/compose`, 'pipeline', { answer: 'safe for adults' }).expect(200);

    // Override one answer with a rationale (overseer).
    const ov = await post(`${q}/nodes/${interactions}/override`, 'overseer', {
      answer: 'interacts with warfarin',
      rationale: 'Label section 7 lists warfarin',
    }).expect(200);
    expect(ov.body).toEqual({ queryId, nodeId: interactions, revision: 8 });

    // Complete with no body at all.
    const done = await api().post(`${q}/complete`).set(bearer('pipeline')).expect(200);
    expect(done.body).toEqual({ queryId, status: 'completed', answer: 'safe for adults', revision: 9 });
    expect(done.headers.etag).toBe('"9"');

    expect(await size()).toBe(before + 10);

    // Read the tree back (auditor).
    const tree = await api().get(q).set(bearer('auditor')).expect(200);
    expect(tree.headers.etag).toBe('"9"');
    expect(tree.body).toMatchObject({
      queryId,
      tenant: TENANT,
      task: 'Is the dosage safe?',
      input: { patient: 'adult' },
      maxDepth: 3,
      status: 'completed',
      revision: 9,
      openedBy: { sub: 'svc-orchestrator', role: 'pipeline' },
      completedBy: { sub: 'svc-orchestrator', role: 'pipeline' },
      completedAnswer: 'safe for adults',
      nodeCount: 5,
    });
    const root = tree.body.root;
    expect(root).toMatchObject({
      nodeId: rootNodeId,
      depth: 0,
      status: 'answered',
      answer: 'safe for adults',
      answerKind: 'composed',
      answeredBy: { sub: 'svc-orchestrator', role: 'pipeline' },
    });
    const byId = new Map<string, Record<string, unknown>>();
    const walk = (node: Record<string, unknown>) => {
      byId.set(node.nodeId as string, node);
      (node.children as Record<string, unknown>[]).forEach(walk);
    };
    walk(root);
    expect([...byId.keys()].sort()).toEqual([rootNodeId, label, interactions, adultDose, renal].sort());
    // Every node shows who answered, when, and the answer.
    for (const node of byId.values()) {
      expect(node.status).toBe('answered');
      expect(node.answer).toEqual(expect.any(String));
      expect(node.answeredBy).toEqual({ sub: expect.any(String), role: expect.any(String) });
      expect(Date.parse(node.answeredAt as string)).not.toBeNaN();
    }
    expect(byId.get(adultDose)).toMatchObject({
      depth: 2,
      parentId: label,
      question: 'Adult dose?',
      answer: '500 mg is on label',
      confidence: 0.9,
      answerKind: 'human',
      answeredBy: { sub: 'alice', role: 'overseer' },
      overridden: false,
    });
    expect(byId.get(renal)).toMatchObject({ answer: 'none needed', confidence: null });
    // The override, with the original kept.
    expect(byId.get(interactions)).toMatchObject({
      answer: 'interacts with warfarin',
      currentAnswer: 'interacts with warfarin',
      originalAnswer: 'none known',
      confidence: 0.55,
      answeredBy: { sub: 'bob', role: 'overseer' },
      overridden: true,
      overrides: [
        {
          answer: 'interacts with warfarin',
          rationale: 'Label section 7 lists warfarin',
          previousAnswer: 'none known',
          by: { sub: 'alice', role: 'overseer' },
          at: expect.any(String),
        },
      ],
    });

    // What was recorded: one stream, consecutive revisions, the meta of each command.
    const entries = (await t.ledger.store.readStream(`query-${queryId}`)).map((e) => e.entry);
    expect(entries.map((e) => e.type)).toEqual([
      'AmplificationQueryOpened',
      'SubqueriesDelegated',
      'SubqueriesDelegated',
      'HumanAnswerRecorded',
      'HumanAnswerRecorded',
      'HumanAnswerRecorded',
      'AnswerComposed',
      'AnswerComposed',
      'HumanOverrideRecorded',
      'QueryCompleted',
    ]);
    expect(entries.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(entries[0]!.meta).toEqual({
      tenant: TENANT,
      actor: { sub: 'svc-orchestrator', role: 'pipeline' },
      correlationId: 'corr-flow-1',
      causationId: null,
      commandId: expect.stringMatching(UUID_V7),
      recordedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/u),
    });
    expect(entries[8]!.meta.actor).toEqual({ sub: 'alice', role: 'overseer' });
    expect(new Set(entries.map((e) => e.meta.commandId)).size).toBe(10);
    expect(entries[1]!.meta.correlationId).toEqual(expect.stringMatching(UUID_V7)); // none sent: a new one
  });

  it('serves the tree to pipeline, overseer, compliance and admin, answers 304 to a matching If-None-Match, and refuses a worker', async () => {
    const { queryId } = await openQuery();
    for (const who of ['pipeline', 'overseer', 'compliance', 'admin']) {
      const res = await api().get(`/v1/queries/${queryId}`).set(bearer(who)).expect(200);
      expect(res.body.root.status).toBe('open');
      expect(res.headers.etag).toBe('"0"');
    }
    await api().get(`/v1/queries/${queryId}`).set(bearer('auditor')).set('If-None-Match', '"0"').expect(304);
    const res = await api().get(`/v1/queries/${queryId}`).set(bearer('worker')).expect(403);
    expect(res.body.code).toBe('AUTH.FORBIDDEN_ROLE');
  });

  it('stop: by an admin, from completed or open; the tree records who stopped it and why', async () => {
    const { queryId, rootNodeId } = await openQuery();
    await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/answer`, 'overseer', { answer: 'yes' }).expect(200);
    await post(`/v1/queries/${queryId}/complete`, 'pipeline', {}).expect(200);
    const stopped = await post(`/v1/queries/${queryId}/stop`, 'admin', { reason: 'withdrawn by sponsor' }).expect(200);
    expect(stopped.body).toEqual({ queryId, status: 'stopped', previousStatus: 'completed', revision: 3 });
    const tree = await api().get(`/v1/queries/${queryId}`).set(bearer('auditor')).expect(200);
    expect(tree.body).toMatchObject({
      status: 'stopped',
      stopReason: 'withdrawn by sponsor',
      stoppedBy: { sub: 'root', role: 'admin' },
      completedAnswer: 'yes',
    });
  });
});

describe('amplification: rejections append nothing', () => {
  /** maxDepth 1, root decomposed into [a, b]: a and b are at the deepest level and unanswered. */
  let shallow: { queryId: string; rootNodeId: string; a: string; b: string };
  let stopped: { queryId: string; rootNodeId: string };
  let foreign: { queryId: string; rootNodeId: string };

  beforeAll(async () => {
    const s = await openQuery('pipeline', { task: 'Shallow?', input: null, maxDepth: 1 });
    const split = await decompose(s.queryId, s.rootNodeId, ['A?', 'B?']);
    shallow = { ...s, a: split.childNodeIds[0]!, b: split.childNodeIds[1]! };

    stopped = await openQuery();
    await post(`/v1/queries/${stopped.queryId}/stop`, 'overseer', { reason: 'budget exhausted' }).expect(200);

    foreign = await openQuery('pipelineB', { task: 'Tenant B only', input: {} });
  });

  const unknownQuery = '01890a5d-ac96-774b-bcce-b302099a8057';

  type Case = [name: string, send: () => request.Test, status: number, code: string];
  const cases: Case[] = [
    [
      'malformed JSON',
      () => api().post('/v1/queries').set(bearer('pipeline')).set('Content-Type', 'application/json').send('{"task": "x", "input":'),
      400,
      'REQUEST.MALFORMED_JSON',
    ],
    ['an unknown field', () => post('/v1/queries', 'pipeline', { task: 'x', input: {}, priority: 'high' }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['a missing field (input)', () => post('/v1/queries', 'pipeline', { task: 'x' }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['a missing body', () => post('/v1/queries', 'pipeline'), 400, 'REQUEST.VALIDATION_FAILED'],
    ['a wrong type (task: number)', () => post('/v1/queries', 'pipeline', { task: 42, input: {} }), 400, 'REQUEST.VALIDATION_FAILED'],
    [
      'a wrong type (confidence: string)',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.a}/answer`, 'overseer', { answer: 'x', confidence: 'high' }),
      400,
      'REQUEST.VALIDATION_FAILED',
    ],
    ['maxDepth out of range', () => post('/v1/queries', 'pipeline', { task: 'x', input: {}, maxDepth: 99 }), 400, 'REQUEST.VALIDATION_FAILED'],
    [
      'a body over 256 kb',
      () => post('/v1/queries', 'pipeline', { task: 'x', input: 'y'.repeat(300 * 1024) }),
      413,
      'REQUEST.BODY_TOO_LARGE',
    ],
    [
      'a non-JSON body',
      () => api().post('/v1/queries').set(bearer('pipeline')).set('Content-Type', 'text/plain').send('task=x'),
      415,
      'REQUEST.UNSUPPORTED_MEDIA_TYPE',
    ],
    ['an unknown field on complete', () => post(`/v1/queries/${shallow.queryId}/complete`, 'pipeline', { answer: 'x' }), 400, 'REQUEST.VALIDATION_FAILED'],
    ['a blank task', () => post('/v1/queries', 'pipeline', { task: '   ', input: {} }), 422, 'QUERY.INVALID_COMMAND'],
    [
      'a blank rationale',
      () => post(`/v1/queries/${stopped.queryId}/nodes/${stopped.rootNodeId}/override`, 'overseer', { answer: 'x', rationale: ' ' }),
      422,
      'QUERY.RATIONALE_REQUIRED',
    ],
    ['an unknown query id (write)', () => post(`/v1/queries/${unknownQuery}/nodes/${unknownQuery}/answer`, 'overseer', { answer: 'x' }), 404, 'QUERY.NOT_FOUND'],
    ['an unknown query id (read)', () => api().get(`/v1/queries/${unknownQuery}`).set(bearer('auditor')), 404, 'QUERY.NOT_FOUND'],
    ['an unknown query id (complete)', () => post(`/v1/queries/not-a-query/complete`, 'pipeline', {}), 404, 'QUERY.NOT_FOUND'],
    [
      'an unknown node id',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${unknownQuery}/answer`, 'overseer', { answer: 'x' }),
      404,
      'QUERY.NODE_NOT_FOUND',
    ],
    ['no token', () => api().post('/v1/queries').send({ task: 'x', input: {} }), 401, 'AUTH.UNAUTHENTICATED'],
    [
      'a bad token',
      () => api().post('/v1/queries').set('Authorization', 'Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln').send({ task: 'x', input: {} }),
      401,
      'AUTH.UNAUTHENTICATED',
    ],
    ['no token (read)', () => api().get(`/v1/queries/${unknownQuery}`), 401, 'AUTH.UNAUTHENTICATED'],
    [
      'a wrong role (auditor posting an answer)',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.a}/answer`, 'auditor', { answer: 'x' }),
      403,
      'AUTH.FORBIDDEN_ROLE',
    ],
    ['a wrong role (overseer opening)', () => post('/v1/queries', 'overseer', { task: 'x', input: {} }), 403, 'AUTH.FORBIDDEN_ROLE'],
    ["another tenant's query (read)", () => api().get(`/v1/queries/${foreign.queryId}`).set(bearer('auditor')), 403, 'AUTH.TENANT_FORBIDDEN'],
    [
      "another tenant's query (write)",
      () => post(`/v1/queries/${foreign.queryId}/nodes/${foreign.rootNodeId}/answer`, 'overseer', { answer: 'x' }),
      403,
      'AUTH.TENANT_FORBIDDEN',
    ],
    [
      "another tenant's query (write, unknown node, stale If-Match: tenant first)",
      () => post(`/v1/queries/${foreign.queryId}/nodes/nope/answer`, 'overseer', { answer: 'x' }, { 'If-Match': '"7"' }),
      403,
      'AUTH.TENANT_FORBIDDEN',
    ],
    [
      'a stale If-Match',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.a}/answer`, 'overseer', { answer: 'x' }, { 'If-Match': '"0"' }),
      412,
      'LEDGER.REVISION_CONFLICT',
    ],
    [
      'an invalid If-Match',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.a}/answer`, 'overseer', { answer: 'x' }, { 'If-Match': 'W/"1"' }),
      400,
      'REQUEST.INVALID_IF_MATCH',
    ],
    [
      'an invalid Idempotency-Key',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.a}/answer`, 'overseer', { answer: 'x' }, { 'Idempotency-Key': 'a b' }),
      400,
      'REQUEST.INVALID_IDEMPOTENCY_KEY',
    ],
    [
      'compose with unanswered children',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.rootNodeId}/compose`, 'pipeline', { answer: 'x' }),
      409,
      'QUERY.CHILDREN_UNANSWERED',
    ],
    ['complete before the root is answered', () => post(`/v1/queries/${shallow.queryId}/complete`, 'pipeline', {}), 409, 'QUERY.ROOT_NOT_ANSWERED'],
    [
      'decompose beyond maxDepth',
      () => post(`/v1/queries/${shallow.queryId}/nodes/${shallow.a}/decompose`, 'pipeline', { subquestions: ['deeper?'] }),
      422,
      'QUERY.MAX_DEPTH_EXCEEDED',
    ],
    [
      'a stopped query refuses an answer',
      () => post(`/v1/queries/${stopped.queryId}/nodes/${stopped.rootNodeId}/answer`, 'overseer', { answer: 'x' }),
      409,
      'QUERY.STOPPED',
    ],
    [
      'a stopped query refuses a decomposition',
      () => post(`/v1/queries/${stopped.queryId}/nodes/${stopped.rootNodeId}/decompose`, 'pipeline', { subquestions: ['x?'] }),
      409,
      'QUERY.STOPPED',
    ],
    ['a stopped query refuses a second stop', () => post(`/v1/queries/${stopped.queryId}/stop`, 'admin', { reason: 'again' }), 409, 'QUERY.STOPPED'],
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
});

describe('amplification: idempotency and preconditions', () => {
  it('open twice with the same Idempotency-Key: same body, the log grows once', async () => {
    const body = { task: 'Idempotent open?', input: { n: 1 } };
    const before = await size();
    const first = await post('/v1/queries', 'pipeline', body, { 'Idempotency-Key': 'open-key-1' }).expect(201);
    const second = await post('/v1/queries', 'pipeline', body, { 'Idempotency-Key': 'open-key-1' }).expect(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await size()).toBe(before + 1);
    const [entry] = await t.ledger.store.readStream(`query-${first.body.queryId}`);
    expect(entry!.entry.meta.commandId).toBe('open-key-1');
  });

  it('answer twice with the same key: the first result, even after the query moved on and with a now stale If-Match', async () => {
    const { queryId, rootNodeId } = await openQuery();
    const [a, b] = (await decompose(queryId, rootNodeId, ['A?', 'B?'])).childNodeIds as [string, string];
    const path = `/v1/queries/${queryId}/nodes/${a}/answer`;
    const headers = { 'Idempotency-Key': 'answer-key-1', 'If-Match': '"1"' };
    const before = await size();
    const first = await post(path, 'overseer', { answer: 'yes', confidence: 0.8 }, headers).expect(200);
    await post(`/v1/queries/${queryId}/nodes/${b}/answer`, 'overseer', { answer: 'no' }).expect(200);
    const second = await post(path, 'overseer', { answer: 'yes', confidence: 0.8 }, headers).expect(200);
    expect(first.body).toEqual({ queryId, nodeId: a, revision: 2 });
    expect(second.body).toEqual(first.body);
    expect(second.headers.etag).toBe('"2"');
    expect(await size()).toBe(before + 2);
  });

  it('decompose twice with the same key: the same child ids', async () => {
    const { queryId, rootNodeId } = await openQuery();
    const path = `/v1/queries/${queryId}/nodes/${rootNodeId}/decompose`;
    const before = await size();
    const first = await post(path, 'pipeline', { subquestions: ['A?', 'B?'] }, { 'Idempotency-Key': 'dec-key-1' }).expect(200);
    const second = await post(path, 'pipeline', { subquestions: ['A?', 'B?'] }, { 'Idempotency-Key': 'dec-key-1' }).expect(200);
    expect(second.body).toEqual(first.body);
    expect(await size()).toBe(before + 1);
  });

  it('complete twice with the same key: the first result, no second completion', async () => {
    const { queryId, rootNodeId } = await openQuery();
    await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/answer`, 'overseer', { answer: 'yes' }).expect(200);
    const before = await size();
    const first = await api().post(`/v1/queries/${queryId}/complete`).set(bearer('pipeline')).set('Idempotency-Key', 'complete-1').expect(200);
    const second = await api().post(`/v1/queries/${queryId}/complete`).set(bearer('pipeline')).set('Idempotency-Key', 'complete-1').expect(200);
    expect(second.body).toEqual(first.body);
    expect(await size()).toBe(before + 1);
  });

  it('a key reused for a different request is refused (422) and appends nothing', async () => {
    const { queryId, rootNodeId } = await openQuery();
    const [a] = (await decompose(queryId, rootNodeId, ['A?', 'B?'])).childNodeIds as [string];
    await post(`/v1/queries/${queryId}/nodes/${a}/answer`, 'overseer', { answer: 'yes' }, { 'Idempotency-Key': 'reuse-1' }).expect(200);
    const before = await size();
    const res = await post(`/v1/queries/${queryId}/nodes/${a}/answer`, 'overseer', { answer: 'no' }, { 'Idempotency-Key': 'reuse-1' });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.code).toBe('REQUEST.IDEMPOTENCY_KEY_REUSED');
    expect(await size()).toBe(before);
  });

  it('the same key in another tenant is another command', async () => {
    const body = { task: 'Per-tenant keys?', input: null };
    const a = await post('/v1/queries', 'pipeline', body, { 'Idempotency-Key': 'shared-key' }).expect(201);
    const b = await post('/v1/queries', 'pipelineB', body, { 'Idempotency-Key': 'shared-key' }).expect(201);
    expect(b.body.queryId).not.toBe(a.body.queryId);
  });

  it('a matching If-Match passes and moves the ETag on', async () => {
    const { queryId, rootNodeId } = await openQuery();
    const tree = await api().get(`/v1/queries/${queryId}`).set(bearer('pipeline')).expect(200);
    const res = await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/decompose`, 'pipeline', { subquestions: ['A?'] }, {
      'If-Match': tree.headers.etag as string,
    }).expect(200);
    expect(res.headers.etag).toBe('"1"');
  });

  it('parallel commands on one query without If-Match: all land, on consecutive revisions', async () => {
    const { queryId, rootNodeId } = await openQuery();
    const children = (await decompose(queryId, rootNodeId, ['A?', 'B?', 'C?'])).childNodeIds;
    const results = await Promise.all(
      children.map((nodeId) => post(`/v1/queries/${queryId}/nodes/${nodeId}/answer`, 'overseer', { answer: `answer ${nodeId}` })),
    );
    // A loser backs off, re-reads and decides again, so every one lands.
    expect(results.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(results.map((res) => res.body.revision).sort()).toEqual([2, 3, 4]);
    const tree = await api().get(`/v1/queries/${queryId}`).set(bearer('auditor')).expect(200);
    expect(tree.body.root.children.map((c: { answer: string; nodeId: string }) => c.answer)).toEqual(children.map((id) => `answer ${id}`));
  });

  it('/docs documents every amplification route', async () => {
    const res = await api().get('/docs/openapi.json').expect(200);
    const paths = res.body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/v1/queries',
        '/v1/queries/{queryId}',
        '/v1/queries/{queryId}/nodes/{nodeId}/decompose',
        '/v1/queries/{queryId}/nodes/{nodeId}/answer',
        '/v1/queries/{queryId}/nodes/{nodeId}/compose',
        '/v1/queries/{queryId}/nodes/{nodeId}/override',
        '/v1/queries/{queryId}/complete',
        '/v1/queries/{queryId}/stop',
      ]),
    );
    expect(Object.keys(paths['/v1/queries']!.post!.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403']));
    expect(Object.keys(paths['/v1/queries/{queryId}/nodes/{nodeId}/decompose']!.post!.responses)).toEqual(
      expect.arrayContaining(['200', '404', '409', '412', '422']),
    );
  });
});
