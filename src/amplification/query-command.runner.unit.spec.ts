/**
 * The shared command runner, with the real handlers, against an in-memory event store whose appends can be
 * raced: what the e2e suite cannot provoke reliably (a writer between load and append, a crash between
 * append and response, a duplicate key racing in).
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { Principal } from '../auth/principal.js';
import { FixedClock } from '../common/clock.js';
import { SequentialIdGenerator } from '../common/ids.js';
import { isLedgerError, LedgerError } from '../common/ledger-error.js';
import type { IntegratedEntry } from '../ledger/entry.js';
import type { AppendRequest, AppendResult, EventStore, Subscription } from '../ledger/event-store.port.js';
import { AnswerNode, AnswerNodeHandler } from './answer-node/answer-node.handler.js';
import { AssignNode, AssignNodeHandler } from './assign-node/assign-node.handler.js';
import { engineWith } from '../policy/policy.test-kit.js';
import { proxyEv } from '../distillation/distillation.test-kit.js';
import { sha } from './query.test-kit.js';
import { DecomposeNode, DecomposeNodeHandler } from './decompose-node/decompose-node.handler.js';
import { OpenQuery, OpenQueryHandler } from './open-query/open-query.handler.js';
import { MAX_APPEND_ATTEMPTS, QueryCommandRunner, retryDelayMs, type CommandEnvelope } from './query-command.runner.js';

/** Enough of an event store for the runner: revisions, expected-revision checks, idempotent command ids. */
class MemoryEventStore implements EventStore {
  readonly log: IntegratedEntry[] = [];
  readonly commands = new Map<string, AppendResult>();
  appendCalls = 0;
  /** Runs before each append is applied: lets a test slip another writer in. */
  beforeAppend: ((request: AppendRequest) => Promise<void>) | undefined;

  async append(request: AppendRequest): Promise<AppendResult> {
    this.appendCalls++;
    const hook = this.beforeAppend;
    this.beforeAppend = undefined;
    if (hook) await hook(request);
    const key = `${request.meta.tenant}\u0000${request.meta.commandId}`;
    const previous = this.commands.get(key);
    if (previous) return { ...previous, duplicate: true };
    const stream = this.log.filter((e) => e.entry.stream === request.stream);
    const last = stream.length === 0 ? null : stream[stream.length - 1]!.entry.revision;
    const ok =
      request.expectedRevision === 'any' ||
      (request.expectedRevision === 'no_stream' ? last === null : request.expectedRevision === last);
    if (!ok) throw new LedgerError('LEDGER.REVISION_CONFLICT', 'conflict', 'expected revision does not hold');
    const entries = request.events.map((event, i): IntegratedEntry => {
      const revision = (last ?? -1) + 1 + i;
      return {
        position: this.log.length + i,
        leafHash: '00',
        entry: { ...event, stream: request.stream, revision, id: `e-${this.log.length + i}`, meta: request.meta, prev: null, kid: 'k', sig: 's' },
      };
    });
    this.log.push(...entries);
    const result: AppendResult = { stream: request.stream, entries, revision: entries[entries.length - 1]!.entry.revision, duplicate: false };
    this.commands.set(key, result);
    return result;
  }

  /** Every `readStream` call: which stream, from which revision. */
  readonly reads: [string, number][] = [];

  async readStream(stream: string, fromRevision = 0): Promise<IntegratedEntry[]> {
    this.reads.push([stream, fromRevision]);
    return this.log.filter((e) => e.entry.stream === stream && e.entry.revision >= fromRevision);
  }

  async readAll(): Promise<IntegratedEntry[]> {
    return [...this.log];
  }

  async findCommand(tenant: string, commandId: string): Promise<AppendResult | null> {
    return this.commands.get(`${tenant}\u0000${commandId}`) ?? null;
  }

  async size(): Promise<number> {
    return this.log.length;
  }

  subscribe(): Subscription {
    return { close: async () => undefined };
  }

  async close(): Promise<void> {}
}

const pipeline: Principal = { sub: 'svc', role: 'pipeline', tenant: 'tenant-a' };
const overseer: Principal = { sub: 'alice', role: 'overseer', tenant: 'tenant-a' };
const intruder: Principal = { sub: 'mallory', role: 'overseer', tenant: 'tenant-b' };

