import { describe, expect, it } from '@jest/globals';
import { isLedgerError } from '../common/ledger-error.js';
import type { IntegratedEntry } from '../ledger/entry.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { CEDAR_VERSION } from './cedar.js';
import { policySetPublished, policyStream, POLICY_SYSTEM_STREAM } from './policy-set.events.js';
import { PolicySetIndex } from './policy-set.index.js';
import { validatePolicySet, type ValidatedPolicySet } from './policy-set.js';
import { shippedPolicySet } from './policy.test-kit.js';

const variant = (limit: number): ValidatedPolicySet =>
  validatePolicySet({
    schema: shippedPolicySet().schema,
    policies: shippedPolicySet().policies.map((p) => ({ ...p, text: p.text.replace(/driftPermille > \d+/u, `driftPermille > ${limit}`) })),
  });

function published(position: number, stream: string, set: ValidatedPolicySet, revision = 0, tenant?: string): IntegratedEntry {
  const event = policySetPublished(set, stream === POLICY_SYSTEM_STREAM ? 'startup' : 'admin', CEDAR_VERSION);
  return {
    position,
    leafHash: '',
    entry: {
      stream,
      revision,
      id: `id-${position}`,
      type: event.type,
      schema: event.schema,
      data: event.data,
      meta: {
        tenant: tenant ?? (stream === POLICY_SYSTEM_STREAM ? 'system' : stream.slice('policy-'.length)),
        actor: { sub: 'x', role: 'admin' },
        correlationId: 'c',
        causationId: null,
        commandId: `cmd-${position}`,
        recordedAt: '2026-11-27T10:00:00.000Z',
      },
      prev: null,
      kid: 'k',
      sig: 's',
    },
  };
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (isLedgerError(error)) return error.code;
    throw error;
  }
  return null;
};

describe('PolicySetIndex', () => {
  it("in force: the tenant's own latest set, else the system's latest; null before any", () => {
    const index = new PolicySetIndex();
    expect(index.inForce('acme')).toBeNull();
    index.apply(published(1, POLICY_SYSTEM_STREAM, shippedPolicySet()));
    index.apply(published(5, policyStream('acme'), variant(100)));
    index.apply(published(7, POLICY_SYSTEM_STREAM, variant(150), 1));
    expect(index.inForce('acme')).toMatchObject({ digest: variant(100).digest, scope: 'tenant', position: 5, source: 'admin' });
    expect(index.inForce('globex')).toMatchObject({ digest: variant(150).digest, scope: 'system', position: 7, revision: 1 });
    expect(index.allInForce().map((s) => s.position).sort()).toEqual([5, 7]);
  });

  it('ignores other entries and entries older than the one known (applying twice is harmless)', () => {
    const index = new PolicySetIndex();
    index.apply(published(9, policyStream('acme'), variant(100), 1));
    index.apply(published(3, policyStream('acme'), variant(50), 0));
    index.apply({ ...published(10, 'tenant-acme', variant(20)) });
    expect(index.ownSet('acme')?.position).toBe(9);
  });

  it('a malformed entry, a lying digest or a tenant writing another stream is POLICY.EVENT_INVALID', () => {
    const index = new PolicySetIndex();
    const lying = published(1, policyStream('acme'), shippedPolicySet());
    lying.entry.data = { ...lying.entry.data, digest: variant(100).digest };
    expect(codeOf(() => index.apply(lying))).toBe('POLICY.EVENT_INVALID');
    const malformed = published(2, policyStream('acme'), shippedPolicySet());
    malformed.entry.data = { ...malformed.entry.data, policies: 'none' };
    expect(codeOf(() => index.apply(malformed))).toBe('POLICY.EVENT_INVALID');
    expect(codeOf(() => index.apply(published(3, policyStream('acme'), shippedPolicySet(), 0, 'globex')))).toBe('POLICY.EVENT_INVALID');
    expect(codeOf(() => index.apply(published(4, POLICY_SYSTEM_STREAM, shippedPolicySet(), 0, 'acme')))).toBe('POLICY.EVENT_INVALID');
    expect(index.allInForce()).toEqual([]);
  });

  it('rebuilds from the whole log page by page, and refreshes one stream from what it knows', async () => {
    const log = [published(0, POLICY_SYSTEM_STREAM, shippedPolicySet())];
    for (let i = 1; i < 2500; i++) log.push({ ...published(i, 'other', shippedPolicySet()), entry: { ...log[0]!.entry, stream: 'other', type: 'Other' } });
    log.push(published(2500, policyStream('acme'), variant(100)));
    const reads: number[] = [];
    const store = {
      readAll: async (from: number, limit: number) => {
        reads.push(from);
        return log.slice(from, from + limit);
      },
      readStream: async (stream: string, fromRevision = 0) =>
        log.filter((e) => e.entry.stream === stream && e.entry.revision >= fromRevision),
    } as unknown as EventStore;
    const index = new PolicySetIndex();
    await index.rebuild(store);
    expect(reads).toEqual([0, 1000, 2000]);
    expect(index.inForce('acme')?.position).toBe(2500);
    expect(index.inForce('globex')?.position).toBe(0);

    log.push(published(2501, policyStream('acme'), variant(120), 1));
    await index.refresh(store, policyStream('acme'));
    expect(index.inForce('acme')).toMatchObject({ position: 2501, revision: 1, digest: variant(120).digest });
  });
});
