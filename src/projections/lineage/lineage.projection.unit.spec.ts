import { describe, expect, it } from '@jest/globals';
import { IdaScript, overseer, toEntries } from '../ida-event-script.js';
import type { ProjectionEntry } from '../projection.js';
import { buildLineageChain } from '../projection-bench.js';
import { LineageProjection, type LineageGraph } from './lineage.projection.js';

function fold(entries: ProjectionEntry[]): LineageProjection {
  const projection = new LineageProjection();
  for (const entry of entries) projection.apply(entry);
  return projection;
}

const ids = (graph: LineageGraph, kind: string) =>
  graph.nodes
    .filter((n) => n.kind === kind)
    .map((n) => n.id)
    .sort();
const answeredBy = (graph: LineageGraph, queryId: string) =>
  graph.edges.filter((e) => e.kind === 'answeredBy' && e.from === queryId).map((e) => `${e.toKind}:${e.to}`);

/** Iteration 0 (humans) → run1 → v1; iteration 1 (v1, one escalation to a human) → run2 (parent v1) → v2. */
function twoIterations() {
  const script = new IdaScript();
  const iteration0 = ['q0a', 'q0b'].map((queryId) => script.openQuery({ tenant: 'acme', queryId }));
  for (const q of iteration0) q.answer(q.rootNodeId, '24', overseer('alice')).complete('24');
  script.runStarted({ tenant: 'acme', runId: 'v1', queryIds: ['q0a', 'q0b'], humanPool: ['alice'] }).runCompleted('acme', 'v1', null);
  script.registerProxy({ tenant: 'acme', proxyVersionId: 'v1' });
  script.promote('acme', 'v1', 'candidate', 'shadow');
  const iteration1 = ['q1a', 'q1b'].map((queryId) => script.openQuery({ tenant: 'acme', queryId }));
  const [q1a, q1b] = iteration1 as [(typeof iteration1)[number], (typeof iteration1)[number]];
  q1a.delegate('q1a-root', [
    { nodeId: 'l0', question: 'sum 3 5' },
    { nodeId: 'l1', question: 'sum 7 9' },
  ]);
  q1a.assignProxy('l0', 'v1', 'j0').result('l0', 'v1', 'j0', '8', 0.93);
  q1a.assignProxy('l1', 'v1', 'j1').result('l1', 'v1', 'j1', '17', 0.42).assignHuman('l1').answer('l1', '16', overseer('bob'));
  q1a.compose('q1a-root', '24').complete('24');
  q1b.assignEnsemble('q1b-root', [
    { proxyVersionId: 'v1', jobId: 'e1' },
    { proxyVersionId: 'ext', jobId: 'e2' },
  ]);
  q1b.memberResult('q1b-root', 'v1', 'e1', '15', 0.9).memberResult('q1b-root', 'ext', 'e2', '15', 0.9, ['e1', 'e2']).complete('15');
  script.runStarted({ tenant: 'acme', runId: 'v2', parentProxyVersionId: 'v1', queryIds: ['q1a', 'q1b'], teacherProxyVersionIds: ['ext', 'v1'], humanPool: ['bob'] });
  script.runCompleted('acme', 'v2').registerProxy({ tenant: 'acme', proxyVersionId: 'v2', version: '2' });
  // Another tenant with a proxy of the same id.
  script.runStarted({ tenant: 'globex', runId: 'g1', queryIds: [] }).registerProxy({ tenant: 'globex', proxyVersionId: 'g1' });
  return toEntries(script.appends);
}