async function refusal(promise: Promise<unknown>): Promise<LedgerError> {
  try {
    await promise;
  } catch (error) {
    if (isLedgerError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('QueryCommandRunner', () => {
  let store: MemoryEventStore;
  let runner: QueryCommandRunner;
  let queryId: string;
  let children: string[];

  const open = (envelope: CommandEnvelope = { principal: pipeline }) =>
    new OpenQueryHandler(runner, store).execute(new OpenQuery(envelope, { task: 'T?', input: null }));
  const answer = (nodeId: string, text: string, envelope: Partial<CommandEnvelope> = {}) =>
    new AnswerNodeHandler(runner).execute(new AnswerNode({ principal: overseer, ...envelope }, queryId, nodeId, { answer: text }));

  beforeEach(async () => {
    store = new MemoryEventStore();
    runner = new QueryCommandRunner(store, new FixedClock('2026-03-01T09:00:00.000Z'), new SequentialIdGenerator());
    const opened = await open();
    queryId = opened.body.queryId;
    const split = await new DecomposeNodeHandler(runner).execute(
      new DecomposeNode({ principal: pipeline }, queryId, opened.body.rootNodeId, { subquestions: ['A?', 'B?'] }),
    );
    children = split.body.childNodeIds;
  });

  it('records the meta of the command: tenant, actor, correlation id, null causation, command id, clock time', async () => {
    await answer(children[0]!, 'yes', { idempotencyKey: 'k-1', correlationId: 'corr-1' });
    expect(store.log[store.log.length - 1]!.entry.meta).toEqual({
      tenant: 'tenant-a',
      actor: { sub: 'alice', role: 'overseer' },
      correlationId: 'corr-1',
      causationId: null,
      commandId: 'k-1',
      recordedAt: '2026-03-01T09:00:00.000Z',
    });
  });

  it('uses ids from the IdGenerator for the query, root, children, command and correlation', () => {
    const meta = store.log[0]!.entry.meta;
    expect(queryId).toBe('00000000-0000-7000-8000-000000000001');
    expect(meta.commandId).toMatch(/^00000000-0000-7000-8000-/u);
    expect(children).toHaveLength(2);
  });

  it('a writer between load and append: decides again on the new state and lands on the next revision', async () => {
    store.beforeAppend = async () => {
      await answer(children[1]!, 'other writer');
    };
    const outcome = await answer(children[0]!, 'mine');
    expect(outcome.body.revision).toBe(3);
    expect(store.appendCalls).toBe(5); // open, decompose, the intruding answer, our conflicted try, our retry
  });

  it('a writer in the way of every attempt: 409 LEDGER.CONCURRENT_MODIFICATION, after a bounded number of tries', async () => {
    let n = 0;
    const interfere = async (): Promise<void> => {
      // Another writer on the same stream before each of our appends, re-armed each time.
      await store.append({
        stream: `query-${queryId}`,
        expectedRevision: 'any',
        events: [{ type: 'InferenceLeased', schema: 1, data: { n: n++ } }],
        meta: { ...store.log[0]!.entry.meta, commandId: `other-${n}` },
      });
      store.beforeAppend = interfere;
    };
    store.beforeAppend = interfere;
    const error = await refusal(answer(children[0]!, 'mine'));
    store.beforeAppend = undefined;
    expect(error).toMatchObject({
      code: 'LEDGER.CONCURRENT_MODIFICATION',
      category: 'conflict',
      details: { attempts: MAX_APPEND_ATTEMPTS },
    });
    expect(store.log.filter((e) => e.entry.type === 'HumanAnswerRecorded')).toHaveLength(0);
  });

  it('backs off exponentially with jitter between attempts', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, () => 1))).toEqual([2, 4, 8, 16]);
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, () => 0))).toEqual([1, 2, 4, 8]);
  });

  it('with If-Match, a writer between load and append fails the precondition (412) instead of retrying', async () => {
    store.beforeAppend = async () => {
      await answer(children[1]!, 'other writer');
    };
    const error = await refusal(answer(children[0]!, 'mine', { expectedRevision: 1 }));
    expect(error).toMatchObject({ code: 'LEDGER.REVISION_CONFLICT', category: 'precondition_failed' });
  });

  it('expects the revision of the last entry of the stream, not the last query event', async () => {
    await store.append({
      stream: `query-${queryId}`,
      expectedRevision: 1,
      events: [{ type: 'InferenceLeased', schema: 1, data: {} }],
      meta: { ...store.log[0]!.entry.meta, commandId: 'foreign' },
    });
    expect((await refusal(answer(children[0]!, 'x', { expectedRevision: 1 }))).code).toBe('LEDGER.REVISION_CONFLICT');
    const outcome = await answer(children[0]!, 'x', { expectedRevision: 2 });
    expect(outcome.body.revision).toBe(3);
  });

  it('a retry after a crash between append and response: the first result, rebuilt from the log, nothing appended', async () => {
    const first = await answer(children[0]!, 'yes', { idempotencyKey: 'k-crash' });
    const size = await store.size();
    const calls = store.appendCalls;
    const again = await answer(children[0]!, 'yes', { idempotencyKey: 'k-crash', expectedRevision: 0 });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await store.size()).toBe(size);
    expect(store.appendCalls).toBe(calls); // answered from findCommand, before loading anything
  });

  it('the same key racing in between lookup and append: the store keeps the first, the runner returns it', async () => {
    store.beforeAppend = async () => {
      await answer(children[0]!, 'yes', { idempotencyKey: 'k-race' });
    };
    const outcome = await answer(children[0]!, 'yes', { idempotencyKey: 'k-race' });
    expect(outcome.replayed).toBe(true);
    expect(outcome.body.revision).toBe(2);
    expect(store.log.filter((e) => e.entry.type === 'HumanAnswerRecorded')).toHaveLength(1);
  });

  it('a replayed open returns the first query, not a new one', async () => {
    const first = await open({ principal: pipeline, idempotencyKey: 'open-1' });
    const again = await open({ principal: pipeline, idempotencyKey: 'open-1' });
    expect(again.body).toEqual(first.body);
  });

  it("another tenant's query: 403 before existence, node, precondition or key", async () => {
    const error = await refusal(
      new AnswerNodeHandler(runner).execute(
        new AnswerNode({ principal: intruder, expectedRevision: 99 }, queryId, 'no-such-node', { answer: 'x' }),
      ),
    );
    expect(error).toMatchObject({ code: 'AUTH.TENANT_FORBIDDEN', category: 'forbidden' });
  });

  it('keeps the folded query between commands and folds only what was appended since, by itself or by another writer', async () => {
    store.reads.length = 0;
    await answer(children[0]!, 'yes');
    // Another writer (another process, another runner): the next load must see it.
    await store.append({
      stream: `query-${queryId}`,
      expectedRevision: 2,
      events: [{ type: 'HumanAnswerRecorded', schema: 1, data: { nodeId: children[1]!, answer: 'theirs', confidence: null } }],
      meta: { ...store.log[0]!.entry.meta, actor: { sub: 'bob', role: 'overseer' }, commandId: 'foreign-answer' },
    });
    const refused = await refusal(answer(children[1]!, 'mine'));
    expect(refused.code).toBe('QUERY.NODE_ALREADY_ANSWERED');
    // The decompose folded revision 0, appended 1 and kept its own append; the answer reads from 2 (nothing
    // new), appends 2 and keeps it; the foreign answer is 3, which the refused answer reads and folds.
    expect(store.reads).toEqual([
      [`query-${queryId}`, 2],
      [`query-${queryId}`, 3],
    ]);
    // Another tenant is still refused from the kept state.
    const error = await refusal(new AnswerNodeHandler(runner).execute(new AnswerNode({ principal: intruder }, queryId, children[1]!, { answer: 'x' })));
    expect(error.code).toBe('AUTH.TENANT_FORBIDDEN');
  });

  it("keeps a command's own append with its state: the next command reads back nothing and still decides on it", async () => {
    const before = await answer(children[0]!, 'yes');
    store.reads.length = 0;
    const refused = await refusal(answer(children[0]!, 'again'));
    expect(refused.code).toBe('QUERY.NODE_ALREADY_ANSWERED');
    // Read from the revision after the answer's own entry: the store had nothing newer to give.
    expect(store.reads).toEqual([[`query-${queryId}`, before.body.revision + 1]]);
    const fresh = await answer(children[1]!, 'no');
    expect(fresh.body.revision).toBe(before.body.revision + 1);
  });

  it('a key used for another command of the same tenant on another query: tenant and existence first, then 422', async () => {
    await answer(children[0]!, 'yes', { idempotencyKey: 'k-x' });
    const missing = await refusal(
      new AnswerNodeHandler(runner).execute(new AnswerNode({ principal: overseer, idempotencyKey: 'k-x' }, 'nope', children[0]!, { answer: 'yes' })),
    );
    expect(missing.code).toBe('QUERY.NOT_FOUND');
    const reused = await refusal(answer(children[1]!, 'yes', { idempotencyKey: 'k-x' }));
    expect(reused).toMatchObject({ code: 'REQUEST.IDEMPOTENCY_KEY_REUSED', category: 'unprocessable' });
  });
});

