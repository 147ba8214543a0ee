/**
 * `foldInto` (in place, for read models) against `evolve` (immutable, the command side): over random
 * histories — mostly applicable, some not — both give equal states and byte-identical decision trees, refuse
 * the same events with the same error, and `foldInto` leaves the state as it was when it refuses.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson } from '../ledger/canonical-json.js';
import type { Actor } from '../ledger/entry.js';
import { QUERY_EVENT_TYPES, type Assignee, type QueryEvent, type RecordedQueryEvent } from './query.events.js';
import {
  currentAnswer,
  currentAssignee,
  decisionTree,
  evolve,
  FoldInterner,
  foldInto,
  initialQueryState,
  jobsOf,
  replay,
  type ExistingQueryState,
  type QueryNode,
  type QueryState,
} from './query.state.js';
import { at, ev, history, otherOverseer, overseer, pipeline, record, ROOT, TENANT } from './query.test-kit.js';

type Outcome = { state: QueryState } | { error: { code: unknown; message: string } };

function attempt(apply: () => QueryState): Outcome {
  try {
    return { state: apply() };
  } catch (error) {
    const e = error as { code?: unknown; message: string };
    return { error: { code: e.code, message: e.message } };
  }
}

const tree = (state: QueryState): string | null => (state.status === 'none' ? null : canonicalJson(decisionTree(state)));

/**
 * Applies `events` with both folds, event by event, and checks they agree; stops at the first refusal (both
 * must refuse it alike, and `foldInto` must leave its state unchanged). Returns how many events applied.
 */
function expectSameFold(events: readonly RecordedQueryEvent[], interner?: FoldInterner, adopt = false): number {
  let reference: QueryState = initialQueryState;
  let owned: QueryState = initialQueryState;
  for (let i = 0; i < events.length; i++) {
    const before = tree(owned);
    const expected = attempt(() => evolve(reference, events[i]!));
    // An adopted event is the fold's to keep: hand it a copy of its own, as a parser would.
    const actual = attempt(() => foldInto(owned, adopt ? structuredClone(events[i]!) : events[i]!, interner, adopt));
    if ('error' in expected) {
      expect(actual).toEqual(expected);
      expect(tree(owned)).toBe(before);
      return i;
    }
    expect('state' in actual).toBe(true);
    reference = expected.state;
    owned = (actual as { state: QueryState }).state;
  }
  expect(owned).toEqual(reference);
  expect(tree(owned)).toBe(tree(reference));
  return events.length;
}

/**
 * A random history, built step by step against the state so far (`evolve`'s): each step picks an event kind
 * and its arguments from `choices`; a pick `evolve` refuses is dropped, except the few picked to be off on
 * purpose (unknown node, reused id, wrong job, another tenant, a revision going back...), which end it.
 */
