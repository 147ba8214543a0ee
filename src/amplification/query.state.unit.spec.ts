import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from '../ledger/canonical-json.js';
import type { JsonValue } from '../ledger/entry.js';
import { decideAnswerNode } from './answer-node/answer-node.command.js';
import { decideAssignNode } from './assign-node/assign-node.command.js';
import { decideRecordInferenceResult } from './record-inference-result/record-inference-result.command.js';
import { decideCompleteQuery } from './complete-query/complete-query.command.js';
import { decideComposeAnswer } from './compose-answer/compose-answer.command.js';
import { decideDecomposeNode } from './decompose-node/decompose-node.command.js';
import { decideOpenQuery } from './open-query/open-query.command.js';
import { modelInputDigest, type InferenceRequested, type QueryEvent, type RecordedQueryEvent } from './query.events.js';
import {
  currentAnswer,
  decisionTree,
  evolve,
  initialQueryState,
  jobOf,
  jobOnNode,
  nodeStatus,
  rehydrate,
  replay,
  type ExistingQueryState,
  type QueryState,
} from './query.state.js';
import {
  allowAll,
  at,
  ev,
  given,
  history,
  otherOverseer,
  overseer,
  pipeline,
  proxies,
  QUERY_ID,
  record,
  refusal,
  ROOT,
  sequentialIds,
  settings,
  sha,
  TASK,
  TENANT,
  WORKER_FIELDS,
} from './query.test-kit.js';

const existing = (state: QueryState): ExistingQueryState => {
  if (state.status === 'none') throw new Error('expected a query');
  return state;
};
const node = (state: QueryState, id: string) => existing(state).nodes.get(id)!;

