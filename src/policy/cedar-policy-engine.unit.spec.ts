import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson } from '../ledger/canonical-json.js';
import { createHash } from 'node:crypto';
import { CedarPolicyEngine } from './cedar-policy-engine.js';
import { CEDAR_VERSION } from './cedar.js';
import type { PolicyRequest } from './policy-engine.port.js';
import { evaluatePrepared, evaluateStateless } from './policy-evaluation.js';
import { runInferenceRequest } from './policy-requests.js';
import { validatePolicySet } from './policy-set.js';
import { engineWith, runInferenceInput, shippedPolicySet } from './policy.test-kit.js';

const decide = (input = runInferenceInput()) => engineWith().decide(input.tenant, runInferenceRequest(input));
const outcome = (input = runInferenceInput()) => {
  const { decision, determiningPolicies, errors } = decide(input);
  return { decision, determiningPolicies, errors };
};

describe('CedarPolicyEngine with the shipped policies', () => {
  it('allows a production proxy with good fidelity and drift, naming the permit, and records exactly what it evaluated', () => {
    const request = runInferenceRequest(runInferenceInput());
    const answer = engineWith().decide('acme', request);
    expect(answer).toEqual({
      decision: 'allow',
      determiningPolicies: ['run-inference.permit-production'],
      errors: [],
      policySetDigest: shippedPolicySet().digest,
      cedarVersion: CEDAR_VERSION,
      request,
      requestDigest: `sha256:${createHash('sha256').update(canonicalJson(request)).digest('hex')}`,
    });
    expect(answer.request).toBe(request);
  });

  it('denies a shadow proxy in serving mode (no permit: default deny), allows it in shadow mode', () => {
    expect(outcome(runInferenceInput({ proxy: { stage: 'shadow' } }))).toEqual({ decision: 'deny', determiningPolicies: [], errors: [] });
    expect(outcome(runInferenceInput({ proxy: { stage: 'shadow' }, context: { mode: 'shadow' } }))).toEqual({
      decision: 'allow',
      determiningPolicies: ['run-inference.permit-shadow-in-shadow-mode'],
      errors: [],
    });
  });

  it.each(['candidate', 'retired'])('denies a %s proxy', (stage) => {
    expect(outcome(runInferenceInput({ proxy: { stage } })).decision).toBe('deny');
  });

  it('denies drift above 0.2 (the limit itself passes); unknown drift is no reason to deny', () => {
    expect(outcome(runInferenceInput({ proxy: { drift: 0.25 } }))).toEqual({
      decision: 'deny',
      determiningPolicies: ['run-inference.forbid-drift-above-limit'],
      errors: [],
    });
    expect(outcome(runInferenceInput({ proxy: { drift: 0.2 } })).decision).toBe('allow');
    expect(outcome(runInferenceInput({ proxy: { drift: null } })).decision).toBe('allow');
  });

  it('denies restricted data to anything but a production proxy', () => {
    const restricted = { dataClassification: 'restricted' as const };
    expect(outcome(runInferenceInput({ proxy: { stage: 'shadow' }, context: { ...restricted, mode: 'shadow' } }))).toEqual({
      decision: 'deny',
      determiningPolicies: ['run-inference.forbid-restricted-unless-production'],
      errors: [],
    });
    expect(outcome(runInferenceInput({ context: restricted })).decision).toBe('allow');
  });

  it('denies fidelity below 0.8, and unknown fidelity (the forbid depends on the missing attribute: fail closed)', () => {
    const low = { decision: 'deny', determiningPolicies: ['run-inference.forbid-low-fidelity'], errors: [] };
    expect(outcome(runInferenceInput({ proxy: { fidelity: 0.79 } }))).toEqual(low);
    expect(outcome(runInferenceInput({ proxy: { fidelity: null } }))).toEqual(low);
    expect(outcome(runInferenceInput({ proxy: { fidelity: 0.8 } })).decision).toBe('allow');
  });

  it("denies another tenant's proxy", () => {
    expect(outcome(runInferenceInput({ proxy: { tenant: 'globex' } }))).toEqual({
      decision: 'deny',
      determiningPolicies: ['run-inference.forbid-other-tenant'],
      errors: [],
    });
  });

  it('several forbids: all are named', () => {
    expect(outcome(runInferenceInput({ proxy: { fidelity: 0.5, drift: 0.9 } })).determiningPolicies).toEqual([
      'run-inference.forbid-drift-above-limit',
      'run-inference.forbid-low-fidelity',
    ]);
  });
});

