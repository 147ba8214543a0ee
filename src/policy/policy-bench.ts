/**
 * Benchmark helper for the policy gate (called by bench/bench.ts; nothing here runs by itself):
 * `measurePolicyDecisions(n)` times `n` prepared decisions (`CedarPolicyEngine.decide`, request digest
 * included, as the assign command pays it) with the shipped policy set, after a warm-up, over a mix of
 * requests (allowed, forbidden, default-denied, unknown fidelity), without the engine's decision cache (Cedar
 * evaluates every one). Synchronous: one decision at a time.
 */
import { defaultPolicyDir } from '../common/config.js';
import { CedarPolicyEngine } from './cedar-policy-engine.js';
import { CEDAR_VERSION } from './cedar.js';
import { runInferenceRequest, type RunInferenceInput } from './policy-requests.js';
import { loadPolicySetFromDir } from './policy-set.js';

export interface PolicyDecisionBench {
  n: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  /** Decisions per second at the mean. */
  perSecond: number;
  /** How many of the `n` were allowed (a sanity check that the mix exercised both outcomes). */
  allowed: number;
  /** First decision on a fresh engine (Cedar's first-call cost when nothing warmed it before), ms. */
  firstDecisionMs: number;
  cedarVersion: string;
  policySetDigest: string;
}

export function measurePolicyDecisions(n = 10_000, policyDir: string = defaultPolicyDir()): PolicyDecisionBench {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  const set = loadPolicySetFromDir(policyDir);
  // No decision cache: this times Cedar's prepared evaluation itself, every time.
  const engine = new CedarPolicyEngine({ inForce: () => set }, 0);
  const requests = MIX.map((input) => runInferenceRequest(input));

  let started = process.hrtime.bigint();
  engine.decide('acme', requests[0]!);
  const firstDecisionMs = Number(process.hrtime.bigint() - started) / 1e6;
  for (let i = 0; i < Math.min(1000, n); i++) engine.decide('acme', requests[i % requests.length]!);

  const samples = new Float64Array(n);
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    const request = requests[i % requests.length]!;
    started = process.hrtime.bigint();
    const answer = engine.decide('acme', request);
    samples[i] = Number(process.hrtime.bigint() - started) / 1e3;
    if (answer.decision === 'allow') allowed++;
  }
  samples.sort();
  const quantile = (q: number) => samples[Math.min(n - 1, Math.floor(q * n))]!;
  const meanUs = samples.reduce((sum, x) => sum + x, 0) / n;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n,
    p50Us: round(quantile(0.5)),
    p99Us: round(quantile(0.99)),
    meanUs: round(meanUs),
    perSecond: Math.round(1e6 / meanUs),
    allowed,
    firstDecisionMs: round(firstDecisionMs),
    cedarVersion: CEDAR_VERSION,
    policySetDigest: set.digest,
  };
}

const base: RunInferenceInput = {
  tenant: 'acme',
  pipelineSub: 'orchestrator-1',
  proxy: {
    proxyVersionId: '0190a000-0000-7000-8000-000000000001',
    stage: 'production',
    fidelity: 0.93,
    drift: 0.05,
    artifactSha256: `sha256:${'a'.repeat(64)}`,
  },
  context: { taskClass: 'arithmetic', depth: 2, dataClassification: 'internal' },
};

const MIX: RunInferenceInput[] = [
  base,
  { ...base, proxy: { ...base.proxy, drift: 0.35 } },
  { ...base, proxy: { ...base.proxy, stage: 'shadow' } },
  { ...base, proxy: { ...base.proxy, fidelity: null, drift: null } },
];