describe('evolve', () => {
  it('given nothing, when AmplificationQueryOpened, then an open query with a depth-0 root holding the task', () => {
    const state = existing(given(ev.opened()));
    expect(state).toMatchObject({
      status: 'open',
      queryId: QUERY_ID,
      tenant: TENANT,
      task: TASK,
      input: { patient: 'adult' },
      maxDepth: 3,
      confidenceThreshold: 0.7,
      rootNodeId: ROOT,
      openedAt: at(0),
      openedBy: pipeline,
      revision: 0,
      completion: null,
      stop: null,
    });
    expect(node(state, ROOT)).toEqual({
      nodeId: ROOT,
      parentId: null,
      depth: 0,
      question: TASK,
      children: [],
      overrides: [],
      assignments: [],
      jobs: [],
      escalations: [],
      aggregation: null,
      createdAt: at(0),
      createdBy: pipeline,
    });
  });

  it('when SubqueriesDelegated, then children one level deeper, linked both ways, created by the delegating actor', () => {
    const state = given(...history.decomposed());
    expect(node(state, ROOT).children).toEqual(['n-1', 'n-2']);
    expect(node(state, 'n-2')).toEqual({
      nodeId: 'n-2',
      parentId: ROOT,
      depth: 1,
      question: 'Interactions?',
      children: [],
      overrides: [],
      assignments: [],
      jobs: [],
      escalations: [],
      aggregation: null,
      createdAt: at(1),
      createdBy: pipeline,
    });
    expect(nodeStatus(node(state, ROOT))).toBe('decomposed');
    expect(nodeStatus(node(state, 'n-2'))).toBe('open');
  });

  it('when HumanAnswerRecorded, then the node holds a human answer with who and when', () => {
    const state = given(...history.decomposed(), { event: ev.answered('n-1', 'yes', 0.9), by: otherOverseer });
    expect(node(state, 'n-1').answer).toEqual({
      text: 'yes',
      confidence: 0.9,
      kind: 'human',
      by: otherOverseer,
      at: at(2),
      proxyVersionId: null,
      jobId: null,
    });
    expect(nodeStatus(node(state, 'n-1'))).toBe('answered');
  });

  it('when AnswerComposed, then the node holds a composed answer without confidence', () => {
    const state = given(...history.composed());
    expect(node(state, ROOT).answer).toEqual({
      text: 'safe',
      confidence: null,
      kind: 'composed',
      by: pipeline,
      at: at(4),
      proxyVersionId: null,
      jobId: null,
    });
    expect(nodeStatus(node(state, ROOT))).toBe('answered');
  });

  it('when overrides are recorded, then the original answer is kept and the current answer is the last override', () => {
    const state = given(
      ...history.decomposed(),
      ev.answered('n-1', 'yes', 0.9),
      ev.overridden('n-1', 'no', 'label revised', 'yes'),
      { event: ev.overridden('n-1', 'with food', 'pharmacist', 'no'), by: otherOverseer },
    );
    const n1 = node(state, 'n-1');
    expect(n1.answer?.text).toBe('yes');
    expect(currentAnswer(n1)).toBe('with food');
    expect(n1.overrides).toEqual([
      { answer: 'no', rationale: 'label revised', previousAnswer: 'yes', by: overseer, at: at(3) },
      { answer: 'with food', rationale: 'pharmacist', previousAnswer: 'no', by: otherOverseer, at: at(4) },
    ]);
  });

  it('when QueryCompleted and then QueryStopped, then the status moves on and both facts are kept', () => {
    const state = existing(given(...history.stoppedAfterCompletion()));
    expect(state.status).toBe('stopped');
    expect(state.completion).toEqual({ answer: 'safe', at: at(5), by: pipeline });
    expect(state.stop).toEqual({ reason: 'withdrawn', previousStatus: 'completed', at: at(6), by: overseer });
    expect(state.revision).toBe(6);
  });

  it('does not mutate the state it is given', () => {
    const events = record([...history.composed(), ev.overridden('n-1', 'no', 'r', 'yes'), ev.completed('safe')]);
    let state: QueryState = initialQueryState;
    for (const event of events) {
      const before = structuredClone(state);
      const next = evolve(state, event);
      expect(state).toEqual(before);
      expect(next).not.toBe(state);
      state = next;
    }
  });

  it('replay equals reducing with evolve, and never mutates the state it starts from', () => {
    const events = record([...history.composed(), ev.overridden('n-1', 'no', 'r', 'yes'), ev.completed('safe')]);
    expect(replay(events)).toEqual(events.reduce<QueryState>(evolve, initialQueryState));
    const from = replay(events.slice(0, 3));
    const before = structuredClone(from);
    const resumed = replay(events.slice(3), from);
    expect(from).toEqual(before);
    expect(resumed).toEqual(replay(events));
  });

  it('shares unchanged nodes and replaces changed ones', () => {
    const before = given(...history.decomposed());
    const after = evolve(before, record([...history.decomposed(), ev.answered('n-1', 'yes')])[2]);
    expect(after.nodes.get('n-2')).toBe(node(before, 'n-2'));
    expect(after.nodes.get('n-1')).not.toBe(node(before, 'n-1'));
    expect(node(before, 'n-1').answer).toBeUndefined();
  });

  it('is deterministic: the same events give equal states and byte-identical trees', () => {
    const events = record(history.stoppedAfterCompletion());
    expect(replay(events)).toEqual(replay(events));
    expect(canonicalJson(decisionTree(replay(events)))).toBe(canonicalJson(decisionTree(replay(events))));
  });

  describe('refuses a stream it cannot apply without losing or inventing history (QUERY.CORRUPT_STREAM)', () => {
    const base = history.decomposed();
    it.each<[string, string, () => unknown]>([
      ['an event before the query is opened', 'before AmplificationQueryOpened', () => replay(record([ev.answered(ROOT, 'x')]))],
      ['a second AmplificationQueryOpened', 'opened twice', () => given(ev.opened(), ev.opened())],
      ['an event for an unknown node', 'unknown node', () => given(...base, ev.answered('ghost', 'x'))],
      ['an answer over an answer', 'already answered', () => given(...base, ev.answered('n-1', 'a'), ev.answered('n-1', 'b'))],
      ['a composed answer over an answer', 'already answered', () => given(...history.composed(), ev.composed(ROOT, 'again'))],
      ['an override of an unanswered node', 'unanswered', () => given(...base, ev.overridden('n-1', 'a', 'r', 'b'))],
      ['a reused node id', 'already used', () => given(...base, ev.delegated('n-1', { 'n-2': 'again?' }))],
      ['a second decomposition', 'already decomposed', () => given(...base, ev.delegated(ROOT, { 'n-3': 'C?' }))],
      [
        'an event of another tenant',
        'another tenant',
        () => replay([...record(base), { ...record([...base, ev.answered('n-1', 'x')])[2], meta: { tenant: 'tenant-b', actor: overseer, recordedAt: at(2) } }]),
      ],
      [
        'a revision that does not increase',
        'does not increase',
        () => {
          const events = record([...base, ev.answered('n-1', 'x')]);
          return replay([...events.slice(0, 2), { ...events[2], revision: 1 } as RecordedQueryEvent]);
        },
      ],
    ])('%s', (_, reason, when) => {
      const error = refusal(when);
      expect(error).toMatchObject({ code: 'QUERY.CORRUPT_STREAM', category: 'internal' });
      expect(error.details.reason).toContain(reason);
    });
  });
});

