import { describe, expect, it } from '@jest/globals';
import { isJsonValue } from '../common/domain-values.js';
import type { JsonObject } from '../ledger/entry.js';
import {
  isQueryEvent,
  isQueryEventType,
  parseQueryEvent,
  parseRecordedQueryEvent,
  INFERENCE_COMPLETED_SCHEMA,
  INFERENCE_REQUESTED_SCHEMA,
  modelInputDigest,
  QUERY_EVENT_SCHEMA,
  QUERY_EVENT_TYPES,
  QUERY_OPENED_SCHEMA,
  toProposed,
  type QueryEvent,
} from './query.events.js';
import { ENSEMBLE, ev, overseer, refusal, ROOT } from './query.test-kit.js';

const all: QueryEvent[] = [
  ev.opened(),
  ev.delegated(ROOT, { 'n-1': 'A?', 'n-2': 'B?' }),
  ev.answered('n-1', 'yes', 0.9),
  ev.answered('n-2', 'no'),
  ev.composed(ROOT, 'safe'),
  ev.overridden(ROOT, 'unsafe', 'why', 'safe'),
  ev.completed('unsafe'),
  ev.stopped('done', 'completed'),
  ev.opened({ taskClass: 'triage', limitSources: { maxDepth: 'taskClass', confidenceThreshold: 'tenantDefault' } }),
  ev.assigned('n-1', { kind: 'human' }),
  ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
  ev.assigned('n-1', { kind: 'ensemble', method: 'majority', members: ENSEMBLE }),
  ev.requested('n-1', 'j-1', 'p-prod', true),
  ev.requested('n-1', 'j-1', 'p-prod', false, 'Q?', { features: [1, 2.5], labels: ['a', 'b'] }),
  ev.decided('n-1', 'j-1'),
  ev.decided('n-1', 'j-1', 'deny', { policySetDigest: null, errors: ['engine: no set'] }),
  ev.authorized('n-1', 'j-1', 'p-prod'),
  ev.denied('n-1', 'j-1', 'p-prod'),
  ev.escalated('n-1', { reason: 'inference_denied', jobId: 'j-1', note: 'policy gate denied: no policy permits it' }),
  ev.opened({ dataClassification: 'restricted' }),
  ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.8),
  ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.8, { logits: [0.1, 0.9], model: { runtime: 'cpu' } }),
  ev.aggregated('n-1', [
    { jobId: 'j-1', proxyVersionId: 'p-prod', answer: 'yes', confidence: 0.8 },
    { jobId: 'j-2', proxyVersionId: 'p-prod2', answer: 'no', confidence: 0.6 },
  ]),
  ev.escalated('n-1'),
  ev.escalated('n-1', { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, jobId: 'j-1', note: 'see logits' }),
];

