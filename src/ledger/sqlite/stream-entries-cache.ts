/**
 * The whole streams the store read or wrote lately, in memory: every command loads its aggregate's stream
 * before it decides (DESIGN §4), so a query stream is read in full three times per inference job, and each
 * time its rows were fetched and parsed again. Entries are immutable once integrated and the store is the
 * stream's only writer, so a cached stream stays exact when the store adds what it commits (`extend`).
 *
 * Bounded by the entries held (least recently used streams go first); a stream too large for a fair share is
 * not kept. Cached entries are deeply frozen: readers share them, as subscribers already share the entries
 * an append integrates.
 */
import type { IntegratedEntry } from '../entry.js';
import { deepFreeze } from './append-request.js';

export interface StreamEntriesCacheOptions {
  /** Entries held in all (default 20 000: some 30 MB of entries of ~600 bytes). */
  maxEntries?: number;
  /** A stream longer than this is not kept (default maxEntries / 4). */
  maxStreamEntries?: number;
}

export class StreamEntriesCache {
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly streams = new Map<string, IntegratedEntry[]>();
  private held = 0;
  private readonly maxEntries: number;
  private readonly maxStreamEntries: number;

  constructor(options: StreamEntriesCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 20_000;
    this.maxStreamEntries = options.maxStreamEntries ?? Math.max(1, Math.floor(this.maxEntries / 4));
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.held;
  }

  /** The stream's entries from `fromRevision` on (a new array), or undefined when it is not cached. */
  read(stream: string, fromRevision: number): IntegratedEntry[] | undefined {
    const entries = this.streams.get(stream);
    if (entries === undefined) return undefined;
    this.streams.delete(stream);
    this.streams.set(stream, entries);
    return entries.slice(fromRevision);
  }

  /** Keeps a whole stream as read from storage: revisions 0..n-1, in order (anything else is not kept). */
  remember(stream: string, entries: readonly IntegratedEntry[]): void {
    this.forget(stream);
    if (entries.length === 0 || entries.length > this.maxStreamEntries) return;
    if (!entries.every((e, i) => e.entry.revision === i && e.entry.stream === stream)) return;
    this.streams.set(stream, entries.map((e) => deepFreeze(e)));
    this.held += entries.length;
    this.evict();
  }

  /**
   * Adds entries just committed: a new stream (revision 0 on) is kept whole from its birth; a cached one is
   * extended when they follow its last revision, else dropped (the next read goes to storage).
   */
  extend(stream: string, appended: readonly IntegratedEntry[]): void {
    if (appended.length === 0) return;
    const entries = this.streams.get(stream);
    if (entries === undefined) {
      if (appended[0]!.entry.revision === 0) this.remember(stream, appended);
      return;
    }
    if (appended[0]!.entry.revision !== entries.length || entries.length + appended.length > this.maxStreamEntries) {
      this.forget(stream);
      return;
    }
    for (const entry of appended) entries.push(deepFreeze(entry));
    this.held += appended.length;
    this.streams.delete(stream);
    this.streams.set(stream, entries);
    this.evict();
  }

  forget(stream: string): void {
    const entries = this.streams.get(stream);
    if (entries === undefined) return;
    this.streams.delete(stream);
    this.held -= entries.length;
  }

  clear(): void {
    this.streams.clear();
    this.held = 0;
  }

  private evict(): void {
    for (const [stream] of this.streams) {
      if (this.held <= this.maxEntries) return;
      this.forget(stream);
    }
  }
}