describe('evolve: assignment, inference, escalation', () => {
  it('when NodeAssigned to a proxy and InferenceRequested, then the node is assigned with one pending job, indexed in the query', () => {
    const state = existing(given(...history.proxyPending()));
    const n1 = node(state, 'n-1');
    expect(n1.assignments).toEqual([{ assignee: { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }, by: pipeline, at: at(2) }]);
    expect(n1.jobs).toEqual([
      {
        jobId: 'j-1',
        proxyVersionId: 'p-prod',
        artifactSha256: sha('p-prod'),
        question: 'Dose within label?',
        ensemble: false,
        requestedBy: pipeline,
        requestedAt: at(3),
        status: 'pending',
        result: null,
        abandonedAt: null,
        input: { question: 'Dose within label?' },
        inputDigest: modelInputDigest({ question: 'Dose within label?' }),
        gate: null,
      },
    ]);
    expect(nodeStatus(n1)).toBe('assigned');
    expect(state.jobs).toEqual(new Map([['j-1', 'n-1']]));
  });

  it('given a requested job, jobOf finds it through the query\'s index and jobOnNode through the node an event names', () => {
    const state = existing(given(...history.proxyPending()));
    const n1 = node(state, 'n-1');
    expect(jobOf(state, 'j-1')).toEqual({ node: n1, job: n1.jobs[0] });
    expect(jobOnNode(state, 'n-1', 'j-1')).toEqual({ node: n1, job: n1.jobs[0] });
    expect(jobOf(state, 'j-unknown')).toBeUndefined();
    // The job is on n-1: asked on another node, or an unknown one, there is none.
    expect(jobOnNode(state, ROOT, 'j-1')).toBeUndefined();
    expect(jobOnNode(state, 'n-unknown', 'j-1')).toBeUndefined();
  });

  it('when a node is assigned to a human, then its status is assigned, with no job', () => {
    const n1 = node(given(...history.decomposed(), ev.assigned('n-1', { kind: 'human' })), 'n-1');
    expect(nodeStatus(n1)).toBe('assigned');
    expect(n1.jobs).toEqual([]);
  });

  it('when a confident InferenceCompleted, then the job is completed and the node answered by the proxy', () => {
    const n1 = node(given(...history.proxyPending(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9, { raw: 1 })), 'n-1');
    expect(n1.jobs[0]).toMatchObject({ status: 'completed', result: { answer: 'yes', confidence: 0.9, output: { raw: 1 }, by: pipeline, at: at(4) } });
    expect(n1.answer).toEqual({ text: 'yes', confidence: 0.9, kind: 'proxy', by: pipeline, at: at(4), proxyVersionId: 'p-prod', jobId: 'j-1' });
    expect(nodeStatus(n1)).toBe('answered');
  });

  it('when a low-confidence InferenceCompleted and EscalatedToHuman, then the result is kept, the node unanswered and escalated', () => {
    const n1 = node(given(...history.lowConfidence()), 'n-1');
    expect(n1.answer).toBeUndefined();
    expect(n1.jobs[0]).toMatchObject({ status: 'completed', result: { answer: 'maybe', confidence: 0.4 } });
    expect(n1.escalations).toEqual([
      { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, jobId: 'j-1', note: null, by: pipeline, at: at(5), resolvedAt: null, resolvedBy: null },
    ]);
    expect(nodeStatus(n1)).toBe('escalated');
  });

  it('when the escalated node is reassigned to a human, then it stays escalated until a human answers; the answer resolves it', () => {
    const reassigned = given(...history.lowConfidence(), ev.assigned('n-1', { kind: 'human' }));
    expect(nodeStatus(node(reassigned, 'n-1'))).toBe('escalated');
    expect(node(reassigned, 'n-1').assignments.map((a) => a.assignee.kind)).toEqual(['proxy', 'human']);
    const answered = node(given(...history.lowConfidence(), ev.assigned('n-1', { kind: 'human' }), { event: ev.answered('n-1', 'no'), by: otherOverseer }), 'n-1');
    expect(nodeStatus(answered)).toBe('answered');
    expect(answered.escalations[0]).toMatchObject({ resolvedAt: at(7), resolvedBy: otherOverseer });
    expect(answered.answer).toMatchObject({ kind: 'human', by: otherOverseer });
  });

  it('when a node with a pending job is escalated by hand, then the job is abandoned', () => {
    const n1 = node(given(...history.proxyPending(), ev.escalated('n-1', { note: 'worker lost' })), 'n-1');
    expect(n1.jobs[0]).toMatchObject({ status: 'abandoned', abandonedAt: at(4), result: null });
    expect(n1.escalations[0]).toMatchObject({ reason: 'requested', note: 'worker lost' });
  });

  describe('an ensemble of three', () => {
    const votes = [
      ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 1),
      ev.inferred('n-1', 'j-3', 'p-shadow', 'yes', 1),
      ev.inferred('n-1', 'j-2', 'p-prod2', 'yes', 0.7),
    ];
    const members = [
      { jobId: 'j-1', proxyVersionId: 'p-prod', answer: 'yes', confidence: 1 },
      { jobId: 'j-2', proxyVersionId: 'p-prod2', answer: 'yes', confidence: 0.7 },
      { jobId: 'j-3', proxyVersionId: 'p-shadow', answer: 'yes', confidence: 1 },
    ];

    it('when members complete, then they only vote: the node stays assigned', () => {
      const n1 = node(given(...history.ensemblePending(), ...votes), 'n-1');
      expect(n1.answer).toBeUndefined();
      expect(n1.jobs.map((j) => j.status)).toEqual(['completed', 'completed', 'completed']);
      expect(nodeStatus(n1)).toBe('assigned');
    });

    it('when EnsembleAnswerAggregated reaches the threshold, then the node is answered by the ensemble and the vote kept', () => {
      const aggregated = ev.aggregated('n-1', members);
      const n1 = node(given(...history.ensemblePending(), ...votes, aggregated), 'n-1');
      expect(n1.answer).toMatchObject({ text: 'yes', kind: 'ensemble', confidence: 0.9, proxyVersionId: null, jobId: null });
      expect(n1.aggregation).toEqual({ method: 'majority', members, answer: 'yes', confidence: 0.9, by: pipeline, at: at(9) });
    });

    it('when the aggregate falls short, then the vote is kept and the node is not answered', () => {
      const short = [ev.opened({ confidenceThreshold: 0.95 }), ...history.ensemblePending().slice(1), ...votes, ev.aggregated('n-1', members)];
      const n1 = node(given(...short), 'n-1');
      expect(n1.answer).toBeUndefined();
      expect(n1.aggregation?.confidence).toBeCloseTo(0.9);
    });

    it.each<[string, () => unknown]>([
      ['before every member completed', () => given(...history.ensemblePending(), ...votes.slice(0, 2), ev.aggregated('n-1', members))],
      [
        'with members in another order',
        () => given(...history.ensemblePending(), ...votes, ev.aggregated('n-1', [members[1]!, members[0]!, members[2]!])),
      ],
      [
        'with a member answer that differs from its result',
        () => given(...history.ensemblePending(), ...votes, ev.aggregated('n-1', [{ ...members[0]!, answer: 'no' }, members[1]!, members[2]!])),
      ],
      [
        'with an answer the vote does not give',
        () => {
          const wrong = ev.aggregated('n-1', members);
          return given(...history.ensemblePending(), ...votes, { ...wrong, data: { ...wrong.data, answer: 'no' } });
        },
      ],
      [
        'with a confidence the vote does not give',
        () => {
          const wrong = ev.aggregated('n-1', members);
          return given(...history.ensemblePending(), ...votes, { ...wrong, data: { ...wrong.data, confidence: 1 } });
        },
      ],
      ['on a node assigned to a single proxy', () => given(...history.proxyAnswered().slice(0, -1), ev.aggregated('n-1', members))],
    ])('refuses an aggregate %s (QUERY.CORRUPT_STREAM)', (_, when) => {
      expect(refusal(when)).toMatchObject({ code: 'QUERY.CORRUPT_STREAM' });
    });
  });

  describe('refuses impossible histories (QUERY.CORRUPT_STREAM)', () => {
    const proxy = (jobId: string, proxyVersionId = 'p-prod') => ({ kind: 'proxy' as const, proxyVersionId, jobId });
    it.each<[string, string, () => unknown]>([
      ['an assignment of an unknown node', 'unknown node', () => given(...history.decomposed(), ev.assigned('ghost', { kind: 'human' }))],
      ['an assignment of an answered node', 'already answered', () => given(...history.proxyAnswered(), ev.assigned('n-1', { kind: 'human' }))],
      ['an assignment of a decomposed node', 'decomposed', () => given(...history.decomposed(), ev.assigned(ROOT, { kind: 'human' }))],
      ['a second assignment', 'already assigned', () => given(...history.decomposed(), ev.assigned('n-1', { kind: 'human' }), ev.assigned('n-1', { kind: 'human' }))],
      ['an assignment while jobs are pending', 'pending jobs', () => given(...history.proxyPending(), ev.assigned('n-1', proxy('j-2')))],
      ['an escalated node reassigned to a proxy', 'only be reassigned to a human', () => given(...history.lowConfidence(), ev.assigned('n-1', proxy('j-2')))],
      ['a reused job id', 'job id j-1 already used', () => given(...history.proxyPending(), ev.assigned('n-2', proxy('j-1')))],
      ['a request for a job the assignment did not plan', 'not one the node', () => given(...history.proxyPending(), ev.requested('n-1', 'j-9', 'p-prod'))],
      ['a request under another proxy version', 'not one the node', () => given(...history.decomposed(), ev.assigned('n-1', proxy('j-1')), ev.requested('n-1', 'j-1', 'p-prod2'))],
      ['a request with the wrong ensemble flag', 'not one the node', () => given(...history.decomposed(), ev.assigned('n-1', proxy('j-1')), ev.requested('n-1', 'j-1', 'p-prod', true))],
      ['a job requested twice', 'requested twice', () => given(...history.proxyPending(), ev.requested('n-1', 'j-1', 'p-prod'))],
      ['a result for an unknown job', 'unknown job', () => given(...history.proxyPending(), ev.inferred('n-1', 'j-9', 'p-prod', 'yes', 0.9))],
      ['a result from another proxy version', 'another proxy version', () => given(...history.proxyPending(), ev.inferred('n-1', 'j-1', 'p-prod2', 'yes', 0.9))],
      ['a second result for a job', 'already answered', () => given(...history.proxyAnswered(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9))],
      ['a result for an abandoned job', 'abandoned', () => given(...history.proxyPending(), ev.escalated('n-1'), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9))],
      ['a human answer while jobs are pending', 'pending jobs', () => given(...history.proxyPending(), ev.answered('n-1', 'yes'))],
      ['a human answer on a decomposed node', 'decomposed', () => given(...history.decomposed(), ev.answered(ROOT, 'yes'))],
      ['an escalation of an escalated node', 'already escalated', () => given(...history.lowConfidence(), ev.escalated('n-1'))],
      ['an escalation of an answered node', 'already answered', () => given(...history.proxyAnswered(), ev.escalated('n-1'))],
      ['an escalation of a decomposed node', 'decomposed', () => given(...history.decomposed(), ev.escalated(ROOT))],
      ['a decomposition of an assigned node', 'is assigned', () => given(...history.proxyPending(), ev.delegated('n-1', { 'n-1a': 'A?' }))],
      ['a decomposition of an escalated node', 'is escalated', () => given(...history.decomposed(), ev.escalated('n-1'), ev.delegated('n-1', { 'n-1a': 'A?' }))],
      ['a decomposition of an answered node', 'already answered', () => given(...history.proxyAnswered(), ev.delegated('n-1', { 'n-1a': 'A?' }))],
    ])('%s', (_, reason, when) => {
      const error = refusal(when);
      expect(error).toMatchObject({ code: 'QUERY.CORRUPT_STREAM', category: 'internal' });
      expect(error.details.reason).toContain(reason);
    });
  });

  it('evolve does not mutate, and replay equals evolve, over assignment, inference and escalation', () => {
    const events = record([
      ...history.lowConfidence(),
      ev.assigned('n-1', { kind: 'human' }),
      ev.answered('n-1', 'no'),
      ev.assigned('n-2', { kind: 'ensemble', method: 'majority', members: [{ proxyVersionId: 'p-prod', jobId: 'j-2' }, { proxyVersionId: 'p-shadow', jobId: 'j-3' }] }),
      ev.requested('n-2', 'j-2', 'p-prod', true),
      ev.requested('n-2', 'j-3', 'p-shadow', true),
      ev.inferred('n-2', 'j-3', 'p-shadow', 'b', 0.5),
      ev.escalated('n-2', { note: 'j-2 lost' }),
    ]);
    let state: QueryState = initialQueryState;
    for (const event of events) {
      const before = structuredClone(state);
      state = evolve(state, event);
      expect(structuredClone(before)).toEqual(before);
    }
    expect(replay(events)).toEqual(state);
    const from = replay(events.slice(0, 4));
    const snapshot = structuredClone(from);
    expect(replay(events.slice(4), from)).toEqual(state);
    expect(from).toEqual(snapshot);
  });
});