function history$(choices: readonly number[]): RecordedQueryEvent[] {
  const events: RecordedQueryEvent[] = [];
  let state: QueryState = initialQueryState;
  let nextId = 0;
  const humans: Actor[] = [overseer, otherOverseer];
  let off = false;
  let ended = false;
  const push = (event: QueryEvent, by: Actor, over: Partial<RecordedQueryEvent> = {}): void => {
    const revision = events.length;
    const recorded = { ...event, meta: { tenant: TENANT, actor: by, recordedAt: at(revision) }, revision, ...over } as RecordedQueryEvent;
    try {
      state = evolve(state, recorded);
      events.push(recorded);
    } catch {
      // Refused: kept (it ends the history: the folds stop there too) only when picked to be off on purpose.
      if (off) {
        events.push(recorded);
        ended = true;
      }
    }
  };
  push(ev.opened(choices.length % 3 === 0 ? { question: 'Another question?' } : {}), pipeline);
  for (const c of choices) {
    if (ended) break;
    const s = state as ExistingQueryState;
    const nodes = [...s.nodes.values()];
    const pick = <T>(list: readonly T[], k: number): T => list[k % list.length]!;
    const node = pick(nodes, c >> 4);
    off = (c & 0xff) % 53 === 0; // about one pick in 50 is deliberately off
    const fresh = (): string => `x${nextId++}`;
    // Nodes where the kind picked can apply, when there are some (else any node: the pick is then dropped).
    const where = (ok: (n: QueryNode) => boolean): QueryNode => {
      const fit = nodes.filter(ok);
      return fit.length > 0 && !off ? pick(fit, c >> 4) : node;
    };
    const pendingJob = (n: QueryNode) => n.jobs.find((j) => j.status === 'pending');
    let kind = c % 15;
    // Completions, stops and overrides always apply: picked less often, so that the rest gets room.
    if ((kind === 3 || kind === 4 || kind === 5) && (c >> 9) % 4 !== 0) kind = 11;
    switch (kind) {
      case 0: {
        const count = 1 + ((c >> 3) % 3);
        const parent = where((n) => n.children.length === 0 && n.answer === undefined && n.assignments.length === 0);
        const children = Object.fromEntries(Array.from({ length: count }, (_, i) => [off && i === 0 ? parent.nodeId : fresh(), `sub ${c} ${i}?`]));
        push(ev.delegated(parent.nodeId, children), pipeline);
        break;
      }
      case 1: {
        const target = where((n) => n.answer === undefined && n.children.length === 0 && pendingJob(n) === undefined);
        push(ev.answered(off ? 'ghost' : target.nodeId, `answer ${c % 5}`, (c >> 2) % 2 === 0 ? null : ((c >> 5) % 100) / 100), pick(humans, c));
        break;
      }
      case 2:
        push(ev.composed(where((n) => n.answer === undefined && n.children.length > 0).nodeId, `composed ${c % 3}`), pipeline);
        break;
      case 3: {
        const target = where((n) => n.answer !== undefined);
        push(ev.overridden(target.nodeId, `override ${c % 4}`, 'checked', currentAnswer(target) ?? 'none'), pick(humans, c >> 1));
        break;
      }
      case 4: {
        const root = s.nodes.get(s.rootNodeId)!;
        push(ev.completed((off ? undefined : currentAnswer(root)) ?? 'completed anyway'), pipeline);
        break;
      }
      case 5:
        push(ev.stopped('enough', s.status === 'completed' ? 'completed' : 'open'), overseer);
        break;
      case 6: {
        const assigneeKind = (c >> 3) % 3;
        const reuse = off ? [...s.jobs.keys()][0] : undefined;
        const assignee: Assignee =
          assigneeKind === 0
            ? { kind: 'human' }
            : assigneeKind === 1
              ? { kind: 'proxy', proxyVersionId: `p${c % 3}`, jobId: reuse ?? fresh() }
              : { kind: 'ensemble', method: 'majority', members: [0, 1, 2].map((m) => ({ proxyVersionId: `p${m}`, jobId: m === 0 && reuse ? reuse : fresh() })) };
        push(ev.assigned(where((n) => n.answer === undefined && n.children.length === 0).nodeId, assignee), pipeline);
        break;
      }
      case 7: {
        // The next job the node's assignment planned and that was not requested yet (or a wrong one).
        const unrequested = (n: QueryNode) => {
          const assignee = currentAssignee(n);
          return assignee === undefined ? [] : jobsOf(assignee).filter((job) => !s.jobs.has(job.jobId));
        };
        const target = where((n) => n.answer === undefined && unrequested(n).length > 0);
        const job = unrequested(target)[0] ?? { jobId: fresh(), proxyVersionId: 'p9' };
        const question = (c >> 6) % 2 === 0 ? target.question : 'other question?';
        push(ev.requested(target.nodeId, job.jobId, off ? 'p-wrong' : job.proxyVersionId, currentAssignee(target)?.kind === 'ensemble', question), pipeline);
        break;
      }
      case 8: {
        const target = where((n) => n.answer === undefined && pendingJob(n) !== undefined);
        const job = pendingJob(target) ?? pick([...target.jobs, { jobId: 'no-job', proxyVersionId: 'p0' }], c >> 3);
        const answers = ['yes', 'no', 'Yes '];
        push(ev.inferred(target.nodeId, job.jobId, job.proxyVersionId, pick(answers, c >> 5), ((c >> 4) % 101) / 100), pipeline);
        break;
      }
      case 9: {
        const target = where((n) => n.answer === undefined && n.aggregation === null && currentAssignee(n)?.kind === 'ensemble');
        const members = target.jobs
          .filter((job) => job.result !== null)
          .map((job) => ({ jobId: job.jobId, proxyVersionId: job.proxyVersionId, answer: job.result!.answer, confidence: job.result!.confidence }));
        const aggregated = ev.aggregated(target.nodeId, members.length === 0 ? [{ jobId: 'j', proxyVersionId: 'p0', answer: 'a', confidence: 1 }] : members);
        push(off ? { ...aggregated, data: { ...aggregated.data, confidence: 0.123 } } : aggregated, pipeline);
        break;
      }
      case 10:
        push(
          ev.escalated(where((n) => n.answer === undefined && n.children.length === 0).nodeId, (c >> 4) % 2 === 0 ? {} : { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, note: 'low' }),
          pipeline,
        );
        break;
      case 11:
      case 12: {
        // The policy gate on a pending job: its decision, then the outcome that follows from it.
        const target = where((n) => n.answer === undefined && pendingJob(n) !== undefined);
        const job = pendingJob(target) ?? { jobId: 'no-job', proxyVersionId: 'p0', question: 'Q?', gate: null };
        const outcome = (decision: 'allow' | 'deny'): void =>
          push(decision === 'allow' ? ev.authorized(target.nodeId, job.jobId, job.proxyVersionId, job.question) : ev.denied(target.nodeId, job.jobId, job.proxyVersionId), pipeline);
        if (job.gate === null) {
          const decision = (c >> 5) % 2 === 0 ? 'deny' : 'allow';
          push(ev.decided(target.nodeId, job.jobId, decision), pipeline);
          // Mostly with its outcome, as the gated assignment records them (one append).
          if ((c >> 6) % 4 !== 0) outcome(decision);
        } else outcome(job.gate.decision);
        break;
      }
      case 13: {
        // A whole ensemble run on a leaf (assignment, requests, results): the aggregate (case 9) can follow.
        const leaf = where((n) => n.answer === undefined && n.children.length === 0 && n.assignments.length === 0);
        const members = [0, 1, 2].map((m) => ({ proxyVersionId: `p${m}`, jobId: fresh() }));
        push(ev.assigned(leaf.nodeId, { kind: 'ensemble', method: 'majority', members }), pipeline);
        for (const m of members) push(ev.requested(leaf.nodeId, m.jobId, m.proxyVersionId, true, leaf.question), pipeline);
        members.forEach((m, i) => push(ev.inferred(leaf.nodeId, m.jobId, m.proxyVersionId, (c >> (i + 4)) % 2 === 0 ? 'yes' : 'no', 0.6 + i / 10), pipeline));
        break;
      }
      default: {
        // Metadata off: another tenant, or a revision that does not increase.
        const event = ev.answered(node.nodeId, 'meta');
        if ((c >> 4) % 2 === 0) push(event, overseer, { meta: { tenant: 'tenant-b', actor: overseer, recordedAt: at(events.length) } });
        else push(event, overseer, { revision: Math.max(0, events.length - 2) });
      }
    }
  }
  return events;
}

