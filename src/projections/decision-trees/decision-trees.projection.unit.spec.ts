import { describe, expect, it } from '@jest/globals';
import { decisionTree, rehydrate } from '../../amplification/query.state.js';
import { IdaScript, overseer, toEntries } from '../ida-event-script.js';
import type { ProjectionEntry } from '../projection.js';
import { DecisionTreesProjection } from './decision-trees.projection.js';

function fold(entries: ProjectionEntry[]): DecisionTreesProjection {
  const projection = new DecisionTreesProjection();
  for (const entry of entries) projection.apply(entry);
  return projection;
}

/** The tree the amplification context itself renders from the query's stream. */
function expectedTree(entries: ProjectionEntry[], stream: string) {
  return decisionTree(rehydrate(entries.filter((e) => e.entry.stream === stream).map((e) => e.entry)));
}

function twoQueries() {
  const script = new IdaScript();
  const a = script.openQuery({ tenant: 'acme', queryId: 'qa' });
  const b = script.openQuery({ tenant: 'globex', queryId: 'qb', schema: 1 });
  a.delegate('qa-root', [
    { nodeId: 'a1', question: 'sum 3 5' },
    { nodeId: 'a2', question: 'sum 7 9' },
    { nodeId: 'a3', question: 'sum 1 1' },
  ]);
  b.answer('qb-root', '42');
  a.assignProxy('a1', 'v1', 'j1').result('a1', 'v1', 'j1', '8', 0.93);
  a.assignEnsemble('a2', [
    { proxyVersionId: 'v1', jobId: 'j2' },
    { proxyVersionId: 'v2', jobId: 'j3' },
  ]);
  a.memberResult('a2', 'v1', 'j2', '16', 0.9).memberResult('a2', 'v2', 'j3', '16', 0.8, ['j2', 'j3']);
  a.assignProxy('a3', 'v2', 'j4').result('a3', 'v2', 'j4', '3', 0.4);
  a.answer('a3', '2');
  a.compose('qa-root', '26').override('a1', '8 (checked)', '8').complete('26');
  b.complete('42');
  script.raw('query-qa', 'acme', 'SomethingElseHappened', { any: 'thing' });
  return toEntries(script.appends);
}

describe('DecisionTreesProjection', () => {
  it('renders each query exactly as the amplification context does, per tenant', () => {
    const entries = twoQueries();
    const projection = fold(entries);
    expect(projection.tree('acme', 'qa')).toEqual(expectedTree(entries, 'query-qa'));
    expect(projection.tree('globex', 'qb')).toEqual(expectedTree(entries, 'query-qb'));
    expect(projection.tree('acme', 'qa')!.root.children.map((n) => n.answerKind)).toEqual(['proxy', 'ensemble', 'human']);
    // Another tenant's query is not there for the caller.
    expect(projection.tree('globex', 'qa')).toBeUndefined();
    expect(projection.tree('acme', 'nope')).toBeUndefined();
    expect(projection.position).toBe(entries.length);
    // The unknown type is counted past, not applied.
    expect(projection.applied).toBe(entries.length - 1);
  });

  it('has a digest that depends on the content, not on when it is read', () => {
    const entries = twoQueries();
    const once = fold(entries).digest();
    const reading = new DecisionTreesProjection();
    for (const entry of entries) {
      reading.apply(entry);
      reading.digest();
      reading.tree('acme', 'qa');
    }
    expect(reading.digest()).toBe(once);
    expect(once).toMatch(/^sha256:[0-9a-f]{64}$/u);
    expect(fold(entries.slice(0, -2)).digest()).not.toBe(once);
  });

  // Speed is `npm run bench`'s business (rebuild_vs_raw_read_parse), never a timed test.
  it('folds a 2,000-node tree', () => {
    const script = new IdaScript();
    const q = script.openQuery({ tenant: 'acme', queryId: 'big' });
    const leaves = Array.from({ length: 2000 }, (_, i) => ({ nodeId: `n${i}`, question: `leaf ${i}` }));
    q.delegate('big-root', leaves);
    for (const leaf of leaves) q.answer(leaf.nodeId, 'x', overseer(), 0.9);
    const entries = toEntries(script.appends);
    const projection = fold(entries);
    const tree = projection.tree('acme', 'big')!;
    expect(tree.nodeCount).toBe(2001);
    expect(tree.root.children.every((n) => n.status === 'answered')).toBe(true);
  });

  it('refuses a malformed query event, naming its position, and stays broken', () => {
    const script = new IdaScript();
    script.openQuery({ tenant: 'acme', queryId: 'q' });
    script.raw('query-q', 'acme', 'HumanAnswerRecorded', { nodeId: 'q-root', answer: 42 });
    const entries = toEntries(script.appends);
    const projection = new DecisionTreesProjection();
    projection.apply(entries[0]!);
    expect(() => projection.apply(entries[1]!)).toThrow(
      expect.objectContaining({ code: 'PROJECTION.EVENT_INVALID', details: expect.objectContaining({ position: 1, eventType: 'HumanAnswerRecorded' }) }),
    );
    expect(() => projection.digest()).toThrow(expect.objectContaining({ code: 'PROJECTION.EVENT_INVALID' }));
  });

  it('reports an event the fold refuses (an answer over an answer) at its own position', () => {
    const small = new IdaScript();
    small.openQuery({ tenant: 'acme', queryId: 'q' }).answer('q-root', 'one').answer('q-root', 'two');
    const refused = expect.objectContaining({
      code: 'PROJECTION.EVENT_INVALID',
      details: expect.objectContaining({ position: 2, cause: 'QUERY.CORRUPT_STREAM', stream: 'query-q' }),
    });
    // Every event is folded at `apply`: the refusal comes from `apply` itself.
    expect(() => fold(toEntries(small.appends))).toThrow(refused);

    // Also in a big tree; the projection then stays broken (reads and the digest fail the same way).
    const big = new IdaScript();
    const q = big.openQuery({ tenant: 'acme', queryId: 'big' });
    q.delegate('big-root', Array.from({ length: 100 }, (_, i) => ({ nodeId: `n${i}`, question: `leaf ${i}` })));
    q.answer('n0', 'one').answer('n0', 'two');
    const entries = toEntries(big.appends);
    const projection = new DecisionTreesProjection();
    for (const entry of entries.slice(0, 3)) projection.apply(entry);
    const atThree = expect.objectContaining({
      code: 'PROJECTION.EVENT_INVALID',
      details: expect.objectContaining({ position: 3, cause: 'QUERY.CORRUPT_STREAM' }),
    });
    expect(() => projection.apply(entries[3]!)).toThrow(atThree);
    expect(() => projection.tree('acme', 'big')).toThrow(atThree);
    expect(() => projection.digest()).toThrow(expect.objectContaining({ code: 'PROJECTION.EVENT_INVALID' }));
  });

  it('refuses an entry out of order without applying it', () => {
    const entries = twoQueries();
    const projection = new DecisionTreesProjection();
    projection.apply(entries[0]!);
    expect(() => projection.apply(entries[2]!)).toThrow(expect.objectContaining({ code: 'PROJECTION.OUT_OF_ORDER' }));
    // Not a failure of the projection: the right entry still applies.
    projection.apply(entries[1]!);
    expect(projection.position).toBe(2);
  });
});