describe('LineageProjection', () => {
  it("walks a proxy's ancestors back to the purely human iteration 0", () => {
    const projection = fold(twoIterations());
    const graph = projection.lineage('acme', 'v2', 'ancestors')!;
    expect(graph.root).toBe('v2');
    expect(graph.truncated).toBe(false);
    expect(ids(graph, 'proxy')).toEqual(['ext', 'v1', 'v2']);
    expect(ids(graph, 'run')).toEqual(['v1', 'v2']);
    expect(ids(graph, 'query')).toEqual(['q0a', 'q0b', 'q1a', 'q1b']);
    expect(ids(graph, 'human')).toEqual(['alice', 'bob']);
    expect(answeredBy(graph, 'q0a')).toEqual(['human:alice']);
    // l1's low-confidence answer did not answer the node: the human did.
    expect(answeredBy(graph, 'q1a').sort()).toEqual(['human:bob', 'proxy:v1']);
    expect(answeredBy(graph, 'q1b').sort()).toEqual(['proxy:ext', 'proxy:v1']);
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { kind: 'registeredFrom', from: 'v2', fromKind: 'proxy', to: 'v2', toKind: 'run' },
        { kind: 'parent', from: 'v2', fromKind: 'run', to: 'v1', toKind: 'proxy' },
        { kind: 'teacher', from: 'v2', fromKind: 'run', to: 'ext', toKind: 'proxy' },
        { kind: 'trainedOn', from: 'v1', fromKind: 'run', to: 'q0a', toKind: 'query' },
      ]),
    );
    const generation = (kind: string, id: string) => graph.nodes.find((n) => n.kind === kind && n.id === id)!.generation;
    expect([generation('proxy', 'v2'), generation('run', 'v2'), generation('proxy', 'v1'), generation('run', 'v1')]).toEqual([0, 0, 1, 1]);
    expect(graph.nodes.find((n) => n.kind === 'proxy' && n.id === 'v1')!.proxy).toEqual({
      name: 'summer',
      version: 'v1',
      stage: 'shadow',
      source: 'distillation',
    });
    expect(graph.nodes.find((n) => n.kind === 'proxy' && n.id === 'ext')!.proxy).toBeNull();
    expect(graph.nodes.find((n) => n.kind === 'run' && n.id === 'v2')!.run).toEqual({ status: 'completed' });
  });

  it('keeps each answeredBy edge once, whether the same answerer comes back at once or after another', () => {
    const script = new IdaScript();
    const q = script.openQuery({ tenant: 'acme', queryId: 'q' });
    q.delegate('q-root', ['a', 'b', 'c', 'd', 'e'].map((nodeId) => ({ nodeId, question: `sum ${nodeId}` })));
    // alice twice in a row, then v1, then alice again after v1, then v1 again after alice; bob overrides twice.
    q.answer('a', '1', overseer('alice')).answer('b', '2', overseer('alice'));
    q.assignProxy('c', 'v1', 'j-c').result('c', 'v1', 'j-c', '3', 0.95);
    q.answer('d', '4', overseer('alice'));
    q.assignProxy('e', 'v1', 'j-e').result('e', 'v1', 'j-e', '5', 0.95);
    q.override('a', '10', '1', overseer('bob')).override('b', '20', '2', overseer('bob'));
    script.runStarted({ tenant: 'acme', runId: 'v2', queryIds: ['q'] }).registerProxy({ tenant: 'acme', proxyVersionId: 'v2' });
    const graph = fold(toEntries(script.appends)).lineage('acme', 'v2', 'ancestors')!;
    expect(answeredBy(graph, 'q').sort()).toEqual(['human:alice', 'human:bob', 'proxy:v1']);
  });

  it('stops at `depth` proxy generations and says so', () => {
    const projection = fold(twoIterations());
    const graph = projection.lineage('acme', 'v2', 'ancestors', 1)!;
    expect(graph.truncated).toBe(true);
    expect(graph.depth).toBe(1);
    expect(ids(graph, 'proxy')).toEqual(['ext', 'v1', 'v2']);
    expect(ids(graph, 'run')).toEqual(['v2']);
    expect(ids(graph, 'query')).toEqual(['q1a', 'q1b']);
    // The whole lineage fits in 2 generations: nothing is cut.
    expect(projection.lineage('acme', 'v2', 'ancestors', 2)!.truncated).toBe(false);
  });

  it('walks the descendants: the runs a proxy was parent or teacher of, or answered the dataset of', () => {
    const projection = fold(twoIterations());
    const graph = projection.lineage('acme', 'v1', 'descendants')!;
    expect(ids(graph, 'proxy')).toEqual(['v1', 'v2']);
    expect(ids(graph, 'run')).toEqual(['v2']);
    expect(ids(graph, 'query')).toEqual(['q1a', 'q1b']);
    expect(ids(graph, 'human')).toEqual([]);
    // ext, never registered here, has no lineage of its own to ask for, and v2 has no descendants.
    expect(projection.lineage('acme', 'ext', 'descendants')).toBeUndefined();
    expect(ids(projection.lineage('acme', 'v2', 'descendants')!, 'proxy')).toEqual(['v2']);
  });

  it("keeps tenants apart: another tenant's proxy is not found", () => {
    const projection = fold(twoIterations());
    expect(projection.lineage('globex', 'v2', 'ancestors')).toBeUndefined();
    expect(ids(projection.lineage('globex', 'g1', 'ancestors')!, 'run')).toEqual(['g1']);
  });

  it('links an imported proxy to its declared parent', () => {
    const script = new IdaScript();
    script.registerProxy({ tenant: 'acme', proxyVersionId: 'base', runId: null });
    script.registerProxy({ tenant: 'acme', proxyVersionId: 'tuned', runId: null, parentProxyVersionId: 'base' });
    script.retire('acme', 'base', 'candidate');
    const projection = fold(toEntries(script.appends));
    const graph = projection.lineage('acme', 'tuned', 'ancestors')!;
    expect(graph.edges).toEqual([{ kind: 'parent', from: 'tuned', fromKind: 'proxy', to: 'base', toKind: 'proxy' }]);
    expect(graph.nodes.find((n) => n.id === 'base')!.proxy!.stage).toBe('retired');
    expect(ids(projection.lineage('acme', 'base', 'descendants')!, 'proxy')).toEqual(['base', 'tuned']);
  });

  // Its speed is `npm run bench`'s business (lineage_query_ms_1000_versions), never a timed test.
  it('walks a 1,000-version lineage to the first version, and stops descendants at the depth asked', () => {
    const chain = buildLineageChain(1000);
    const graph = chain.projection.lineage(chain.tenant, chain.head, 'ancestors')!;
    expect(ids(graph, 'proxy')).toHaveLength(1000);
    expect(ids(graph, 'run')).toHaveLength(1000);
    expect(graph.nodes.find((n) => n.kind === 'proxy' && n.id === chain.first)!.generation).toBe(999);
    const descendants = chain.projection.lineage(chain.tenant, chain.first, 'descendants', 10)!;
    expect(ids(descendants, 'proxy')).toHaveLength(11);
    expect(descendants.truncated).toBe(true);
  });

  it('refuses contradictions: a run completed twice, a stage change of an unknown proxy', () => {
    const twice = new IdaScript();
    twice.runStarted({ tenant: 'acme', runId: 'r', queryIds: [] }).runCompleted('acme', 'r').runFailed('acme', 'r');
    expect(() => fold(toEntries(twice.appends))).toThrow(/lineage: cannot apply DistillationRunFailed at position 2: run r already completed/u);
    const unknown = new IdaScript();
    unknown.promote('acme', 'ghost', 'candidate', 'shadow');
    expect(() => fold(toEntries(unknown.appends))).toThrow(/proxy ghost was never registered/u);
  });

  it('has a digest independent of reads in between', () => {
    const entries = twoIterations();
    const reading = new LineageProjection();
    for (const entry of entries) {
      reading.apply(entry);
      reading.digest();
    }
    expect(reading.digest()).toBe(fold(entries).digest());
  });
});