describe('foldInto', () => {
  it('equals evolve on the given histories, event by event', () => {
    for (const given of [history.completed(), history.stoppedAfterCompletion(), history.lowConfidence(), history.proxyAnswered()]) {
      const events = record(given);
      expect(expectSameFold(events)).toBe(events.length);
      expect(expectSameFold(events, new FoldInterner())).toBe(events.length);
      expect(expectSameFold(events, new FoldInterner(), true)).toBe(events.length);
    }
  });

  it('equals evolve on random histories: same states, same trees, same refusals (fast-check)', () => {
    let applied = 0;
    let refused = 0;
    const types = new Set<string>();
    const choices = fc.array(fc.nat({ max: 1 << 16 }), { minLength: 1, maxLength: 80, size: 'max' });
    // Histories from a fixed seed that together apply every event type run first, so that the coverage checked
    // below does not depend on one run's luck (an applied InferenceAuthorized needs an assignment, its request
    // and an allowing decision, in that order, before any refusal: 400 random histories missed it now and then).
    const examples: [number[], boolean, boolean][] = [];
    const covered = new Set<string>();
    for (const example of fc.sample(choices, { seed: 0x1da, numRuns: 2000 })) {
      const events = history$(example);
      const newTypes = events.slice(0, expectSameFold(events)).filter((event) => !covered.has(event.type));
      if (newTypes.length === 0) continue;
      examples.push([example, examples.length % 2 === 0, examples.length % 3 === 0]);
      for (const event of newTypes) covered.add(event.type);
      if (covered.size === QUERY_EVENT_TYPES.length) break;
    }
    fc.assert(
      fc.property(choices, fc.boolean(), fc.boolean(), (picked, interned, adopt) => {
        const events = history$(picked);
        const n = expectSameFold(events, interned ? new FoldInterner() : undefined, adopt);
        applied += n;
        for (const e of events.slice(0, n)) types.add(e.type);
        if (n < events.length) refused++;
      }),
      { numRuns: 400, examples },
    );
    // The generator reaches deep histories, every event type and refusals alike.
    expect(applied).toBeGreaterThan(400 * 5);
    expect(refused).toBeGreaterThan(20);
    expect([...types].sort()).toEqual([...QUERY_EVENT_TYPES].sort());
  });

  it('replay continued from a state it produced equals one replay, and leaves that state as it was (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1 << 16 }), { minLength: 1, maxLength: 80, size: 'max' }), fc.nat(), (choices, cut) => {
        const events = history$(choices);
        const whole = attempt(() => replay(events));
        // The command side keeps `first` between commands and continues it: it must not change under it.
        const k = cut % (events.length + 1);
        const first = attempt(() => replay(events.slice(0, k)));
        if (!('state' in first)) return expect(whole).toEqual(first);
        const before = tree(first.state);
        const snapshot = structuredClone(first.state);
        expect(attempt(() => replay(events.slice(k), first.state))).toEqual(whole);
        expect(first.state).toEqual(snapshot);
        expect(tree(first.state)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('shares recurring values through the interner without changing what is read', () => {
    const interner = new FoldInterner();
    const events = record(history.proxyAnswered());
    let a: QueryState = initialQueryState;
    let b: QueryState = initialQueryState;
    for (const event of events) a = foldInto(a, event, interner);
    for (const event of record(history.proxyAnswered())) b = foldInto(b, event, interner);
    const [x, y] = [a as ExistingQueryState, b as ExistingQueryState];
    expect(x.openedBy).toBe(y.openedBy);
    expect(x.openedBy).toEqual(pipeline);
    expect(Object.isFrozen(x.openedBy)).toBe(true);
    expect(x.limitSources).toBe(y.limitSources);
    expect(Object.isFrozen(x.limitSources)).toBe(true);
    expect(decisionTree(x)).toEqual(decisionTree(events.reduce<QueryState>(evolve, initialQueryState)));
  });

  it('keeps an adopted event\'s assignee itself; without adoption, a copy', () => {
    const interner = new FoldInterner();
    const events = record(history.proxyAnswered());
    const assigned = events.findIndex((event) => event.type === 'NodeAssigned');
    const copied = events.slice(0, assigned + 1).reduce<QueryState>((state, event) => foldInto(state, event, interner), initialQueryState);
    let adopted: QueryState = initialQueryState;
    const own = events.slice(0, assigned + 1).map((event) => structuredClone(event));
    for (const event of own) adopted = foldInto(adopted, event, interner, true);
    const event = own[assigned]! as Extract<RecordedQueryEvent, { type: 'NodeAssigned' }>;
    const nodeOf = (state: QueryState) => (state as ExistingQueryState).nodes.get(event.data.nodeId)!;
    expect(nodeOf(adopted).assignments[0]!.assignee).toBe(event.data.assignee);
    expect(nodeOf(copied).assignments[0]!.assignee).not.toBe((events[assigned] as typeof event).data.assignee);
    expect(nodeOf(adopted).assignments[0]!.assignee).toEqual(nodeOf(copied).assignments[0]!.assignee);
    expect(decisionTree(adopted)).toEqual(decisionTree(copied));
  });

  it('refuses a state it did not build (updating a shared immutable state in place would change others)', () => {
    const events = record(history.decomposed());
    const immutable = evolve(initialQueryState, events[0]!);
    expect(() => foldInto(immutable, events[1]!)).toThrow(TypeError);
  });

  // Speed is `npm run bench`'s business (rebuild_vs_raw_read_parse), never a timed test.
  it('folds a ~2,000-node query', () => {
    const leaves = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`n${i}`, `leaf ${i}?`]));
    const events = record([ev.opened(), ev.delegated(ROOT, leaves), ...Object.keys(leaves).map((id) => ev.answered(id, 'x', 0.9))]);
    let state: QueryState = initialQueryState;
    for (const event of events) state = foldInto(state, event, new FoldInterner());
    expect(decisionTree(state).nodeCount).toBe(2001);
  });
});
