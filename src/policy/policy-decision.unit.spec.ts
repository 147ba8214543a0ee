import { describe, expect, it } from '@jest/globals';
import type { ProposedEvent } from '../ledger/entry.js';
import { CEDAR_VERSION } from './cedar.js';
import { denyReason, policyDecisionRecorded, reevaluate, type PolicyDecisionRecordedData } from './policy-decision.js';
import { policySetPublished } from './policy-set.events.js';
import { runInferenceRequest } from './policy-requests.js';
import { validatePolicySet } from './policy-set.js';
import { engineWith, runInferenceInput, shippedPolicySet } from './policy.test-kit.js';

const job = { jobId: 'job-1', nodeId: 'node-1' };
const published = (set = shippedPolicySet()) => policySetPublished(set, 'startup', CEDAR_VERSION).data;
/** What the log would hold: the event data after a JSON round trip. */
const recordedFor = (input = runInferenceInput(), set = shippedPolicySet()): PolicyDecisionRecordedData =>
  JSON.parse(JSON.stringify(policyDecisionRecorded(engineWith(set).decide(input.tenant, runInferenceRequest(input)), job).data));

describe('PolicyDecisionRecorded', () => {
  it('carries the engine answer with the job ids and the action', () => {
    const answer = engineWith().decide('acme', runInferenceRequest(runInferenceInput()));
    // Compile-time: the event is what a command appends, as is (its data is JSON).
    const proposed: ProposedEvent = policyDecisionRecorded(answer, job);
    expect(proposed).toEqual({
      type: 'PolicyDecisionRecorded',
      schema: 1,
      data: { ...job, action: 'RunInference', ...answer },
    });
  });

  it('denyReason says why, in one line', () => {
    const base = { determiningPolicies: [], errors: [] };
    expect(denyReason({ ...base, decision: 'allow' })).toBeNull();
    expect(denyReason({ ...base, decision: 'deny' })).toBe('no policy permits it');
    expect(denyReason({ ...base, decision: 'deny', determiningPolicies: ['a', 'b'] })).toBe('forbidden by a, b');
    expect(denyReason({ decision: 'deny', determiningPolicies: ['a'], errors: ['a: overflow'] })).toBe('evaluation failed closed: a: overflow');
  });
});

describe('reevaluate', () => {
  it.each([
    ['an allow', runInferenceInput()],
    ['a forbid', runInferenceInput({ proxy: { drift: 0.5 } })],
    ['a default deny', runInferenceInput({ proxy: { stage: 'candidate' } })],
    ['a deny against the schema', runInferenceInput({ proxy: { fidelity: Number.NaN } })],
  ])('%s recorded against the set re-evaluates to the same decision', (_, input) => {
    const recorded = recordedFor(input);
    const result = reevaluate(recorded, published());
    expect(result).toMatchObject({ same: true, problems: [], cedarVersion: { recorded: CEDAR_VERSION, now: CEDAR_VERSION } });
    expect(result.now).toMatchObject({ decision: recorded.decision, determiningPolicies: recorded.determiningPolicies });
  });

  it('an error-caused deny re-evaluates the same against its own set', () => {
    const set = validatePolicySet({
      schema: shippedPolicySet().schema,
      policies: [
        ...shippedPolicySet().policies,
        {
          id: 'overflowing',
          text: 'forbid (principal, action == IdaLedger::Action::"RunInference", resource) when { context.depth * 4611686018427387904 > 0 };',
        },
      ],
    });
    const recorded = recordedFor(runInferenceInput({ context: { depth: 2 } }), set);
    expect(recorded).toMatchObject({ decision: 'deny', determiningPolicies: ['overflowing'] });
    expect(reevaluate(recorded, published(set)).same).toBe(true);
  });

  it('a recorded outcome that does not follow from the request and set is not the same', () => {
    const recorded = recordedFor();
    const flipped = { ...recorded, decision: 'deny' as const };
    expect(reevaluate(flipped, published())).toMatchObject({ same: false, problems: [], now: { decision: 'allow' } });
    const misnamed = { ...recorded, determiningPolicies: ['run-inference.permit-shadow-in-shadow-mode'] };
    expect(reevaluate(misnamed, published()).same).toBe(false);
  });

  it('another set, a request edited after the fact, or a set whose texts do not match its digest: problems, not a decision', () => {
    const recorded = recordedFor();
    const other = validatePolicySet({ schema: shippedPolicySet().schema, policies: shippedPolicySet().policies.slice(1) });
    expect(reevaluate(recorded, published(other))).toMatchObject({
      same: false,
      now: null,
      problems: [expect.stringMatching(/^the decision names policy set sha256:/u)],
    });

    const edited = structuredClone(recorded);
    edited.request.entities[2]!.attrs['stage'] = 'candidate';
    expect(reevaluate(edited, published()).problems).toEqual([expect.stringMatching(/^the request digests to /u)]);

    const forged = published();
    forged.policies = forged.policies.map((p) =>
      p.id === 'run-inference.forbid-drift-above-limit' ? { ...p, text: p.text.replace('> 200', '> 900') } : p,
    );
    expect(reevaluate(recorded, forged).problems).toEqual([expect.stringMatching(/texts digest to .* not to its recorded digest/u)]);
  });
});
