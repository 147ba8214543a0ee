/**
 * The projections derived from the decision trees give the same result whether they share the service's
 * decision-trees projection or fold a private one, and refuse to run ahead of a shared one.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DecisionTreesProjection } from './decision-trees/decision-trees.projection.js';
import { IdaScript, toEntries } from './ida-event-script.js';
import { LineageProjection } from './lineage/lineage.projection.js';
import { OversightQueueProjection } from './oversight-queue/oversight-queue.projection.js';
import { realisticEntries } from './projection-bench.js';
import { createProjections } from './projections.registry.js';
import { ProxyImpactProjection } from './proxy-impact/proxy-impact.projection.js';

describe('QueryDerivedProjection', () => {
  it('gives the same digests on a shared decision-trees projection as on a private one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 40 }), (seed, units) => {
        const entries = realisticEntries(seed, units, 5, 3);
        const shared = createProjections();
        const alone = [new OversightQueueProjection(), new LineageProjection(), new ProxyImpactProjection()];
        for (const entry of entries) {
          for (const projection of shared.all) projection.apply(entry);
          for (const projection of alone) projection.apply(entry);
        }
        expect(alone.map((projection) => projection.digest())).toEqual([shared.oversightQueue, shared.lineage, shared.proxyImpact].map((p) => p.digest()));
        expect(alone.map((projection) => projection.applied)).toEqual([shared.oversightQueue, shared.lineage, shared.proxyImpact].map((p) => p.applied));
      }),
      { numRuns: 25 },
    );
  });

  it('refuses an entry its shared source has not applied yet, and applies nothing', () => {
    const script = new IdaScript();
    script.openQuery({ tenant: 'acme', queryId: 'q' }).escalate('q-root');
    const [opened, escalated] = toEntries(script.appends);
    const trees = new DecisionTreesProjection();
    const queue = new OversightQueueProjection(trees);
    expect(() => queue.apply(opened!)).toThrow(expect.objectContaining({ code: 'PROJECTION.SOURCE_OUT_OF_STEP' }));
    trees.apply(opened!);
    queue.apply(opened!);
    trees.apply(escalated!);
    queue.apply(escalated!);
    expect(queue.queue('acme').items.map((item) => item.nodeId)).toEqual(['q-root']);
  });
});
