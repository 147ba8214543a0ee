/**
 * `PolicySetPublished` (schema 1): the whole set (schema and every policy text), so any decision recorded
 * against its digest can be re-evaluated from the log alone. Streams: `policy-system` (tenant `system`,
 * source `startup`: the set shipped in `policies/`) and `policy-<tenant>` (source `admin`).
 * The `system` tenant is reserved (no token carries it), so `policy-system` never names a tenant's stream.
 * Plain TypeScript, no Nest.
 */
import { LedgerError } from '../common/ledger-error.js';
import { SYSTEM_TENANT } from '../ledger/key-lifecycle.js';
import type { SignedEntry } from '../ledger/entry.js';
import { policySetDigest, sortPolicies, type PolicyText, type ValidatedPolicySet } from './policy-set.js';

export const POLICY_SET_PUBLISHED = 'PolicySetPublished';
export const POLICY_SET_PUBLISHED_SCHEMA = 1 as const;
export const POLICY_STREAM_PREFIX = 'policy-';
export const POLICY_SYSTEM_STREAM = `${POLICY_STREAM_PREFIX}${SYSTEM_TENANT}`;

export type PolicySetSource = 'startup' | 'admin';

export type PolicySetPublishedData = {
  digest: string;
  schema: string;
  policies: PolicyText[];
  cedarVersion: string;
  source: PolicySetSource;
};

export type PolicySetPublished = {
  type: typeof POLICY_SET_PUBLISHED;
  schema: typeof POLICY_SET_PUBLISHED_SCHEMA;
  data: PolicySetPublishedData;
};

/** `policy-<tenant>`; `policy-system` for the shipped set. */
export function policyStream(tenant: string): string {
  return POLICY_STREAM_PREFIX + tenant;
}

export function policySetPublished(set: ValidatedPolicySet, source: PolicySetSource, cedarVersion: string): PolicySetPublished {
  return {
    type: POLICY_SET_PUBLISHED,
    schema: POLICY_SET_PUBLISHED_SCHEMA,
    data: { digest: set.digest, schema: set.schema, policies: sortPolicies(set.policies), cedarVersion, source },
  };
}

/**
 * The data of a stored `PolicySetPublished`, checked: shape, source, and that the digest is the digest of the
 * recorded schema and policies (a set whose digest lies could make a decision look re-evaluable when it is
 * not). A bad one is a defect of the log: `POLICY.EVENT_INVALID` (500), never skipped.
 */
export function parsePolicySetPublished(entry: Pick<SignedEntry, 'type' | 'schema' | 'data' | 'stream' | 'revision'>): PolicySetPublishedData {
  const where = `${entry.stream}@${entry.revision}`;
  if (entry.type !== POLICY_SET_PUBLISHED) throw badStored(where, `not a ${POLICY_SET_PUBLISHED} (${entry.type})`);
  if (entry.schema !== POLICY_SET_PUBLISHED_SCHEMA) throw badStored(where, `unsupported schema version ${entry.schema}`);
  const data = entry.data as Record<string, unknown>;
  const { digest, schema, policies, cedarVersion, source } = data;
  if (typeof digest !== 'string' || typeof schema !== 'string' || typeof cedarVersion !== 'string') {
    throw badStored(where, 'digest, schema and cedarVersion must be strings');
  }
  if (source !== 'startup' && source !== 'admin') throw badStored(where, `unknown source ${JSON.stringify(source)}`);
  if (!Array.isArray(policies) || !policies.every(isPolicyText)) throw badStored(where, 'policies must be [{id, text}]');
  if (policySetDigest({ schema, policies }) !== digest) throw badStored(where, 'the digest does not match the recorded schema and policies');
  return { digest, schema, policies: sortPolicies(policies), cedarVersion, source };
}

function isPolicyText(value: unknown): value is PolicyText {
  const v = value as Partial<PolicyText> | null;
  return v !== null && typeof v === 'object' && typeof v.id === 'string' && typeof v.text === 'string';
}

function badStored(where: string, reason: string): LedgerError {
  return new LedgerError('POLICY.EVENT_INVALID', 'internal', `Stored ${POLICY_SET_PUBLISHED} at ${where} is invalid: ${reason}`, { reason });
}
