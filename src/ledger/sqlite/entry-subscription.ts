import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { IntegratedEntry } from '../entry.js';
import type { Subscription } from '../event-store.port.js';

/** What a subscription needs from its store. */
export interface SubscriptionSource {
  /** Number of integrated entries; every position below it can be read. */
  committedSize(): number;
  /** Integrated entries at positions [from, to), in order. */
  readRange(from: number, to: number): IntegratedEntry[];
}

export type SubscriptionErrorHandler = (error: unknown, entry: IntegratedEntry) => void;

export interface EntrySubscriptionLimits {
  /** Entries held for a subscriber that is behind; beyond this it reads them back from the database instead. */
  liveBufferLimit: number;
  /** Rows read per catch-up query (the loop yields to the event loop between pages). */
  catchUpPage: number;
}

const DEFAULT_LIMITS: EntrySubscriptionLimits = { liveBufferLimit: 10_000, catchUpPage: 500 };

/**
 * Delivers every entry from a position on, exactly once and in order, to one callback at a time.
 *
 * How catch-up and live meet without a gap or a duplicate: the store registers the subscription *before* it
 * reads anything, and hands it each committed batch (`offer`) in the same synchronous step in which it raises
 * `committedSize`. The loop only ever delivers position `next`: from the live buffer when the buffer's head is
 * `next`, otherwise from the database (reading up to the buffer's head, or to `committedSize`). Entries below
 * `next` are dropped; a full buffer drops new offers, which the database path then fills in. So neither a slow
 * subscriber nor a burst of commits during catch-up can lose or repeat a position.
 */
export class EntrySubscription implements Subscription {
  private next: number;
  private buffer: IntegratedEntry[] = [];
  private bufferHead = 0;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly finished: Promise<void>;

  constructor(
    private readonly source: SubscriptionSource,
    fromPosition: number,
    private readonly onEntry: (entry: IntegratedEntry) => void | Promise<void>,
    private readonly onError: SubscriptionErrorHandler,
    private readonly onFinished: (subscription: EntrySubscription) => void,
    private readonly limits: EntrySubscriptionLimits = DEFAULT_LIMITS,
  ) {
    this.next = fromPosition;
    // Started on a later tick: no callback may run before `subscribe` has returned the handle.
    this.finished = Promise.resolve()
      .then(() => this.run())
      .finally(() => this.onFinished(this));
  }

  /** Called by the store right after a commit, with the committed entries in position order. */
  offer(entries: readonly IntegratedEntry[]): void {
    if (this.closed) return;
    const last = entries[entries.length - 1];
    if (last !== undefined && last.position >= this.next) {
      for (const entry of entries) {
        if (entry.position < this.next) continue;
        if (this.buffer.length - this.bufferHead >= this.limits.liveBufferLimit) break;
        this.buffer.push(entry);
      }
    }
    this.signal();
  }

  /** Wakes the loop (new entries were committed without an offer, e.g. after a resync). */
  signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Stops delivery; resolves once no callback is running. Do not await it inside the callback (it waits for it). */
  close(): Promise<void> {
    this.closed = true;
    this.signal();
    return this.finished;
  }

  private bufferedHead(): IntegratedEntry | undefined {
    while (this.bufferHead < this.buffer.length && this.buffer[this.bufferHead]!.position < this.next) this.bufferHead++;
    if (this.bufferHead === this.buffer.length) {
      this.buffer = [];
      this.bufferHead = 0;
      return undefined;
    }
    if (this.bufferHead > 1024) {
      this.buffer = this.buffer.slice(this.bufferHead);
      this.bufferHead = 0;
    }
    return this.buffer[this.bufferHead];
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const buffered = this.bufferedHead();
      if (buffered !== undefined && buffered.position === this.next) {
        this.bufferHead++;
        if (!(await this.deliver(buffered))) return;
        continue;
      }
      const readTo = Math.min(buffered?.position ?? Infinity, this.source.committedSize(), this.next + this.limits.catchUpPage);
      if (this.next < readTo) {
        const entries = this.source.readRange(this.next, readTo);
        for (const entry of entries) {
          if (this.closed || !(await this.deliver(entry))) return;
        }
        await yieldToEventLoop(); // a long catch-up of synchronous callbacks must not starve appends
        if (entries.length > 0) continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private async deliver(entry: IntegratedEntry): Promise<boolean> {
    try {
      const result = this.onEntry(entry);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') await result;
      this.next = entry.position + 1;
      return true;
    } catch (error) {
      // Stop rather than skip: a subscriber (projection) that missed an entry would silently diverge.
      this.closed = true;
      this.onError(error, entry);
      return false;
    }
  }
}