describe('handlers that read other streams first', () => {
  let store: MemoryEventStore;
  let runner: QueryCommandRunner;
  let queryId: string;
  let leaf: string;

  const seed = (stream: string, type: string, data: Record<string, unknown>, tenant = 'tenant-a') =>
    store.append({
      stream,
      expectedRevision: 'any',
      events: [{ type, schema: 1, data: data as never }],
      meta: { tenant, actor: { sub: 'svc', role: 'pipeline' }, correlationId: 'c', causationId: null, commandId: `seed-${store.log.length}`, recordedAt: 'now' },
    });
  const registerProxy = async (id: string, stage: 'candidate' | 'shadow' | 'production', tenant = 'tenant-a') => {
    const registered = proxyEv.registered({ proxyVersionId: id, artifact: { sha256: sha(id), sizeBytes: 1 } });
    await seed(`proxy-${id}`, registered.type, registered.data, tenant);
    if (stage === 'candidate') return;
    const promoted = proxyEv.promoted('candidate', stage);
    await seed(`proxy-${id}`, promoted.type, promoted.data, tenant);
  };
  const engine = engineWith();
  const assign = (body: ConstructorParameters<typeof AssignNode>[3], envelope: Partial<CommandEnvelope> = {}) =>
    new AssignNodeHandler(runner, store, engine).execute(new AssignNode({ principal: pipeline, ...envelope }, queryId, leaf, body));

  beforeEach(async () => {
    store = new MemoryEventStore();
    runner = new QueryCommandRunner(store, new FixedClock('2026-03-01T09:00:00.000Z'), new SequentialIdGenerator());
    await seed('tenant-tenant-a', 'TenantSettingsUpdated', {
      settings: {
        amplification: { defaultMaxDepth: 4, defaultConfidenceThreshold: 0.6, taskClasses: { triage: { confidenceThreshold: 0.95 } } },
        promotionGates: { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 },
      },
    });
    const opened = await new OpenQueryHandler(runner, store).execute(new OpenQuery({ principal: pipeline }, { task: 'T?', input: null }));
    queryId = opened.body.queryId;
    const split = await new DecomposeNodeHandler(runner).execute(
      new DecomposeNode({ principal: pipeline }, queryId, opened.body.rootNodeId, { subquestions: ['A?'] }),
    );
    leaf = split.body.childNodeIds[0]!;
    await registerProxy('p-a', 'production');
    await registerProxy('p-b', 'shadow');
    await registerProxy('p-c', 'candidate');
    await registerProxy('p-x', 'production', 'tenant-b');
  });

  it("open: the tenant's stored settings give the limits", async () => {
    const opened = store.log.find((e) => e.entry.type === 'AmplificationQueryOpened')!.entry;
    expect(opened.schema).toBe(3);
    expect(opened.data).toMatchObject({
      maxDepth: 4,
      confidenceThreshold: 0.6,
      taskClass: null,
      limitSources: { maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' },
    });
    const triage = await new OpenQueryHandler(runner, store).execute(new OpenQuery({ principal: pipeline }, { task: 'T?', input: null, taskClass: 'triage' }));
    const [entry] = await store.readStream(`query-${triage.body.queryId}`);
    expect(entry!.entry.data).toMatchObject({ maxDepth: 4, confidenceThreshold: 0.95, taskClass: 'triage' });
    const unknown = await refusal(new OpenQueryHandler(runner, store).execute(new OpenQuery({ principal: pipeline }, { task: 'T?', input: null, taskClass: 'nope' })));
    expect(unknown.code).toBe('QUERY.UNKNOWN_TASK_CLASS');
  });

  it('open: a retry under the same key after the settings changed is still the same request', async () => {
    const first = await new OpenQueryHandler(runner, store).execute(new OpenQuery({ principal: pipeline, idempotencyKey: 'o-1' }, { task: 'T?', input: null }));
    await seed('tenant-tenant-a', 'TenantSettingsUpdated', {
      settings: {
        amplification: { defaultMaxDepth: 2, defaultConfidenceThreshold: 0.5, taskClasses: {} },
        promotionGates: { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 },
      },
    });
    const again = await new OpenQueryHandler(runner, store).execute(new OpenQuery({ principal: pipeline, idempotencyKey: 'o-1' }, { task: 'T?', input: null }));
    expect(again).toEqual({ ...first, replayed: true });
    const stated = await refusal(
      new OpenQueryHandler(runner, store).execute(new OpenQuery({ principal: pipeline, idempotencyKey: 'o-1' }, { task: 'T?', input: null, maxDepth: 4 })),
    );
    expect(stated.code).toBe('REQUEST.IDEMPOTENCY_KEY_REUSED');
  });

  it('assign: reads the proxy streams, records the artifact digest per job and answers the job ids', async () => {
    const outcome = await assign({ to: 'ensemble', proxyVersionIds: ['p-a', 'p-b'] });
    expect(outcome.body).toEqual({
      queryId,
      nodeId: leaf,
      assignee: { kind: 'ensemble', method: 'majority', members: outcome.body.jobs.map(({ proxyVersionId, jobId }) => ({ proxyVersionId, jobId })) },
      jobs: [
        { proxyVersionId: 'p-a', jobId: expect.any(String), inputDigest: expect.stringMatching(/^sha256:/u), decision: 'allow' },
        { proxyVersionId: 'p-b', jobId: expect.any(String), inputDigest: expect.stringMatching(/^sha256:/u), decision: 'deny' },
      ],
      escalated: false,
      revision: 8,
    });
    const requested = store.log.filter((e) => e.entry.type === 'InferenceRequested').map((e) => e.entry.data);
    expect(requested.map((d) => d['artifactSha256'])).toEqual([sha('p-a'), sha('p-b')]);
  });

  it.each([
    ['a candidate', 'p-c', 'QUERY.PROXY_NOT_SERVING'],
    ["another tenant's", 'p-x', 'QUERY.PROXY_NOT_FOUND'],
    ['an unregistered', 'p-none', 'QUERY.PROXY_NOT_FOUND'],
  ])('assign to %s proxy: %s, nothing appended', async (_, proxyVersionId, code) => {
    const size = await store.size();
    expect((await refusal(assign({ to: 'proxy', proxyVersionId }))).code).toBe(code);
    expect(await store.size()).toBe(size);
  });

  it('assign: the gate decides each job inside the append; a replay under the same key answers the first result', async () => {
    const first = await assign({ to: 'proxy', proxyVersionId: 'p-a', input: { features: [1, 2] } }, { idempotencyKey: 'a-1' });
    expect(first.body).toMatchObject({ jobs: [{ proxyVersionId: 'p-a', decision: 'allow' }], escalated: false, revision: 5 });
    expect(store.log.slice(-4).map((e) => e.entry.type)).toEqual(['NodeAssigned', 'InferenceRequested', 'PolicyDecisionRecorded', 'InferenceAuthorized']);
    const again = await assign({ to: 'proxy', proxyVersionId: 'p-a', input: { features: [1, 2] } }, { idempotencyKey: 'a-1' });
    expect(again).toEqual({ ...first, replayed: true });
  });

  it('assign: a shadow proxy in serving mode is denied by the shipped policies, and the node escalates in the same append', async () => {
    const { body } = await assign({ to: 'proxy', proxyVersionId: 'p-b' });
    expect(body).toMatchObject({ jobs: [{ proxyVersionId: 'p-b', decision: 'deny' }], escalated: true, revision: 6 });
    expect(store.log.slice(-5).map((e) => e.entry.type)).toEqual([
      'NodeAssigned',
      'InferenceRequested',
      'PolicyDecisionRecorded',
      'InferenceDenied',
      'EscalatedToHuman',
    ]);
  });
});
