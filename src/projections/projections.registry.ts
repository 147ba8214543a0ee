import type { Projection } from './projection.js';
import { DecisionTreesProjection } from './decision-trees/decision-trees.projection.js';
import { LineageProjection } from './lineage/lineage.projection.js';
import { OversightQueueProjection } from './oversight-queue/oversight-queue.projection.js';
import { ProxyImpactProjection } from './proxy-impact/proxy-impact.projection.js';

/** One fresh instance of every projection of the service (the live set and each rebuild make their own). */
export interface ProjectionSet {
  decisionTrees: DecisionTreesProjection;
  oversightQueue: OversightQueueProjection;
  lineage: LineageProjection;
  proxyImpact: ProxyImpactProjection;
  /** The same four, in the order they are applied and listed (the decision trees first: the others derive from them). */
  all: Projection[];
}

export function createProjections(): ProjectionSet {
  const decisionTrees = new DecisionTreesProjection();
  // Derived from the decision trees (query-derived-projection.ts): applied after them, entry by entry.
  const oversightQueue = new OversightQueueProjection(decisionTrees);
  const lineage = new LineageProjection(decisionTrees);
  const proxyImpact = new ProxyImpactProjection(decisionTrees);
  return { decisionTrees, oversightQueue, lineage, proxyImpact, all: [decisionTrees, oversightQueue, lineage, proxyImpact] };
}
