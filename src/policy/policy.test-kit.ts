/** Shared by the policy specs: the shipped set, a fixed-set engine and a RunInference input to vary. */
import { defaultPolicyDir } from '../common/config.js';
import { isLedgerError } from '../common/ledger-error.js';
import { CedarPolicyEngine } from './cedar-policy-engine.js';
import { loadPolicySetFromDir, type ValidatedPolicySet } from './policy-set.js';
import type { RunInferenceInput } from './policy-requests.js';

let shipped: ValidatedPolicySet | undefined;

/** The set in the repository's `policies/` folder (loaded and validated once per spec file). */
export function shippedPolicySet(): ValidatedPolicySet {
  shipped ??= loadPolicySetFromDir(defaultPolicyDir());
  return shipped;
}

/** An engine whose set in force is `set` for every tenant. */
export function engineWith(set: ValidatedPolicySet = shippedPolicySet()): CedarPolicyEngine {
  return new CedarPolicyEngine({ inForce: () => set });
}

/** A production proxy of tenant acme, public data, serving: allowed by the shipped set. */
export function runInferenceInput(overrides: {
  proxy?: Partial<RunInferenceInput['proxy']>;
  context?: Partial<RunInferenceInput['context']>;
} = {}): RunInferenceInput {
  return {
    tenant: 'acme',
    pipelineSub: 'orchestrator-1',
    proxy: {
      proxyVersionId: '0190a000-0000-7000-8000-000000000001',
      stage: 'production',
      fidelity: 0.93,
      drift: 0.05,
      artifactSha256: `sha256:${'a'.repeat(64)}`,
      ...overrides.proxy,
    },
    context: { taskClass: 'arithmetic', depth: 1, dataClassification: 'internal', ...overrides.context },
  };
}

/** The LedgerError a call throws (code, message, details); fails when it does not throw one. */
export function refusalOf(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    if (isLedgerError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}
