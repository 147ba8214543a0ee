import { describe, expect, it } from '@jest/globals';
import { measurePolicyDecisions } from './policy-bench.js';
import { shippedPolicySet } from './policy.test-kit.js';

describe('measurePolicyDecisions', () => {
  it('times prepared decisions of the shipped set over a mix of outcomes', () => {
    const result = measurePolicyDecisions(200);
    expect(result).toMatchObject({ n: 200, allowed: 50, policySetDigest: shippedPolicySet().digest });
    expect(result.p50Us).toBeGreaterThan(0);
    expect(result.p99Us).toBeGreaterThanOrEqual(result.p50Us);
  });
});
