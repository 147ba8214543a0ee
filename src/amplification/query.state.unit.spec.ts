import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from '../ledger/canonical-json.js';
import type { JsonValue } from '../ledger/entry.js';
import { decideAnswerNode } from './answer-node/answer-node.command.js';
import { decideCompleteQuery } from './complete-query/complete-query.command.js';
import { decideComposeAnswer } from './compose-answer/compose-answer.command.js';
import { decideDecomposeNode } from './decompose-node/decompose-node.command.js';
import { decideOpenQuery } from './open-query/open-query.command.js';
import type { QueryEvent, RecordedQueryEvent } from './query.events.js';
import {
  currentAnswer,
  decisionTree,
  evolve,
  initialQueryState,
  nodeStatus,
  rehydrate,
  replay,
  type ExistingQueryState,
  type QueryState,
} from './query.state.js';
import {
  at,
  ev,
  given,
  history,
  otherOverseer,
  overseer,
  pipeline,
  QUERY_ID,
  record,
  refusal,
  ROOT,
  sequentialIds,
  TASK,
  TENANT,
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
      createdAt: at(1),
      createdBy: pipeline,
    });
    expect(nodeStatus(node(state, ROOT))).toBe('decomposed');
    expect(nodeStatus(node(state, 'n-2'))).toBe('open');
  });

  it('when HumanAnswerRecorded, then the node holds a human answer with who and when', () => {
    const state = given(...history.decomposed(), { event: ev.answered('n-1', 'yes', 0.9), by: otherOverseer });
    expect(node(state, 'n-1').answer).toEqual({ text: 'yes', confidence: 0.9, kind: 'human', by: otherOverseer, at: at(2) });
    expect(nodeStatus(node(state, 'n-1'))).toBe('answered');
  });

  it('when AnswerComposed, then the node holds a composed answer without confidence', () => {
    const state = given(...history.composed());
    expect(node(state, ROOT).answer).toEqual({ text: 'safe', confidence: null, kind: 'composed', by: pipeline, at: at(4) });
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

describe('rehydrate', () => {
  const entries = (events: QueryEvent[]) =>
    record(events).map(({ type, schema, data, meta, revision }) => ({ type, schema, data, meta, revision }));

  it('given raw entries, then the same state as replaying parsed events', () => {
    expect(rehydrate(entries(history.completed() as QueryEvent[]))).toEqual(replay(record(history.completed())));
  });

  it("given another context's event on the stream, then it is skipped and later revisions still apply", () => {
    const raw = entries(history.composed() as QueryEvent[]);
    const foreign = { type: 'InferenceAuthorized', schema: 1, data: { nodeId: 'n-1' }, meta: raw[0].meta, revision: raw.length };
    const completed = { ...entries([ev.completed('safe')])[0], revision: raw.length + 1 };
    const state = existing(rehydrate([...raw, foreign, completed]));
    expect(state.status).toBe('completed');
    expect(state.revision).toBe(raw.length + 1);
  });

  it('given an empty stream, then no query', () => {
    expect(rehydrate([])).toEqual({ status: 'none' });
  });

  it('given a query event of an unknown schema version, then QUERY.EVENT_INVALID', () => {
    const [opened] = entries([ev.opened()]);
    expect(refusal(() => rehydrate([{ ...opened, schema: 2 }]))).toMatchObject({ code: 'QUERY.EVENT_INVALID' });
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
      overridden: false,
      overrides: [],
      children: [],
    });
    expect(tree).toMatchObject({ status: 'open', nodeCount: 1, completedAt: null, stoppedAt: null, stopReason: null });
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
    const started = performance.now();
    apply(decideOpenQuery({ queryId: 'big', rootNodeId: 'root', task: 'big?', input: null }, state));
    const fanOut = (id: string, depth: number): void => {
      if (depth === 3) {
        apply(decideAnswerNode({ nodeId: id, answer: `leaf ${id}`, confidence: 0.5 }, state));
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
    const elapsed = performance.now() - started;

    expect(tree.nodeCount).toBe(1 + 10 + 100 + 1000);
    expect(tree.status).toBe('completed');
    expect(replayed).toEqual(state);
    expect(canonicalJson(tree)).toBe(canonicalJson(decisionTree(state)));
    expect(elapsed).toBeLessThan(2000); // measured in the tens of milliseconds; the bound only catches a quadratic blow-up
  });
});
