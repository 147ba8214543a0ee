import { describe, expect, it } from '@jest/globals';
import { CEDAR_VERSION } from '../cedar.js';
import { policySetPublished } from '../policy-set.events.js';
import { refusalOf, shippedPolicySet } from '../policy.test-kit.js';
import { decidePublishPolicySet, rehydrateOwnPolicySet } from './publish-policy-set.command.js';
import type { SignedEntry } from '../../ledger/entry.js';

const content = () => ({ schema: shippedPolicySet().schema, policies: [...shippedPolicySet().policies].reverse() });

describe('publish-policy-set', () => {
  it('given no own set, when a valid set is published, then PolicySetPublished (admin) with the sorted set and its digest', () => {
    expect(decidePublishPolicySet(content(), null, CEDAR_VERSION)).toEqual([policySetPublished(shippedPolicySet(), 'admin', CEDAR_VERSION)]);
  });

  it('given the same own set, then POLICY.SET_UNCHANGED (whatever the order of the policies)', () => {
    expect(refusalOf(() => decidePublishPolicySet(content(), { digest: shippedPolicySet().digest }, CEDAR_VERSION)).code).toBe(
      'POLICY.SET_UNCHANGED',
    );
  });

  it('an invalid set is POLICY.INVALID_SET naming the policy', () => {
    const bad = { ...content(), policies: [{ id: 'x', text: 'permit (principal, action, resource) when { resource.nope };' }] };
    expect(refusalOf(() => decidePublishPolicySet(bad, null, CEDAR_VERSION))).toMatchObject({ code: 'POLICY.INVALID_SET', details: { policyId: 'x' } });
  });

  it('rehydrates the latest own set', () => {
    const event = policySetPublished(shippedPolicySet(), 'admin', CEDAR_VERSION);
    const entry = { ...event, stream: 'policy-acme', revision: 0 } as unknown as SignedEntry;
    expect(rehydrateOwnPolicySet([])).toBeNull();
    expect(rehydrateOwnPolicySet([entry])?.digest).toBe(shippedPolicySet().digest);
  });
});
