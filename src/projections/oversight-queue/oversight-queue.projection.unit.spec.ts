import { describe, expect, it } from '@jest/globals';
import { IdaScript, overseer, toEntries } from '../ida-event-script.js';
import type { ProjectionEntry } from '../projection.js';
import { OversightQueueProjection } from './oversight-queue.projection.js';

function fold(entries: ProjectionEntry[]): OversightQueueProjection {
  const projection = new OversightQueueProjection();
  for (const entry of entries) projection.apply(entry);
  return projection;
}

const leaves = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ nodeId: `${prefix}${i}`, question: `${prefix} question ${i}` }));

describe('OversightQueueProjection', () => {
  it('lists escalated, unanswered nodes of the tenant, oldest escalation first, until answered or stopped', () => {
    const script = new IdaScript();
    const a = script.openQuery({ tenant: 'acme', queryId: 'qa', threshold: 0.7 });
    const b = script.openQuery({ tenant: 'acme', queryId: 'qb' });
    const other = script.openQuery({ tenant: 'globex', queryId: 'qg' });
    a.delegate('qa-root', leaves('a', 3));
    b.delegate('qb-root', leaves('b', 2));
    other.escalate('qg-root', 'their own');
    a.assignProxy('a0', 'v1', 'j1').result('a0', 'v1', 'j1', '17', 0.42); // low confidence: escalated
    b.escalate('b1', 'please look'); // by hand
    a.assignEnsemble('a1', [
      { proxyVersionId: 'v1', jobId: 'j2' },
      { proxyVersionId: 'v2', jobId: 'j3' },
    ]);
    a.memberResult('a1', 'v1', 'j2', 'yes', 0.9).memberResult('a1', 'v2', 'j3', 'no', 0.9, ['j2', 'j3']); // split vote: 0.45
    a.assignProxy('a2', 'v1', 'j4').result('a2', 'v1', 'j4', 'fine', 0.95); // confident: not escalated
    const entries = toEntries(script.appends);
    const projection = fold(entries);

    const queue = projection.queue('acme');
    expect(queue.total).toBe(3);
    expect(queue.items.map((item) => [item.queryId, item.nodeId, item.reason])).toEqual([
      ['qa', 'a0', 'low_confidence'],
      ['qb', 'b1', 'requested'],
      ['qa', 'a1', 'low_confidence'],
    ]);
    const first = queue.items[0]!;
    const escalation = entries.find((e) => e.entry.type === 'EscalatedToHuman' && e.entry.data.nodeId === 'a0')!;
    expect(first).toEqual({
      queryId: 'qa',
      nodeId: 'a0',
      question: 'a question 0',
      reason: 'low_confidence',
      confidence: 0.42,
      threshold: 0.7,
      note: null,
      escalatedAt: escalation.entry.meta.recordedAt,
      position: escalation.position,
    });
    expect(queue.items[1]).toMatchObject({ note: 'please look', confidence: null, threshold: null });
    expect(queue.items[2]!.confidence).toBeCloseTo(0.45);
    expect(projection.queue('acme', 1).items).toHaveLength(1);
    expect(projection.queue('globex').items.map((item) => item.nodeId)).toEqual(['qg-root']);
    expect(projection.queue('initech')).toEqual({ items: [], total: 0 });

    // The human answers a0; qb is stopped: only a1 waits.
    a.assignHuman('a0').answer('a0', '8', overseer('bob'));
    b.stop('abandoned');
    const later = fold(toEntries(script.appends)).queue('acme');
    expect(later.items.map((item) => item.nodeId)).toEqual(['a1']);
  });

  it('refuses a second escalation of a node still waiting (a contradiction the decision trees find)', () => {
    const script = new IdaScript();
    const q = script.openQuery({ tenant: 'acme', queryId: 'q' });
    q.escalate('q-root', 'first').escalate('q-root', 'second');
    expect(() => fold(toEntries(script.appends))).toThrow(
      expect.objectContaining({
        code: 'PROJECTION.EVENT_INVALID',
        message: expect.stringMatching(/^oversight-queue: cannot apply EscalatedToHuman at position 2: .*node q-root already escalated/u),
      }),
    );
  });

  it('has the same digest whatever the reads in between, and a different one for a different queue', () => {
    const script = new IdaScript();
    const q = script.openQuery({ tenant: 'acme', queryId: 'q' });
    q.delegate('q-root', leaves('n', 2)).escalate('n0').escalate('n1');
    const entries = toEntries(script.appends);
    const reading = new OversightQueueProjection();
    for (const entry of entries) {
      reading.apply(entry);
      reading.digest();
    }
    expect(reading.digest()).toBe(fold(entries).digest());
    expect(fold(entries.slice(0, -1)).digest()).not.toBe(reading.digest());
  });

  it('refuses malformed or impossible escalations, naming the position', () => {
    const bad = new IdaScript();
    bad.openQuery({ tenant: 'acme', queryId: 'q' });
    bad.raw('query-q', 'acme', 'EscalatedToHuman', { nodeId: 'q-root', reason: 'bored', confidence: null, threshold: null, jobId: null, note: null });
    const projection = new OversightQueueProjection();
    const entries = toEntries(bad.appends);
    projection.apply(entries[0]!);
    expect(() => projection.apply(entries[1]!)).toThrow(
      expect.objectContaining({ code: 'PROJECTION.EVENT_INVALID', details: expect.objectContaining({ position: 1, projection: 'oversight-queue' }) }),
    );

    const unknownNode = new IdaScript();
    unknownNode.openQuery({ tenant: 'acme', queryId: 'q' }).escalate('nowhere');
    expect(() => fold(toEntries(unknownNode.appends))).toThrow(/oversight-queue: cannot apply EscalatedToHuman at position 1: .*unknown node nowhere/u);

    const beforeOpen = new IdaScript();
    beforeOpen.raw('query-x', 'acme', 'QueryStopped', { reason: 'r', previousStatus: 'open' });
    expect(() => fold(toEntries(beforeOpen.appends))).toThrow(/position 0: .*event before AmplificationQueryOpened/u);

    const wrongSchema = new IdaScript();
    wrongSchema.raw('query-x', 'acme', 'AmplificationQueryOpened', { queryId: 'x', rootNodeId: 'r', question: 'q', confidenceThreshold: 0.5 }, 4);
    expect(() => fold(toEntries(wrongSchema.appends))).toThrow(/unsupported schema version 4/u);
  });
});
