/**
 * The whole streams the store read lately, kept as their stored text: every command loads its
 * aggregate's stream before it decides (DESIGN §4), so a query stream is read three times per inference job,
 * and each time its rows were fetched from SQLite again. Entries are immutable once integrated and the store is
 * the stream's only writer, so a cached stream stays exact when the store adds what it commits (`extend`).
 *
 * Rows are kept as text (the signed entry's JSON and its leaf hash), not as parsed objects: every read parses
 * fresh, unshared objects, as a read from SQLite does, and the bound is one of memory: the characters held
 * (least recently used streams go first; a stream larger than a fair share is not kept). A stream only written,
 * never read, is not kept.
 */
import type { IntegratedEntry, SignedEntry } from '../entry.js';

/** One stored row of a stream: what SQLite holds for it (the leaf hash in hex). */
export interface StreamRow {
  position: number;
  revision: number;
  json: string;
  leafHash: string;
}

export interface StreamEntriesCacheOptions {
  /** Characters of entry JSON held in all (default 32 Mi: some 30,000 entries of a kilobyte). */
  maxChars?: number;
  /** A stream with more characters than this is not kept (default maxChars / 4). */
  maxStreamChars?: number;
}

/** A stream's rows, by revision (index = revision). */
interface CachedStream {
  positions: number[];
  jsons: string[];
  leafHashes: string[];
  chars: number;
}

export class StreamEntriesCache {
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly streams = new Map<string, CachedStream>();
  private held = 0;
  private readonly maxChars: number;
  private readonly maxStreamChars: number;

  constructor(options: StreamEntriesCacheOptions = {}) {
    this.maxChars = options.maxChars ?? 32 * 1024 * 1024;
    this.maxStreamChars = options.maxStreamChars ?? Math.max(1, Math.floor(this.maxChars / 4));
  }

  /** Characters of entry JSON held now (for tests and metrics). */
  get size(): number {
    return this.held;
  }

  /** Whether the stream is kept (then its committed rows must be handed to `extend`). */
  holds(stream: string): boolean {
    return this.streams.has(stream);
  }

  /** The stream's entries from `fromRevision` on, freshly parsed; undefined when the stream is not cached. */
  read(stream: string, fromRevision: number): IntegratedEntry[] | undefined {
    const cached = this.streams.get(stream);
    if (cached === undefined) return undefined;
    this.streams.delete(stream);
    this.streams.set(stream, cached);
    const entries: IntegratedEntry[] = [];
    for (let i = fromRevision; i < cached.jsons.length; i++) {
      entries.push({ position: cached.positions[i]!, entry: JSON.parse(cached.jsons[i]!) as SignedEntry, leafHash: cached.leafHashes[i]! });
    }
    return entries;
  }

  /** Keeps a whole stream as read from storage: revisions 0..n-1, in order (anything else is not kept). */
  remember(stream: string, rows: readonly StreamRow[]): void {
    this.forget(stream);
    if (rows.length === 0 || !rows.every((row, i) => row.revision === i)) return;
    this.add(stream, { positions: [], jsons: [], leafHashes: [], chars: 0 }, rows);
  }

  /**
   * Adds rows just committed to a cached stream when they follow its last revision, else drops it (the next read
   * goes to storage). A stream nobody read is not kept: appends alone (a write-heavy load) hold no memory here.
   */
  extend(stream: string, rows: readonly StreamRow[]): void {
    const cached = this.streams.get(stream);
    if (cached === undefined || rows.length === 0) return;
    this.forget(stream);
    if (rows[0]!.revision === cached.jsons.length) this.add(stream, cached, rows);
  }

  forget(stream: string): void {
    const cached = this.streams.get(stream);
    if (cached === undefined) return;
    this.streams.delete(stream);
    this.held -= cached.chars;
  }

  clear(): void {
    this.streams.clear();
    this.held = 0;
  }

  /** Appends `rows` (consecutive revisions) to `cached` and keeps it as the most recent, within the bounds. */
  private add(stream: string, cached: CachedStream, rows: readonly StreamRow[]): void {
    let chars = cached.chars;
    for (let i = 0; i < rows.length; i++) {
      if (rows[i]!.revision !== cached.jsons.length + i) return;
      chars += rows[i]!.json.length;
    }
    if (chars > this.maxStreamChars) return;
    for (const row of rows) {
      cached.positions.push(row.position);
      cached.jsons.push(row.json);
      cached.leafHashes.push(row.leafHash);
    }
    cached.chars = chars;
    this.streams.set(stream, cached);
    this.held += chars;
    for (const [oldest] of this.streams) {
      if (this.held <= this.maxChars) return;
      this.forget(oldest);
    }
  }
}