describe('rehydrate', () => {
  const entries = (events: QueryEvent[]) =>
    record(events).map(({ type, schema, data, meta, revision }) => ({ type, schema, data, meta, revision }));

  it('given raw entries, then the same state as replaying parsed events', () => {
    expect(rehydrate(entries(history.completed() as QueryEvent[]))).toEqual(replay(record(history.completed())));
  });

  it("given another context's event on the stream, then it is skipped and later revisions still apply", () => {
    const raw = entries(history.composed() as QueryEvent[]);
    const foreign = { type: 'InferenceLeased', schema: 1, data: { nodeId: 'n-1' }, meta: raw[0].meta, revision: raw.length };
    const completed = { ...entries([ev.completed('safe')])[0], revision: raw.length + 1 };
    const state = existing(rehydrate([...raw, foreign, completed]));
    expect(state.status).toBe('completed');
    expect(state.revision).toBe(raw.length + 1);
  });

  it('given an empty stream, then no query', () => {
    expect(rehydrate([])).toEqual({ status: 'none' });
  });

  it('given a query event of an unknown schema version, then QUERY.EVENT_INVALID', () => {
    const [opened, delegated] = entries(history.decomposed() as QueryEvent[]);
    expect(refusal(() => rehydrate([{ ...opened!, schema: 4 }]))).toMatchObject({ code: 'QUERY.EVENT_INVALID' });
    expect(refusal(() => rehydrate([opened!, { ...delegated!, schema: 2 }]))).toMatchObject({ code: 'QUERY.EVENT_INVALID' });
  });

  it('given a schema-1 AmplificationQueryOpened (before task classes), then it is upcast: no task class, limit sources unrecorded', () => {
    const [opened] = entries([ev.opened()]);
    const { taskClass: _t, limitSources: _l, ...v1 } = ev.opened().data;
    const state = existing(rehydrate([{ ...opened!, schema: 1, data: v1 }]));
    expect(state).toMatchObject({
      maxDepth: 3,
      confidenceThreshold: 0.7,
      taskClass: null,
      limitSources: { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' },
    });
    expect(decisionTree(state)).toMatchObject({ taskClass: null, limitSources: { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' } });
  });
});

describe('decisionTree', () => {
  it('given no query, then QUERY.NOT_FOUND', () => {
    expect(refusal(() => decisionTree(initialQueryState))).toMatchObject({ code: 'QUERY.NOT_FOUND', category: 'not_found' });
  });

  it('given a freshly opened query, then the root is open with no answer fields', () => {
    const tree = decisionTree(given(ev.opened()));
    expect(tree.root).toEqual({
      nodeId: ROOT,
      parentId: null,
      question: TASK,
      depth: 0,
      status: 'open',
      createdAt: at(0),
      createdBy: pipeline,
      answer: null,
      originalAnswer: null,
      currentAnswer: null,
      confidence: null,
      answerKind: null,
      answeredBy: null,
      answeredAt: null,
      answerProxyVersionId: null,
      answerJobId: null,
      overridden: false,
      overrides: [],
      assignee: null,
      assignments: [],
      jobs: [],
      escalations: [],
      aggregation: null,
      children: [],
    });
    expect(tree).toMatchObject({
      status: 'open',
      nodeCount: 1,
      completedAt: null,
      stoppedAt: null,
      stopReason: null,
      taskClass: null,
      limitSources: { maxDepth: 'request', confidenceThreshold: 'request' },
    });
  });

  describe('given a tree answered, composed, completed and then overridden', () => {
    const state = given(
      ...history.decomposed(), // r0 opened, r1 delegated
      { event: ev.answered('n-1', 'yes', 0.9), by: overseer }, // r2
      { event: ev.answered('n-2', 'none known', 0.6), by: otherOverseer }, // r3
      ev.composed(ROOT, 'safe'), // r4
      ev.completed('safe'), // r5
      { event: ev.overridden('n-2', 'warfarin', 'FDA notice 42', 'none known'), by: overseer }, // r6
      { event: ev.overridden(ROOT, 'unsafe with warfarin', 'follows n-2', 'safe'), by: otherOverseer }, // r7
    );
    const tree = decisionTree(state);

    it('then the query fields and completion are rendered', () => {
      expect(tree).toMatchObject({
        queryId: QUERY_ID,
        tenant: TENANT,
        task: TASK,
        input: { patient: 'adult' },
        maxDepth: 3,
        confidenceThreshold: 0.7,
        status: 'completed',
        revision: 7,
        openedAt: at(0),
        openedBy: pipeline,
        completedAt: at(5),
        completedBy: pipeline,
        completedAnswer: 'safe',
        nodeCount: 3,
      });
    });

    it('then the root shows the delivered answer as original and the post-completion override as current', () => {
      expect(tree.root).toMatchObject({
        status: 'answered',
        answer: 'unsafe with warfarin',
        originalAnswer: 'safe',
        currentAnswer: 'unsafe with warfarin',
        answerKind: 'composed',
        answeredBy: pipeline,
        answeredAt: at(4),
        overridden: true,
        overrides: [{ answer: 'unsafe with warfarin', rationale: 'follows n-2', previousAnswer: 'safe', by: otherOverseer, at: at(7) }],
      });
    });

    it('then each child names who answered and when, and keeps its original answer under an override', () => {
      const [n1, n2] = tree.root.children;
      expect(n1).toMatchObject({
        nodeId: 'n-1',
        parentId: ROOT,
        depth: 1,
        question: 'Dose within label?',
        status: 'answered',
        answer: 'yes',
        originalAnswer: 'yes',
        currentAnswer: 'yes',
        confidence: 0.9,
        answerKind: 'human',
        answeredBy: overseer,
        answeredAt: at(2),
        overridden: false,
        overrides: [],
        children: [],
      });
      expect(n2).toMatchObject({
        answer: 'warfarin',
        originalAnswer: 'none known',
        currentAnswer: 'warfarin',
        confidence: 0.6,
        answeredBy: otherOverseer,
        answeredAt: at(3),
        overrides: [{ answer: 'warfarin', rationale: 'FDA notice 42', previousAnswer: 'none known', by: overseer, at: at(6) }],
      });
    });

    it('then the tree is plain JSON: it canonicalises and survives a JSON round trip unchanged', () => {
      const json: JsonValue = tree; // compile-time: the read model is a JsonValue
      expect(JSON.parse(canonicalJson(json))).toEqual(tree);
    });

    it('then actors in the tree are copies, not the state objects', () => {
      expect(tree.root.answeredBy).not.toBe(node(state, ROOT).answer?.by);
    });
  });

  it('given proxy, ensemble and escalated leaves, then each node shows assignee, jobs with results, escalations and answer kind', () => {
    const members = [
      { jobId: 'j-2', proxyVersionId: 'p-prod2', answer: 'none', confidence: 1 },
      { jobId: 'j-3', proxyVersionId: 'p-shadow', answer: 'none', confidence: 0.8 },
    ];
    const tree = decisionTree(
      given(
        ...history.lowConfidence(), // r0..r5: n-1 p-prod j-1 0.4, escalated
        { event: ev.answered('n-1', 'no', 0.99), by: otherOverseer }, // r6
        ev.assigned('n-2', { kind: 'ensemble', method: 'majority', members: members.map(({ jobId, proxyVersionId }) => ({ jobId, proxyVersionId })) }), // r7
        ev.requested('n-2', 'j-2', 'p-prod2', true), // r8
        ev.requested('n-2', 'j-3', 'p-shadow', true), // r9
        ev.inferred('n-2', 'j-2', 'p-prod2', 'none', 1), // r10
        ev.inferred('n-2', 'j-3', 'p-shadow', 'none', 0.8), // r11
        ev.aggregated('n-2', members), // r12
        { event: ev.overridden('n-2', 'warfarin', 'FDA notice', 'none'), by: overseer }, // r13
      ),
    );
    const [n1, n2] = tree.root.children;
    expect(n1).toMatchObject({
      status: 'answered',
      answer: 'no',
      answerKind: 'human',
      answeredBy: otherOverseer,
      confidence: 0.99,
      answerProxyVersionId: null,
      assignee: { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' },
      jobs: [
        {
          jobId: 'j-1',
          proxyVersionId: 'p-prod',
          artifactSha256: sha('p-prod'),
          ensemble: false,
          status: 'completed',
          requestedBy: pipeline,
          requestedAt: at(3),
          result: { answer: 'maybe', confidence: 0.4, output: null, by: pipeline, at: at(4) },
          abandonedAt: null,
        },
      ],
      escalations: [
        { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, jobId: 'j-1', note: null, by: pipeline, at: at(5), resolvedAt: at(6), resolvedBy: otherOverseer },
      ],
      aggregation: null,
    });
    expect(n2).toMatchObject({
      status: 'answered',
      answer: 'warfarin',
      originalAnswer: 'none',
      answerKind: 'ensemble',
      confidence: 0.9,
      answeredAt: at(12),
      overridden: true,
      assignee: { kind: 'ensemble', method: 'majority' },
      assignments: [{ assignee: { kind: 'ensemble' }, by: pipeline, at: at(7) }],
      aggregation: { method: 'majority', members, answer: 'none', confidence: 0.9, by: pipeline, at: at(12) },
    });
    expect(n2.jobs.map((j) => [j.jobId, j.status, j.ensemble])).toEqual([
      ['j-2', 'completed', true],
      ['j-3', 'completed', true],
    ]);
    const json: JsonValue = tree;
    expect(JSON.parse(canonicalJson(json))).toEqual(tree);
  });

  it('given a single proxy answer, then answerKind proxy with its version and job; a pending job shows status assigned', () => {
    const answered = decisionTree(given(...history.proxyAnswered())).root.children[0];
    expect(answered).toMatchObject({ status: 'answered', answerKind: 'proxy', answerProxyVersionId: 'p-prod', answerJobId: 'j-1', confidence: 0.9 });
    const pending = decisionTree(given(...history.proxyPending())).root.children[0];
    expect(pending).toMatchObject({ status: 'assigned', answer: null, jobs: [{ status: 'pending', result: null }] });
  });

  it('given a tree, then its assignee objects are copies, not the state objects', () => {
    const state = given(...history.ensemblePending());
    const tree = decisionTree(state);
    expect(tree.root.children[0]!.assignee).not.toBe(node(state, 'n-1').assignments[0]!.assignee);
  });

  it('given a decomposed node whose children are open, then statuses are decomposed / open', () => {
    const tree = decisionTree(given(...history.decomposed(), ev.delegated('n-1', { 'n-1a': 'A?' })));
    expect(tree.root.status).toBe('decomposed');
    expect(tree.root.children.map((c) => c.status)).toEqual(['decomposed', 'open']);
    expect(tree.root.children[0].children[0]).toMatchObject({ nodeId: 'n-1a', depth: 2, parentId: 'n-1', status: 'open' });
  });

  it('given a stopped query, then who stopped it, when and why', () => {
    expect(decisionTree(given(...history.stoppedWhileOpen()))).toMatchObject({
      status: 'stopped',
      stoppedAt: at(2),
      stoppedBy: overseer,
      stopReason: 'budget exhausted',
      completedAt: null,
    });
  });
});

describe('a ~1000-node query', () => {
  // Built through the deciders, so the test also checks they agree with evolve at scale.
  it('builds, replays and renders within a generous time bound, with every node accounted for', () => {
    const ctx = sequentialIds('n');
    const events: RecordedQueryEvent[] = [];
    let state: QueryState = initialQueryState;
    const apply = (decided: QueryEvent[]) => {
      for (const event of decided) {
        const recorded = record([event])[0];
        const next = { ...recorded, revision: events.length, meta: { ...recorded.meta, recordedAt: at(events.length) } } as RecordedQueryEvent;
        events.push(next);
        state = evolve(state, next);
      }
    };
    apply(decideOpenQuery({ queryId: 'big', rootNodeId: 'root', task: 'big?', input: null, maxDepth: 3 }, state, settings));
    let leaf = 0;
    const fanOut = (id: string, depth: number): void => {
      if (depth === 3) {
        // Half the leaves by a human, half by a proxy (assignment, job, result), so the job index is exercised too.
        if (leaf++ % 2 === 0) {
          apply(decideAnswerNode({ nodeId: id, answer: `leaf ${id}`, confidence: 0.5 }, state));
        } else {
          const gated = decideAssignNode({ nodeId: id, to: 'proxy', proxyVersionId: 'p-prod' }, state, proxies, allowAll(), ctx);
          apply(gated);
          const jobId = (gated[1] as InferenceRequested).data.jobId;
          apply(
            decideRecordInferenceResult(
              { nodeId: id, jobId, proxyVersionId: 'p-prod', answer: `proxy ${id}`, confidence: 0.95, worker: WORKER_FIELDS as never },
              state,
            ),
          );
        }
        return;
      }
      apply(decideDecomposeNode({ nodeId: id, subquestions: Array.from({ length: 10 }, (_, i) => `${id}.${i}?`) }, state, ctx));
      for (const child of existing(state).nodes.get(id)!.children) fanOut(child, depth + 1);
      apply(decideComposeAnswer({ nodeId: id, answer: `composed ${id}` }, state));
    };
    fanOut('root', 0);
    apply(decideCompleteQuery({}, state));
    const replayed = replay(events);
    const tree = decisionTree(replayed);

    expect(tree.nodeCount).toBe(1 + 10 + 100 + 1000);
    expect(existing(replayed).jobs.size).toBe(500);
    expect(tree.status).toBe('completed');
    expect(replayed).toEqual(state);
    expect(canonicalJson(tree)).toBe(canonicalJson(decisionTree(state)));
  });
});
