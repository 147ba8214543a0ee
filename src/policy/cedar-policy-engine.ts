/**
 * The `PolicyEngine` on Cedar: the set in force for the tenant (from the `PolicySetIndex`), prepared once per
 * digest, evaluated with `statefulIsAuthorized` (~0.1 ms instead of ~0.35 ms re-parsing every call).
 * Plain TypeScript, no Nest.
 */
import { denyWithoutEvaluation, evaluatePrepared, prepareSet } from './policy-evaluation.js';
import type { PolicyDecision, PolicyEngine, PolicyRequest } from './policy-engine.port.js';
import type { PolicySetInForce } from './policy-set.index.js';
import { runInferenceRequest } from './policy-requests.js';

/** Where the engine finds the set in force (the `PolicySetIndex`, or a fixed set in tests and benchmarks). */
export interface PolicySetSource {
  inForce(tenant: string): Pick<PolicySetInForce, 'digest' | 'schema' | 'policies'> | null;
}

export class CedarPolicyEngine implements PolicyEngine {
  constructor(private readonly sets: PolicySetSource) {}

  decide(tenant: string, request: PolicyRequest): PolicyDecision {
    let set: ReturnType<PolicySetSource['inForce']>;
    try {
      set = this.sets.inForce(tenant);
    } catch (error) {
      return denyWithoutEvaluation(null, request, [`engine: ${error instanceof Error ? error.message : String(error)}`]);
    }
    if (set === null) return denyWithoutEvaluation(null, request, [`engine: no policy set is in force for tenant ${tenant}`]);
    return evaluatePrepared(set, request);
  }

  /**
   * Prepares `sets` and runs one throw-away decision, so the first real decision does not pay Cedar's first-call
   * cost (~100 ms). Returns the errors of any set that does not prepare (the caller decides whether that is
   * fatal: it is not for a tenant's set read from the log, whose decisions then deny).
   */
  warm(sets: readonly Pick<PolicySetInForce, 'digest' | 'schema' | 'policies'>[]): string[] {
    const errors: string[] = [];
    for (const set of sets) {
      const ready = prepareSet(set);
      if ('errors' in ready) errors.push(...ready.errors.map((e) => `${set.digest}: ${e}`));
    }
    const first = sets[0];
    if (first !== undefined) evaluatePrepared(first, WARM_UP_REQUEST);
    return errors;
  }
}

const WARM_UP_REQUEST = runInferenceRequest({
  tenant: 'warm-up',
  pipelineSub: 'warm-up',
  proxy: { proxyVersionId: 'warm-up', stage: 'production', fidelity: 0.9, drift: 0.1, artifactSha256: 'sha256:' },
  context: { taskClass: null, depth: 0, dataClassification: 'public' },
});
