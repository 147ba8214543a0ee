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
  /** The same four, in the order they are applied and listed. */
  all: Projection[];
}

export function createProjections(): ProjectionSet {
  const decisionTrees = new DecisionTreesProjection();
  const oversightQueue = new OversightQueueProjection();
  const lineage = new LineageProjection();
  const proxyImpact = new ProxyImpactProjection();
  return { decisionTrees, oversightQueue, lineage, proxyImpact, all: [decisionTrees, oversightQueue, lineage, proxyImpact] };
}
