/**
 * An admin publishes the tenant's own policy set (docs/policy-gate.md "Policy sets"): validated against the
 * schema like the shipped set, recorded whole on `policy-<tenant>`; from then on it is the set in force for the
 * tenant's decisions (instead of the system's).
 */
import { LedgerError } from '../../common/ledger-error.js';
import type { SignedEntry } from '../../ledger/entry.js';
import {
  parsePolicySetPublished,
  POLICY_SET_PUBLISHED,
  policySetPublished,
  type PolicySetPublished,
  type PolicySetPublishedData,
} from '../policy-set.events.js';
import { validatePolicySet, type PolicySetContent } from '../policy-set.js';

/** The tenant's own latest set (null: it never published one, the system's is in force). */
export function rehydrateOwnPolicySet(entries: readonly SignedEntry[]): PolicySetPublishedData | null {
  let current: PolicySetPublishedData | null = null;
  for (const entry of entries) if (entry.type === POLICY_SET_PUBLISHED) current = parsePolicySetPublished(entry);
  return current;
}

/**
 * `content.schema` is the request's schema, or the schema in force when the request has none. `current` is the
 * tenant's OWN latest set: publishing the system's set unchanged is accepted, as it pins the tenant to it
 * (later system sets no longer apply to the tenant).
 */
export function decidePublishPolicySet(
  content: PolicySetContent,
  current: Pick<PolicySetPublishedData, 'digest'> | null,
  cedarVersion: string,
): [PolicySetPublished] {
  const set = validatePolicySet(content);
  // Same digest = same schema and texts: a second record would only add noise (and no decision would change).
  if (current !== null && current.digest === set.digest) {
    throw new LedgerError('POLICY.SET_UNCHANGED', 'unprocessable', `The policy set ${set.digest} is already the tenant's current set`, {
      digest: set.digest,
    });
  }
  return [policySetPublished(set, 'admin', cedarVersion)];
}
