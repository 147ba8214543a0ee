/**
 * Decision trees: one per query, exactly as `GET /v1/queries/:id` renders it — the projection reuses the
 * amplification fold (`foldInto`, the in-place twin of `evolve`, and `decisionTree`) per query stream instead
 * of re-implementing it, so the two can never disagree.
 *
 * Speed: each event is parsed and folded at `apply`, in place, into a state this projection alone holds
 * (`evolve` is immutable: each event would copy the query's node map, quadratic on a big tree); recurring
 * values (actors, tenants, proxy versions) are shared through one `FoldInterner`. Events are read by
 * `leanRecordedQueryEvent` (the amplification parser's result, at a tenth of its cost), falling back to
 * `parseRecordedQueryEvent` for whatever it does not read. A stream inconsistency the fold refuses
 * (QUERY.CORRUPT_STREAM) fails `apply` at the position of the event that caused it.
 */
import { LedgerError } from '../../common/ledger-error.js';
import { isQueryEventType, parseRecordedQueryEvent, type RecordedQueryEvent } from '../../amplification/query.events.js';
import {
  decisionTree,
  FoldInterner,
  foldInto,
  initialQueryState,
  type DecisionTree,
  type ExistingQueryState,
  type QueryState,
} from '../../amplification/query.state.js';
import { CanonicalArrayDigest, compareStrings, fastCanonicalJson, sha256Digest } from '../canonical-digest.js';
import { FoldProjection, invalidEntry, type ProjectionEntry } from '../projection.js';
import { leanRecordedQueryEvent } from './lean-query-event.js';

/**
 * The query event the decision-trees projection folded last, as the projections derived from it read it
 * (`QueryDerivedProjection`): the event, parsed and checked once, and the query's state after it.
 */
export interface FoldedQueryEvent {
  readonly position: number;
  readonly stream: string;
  readonly event: RecordedQueryEvent;
  readonly state: ExistingQueryState;
}


const QUERY_STREAM = 'query-';

export class DecisionTreesProjection extends FoldProjection {
  readonly name = 'decision-trees';
  /** Per query stream, its folded state (the map is all a fold touches per event besides the state itself). */
  private readonly states = new Map<string, ExistingQueryState>();
  /**
   * Per query stream, `sha256:` of the canonical JSON of its rendered tree, once computed; dropped at the
   * query's next event. Empty through a rebuild's fold (digests come after it), so dropping costs nothing there.
   */
  private readonly treeDigests = new Map<string, string>();
  private readonly interner = new FoldInterner();
  /** The states' streams in sorted order; null after a new query arrives. */
  private sortedStreams: string[] | null = null;
  /** The last query event folded (one object, overwritten: derived projections read it right after `apply`). */
  private readonly last: { position: number; stream: string; event: RecordedQueryEvent | null; state: ExistingQueryState | null } = {
    position: -1,
    stream: '',
    event: null,
    state: null,
  };

  /** The tree of a query of `tenant`, or undefined (unknown query, or another tenant's). */
  tree(tenant: string, queryId: string): DecisionTree | undefined {
    this.assertHealthy();
    const state = this.states.get(QUERY_STREAM + queryId);
    if (state === undefined || state.tenant !== tenant) return undefined;
    return decisionTree(state);
  }

  /**
   * Throws `PROJECTION.SOURCE_OUT_OF_STEP` (or this projection's failure) unless the entry at `position` is the
   * one this projection applied last: a projection derived from it is applied right after it, entry by entry.
   */
  assertAppliedLast(position: number): void {
    this.assertHealthy();
    if (this.position !== position + 1)
      throw new LedgerError(
        'PROJECTION.SOURCE_OUT_OF_STEP',
        'internal',
        `${this.name} is at position ${this.position}, not right after ${position}: a derived projection is applied after its source, entry by entry`,
        { projection: this.name, position: this.position, expected: position + 1 },
      );
  }

  /**
   * Right after this projection applied the entry at `position` (`assertAppliedLast`): the query event it folded
   * there, or null when that entry is no query event. Valid until the next `apply` (the object is reused).
   */
  lastFoldedAt(position: number): FoldedQueryEvent | null {
    return this.last.position === position ? (this.last as FoldedQueryEvent) : null;
  }

  /** The folded state of a query stream (`query-<id>`), whatever its tenant; undefined when never opened. */
  stateOf(stream: string): ExistingQueryState | undefined {
    this.assertHealthy();
    return this.states.get(stream);
  }

  /** Number of queries folded so far. */
  get queryCount(): number {
    return this.states.size;
  }

  protected fold(integrated: ProjectionEntry): boolean {
    const entry = integrated.entry;
    if (!isQueryEventType(entry.type)) return false;
    const stream = entry.stream;
    if (typeof stream !== 'string' || !stream.startsWith(QUERY_STREAM))
      throw invalidEntry(this.name, integrated, `a query event belongs on a ${QUERY_STREAM}<id> stream, not ${String(stream)}`);
    let recorded: RecordedQueryEvent;
    // The lean parser's events are built fresh for this call and only read afterwards: the fold may adopt them.
    let adopt: boolean;
    try {
      // The lean parse, else the amplification parser (an event the lean one does not read, or a malformed one).
      const lean = leanRecordedQueryEvent(entry);
      adopt = lean !== undefined;
      recorded = lean ?? parseRecordedQueryEvent(entry);
    } catch (error) {
      throw invalidEntry(this.name, integrated, error instanceof Error ? error.message : String(error), causeOf(error));
    }
    let state = this.states.get(stream);
    try {
      if (state === undefined) {
        state = foldInto(initialQueryState, recorded, this.interner, adopt);
        this.states.set(stream, state);
        this.sortedStreams = null;
      } else {
        // In place: the same state object, updated.
        foldInto(state, recorded, this.interner, adopt);
        if (this.treeDigests.size !== 0) this.treeDigests.delete(stream);
      }
    } catch (error) {
      throw invalidEntry(this.name, integrated, error instanceof Error ? error.message : String(error), { stream, ...causeOf(error) });
    }
    const last = this.last;
    last.position = integrated.position;
    last.stream = stream;
    last.event = recorded;
    last.state = state;
    return true;
  }

  /**
   * Two levels, so that the live digest after a few changes costs the changed trees, not all of them:
   * `[{queryId, digest}]` sorted by stream (= by query id), each `digest` being `sha256:` of the RFC 8785 JSON
   * of that query's rendered tree.
   */
  protected *digestSteps(): Generator<void, string, void> {
    this.sortedStreams ??= [...this.states.keys()].sort(compareStrings);
    const digest = new CanonicalArrayDigest();
    for (const stream of this.sortedStreams) {
      const state = this.states.get(stream)!;
      let treeDigest = this.treeDigests.get(stream);
      if (treeDigest === undefined) {
        treeDigest = sha256Digest(fastCanonicalJson(decisionTree(state)));
        this.treeDigests.set(stream, treeDigest);
        yield;
      }
      digest.add({ queryId: state.queryId, digest: treeDigest });
    }
    return digest.finish();
  }
}

function causeOf(error: unknown): Record<string, unknown> {
  return error instanceof LedgerError ? { cause: error.code } : {};
}
