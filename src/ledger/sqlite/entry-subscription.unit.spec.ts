import { setImmediate as nextTick } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { IntegratedEntry, SignedEntry } from '../entry.js';
import { EntrySubscription } from './entry-subscription.js';

/** An in-memory log that commits like the store: raise the size, then offer the batch, in one synchronous step. */
class FakeLog {
  readonly entries: IntegratedEntry[] = [];
  readonly subscriptions = new Set<EntrySubscription>();
  reads = 0;

  commit(count: number, offer: boolean): void {
    const start = this.entries.length;
    const batch = Array.from({ length: count }, (_, i) => ({ position: start + i, entry: {} as SignedEntry, leafHash: '' }));
    for (const entry of batch) this.entries.push(entry);
    for (const subscription of this.subscriptions) {
      if (offer) subscription.offer(batch);
      else subscription.signal(); // entries that arrived without an offer (the store's reload after a failure)
    }
  }

  subscribe(from: number, onEntry: (entry: IntegratedEntry) => void | Promise<void>, liveBufferLimit: number, catchUpPage: number) {
    const subscription = new EntrySubscription(
      {
        committedSize: () => this.entries.length,
        readRange: (start, end) => {
          this.reads++;
          return this.entries.slice(start, end);
        },
      },
      from,
      onEntry,
      (error) => {
        throw error;
      },
      (finished) => this.subscriptions.delete(finished),
      { liveBufferLimit, catchUpPage },
    );
    this.subscriptions.add(subscription);
    return subscription;
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 100_000) throw new Error('condition never held');
    await nextTick();
  }
}

describe('EntrySubscription', () => {
  it('delivers every position from its start exactly once, in order, whatever the interleaving of commits and slow callbacks', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('commit' as const), count: fc.integer({ min: 1, max: 8 }), offer: fc.boolean() }),
      fc.record({ kind: fc.constant('wait' as const), ticks: fc.integer({ min: 0, max: 4 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          initial: fc.nat(30),
          fromOffset: fc.integer({ min: -30, max: 5 }),
          steps: fc.array(step, { maxLength: 30 }),
          slow: fc.func(fc.boolean()),
          liveBufferLimit: fc.integer({ min: 1, max: 6 }),
          catchUpPage: fc.integer({ min: 1, max: 7 }),
        }),
        async ({ initial, fromOffset, steps, slow, liveBufferLimit, catchUpPage }) => {
          const log = new FakeLog();
          log.commit(initial, true);
          const from = Math.max(0, initial + fromOffset);
          const delivered: number[] = [];
          const subscription = log.subscribe(
            from,
            async (entry) => {
              delivered.push(entry.position);
              if (slow(entry.position)) await nextTick();
            },
            liveBufferLimit,
            catchUpPage,
          );
          for (const s of steps) {
            if (s.kind === 'commit') log.commit(s.count, s.offer);
            else for (let t = 0; t < s.ticks; t++) await nextTick();
          }
          const expected = Array.from({ length: Math.max(0, log.entries.length - from) }, (_, i) => from + i);
          await until(() => delivered.length >= expected.length);
          await nextTick();
          await subscription.close();
          expect(delivered).toEqual(expected);
          expect(log.subscriptions.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('falls back to reading when its live buffer overflows', async () => {
    const log = new FakeLog();
    const delivered: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const subscription = log.subscribe(
      0,
      async (entry) => {
        delivered.push(entry.position);
        if (entry.position === 0) await gate;
      },
      3,
      100,
    );
    log.commit(1, true);
    await until(() => delivered.length === 1);
    for (let i = 0; i < 20; i++) log.commit(1, true); // the callback is stuck: 3 are buffered, 17 dropped
    const readsBefore = log.reads;
    release();
    await until(() => delivered.length === 21);
    await subscription.close();
    expect(delivered).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(log.reads).toBeGreaterThan(readsBefore);
  });

  it('calls no callback before subscribe has returned, and none after close', async () => {
    const log = new FakeLog();
    log.commit(5, true);
    const delivered: number[] = [];
    const subscription = log.subscribe(0, (entry) => void delivered.push(entry.position), 10, 10);
    expect(delivered).toEqual([]);
    await until(() => delivered.length === 5);
    await subscription.close();
    log.commit(3, true);
    await nextTick();
    expect(delivered).toEqual([0, 1, 2, 3, 4]);
  });
});
