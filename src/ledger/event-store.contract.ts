import { randomUUID, type KeyObject } from 'node:crypto';
import { setImmediate as nextTick } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LedgerError } from '../common/ledger-error.js';
import { canonicalJson } from './canonical-json.js';
import type { EntryMeta, IntegratedEntry, ProposedEvent } from './entry.js';
import { verifyEntrySignature } from './entry-signature.js';
import type { AppendRequest, AppendResult, EventStore, ExpectedRevision } from './event-store.port.js';
import { entryLeafHash } from './hashing.js';

/**
 * The contract every `EventStore` adapter passes (see `event-store.port.ts`). Run it from an adapter's spec:
 *
 *   describeEventStoreContract('sqlite', async () => ({ store, reopen, verifyKey, cleanup }));
 *
 * The factory runs before each test. Tests never assume an empty store — positions are checked relative to
 * `size()` at the test's start, streams and tenants are fresh names — so a shared server works, as long as
 * nothing else writes to it during a test.
 */
export interface EventStoreContractFixture {
  store: EventStore;
  /** Closes the current store (if still open) and opens another on the same data. Omit if not persistent. */
  reopen?: () => Promise<EventStore>;
  /** Public key of the signer the store was given. */
  verifyKey: KeyObject;
  /** Closes whatever store is open (the first or the last reopened) and removes its data. */
  cleanup: () => Promise<void>;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u;
const SLOW_TEST_MS = 60_000;

function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

function metaFor(tenant: string, commandId: string = randomUUID()): EntryMeta {
  return {
    tenant,
    actor: { sub: 'pipeline-1', role: 'pipeline' },
    correlationId: randomUUID(),
    causationId: null,
    commandId,
    recordedAt: new Date().toISOString(),
  };
}

function eventNumber(n: number, type = 'ContractEventRecorded'): ProposedEvent {
  return { type, schema: 1, data: { n, text: `event ${n}`, nested: { list: [n, 'ü', null, true], unicode: '✓ \u2028' } } };
}

function appendRequest(stream: string, expectedRevision: ExpectedRevision, events: ProposedEvent[], meta: EntryMeta): AppendRequest {
  return { stream, expectedRevision, events, meta };
}

/** Same positions, leaf hashes and signed bytes. */
function expectSameEntries(actual: readonly IntegratedEntry[], expected: readonly IntegratedEntry[]): void {
  expect(actual.map((e) => e.position)).toEqual(expected.map((e) => e.position));
  expect(actual.map((e) => e.leafHash)).toEqual(expected.map((e) => e.leafHash));
  expect(actual.map((e) => canonicalJson(e.entry))).toEqual(expected.map((e) => canonicalJson(e.entry)));
}

/** Integrity of a run of entries read from the store: leaf hashes, signatures, per-stream chains. */
function expectIntegrity(entries: readonly IntegratedEntry[], verifyKey: KeyObject): void {
  const heads = new Map<string, IntegratedEntry>();
  for (const integrated of entries) {
    const { entry } = integrated;
    expect(entryLeafHash(entry).toString('hex')).toBe(integrated.leafHash);
    expect(verifyEntrySignature(entry, verifyKey)).toEqual({ ok: true });
    const previous = heads.get(entry.stream);
    if (previous === undefined) {
      // The chain may have begun before this run of entries; only a stream's first entry has prev null.
      if (entry.revision === 0) expect(entry.prev).toBeNull();
    } else {
      expect(entry.revision).toBe(previous.entry.revision + 1);
      expect(entry.prev).toBe(previous.leafHash);
    }
    heads.set(entry.stream, integrated);
  }
}

function expectGapless(entries: readonly IntegratedEntry[], from: number): void {
  expect(entries.map((e) => e.position)).toEqual(entries.map((_, index) => from + index));
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function expectConflict(promise: Promise<unknown>, details: Record<string, unknown>): Promise<void> {
  const error = await promise.then(
    () => {
      throw new Error('expected a revision conflict, the append succeeded');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LedgerError);
  expect(error).toMatchObject({ code: 'LEDGER.REVISION_CONFLICT', category: 'precondition_failed', details });
}

export function describeEventStoreContract(name: string, factory: () => Promise<EventStoreContractFixture>): void {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreContractFixture;
    let store: EventStore;
    let base: number;
    let tenant: string;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      base = await store.size();
      tenant = uniqueName('tenant');
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    const allSinceBase = (limit = 100_000): Promise<IntegratedEntry[]> => store.readAll(base, limit);

    describe('append and read', () => {
      it('integrates signed entries at the next positions and reads them back byte-identical', async () => {
        const stream = uniqueName('query');
        const meta = metaFor(tenant);
        const result = await store.append(appendRequest(stream, 'no_stream', [eventNumber(1), eventNumber(2, 'OtherRecorded')], meta));

        expect(result).toMatchObject({ stream, revision: 1, duplicate: false });
        expect(result.entries.map((e) => e.position)).toEqual([base, base + 1]);
        const [first, second] = result.entries as [IntegratedEntry, IntegratedEntry];
        expect(first.entry).toMatchObject({ stream, revision: 0, type: 'ContractEventRecorded', schema: 1, data: eventNumber(1).data, meta, prev: null });
        expect(second.entry).toMatchObject({ stream, revision: 1, type: 'OtherRecorded', data: eventNumber(2).data, meta, prev: first.leafHash });
        for (const { entry } of result.entries) {
          expect(entry.id).toMatch(UUID_V7);
          expect(typeof entry.kid).toBe('string');
          expect(typeof entry.sig).toBe('string');
        }
        expect(first.entry.id).not.toBe(second.entry.id);
        expectIntegrity(result.entries, fixture.verifyKey);

        expectSameEntries(await store.readStream(stream), result.entries);
        expectSameEntries(await store.readStream(stream, 1), [second]);
        expect(await store.readStream(stream, 2)).toEqual([]);
        expect(await store.readStream(uniqueName('missing'))).toEqual([]);
        for (const bad of [-1, 0.5]) await expect(store.readStream(stream, bad)).rejects.toMatchObject({ code: 'LEDGER.INVALID_ARGUMENT' });
        expectSameEntries(await allSinceBase(), result.entries);
        expect(await store.size()).toBe(base + 2);
      });

      it('does not let a caller change what was appended by mutating its own objects afterwards', async () => {
        const stream = uniqueName('query');
        const event = eventNumber(1);
        const meta = metaFor(tenant);
        const result = await store.append(appendRequest(stream, 'any', [event], meta));
        const signedBytes = canonicalJson(result.entries[0]!.entry);
        (event.data as { n: number }).n = 999;
        meta.actor.sub = 'someone-else';
        expect(canonicalJson(result.entries[0]!.entry)).toBe(signedBytes);
        expect(canonicalJson((await store.readStream(stream))[0]!.entry)).toBe(signedBytes);
        expectIntegrity(await store.readStream(stream), fixture.verifyKey);
      });
    });

    describe('expected revision', () => {
      it("checks 'no_stream', exact revisions and 'any'; a conflict appends nothing", async () => {
        const stream = uniqueName('query');
        const append = (expected: ExpectedRevision, n: number): Promise<AppendResult> =>
          store.append(appendRequest(stream, expected, [eventNumber(n)], metaFor(tenant)));

        expect((await append('no_stream', 0)).revision).toBe(0);
        await expectConflict(append('no_stream', 1), { stream, expectedRevision: 'no_stream', actualRevision: 0 });
        expect((await append(0, 2)).revision).toBe(1);
        await expectConflict(append(0, 3), { stream, expectedRevision: 0, actualRevision: 1 });
        await expectConflict(append(7, 4), { stream, expectedRevision: 7, actualRevision: 1 });
        expect((await append('any', 5)).revision).toBe(2);

        const missing = uniqueName('query');
        await expectConflict(store.append(appendRequest(missing, 0, [eventNumber(6)], metaFor(tenant))), {
          stream: missing,
          expectedRevision: 0,
          actualRevision: null,
        });
        expect((await store.append(appendRequest(uniqueName('query'), 'any', [eventNumber(7)], metaFor(tenant)))).revision).toBe(0);

        expect((await store.readStream(stream)).map((e) => e.entry.data['n'])).toEqual([0, 2, 5]);
        expect(await store.readStream(missing)).toEqual([]);
        expect(await store.size()).toBe(base + 4);
        expectGapless(await allSinceBase(), base);
      });

      it('lets exactly one of many concurrent appends with the same expected revision win', async () => {
        const stream = uniqueName('query');
        await store.append(appendRequest(stream, 'no_stream', [eventNumber(0)], metaFor(tenant)));
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, n) => store.append(appendRequest(stream, 0, [eventNumber(n + 1)], metaFor(tenant)))),
        );
        const winners = outcomes.filter((o) => o.status === 'fulfilled');
        const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const loser of losers) expect(loser.reason).toMatchObject({ code: 'LEDGER.REVISION_CONFLICT', details: { actualRevision: 1 } });
        expect(await store.readStream(stream)).toHaveLength(2);
        expect(await store.size()).toBe(base + 2);
      });
    });

    describe('atomicity', () => {
      it('gives the events of one request consecutive revisions and contiguous positions, even under concurrency', async () => {
        const streams = Array.from({ length: 8 }, () => uniqueName('query'));
        const results = await Promise.all(
          streams.flatMap((stream) => [
            store.append(appendRequest(stream, 'any', [eventNumber(1), eventNumber(2), eventNumber(3)], metaFor(tenant))),
            store.append(appendRequest(stream, 'any', [eventNumber(4), eventNumber(5)], metaFor(tenant))),
          ]),
        );
        for (const result of results) {
          const positions = result.entries.map((e) => e.position);
          const revisions = result.entries.map((e) => e.entry.revision);
          expect(positions).toEqual(positions.map((_, i) => positions[0]! + i));
          expect(revisions).toEqual(revisions.map((_, i) => revisions[0]! + i));
          expect(result.revision).toBe(revisions[revisions.length - 1]);
        }
        const all = await allSinceBase();
        expect(all).toHaveLength(40);
        expectGapless(all, base);
        expectIntegrity(all, fixture.verifyKey);
      });

      it('appends none of the events of a rejected request', async () => {
        const stream = uniqueName('query');
        await store.append(appendRequest(stream, 'no_stream', [eventNumber(0)], metaFor(tenant)));
        await expectConflict(store.append(appendRequest(stream, 'no_stream', [eventNumber(1), eventNumber(2), eventNumber(3)], metaFor(tenant))), {
          actualRevision: 0,
        });
        // An event that cannot be canonicalised (NaN is not JSON) fails the whole request.
        const unserialisable = { type: 'Broken', schema: 1, data: { value: Number.NaN } };
        await expect(store.append(appendRequest(stream, 0, [eventNumber(4), unserialisable, eventNumber(5)], metaFor(tenant)))).rejects.toThrow();
        await expect(store.append(appendRequest(stream, 0, [], metaFor(tenant)))).rejects.toThrow();
        expect(await store.readStream(stream)).toHaveLength(1);
        expect(await store.size()).toBe(base + 1);
        // The failed requests left nothing behind: the next append continues the stream.
        const next = await store.append(appendRequest(stream, 0, [eventNumber(6)], metaFor(tenant)));
        expect(next.entries[0]).toMatchObject({ position: base + 1, entry: { revision: 1 } });
      });
    });

    describe('idempotency', () => {
      it('answers a repeated (tenant, commandId) with the first append and appends nothing', async () => {
        const stream = uniqueName('query');
        const commandId = randomUUID();
        const first = await store.append(appendRequest(stream, 'no_stream', [eventNumber(1), eventNumber(2)], metaFor(tenant, commandId)));
        const repeated = await store.append(appendRequest(stream, 'no_stream', [eventNumber(3)], metaFor(tenant, commandId)));
        expect(repeated).toMatchObject({ stream, revision: 1, duplicate: true });
        expectSameEntries(repeated.entries, first.entries);
        expect(await store.size()).toBe(base + 2);

        const found = await store.findCommand(tenant, commandId);
        expect(found).toMatchObject({ stream, revision: 1, duplicate: true });
        expectSameEntries(found!.entries, first.entries);
        expect(await store.findCommand(tenant, randomUUID())).toBeNull();
        expect(await store.findCommand(uniqueName('tenant'), commandId)).toBeNull();
      });

      it('keeps command ids of different tenants independent', async () => {
        const commandId = randomUUID();
        const otherTenant = uniqueName('tenant');
        const stream = uniqueName('query');
        const mine = await store.append(appendRequest(stream, 'no_stream', [eventNumber(1)], metaFor(tenant, commandId)));
        const theirs = await store.append(appendRequest(stream, 0, [eventNumber(2)], metaFor(otherTenant, commandId)));
        expect(theirs.duplicate).toBe(false);
        expect(theirs.entries[0]).toMatchObject({ position: base + 1, entry: { revision: 1, meta: { tenant: otherTenant } } });
        expectSameEntries((await store.findCommand(tenant, commandId))!.entries, mine.entries);
        expectSameEntries((await store.findCommand(otherTenant, commandId))!.entries, theirs.entries);
      });

      it('writes a command once when it is sent many times concurrently', async () => {
        const stream = uniqueName('query');
        const commandId = randomUUID();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, n) => store.append(appendRequest(stream, 'any', [eventNumber(n)], metaFor(tenant, commandId)))),
        );
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        for (const result of results) expectSameEntries(result.entries, results[0]!.entries);
        expect(await store.size()).toBe(base + 1);
      });
    });

    describe('ordering under concurrency', () => {
      it(
        'keeps positions gapless and revisions consecutive for 300 concurrent appends over 10 streams',
        async () => {
          const streams = Array.from({ length: 10 }, () => uniqueName('query'));
          const results = await Promise.all(
            Array.from({ length: 300 }, (_, n) => store.append(appendRequest(streams[n % 10]!, 'any', [eventNumber(n)], metaFor(tenant)))),
          );
          expect(results.every((r) => !r.duplicate)).toBe(true);
          const positions = results.map((r) => r.entries[0]!.position).sort((a, b) => a - b);
          expect(positions).toEqual(Array.from({ length: 300 }, (_, i) => base + i));

          const all = await allSinceBase();
          expect(all).toHaveLength(300);
          expectGapless(all, base);
          expectIntegrity(all, fixture.verifyKey);
          for (const stream of streams) {
            const entries = await store.readStream(stream);
            expect(entries.map((e) => e.entry.revision)).toEqual(Array.from({ length: 30 }, (_, i) => i));
            expect(entries.map((e) => e.position)).toEqual([...entries.map((e) => e.position)].sort((a, b) => a - b));
          }
          // What each append returned is exactly what is stored.
          const byPosition = new Map(all.map((e) => [e.position, e]));
          for (const result of results) expectSameEntries(result.entries, result.entries.map((e) => byPosition.get(e.position)!));
        },
        SLOW_TEST_MS,
      );
    });

    describe('readAll', () => {
      it('pages through the log and filters by tenant, keeping global positions', async () => {
        const tenants = [tenant, uniqueName('tenant'), uniqueName('tenant')];
        for (let n = 0; n < 30; n++) {
          await store.append(appendRequest(uniqueName('query'), 'no_stream', [eventNumber(n)], metaFor(tenants[n % 3]!)));
        }
        const all = await allSinceBase();
        expect(all).toHaveLength(30);

        const paged: IntegratedEntry[] = [];
        for (let from = base; ; ) {
          const page = await store.readAll(from, 7);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(7);
          paged.push(...page);
          from = page[page.length - 1]!.position + 1;
        }
        expectSameEntries(paged, all);
        expect(await store.readAll(base + 30, 10)).toEqual([]);
        expect(await store.readAll(base, 0)).toEqual([]);
        expectSameEntries(await store.readAll(base + 5, 3), all.slice(5, 8));

        const ofTenant = (wanted: string[]) => all.filter((e) => wanted.includes(e.entry.meta.tenant));
        expectSameEntries(await store.readAll(base, 100, { tenants: [tenants[1]!] }), ofTenant([tenants[1]!]));
        expectSameEntries(await store.readAll(base, 100, { tenants: [tenants[0]!, tenants[2]!] }), ofTenant([tenants[0]!, tenants[2]!]));
        expectSameEntries(await store.readAll(base, 4, { tenants: [tenants[0]!, tenants[2]!] }), ofTenant([tenants[0]!, tenants[2]!]).slice(0, 4));
        const middle = all[14]!.position;
        expectSameEntries(
          await store.readAll(middle, 100, { tenants: [tenants[2]!] }),
          ofTenant([tenants[2]!]).filter((e) => e.position >= middle),
        );
        expect(await store.readAll(base, 100, { tenants: [] })).toEqual([]);
        expect(await store.readAll(base, 100, { tenants: [uniqueName('tenant')] })).toEqual([]);
      });

      it('filters by type, and by tenant and type together, keeping global positions', async () => {
        const tenants = [tenant, uniqueName('tenant')];
        const types = ['ContractAlphaRecorded', 'ContractBetaRecorded', 'ContractGammaRecorded'];
        for (let n = 0; n < 24; n++) {
          await store.append(appendRequest(uniqueName('query'), 'no_stream', [eventNumber(n, types[n % 3])], metaFor(tenants[n % 2]!)));
        }
        const all = await allSinceBase();
        const where = (wantedTypes: string[], wantedTenants = tenants) =>
          all.filter((e) => wantedTypes.includes(e.entry.type) && wantedTenants.includes(e.entry.meta.tenant));
        expectSameEntries(await store.readAll(base, 100, { types: [types[1]!] }), where([types[1]!]));
        expectSameEntries(await store.readAll(base, 100, { types: [types[0]!, types[2]!, types[0]!] }), where([types[0]!, types[2]!]));
        expectSameEntries(await store.readAll(base, 3, { types: [types[2]!] }), where([types[2]!]).slice(0, 3));
        const middle = all[11]!.position;
        expectSameEntries(
          await store.readAll(middle, 100, { types: [types[0]!] }),
          where([types[0]!]).filter((e) => e.position >= middle),
        );
        expectSameEntries(await store.readAll(base, 100, { tenants: [tenants[1]!], types: [types[0]!] }), where([types[0]!], [tenants[1]!]));
        expectSameEntries(
          await store.readAll(base, 5, { tenants: [tenants[0]!, tenants[1]!], types: [types[1]!, types[2]!] }),
          where([types[1]!, types[2]!]).slice(0, 5),
        );
        if (store.readEntryJson !== undefined) {
          // The optional row read: what readAll returns, as the stored text.
          const rows = store.readEntryJson(base, 100);
          expect(rows.map(([position]) => position)).toEqual(all.map((e) => e.position));
          expect(rows.map(([, json]) => json)).toEqual(all.map((e) => canonicalJson(e.entry)));
          expect(store.readEntryJson(all[5]!.position, 3).map(([position]) => position)).toEqual(all.slice(5, 8).map((e) => e.position));
        }
        expect(await store.readAll(base, 100, { types: [] })).toEqual([]);
        expect(await store.readAll(base, 100, { types: ['NoSuchTypeRecorded'] })).toEqual([]);
      });
    });

    describe('subscribe', () => {
      it(
        'delivers catch-up then live entries exactly once, in order, while appends run concurrently',
        async () => {
          const streams = Array.from({ length: 5 }, () => uniqueName('query'));
          const appendMany = (from: number, count: number) =>
            Promise.all(
              Array.from({ length: count }, (_, i) =>
                store.append(appendRequest(streams[(from + i) % 5]!, 'any', [eventNumber(from + i)], metaFor(tenant))),
              ),
            );
          // More than one page of catch-up for any reasonable page size.
          await appendMany(0, 1200);

          const received: IntegratedEntry[] = [];
          const subscription = store.subscribe(base + 10, async (entry) => {
            received.push(entry);
            if (entry.position % 7 === 0) await nextTick(); // a slow consumer lets commits pile up
          });
          // Commits during catch-up and after it.
          const during = appendMany(1200, 60);
          await waitFor(() => received.length >= 30, 'the first deliveries');
          await Promise.all([during, appendMany(1260, 50)]);
          await waitFor(() => received.length >= 1300, 'every entry to be delivered');
          await nextTick();
          await subscription.close();

          expect(received.map((e) => e.position)).toEqual(Array.from({ length: 1300 }, (_, i) => base + 10 + i));
          expectSameEntries(received, (await allSinceBase()).slice(10));
        },
        SLOW_TEST_MS,
      );

      it('delivers live entries to a subscription from the end, and nothing after close', async () => {
        const stream = uniqueName('query');
        const received: number[] = [];
        const subscription = store.subscribe(base, (entry) => {
          received.push(entry.position);
        });
        await store.append(appendRequest(stream, 'no_stream', [eventNumber(0), eventNumber(1)], metaFor(tenant)));
        await waitFor(() => received.length === 2, 'live delivery');
        await subscription.close();
        await store.append(appendRequest(stream, 1, [eventNumber(2)], metaFor(tenant)));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(received).toEqual([base, base + 1]);
      });

      it('resolves close only once the running callback has finished', async () => {
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let started = false;
        let finished = false;
        const subscription = store.subscribe(base, async () => {
          started = true;
          await released;
          finished = true;
        });
        await store.append(appendRequest(uniqueName('query'), 'no_stream', [eventNumber(0), eventNumber(1)], metaFor(tenant)));
        await waitFor(() => started, 'the callback to start');
        let closed = false;
        const closing = subscription.close().then(() => (closed = true));
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(closed).toBe(false);
        release();
        await closing;
        expect(finished).toBe(true);
      });
    });

    describe('against a model (fast-check)', () => {
      type Expected = 'any' | 'no_stream' | 'current' | 'stale' | 'ahead';
      interface Operation {
        stream: number;
        tenant: number;
        expected: Expected;
        events: number;
        /** Reuse the command id of an earlier operation (index modulo the number so far), or a fresh one. */
        reuse: number | null;
      }
      const operation = fc.record<Operation>({
        stream: fc.nat(2),
        tenant: fc.nat(1),
        expected: fc.constantFrom<Expected>('any', 'no_stream', 'current', 'stale', 'ahead'),
        events: fc.integer({ min: 1, max: 3 }),
        reuse: fc.option(fc.nat(20), { freq: 4 }),
      });

      it(
        'behaves like the model for random sequences of appends, conflicts and repeated commands',
        async () => {
          await fc.assert(
            fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
              const run = randomUUID();
              const streams = [0, 1, 2].map((s) => `query-${run}-${s}`);
              const tenants = [0, 1].map((t) => `tenant-${run}-${t}`);
              const revisions = new Map<string, number>(); // the model: stream → last revision
              const commands = new Map<string, AppendResult>(); // (tenant, commandId) → first append
              const commandIds: string[] = [];
              const startSize = await store.size();
              let appended = 0;

              for (const op of operations) {
                const stream = streams[op.stream]!;
                const tenantName = tenants[op.tenant]!;
                const commandId = op.reuse !== null && commandIds.length > 0 ? commandIds[op.reuse % commandIds.length]! : randomUUID();
                commandIds.push(commandId);
                const current = revisions.get(stream) ?? -1;
                const expected: ExpectedRevision =
                  op.expected === 'any' || op.expected === 'no_stream'
                    ? op.expected
                    : op.expected === 'current'
                      ? current < 0 ? 'no_stream' : current
                      : op.expected === 'stale'
                        ? Math.max(0, current - 1)
                        : current + 1;
                const events = Array.from({ length: op.events }, (_, i) => eventNumber(i));
                const outcome = await store.append(appendRequest(stream, expected, events, metaFor(tenantName, commandId))).then(
                  (result) => ({ result }),
                  (error: unknown) => ({ error }),
                );

                const key = `${tenantName}\u0000${commandId}`;
                const first = commands.get(key);
                if (first) {
                  if (!('result' in outcome)) throw outcome.error;
                  expect(outcome.result.duplicate).toBe(true);
                  expectSameEntries(outcome.result.entries, first.entries);
                  continue;
                }
                const holds = expected === 'any' || (expected === 'no_stream' ? current < 0 : expected === current);
                if (!holds) {
                  expect('error' in outcome && (outcome.error as LedgerError).code).toBe('LEDGER.REVISION_CONFLICT');
                  continue;
                }
                if (!('result' in outcome)) throw outcome.error;
                expect(outcome.result.duplicate).toBe(false);
                expect(outcome.result.entries.map((e) => e.entry.revision)).toEqual(events.map((_, i) => current + 1 + i));
                expect(outcome.result.entries[0]!.position).toBe(startSize + appended);
                appended += op.events;
                revisions.set(stream, current + op.events);
                commands.set(key, outcome.result);
              }

              expect(await store.size()).toBe(startSize + appended);
              for (const stream of streams) expect((await store.readStream(stream)).length).toBe((revisions.get(stream) ?? -1) + 1);
            }),
            { numRuns: 25 },
          );
        },
        SLOW_TEST_MS,
      );

      it(
        'stays consistent when random appends run concurrently',
        async () => {
          await fc.assert(
            fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (operations) => {
              const run = randomUUID();
              const streams = [0, 1, 2].map((s) => `query-${run}-${s}`);
              const tenants = [0, 1].map((t) => `tenant-${run}-${t}`);
              const startSize = await store.size();
              const commandIds: string[] = [];
              const requests = operations.map((op) => {
                const commandId = op.reuse !== null && commandIds.length > 0 ? commandIds[op.reuse % commandIds.length]! : randomUUID();
                commandIds.push(commandId);
                const expected: ExpectedRevision =
                  op.expected === 'any' || op.expected === 'no_stream' ? op.expected : op.expected === 'ahead' ? 1 : 0;
                const events = Array.from({ length: op.events }, (_, i) => eventNumber(i));
                return appendRequest(streams[op.stream]!, expected, events, metaFor(tenants[op.tenant]!, commandId));
              });
              const outcomes = await Promise.allSettled(requests.map((request) => store.append(request)));

              const written: IntegratedEntry[] = [];
              const byCommand = new Map<string, AppendResult[]>();
              outcomes.forEach((outcome, index) => {
                const request = requests[index]!;
                if (outcome.status === 'rejected') {
                  expect(outcome.reason).toMatchObject({ code: 'LEDGER.REVISION_CONFLICT' });
                  return;
                }
                const result = outcome.value;
                const key = `${request.meta.tenant}\u0000${request.meta.commandId}`;
                byCommand.set(key, [...(byCommand.get(key) ?? []), result]);
                if (result.duplicate) return;
                written.push(...result.entries);
                const firstRevision = result.entries[0]!.entry.revision;
                if (request.expectedRevision === 'no_stream') expect(firstRevision).toBe(0);
                if (typeof request.expectedRevision === 'number') expect(firstRevision).toBe(request.expectedRevision + 1);
              });
              for (const results of byCommand.values()) {
                expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
                for (const result of results) expectSameEntries(result.entries, results.find((r) => !r.duplicate)!.entries);
              }

              const stored = await store.readAll(startSize, 100_000);
              written.sort((a, b) => a.position - b.position);
              expectSameEntries(stored, written);
              expectGapless(stored, startSize);
              expectIntegrity(stored, fixture.verifyKey);
            }),
            { numRuns: 15 },
          );
        },
        SLOW_TEST_MS,
      );
    });

    describe('durability across reopen', () => {
      it(
        'keeps every entry, command and stream head across close and reopen',
        async () => {
          if (!fixture.reopen) return;
          const streams = [uniqueName('query'), uniqueName('query')];
          const commandId = randomUUID();
          const first = await store.append(appendRequest(streams[0]!, 'no_stream', [eventNumber(0), eventNumber(1)], metaFor(tenant, commandId)));
          await Promise.all(
            Array.from({ length: 20 }, (_, n) => store.append(appendRequest(streams[n % 2]!, 'any', [eventNumber(n)], metaFor(tenant)))),
          );
          const before = await allSinceBase();
          const sizeBefore = await store.size();

          store = await fixture.reopen();
          expect(await store.size()).toBe(sizeBefore);
          expectSameEntries(await allSinceBase(), before);
          expectSameEntries((await store.findCommand(tenant, commandId))!.entries, first.entries);
          const repeated = await store.append(appendRequest(streams[0]!, 'no_stream', [eventNumber(9)], metaFor(tenant, commandId)));
          expect(repeated.duplicate).toBe(true);

          const head = (await store.readStream(streams[1]!)).at(-1)!;
          await expectConflict(store.append(appendRequest(streams[1]!, head.entry.revision - 1, [eventNumber(1)], metaFor(tenant))), {
            actualRevision: head.entry.revision,
          });
          const next = await store.append(appendRequest(streams[1]!, head.entry.revision, [eventNumber(2)], metaFor(tenant)));
          expect(next.entries[0]).toMatchObject({ position: sizeBefore, entry: { revision: head.entry.revision + 1, prev: head.leafHash } });

          const delivered: IntegratedEntry[] = [];
          const subscription = store.subscribe(base, (entry) => {
            delivered.push(entry);
          });
          await waitFor(() => delivered.length === before.length + 1, 'catch-up after reopen');
          await subscription.close();
          expectSameEntries(delivered, await allSinceBase());
          expectIntegrity(delivered, fixture.verifyKey);
        },
        SLOW_TEST_MS,
      );
    });

    describe('close', () => {
      it('refuses appends once closed', async () => {
        await store.close();
        await expect(store.append(appendRequest(uniqueName('query'), 'any', [eventNumber(0)], metaFor(tenant)))).rejects.toThrow();
      });
    });
  });
}