describe('CedarPolicyEngine fails closed and never throws', () => {
  // Validates strictly, but overflows at run time once depth ≥ 2: Cedar skips an erroring forbid and allows.
  const overflowing = validatePolicySet({
    schema: shippedPolicySet().schema,
    policies: [
      ...shippedPolicySet().policies,
      {
        id: 'forbid-overflowing',
        text: '@id("forbid-overflowing")\nforbid (principal, action == IdaLedger::Action::"RunInference", resource)\nwhen { context.depth * 4611686018427387904 > 0 };',
      },
    ],
  });

  it('a policy evaluation error turns an allow into a deny, determined by the policy that errored', () => {
    const answer = engineWith(overflowing).decide('acme', runInferenceRequest(runInferenceInput({ context: { depth: 2 } })));
    expect(answer.decision).toBe('deny');
    expect(answer.determiningPolicies).toEqual(['forbid-overflowing']);
    expect(answer.errors).toEqual([expect.stringMatching(/^forbid-overflowing: .*overflow/u)]);
    expect(answer.policySetDigest).toBe(overflowing.digest);
    // Without the error the same set allows.
    expect(engineWith(overflowing).decide('acme', runInferenceRequest(runInferenceInput({ context: { depth: 0 } }))).decision).toBe('allow');
  });

  it('a request that does not match the schema is a deny with Cedar\'s message', () => {
    const request = runInferenceRequest(runInferenceInput());
    const { mode: _mode, ...context } = request.context;
    const answer = engineWith().decide('acme', { ...request, context });
    expect(answer).toMatchObject({ decision: 'deny', determiningPolicies: [], errors: [expect.stringMatching(/^request: .*mode/u)] });
  });

  it.each([
    ['a NaN fidelity', { proxy: { fidelity: Number.NaN } }, /fidelityPermille/u],
    ['a drift above 1', { proxy: { drift: 1.7 } }, /driftPermille/u],
    ['a negative depth', { context: { depth: -1 } }, /depth/u],
  ])('%s is recorded as given and denied against the schema (never dropped as unknown)', (_, overrides, field) => {
    const request = runInferenceRequest(runInferenceInput(overrides));
    expect(canonicalJson(request)).toMatch(field);
    const answer = engineWith().decide('acme', request);
    expect(answer.decision).toBe('deny');
    expect(answer.errors).toEqual([expect.stringMatching(/^request: /u)]);
  });

  it('no set in force, a failing set source, a request that is not JSON: deny, not throw', () => {
    const request = runInferenceRequest(runInferenceInput());
    expect(new CedarPolicyEngine({ inForce: () => null }).decide('acme', request)).toMatchObject({
      decision: 'deny',
      policySetDigest: null,
      errors: ['engine: no policy set is in force for tenant acme'],
      requestDigest: expect.stringMatching(/^sha256:/u),
    });
    const failing = new CedarPolicyEngine({
      inForce: () => {
        throw new Error('index broken');
      },
    });
    expect(failing.decide('acme', request)).toMatchObject({ decision: 'deny', errors: ['engine: index broken'] });
    const notJson = { ...request, context: { ...request.context, depth: Number.POSITIVE_INFINITY } } as PolicyRequest;
    expect(engineWith().decide('acme', notJson)).toMatchObject({ decision: 'deny', errors: [expect.stringMatching(/^engine: /u)] });
    const garbage = { principal: null, action: 7 } as unknown as PolicyRequest;
    expect(engineWith().decide('acme', garbage).decision).toBe('deny');
  });

  it('a set that Cedar cannot parse (read back from a log) denies with the set\'s error', () => {
    const broken = { digest: 'sha256:broken', schema: shippedPolicySet().schema, policies: [{ id: 'x', text: 'permit (' }] };
    const answer = new CedarPolicyEngine({ inForce: () => broken }).decide('acme', runInferenceRequest(runInferenceInput()));
    expect(answer).toMatchObject({ decision: 'deny', policySetDigest: 'sha256:broken', errors: [expect.stringMatching(/^policy set: /u)] });
  });

  it('prepared and stateless evaluation agree on every case', () => {
    const cases = [
      runInferenceInput(),
      runInferenceInput({ proxy: { stage: 'shadow' } }),
      runInferenceInput({ proxy: { fidelity: null, drift: 0.9 } }),
      runInferenceInput({ proxy: { tenant: 'globex' } }),
      runInferenceInput({ context: { depth: 3 } }),
      runInferenceInput({ proxy: { fidelity: Number.NaN } }),
    ];
    for (const set of [shippedPolicySet(), overflowing]) {
      for (const input of cases) {
        const request = runInferenceRequest(input);
        expect(evaluateStateless(set, request)).toEqual(evaluatePrepared(set, request));
      }
    }
  });

  it('warm-up prepares the sets and reports one that does not parse', () => {
    const engine = engineWith();
    expect(engine.warm([shippedPolicySet()])).toEqual([]);
    expect(engine.warm([{ digest: 'sha256:bad', schema: 'namespace X {', policies: [] }])).toEqual([
      expect.stringMatching(/^sha256:bad: policy set: schema: /u),
    ]);
  });
});

