/**
 * Decision trees: one per query, exactly as `GET /v1/queries/:id` renders it — the projection reuses the
 * amplification fold (`parseRecordedQueryEvent`, `replay`, `decisionTree`) per query stream instead of
 * re-implementing it, so the two can never disagree.
 *
 * Speed: `evolve` is immutable (each event copies the query's node map: quadratic on a big tree). So events
 * are parsed (and checked) at `apply`, then buffered per query and folded with `replay`, which copies the node
 * and job maps once per call: a query's buffer is folded once it holds a quarter as many events as those maps
 * hold entries (within a few events for a small query), and before any read or digest. Each event is folded
 * once and costs at most 4 copied map entries on average — linear overall. `replay` and `evolve` give the same
 * state (amplification's contract), so the result does not depend on when buffers are folded. A stream
 * inconsistency the fold refuses (QUERY.CORRUPT_STREAM) may surface at a later fold; it still names the
 * position of the event that caused it.
 */
import { LedgerError } from '../../common/ledger-error.js';
import { isQueryEventType, parseRecordedQueryEvent, type RecordedQueryEvent } from '../../amplification/query.events.js';
import { decisionTree, evolve, initialQueryState, replay, type DecisionTree, type QueryState } from '../../amplification/query.state.js';
import { CanonicalArrayDigest, compareStrings, fastCanonicalJson, sha256Digest } from '../canonical-digest.js';
import { FoldProjection, invalidEntry, invalidEntryAt, type ProjectionEntry } from '../projection.js';

interface QuerySlot {
  stream: string;
  state: QueryState;
  /** `sha256:` of the canonical JSON of the rendered tree; null until computed and after each change. */
  digest: string | null;
  /** Parsed, not yet folded events, with their positions (to name the one that fails). */
  pending: RecordedQueryEvent[];
  positions: number[];
}

/** Map entries a fold may copy per buffered event (amortised). */
const COPIES_PER_EVENT = 4;
const QUERY_STREAM = 'query-';

export class DecisionTreesProjection extends FoldProjection {
  readonly name = 'decision-trees';
  private readonly slots = new Map<string, QuerySlot>();
  /** The slots' streams in sorted order; null after a new query arrives. */
  private sortedStreams: string[] | null = null;

  /** The tree of a query of `tenant`, or undefined (unknown query, or another tenant's). */
  tree(tenant: string, queryId: string): DecisionTree | undefined {
    this.assertHealthy();
    const slot = this.slots.get(QUERY_STREAM + queryId);
    if (!slot) return undefined;
    const state = this.settled(slot);
    if (state.status === 'none' || state.tenant !== tenant) return undefined;
    return decisionTree(state);
  }

  /** Folds every query's buffered events. */
  settle(): void {
    this.assertHealthy();
    for (const slot of this.slots.values()) if (slot.pending.length > 0) this.flush(slot);
  }

  /** Number of queries folded so far. */
  get queryCount(): number {
    return this.slots.size;
  }

  protected fold(integrated: ProjectionEntry): boolean {
    const entry = integrated.entry;
    if (!isQueryEventType(entry.type)) return false;
    if (typeof entry.stream !== 'string' || !entry.stream.startsWith(QUERY_STREAM))
      throw invalidEntry(this.name, integrated, `a query event belongs on a ${QUERY_STREAM}<id> stream, not ${String(entry.stream)}`);
    let recorded: RecordedQueryEvent;
    try {
      recorded = parseRecordedQueryEvent(entry);
    } catch (error) {
      throw invalidEntry(this.name, integrated, error instanceof Error ? error.message : String(error), causeOf(error));
    }
    let slot = this.slots.get(entry.stream);
    if (slot === undefined) {
      slot = { stream: entry.stream, state: initialQueryState, digest: null, pending: [], positions: [] };
      this.slots.set(entry.stream, slot);
      this.sortedStreams = null;
    }
    slot.digest = null;
    slot.pending.push(recorded);
    slot.positions.push(integrated.position);
    // `replay` copies the query's node and job maps once per call: fold as soon as the buffer holds a quarter
    // as many events as those maps hold entries — at once for most queries, whose maps are small — so each
    // event costs at most 4 copied map entries, and parsed events die young instead of being retained.
    const copied = slot.state.status === 'none' ? 0 : slot.state.nodes.size + slot.state.jobs.size;
    if (slot.pending.length * COPIES_PER_EVENT >= copied) this.flush(slot);
    return true;
  }

  /**
   * Two levels, so that the live digest after a few changes costs the changed trees, not all of them:
   * `[{queryId, digest}]` sorted by stream (= by query id), each `digest` being `sha256:` of the RFC 8785 JSON
   * of that query's rendered tree.
   */
  protected computeDigest(): string {
    this.sortedStreams ??= [...this.slots.keys()].sort(compareStrings);
    const digest = new CanonicalArrayDigest();
    for (const stream of this.sortedStreams) {
      const slot = this.slots.get(stream)!;
      const state = this.settled(slot);
      if (state.status === 'none') continue;
      slot.digest ??= sha256Digest(fastCanonicalJson(decisionTree(state)));
      digest.add({ queryId: state.queryId, digest: slot.digest });
    }
    return digest.finish();
  }

  private settled(slot: QuerySlot): QueryState {
    if (slot.pending.length > 0) this.flush(slot);
    return slot.state;
  }

  private flush(slot: QuerySlot): void {
    try {
      slot.state = replay(slot.pending, slot.state);
    } catch (error) {
      this.fail(this.locate(slot, error));
    }
    slot.pending = [];
    slot.positions = [];
  }

  /** The failure of a buffered fold, at the position of the event that caused it (found by folding one by one). */
  private locate(slot: QuerySlot, error: unknown): LedgerError {
    let state = slot.state;
    for (let i = 0; i < slot.pending.length; i++) {
      const recorded = slot.pending[i]!;
      try {
        state = evolve(state, recorded);
      } catch (cause) {
        return invalidEntryAt(this.name, slot.positions[i]!, recorded.type, cause instanceof Error ? cause.message : String(cause), {
          stream: slot.stream,
          ...causeOf(cause),
        });
      }
    }
    return error instanceof LedgerError ? error : new LedgerError('PROJECTION.EVENT_INVALID', 'internal', String(error));
  }
}

function causeOf(error: unknown): Record<string, unknown> {
  return error instanceof LedgerError ? { cause: error.code } : {};
}
