/**
 * The states the command runner folded lately, per (fold, stream), so that the next command on the stream
 * folds only what was appended since (decision 24). Bounded two ways, least recently used first: by count, and
 * by the entries folded into them — a state grows with its stream, and a thousand states of long queries must
 * not hold gigabytes. A state folded from more than a quarter of that bound is not kept (its stream is folded
 * whole on each load, as without this cache). Plain TypeScript.
 */
import type { SignedEntry } from '../../ledger/entry.js';

/**
 * A state the runner folded, and the stream's entries after it that are still to be folded into it (those of
 * the runner's own last append); `revision`: the last of those, or the state's own; `tenant`: the stream's
 * (its first entry's).
 */
export interface FoldedState {
  readonly state: unknown;
  readonly pending?: readonly SignedEntry[];
  readonly revision: number;
  readonly tenant: string;
}

export interface FoldedStatesOptions {
  /** States kept at most (default 1,024). */
  maxStates?: number;
  /** Entries folded into the kept states, in all (default 200,000: some 70 MB of query state). */
  maxEntries?: number;
}

export class FoldedStates {
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly states = new Map<string, FoldedState>();
  private entries = 0;
  private readonly maxStates: number;
  private readonly maxEntries: number;

  constructor(options: FoldedStatesOptions = {}) {
    this.maxStates = options.maxStates ?? 1024;
    this.maxEntries = options.maxEntries ?? 200_000;
  }

  /** The state kept under `key`, taken out (a caller that folds it further keeps the result with `keep`). */
  take(key: string): FoldedState | undefined {
    const folded = this.states.get(key);
    if (folded !== undefined) this.drop(key, folded);
    return folded;
  }

  keep(key: string, folded: FoldedState): void {
    const previous = this.states.get(key);
    if (previous !== undefined) this.drop(key, previous);
    const weight = folded.revision + 1;
    if (weight > this.maxEntries / 4) return;
    this.states.set(key, folded);
    this.entries += weight;
    for (const [oldest, state] of this.states) {
      if (this.states.size <= this.maxStates && this.entries <= this.maxEntries) return;
      this.drop(oldest, state);
    }
  }

  /** States kept now, and the entries folded into them (for tests and metrics). */
  get size(): { states: number; entries: number } {
    return { states: this.states.size, entries: this.entries };
  }

  private drop(key: string, folded: FoldedState): void {
    this.states.delete(key);
    this.entries -= folded.revision + 1;
  }
}