describe('CedarPolicyEngine decision cache', () => {
  const inputs = fc.record({
    stage: fc.constantFrom('candidate', 'shadow', 'production', 'retired'),
    fidelity: fc.option(fc.constantFrom(0.5, 0.79, 0.8, 0.95), { nil: null }),
    drift: fc.option(fc.constantFrom(0.05, 0.2, 0.21, 0.6), { nil: null }),
    depth: fc.integer({ min: 0, max: 3 }),
    dataClassification: fc.constantFrom('public', 'internal', 'confidential', 'restricted' as const),
  });

  it('answers every request exactly as an engine without a cache, with the caller’s own request object', () => {
    fc.assert(
      fc.property(fc.array(inputs, { minLength: 1, maxLength: 30 }), (sequence) => {
        const cached = new CedarPolicyEngine({ inForce: () => shippedPolicySet() }, 3);
        const uncached = new CedarPolicyEngine({ inForce: () => shippedPolicySet() }, 0);
        for (const { stage, fidelity, drift, depth, dataClassification } of sequence) {
          const request = runInferenceRequest(runInferenceInput({ proxy: { stage, fidelity, drift }, context: { depth, dataClassification } }));
          const answer = cached.decide('acme', request);
          expect(answer).toEqual(uncached.decide('acme', request));
          expect(answer.request).toBe(request);
        }
        expect(cached.cachedDecisions).toBeLessThanOrEqual(3);
        expect(uncached.cachedDecisions).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it('keeps one decision per (set, request), and never answers a new set from the old one’s', () => {
    const denyAll = validatePolicySet({
      schema: shippedPolicySet().schema,
      policies: [{ id: 'forbid-all', text: '@id("forbid-all")\nforbid (principal, action, resource);' }],
    });
    let inForce = shippedPolicySet();
    const engine = new CedarPolicyEngine({ inForce: () => inForce });
    const request = () => runInferenceRequest(runInferenceInput());
    expect(engine.decide('acme', request()).decision).toBe('allow');
    expect(engine.decide('acme', request()).decision).toBe('allow');
    expect(engine.cachedDecisions).toBe(1);
    inForce = denyAll;
    expect(engine.decide('acme', request())).toMatchObject({ decision: 'deny', determiningPolicies: ['forbid-all'], policySetDigest: denyAll.digest });
    expect(engine.cachedDecisions).toBe(2);
  });

  it('never caches an engine failure', () => {
    const notJson = { ...runInferenceRequest(runInferenceInput()), context: { depth: Number.NaN } } as unknown as PolicyRequest;
    const engine = engineWith();
    expect(engine.decide('acme', notJson).decision).toBe('deny');
    expect(engine.cachedDecisions).toBe(0);
  });
});