describe('query events', () => {
  it('covers every event type in the union', () => {
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(QUERY_EVENT_TYPES));
  });

  it.each(all.map((e) => [e.type, e] as const))('%s: parse(toProposed(e)) equals e, at the schema written today', (_, event) => {
    const proposed = toProposed(event);
    const today: Record<string, number> = {
      AmplificationQueryOpened: QUERY_OPENED_SCHEMA,
      InferenceRequested: INFERENCE_REQUESTED_SCHEMA,
      InferenceCompleted: INFERENCE_COMPLETED_SCHEMA,
    };
    expect(proposed.schema).toBe(today[event.type] ?? QUERY_EVENT_SCHEMA);
    expect(parseQueryEvent(JSON.parse(JSON.stringify(proposed)))).toEqual(event);
    expect(isQueryEvent(proposed)).toBe(true);
  });

  it('parse keeps only known fields', () => {
    const proposed = toProposed(ev.completed('x'));
    expect(parseQueryEvent({ ...proposed, data: { ...proposed.data, extra: 1 } })).toEqual(ev.completed('x'));
  });

  it.each<[string, { type: string; schema: number; data: JsonObject }]>([
    ['an unknown type', { type: 'InferenceLeased', schema: 1, data: {} }],
    ['a schema-2 request without its input digest', { type: 'InferenceRequested', schema: 2, data: { ...ev.requested('n', 'j', 'p').data, inputDigest: 'x' } }],
    ['a schema-2 result without its worker', { type: 'InferenceCompleted', schema: 2, data: { ...ev.inferred('n', 'j', 'p', 'a', 1).data, workerId: null } }],
    ['a schema-2 result with an unknown provider', { type: 'InferenceCompleted', schema: 2, data: { ...ev.inferred('n', 'j', 'p', 'a', 1).data, provider: 'tpu' } }],
    ['a decision that is neither allow nor deny', { type: 'PolicyDecisionRecorded', schema: 1, data: { ...ev.decided('n', 'j').data, decision: 'maybe' } }],
    ['an authorisation without a policy set', { type: 'InferenceAuthorized', schema: 1, data: { ...ev.authorized('n', 'j', 'p').data, policySetDigest: null } }],
    ['a schema-3 opening with an unknown classification', { type: 'AmplificationQueryOpened', schema: 3, data: { ...ev.opened().data, dataClassification: 'secret' } }],
    ['an unsupported schema', { ...toProposed(ev.completed('x')), schema: 2 }],
    ['a missing field', { type: 'QueryCompleted', schema: 1, data: {} }],
    ['a wrongly typed field', { type: 'HumanAnswerRecorded', schema: 1, data: { nodeId: 'n', answer: 'a', confidence: '0.5' } }],
    ['a malformed child', { type: 'SubqueriesDelegated', schema: 1, data: { nodeId: 'n', children: [{ nodeId: 'c' }] } }],
    ['a bad previous status', { type: 'QueryStopped', schema: 1, data: { reason: 'r', previousStatus: 'stopped' } }],
    ['a missing input', { type: 'AmplificationQueryOpened', schema: 1, data: { ...ev.opened().data, input: undefined as never } }],
    ['a schema-2 opening without limit sources', { type: 'AmplificationQueryOpened', schema: 2, data: { ...ev.opened().data, limitSources: null } }],
    [
      'an unknown limit source',
      { type: 'AmplificationQueryOpened', schema: 2, data: { ...ev.opened().data, limitSources: { maxDepth: 'guess', confidenceThreshold: 'request' } } },
    ],
    ['a schema-2 opening without task class', { type: 'AmplificationQueryOpened', schema: 2, data: { ...ev.opened().data, taskClass: undefined as never } }],
    ['an unknown assignee kind', { type: 'NodeAssigned', schema: 1, data: { nodeId: 'n', assignee: { kind: 'robot' } } }],
    ['a proxy assignee without job', { type: 'NodeAssigned', schema: 1, data: { nodeId: 'n', assignee: { kind: 'proxy', proxyVersionId: 'p' } } }],
    [
      'an ensemble member that is not an object',
      { type: 'NodeAssigned', schema: 1, data: { nodeId: 'n', assignee: { kind: 'ensemble', method: 'majority', members: ['p'] } } },
    ],
    ['a non-boolean ensemble flag', { type: 'InferenceRequested', schema: 1, data: { ...ev.requested('n', 'j', 'p').data, ensemble: 'yes' } }],
    ['a missing output', { type: 'InferenceCompleted', schema: 1, data: { ...ev.inferred('n', 'j', 'p', 'a', 1).data, output: undefined as never } }],
    ['an unknown aggregation method', { type: 'EnsembleAnswerAggregated', schema: 1, data: { nodeId: 'n', method: 'mean', members: [], answer: 'a', confidence: 1 } }],
    ['an unknown escalation reason', { type: 'EscalatedToHuman', schema: 1, data: { ...ev.escalated('n').data, reason: 'bored' } }],
  ])('parse refuses %s with QUERY.EVENT_INVALID (internal)', (_, entry) => {
    expect(refusal(() => parseQueryEvent(entry))).toMatchObject({ code: 'QUERY.EVENT_INVALID', category: 'internal' });
    expect(isQueryEvent(entry)).toBe(false);
  });

  it('isQueryEventType tells this aggregate’s types from others on the stream', () => {
    expect(isQueryEventType('HumanOverrideRecorded')).toBe(true);
    expect(isQueryEventType('EscalatedToHuman')).toBe(true);
    expect(isQueryEventType('InferenceAuthorized')).toBe(true);
    expect(isQueryEventType('InferenceLeased')).toBe(false);
    expect(isQueryEventType('ProxyPromoted')).toBe(false);
  });

  it('upcasts schema-1/2 openings to schema 3: data classification internal', () => {
    const { dataClassification: _d, ...v2 } = ev.opened().data;
    expect(parseQueryEvent({ type: 'AmplificationQueryOpened', schema: 2, data: v2 })).toEqual(ev.opened({ dataClassification: 'internal' }));
  });

  it('upcasts a schema-1 InferenceRequested: its input is {question}, with that digest', () => {
    const { input: _i, inputDigest: _d, ...v1 } = ev.requested('n-1', 'j-1', 'p-prod', false, 'Dose?', { features: [1] }).data;
    expect(parseQueryEvent({ type: 'InferenceRequested', schema: 1, data: v1 }).data).toMatchObject({
      input: { question: 'Dose?' },
      inputDigest: modelInputDigest({ question: 'Dose?' }),
    });
  });

  it('upcasts a schema-1 InferenceCompleted (posted by a pipeline before the gate): no worker, grant or signature', () => {
    const { answer, confidence, jobId, nodeId, output, proxyVersionId } = ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.8).data;
    expect(parseQueryEvent({ type: 'InferenceCompleted', schema: 1, data: { answer, confidence, jobId, nodeId, output, proxyVersionId } }).data).toEqual({
      answer,
      confidence,
      jobId,
      nodeId,
      output,
      proxyVersionId,
      workerId: null,
      jti: null,
      decisionPosition: null,
      provider: null,
      timing: null,
      resultSignature: null,
    });
  });

  it('upcasts a schema-1 AmplificationQueryOpened to schema 2: taskClass null, both limit sources unrecorded', () => {
    const { taskClass: _t, limitSources: _l, ...v1 } = ev.opened().data;
    expect(parseQueryEvent({ type: 'AmplificationQueryOpened', schema: 1, data: v1 })).toEqual(
      ev.opened({ taskClass: null, limitSources: { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' } }),
    );
  });

  it('a schema-1 AmplificationQueryOpened that happens to carry schema-2 fields is still upcast from its own version', () => {
    const data = ev.opened({ taskClass: 'triage' }).data;
    expect(parseQueryEvent({ type: 'AmplificationQueryOpened', schema: 1, data }).data).toMatchObject({
      taskClass: null,
      limitSources: { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' },
    });
  });

  it('nested field errors name the path', () => {
    const error = refusal(() => parseQueryEvent({ type: 'NodeAssigned', schema: 1, data: { nodeId: 'n', assignee: { kind: 'proxy', proxyVersionId: 'p' } } }));
    expect(error.details.reason).toBe('data.assignee.jobId must be a string');
  });

  it('parseRecordedQueryEvent copies meta so the state never aliases the stored entry', () => {
    const actor = { ...overseer, extra: 'x' } as typeof overseer;
    const entry = { ...toProposed(ev.completed('a')), meta: { tenant: 't', actor, recordedAt: 'now', commandId: 'c' }, revision: 4 };
    const recorded = parseRecordedQueryEvent(entry);
    expect(recorded).toEqual({ ...ev.completed('a'), meta: { tenant: 't', actor: overseer, recordedAt: 'now' }, revision: 4 });
    expect(recorded.meta.actor).not.toBe(actor);
  });

  it('parseRecordedQueryEvent refuses missing meta or a negative revision', () => {
    const base = { ...toProposed(ev.completed('a')), meta: { tenant: 't', actor: overseer, recordedAt: 'now' }, revision: 0 };
    expect(refusal(() => parseRecordedQueryEvent({ ...base, meta: { ...base.meta, tenant: undefined as never } }))).toMatchObject({
      code: 'QUERY.EVENT_INVALID',
    });
    expect(refusal(() => parseRecordedQueryEvent({ ...base, revision: -1 }))).toMatchObject({ code: 'QUERY.EVENT_INVALID' });
  });

  it('isJsonValue accepts plain JSON and rejects what canonical JSON cannot carry', () => {
    for (const ok of [null, true, 0, 'x', [], {}, { a: [1, { b: null }] }, Object.create(null)]) expect(isJsonValue(ok)).toBe(true);
    for (const bad of [undefined, Number.NaN, Infinity, () => 1, new Date(), new Map(), [undefined], { a: undefined }, 1n]) {
      expect(isJsonValue(bad)).toBe(false);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(isJsonValue(cyclic)).toBe(false);
  });
});
