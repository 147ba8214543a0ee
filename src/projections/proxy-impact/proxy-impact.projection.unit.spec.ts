import { describe, expect, it } from '@jest/globals';
import { IdaScript, overseer, toEntries } from '../ida-event-script.js';
import type { ProjectionEntry } from '../projection.js';
import { ProxyImpactProjection } from './proxy-impact.projection.js';

function fold(entries: ProjectionEntry[]): ProxyImpactProjection {
  const projection = new ProxyImpactProjection();
  for (const entry of entries) projection.apply(entry);
  return projection;
}

function scenario() {
  const script = new IdaScript();
  script.registerProxy({ tenant: 'acme', proxyVersionId: 'v1', runId: null });
  script.registerProxy({ tenant: 'acme', proxyVersionId: 'v2', runId: null });
  const a = script.openQuery({ tenant: 'acme', queryId: 'qa', threshold: 0.7 });
  a.delegate('qa-root', [
    { nodeId: 'a0', question: 'x' },
    { nodeId: 'a1', question: 'y' },
    { nodeId: 'a2', question: 'z' },
  ]);
  a.assignProxy('a0', 'v1', 'j0').result('a0', 'v1', 'j0', '8', 0.93).override('a0', '9', '8');
  a.assignProxy('a1', 'v1', 'j1').result('a1', 'v1', 'j1', '17', 0.42).assignHuman('a1').answer('a1', '16', overseer());
  a.assignEnsemble('a2', [
    { proxyVersionId: 'v1', jobId: 'e1' },
    { proxyVersionId: 'v2', jobId: 'e2' },
  ]);
  a.memberResult('a2', 'v1', 'e1', 'yes', 0.9).memberResult('a2', 'v2', 'e2', 'Yes ', 0.8, ['e1', 'e2']).override('a2', 'no', 'yes');
  const b = script.openQuery({ tenant: 'acme', queryId: 'qb' });
  b.assignProxy('qb-root', 'v2', 'jb').result('qb-root', 'v2', 'jb', 'fine', 0.99);
  script.runStarted({ tenant: 'acme', runId: 'r1', queryIds: ['qa', 'qx'] }).runCompleted('acme', 'r1');
  script.runStarted({ tenant: 'acme', runId: 'r0', queryIds: ['qb', 'qa'] }).runFailed('acme', 'r0');
  script.runStarted({ tenant: 'acme', runId: 'r2', queryIds: ['qx'] });
  return toEntries(script.appends);
}

describe('ProxyImpactProjection', () => {
  it("lists every answer of a proxy version with what became of it, and the runs trained on those queries", () => {
    const entries = scenario();
    const impact = fold(entries).impact('acme', 'v1')!;
    const at = (jobId: string) => entries.find((e) => e.entry.type === 'InferenceCompleted' && e.entry.data.jobId === jobId)!;
    expect(impact.answers).toEqual([
      {
        queryId: 'qa',
        nodeId: 'a0',
        jobId: 'j0',
        role: 'single',
        answer: '8',
        confidence: 0.93,
        escalated: false,
        overridden: true,
        answeredAt: at('j0').entry.meta.recordedAt,
        position: at('j0').position,
      },
      expect.objectContaining({ nodeId: 'a1', jobId: 'j1', role: 'single', confidence: 0.42, escalated: true, overridden: false }),
      expect.objectContaining({ nodeId: 'a2', jobId: 'e1', role: 'ensemble', answer: 'yes', escalated: false, overridden: true }),
    ]);
    expect(impact.runs).toEqual([
      { runId: 'r0', status: 'failed', queryIds: ['qa'] },
      { runId: 'r1', status: 'completed', queryIds: ['qa'] },
    ]);
    const v2 = fold(entries).impact('acme', 'v2')!;
    expect(v2.answers.map((a) => [a.jobId, a.role, a.overridden])).toEqual([
      ['e2', 'ensemble', true],
      ['jb', 'single', false],
    ]);
    expect(v2.runs).toEqual([
      { runId: 'r0', status: 'failed', queryIds: ['qa', 'qb'] },
      { runId: 'r1', status: 'completed', queryIds: ['qa'] },
    ]);
  });

  it('knows only proxies registered in the caller’s tenant', () => {
    const projection = fold(scenario());
    expect(projection.impact('globex', 'v1')).toBeUndefined();
    expect(projection.impact('acme', 'nope')).toBeUndefined();
  });

  it('returns copies: a reader cannot change the projection', () => {
    const projection = fold(scenario());
    const digest = projection.digest();
    projection.impact('acme', 'v1')!.answers[0]!.overridden = false;
    expect(projection.impact('acme', 'v1')!.answers[0]!.overridden).toBe(true);
    expect(projection.digest()).toBe(digest);
  });

  it('refuses a result for a job that was never requested, naming the position', () => {
    const script = new IdaScript();
    const q = script.openQuery({ tenant: 'acme', queryId: 'q' });
    q.result('q-root', 'v1', 'ghost', 'x', 0.9);
    expect(() => fold(toEntries(script.appends))).toThrow(
      expect.objectContaining({ code: 'PROJECTION.EVENT_INVALID', details: expect.objectContaining({ position: 1, projection: 'proxy-impact' }) }),
    );
  });
});
