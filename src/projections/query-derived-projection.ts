/**
 * A projection derived from the decision trees: the oversight queue, lineage and proxy impact need facts of
 * each query (its tenant and threshold, which node a job is on, whether a proxy's answer became the node's
 * answer) that the decision-trees projection already folds, checks and holds. Instead of parsing every query
 * event again and tracking each query a second time (that cost a third of a rebuild and half its memory,
 * docs/performance.md), a derived projection reads what the decision trees folded for the same entry.
 *
 * Contract:
 * - Shared source (the service's projection set, `createProjections`): the decision-trees projection MUST be
 *   applied to each entry before the projections derived from it (it is first in `all`); a derived projection
 *   checks that its source is exactly one entry ahead (`PROJECTION.SOURCE_OUT_OF_STEP` otherwise).
 * - Own source (`new XProjection()` without one, as the unit specs and the lineage benchmark use it): the
 *   derived projection applies each entry to a private decision-trees projection first, and reports what that
 *   one refuses as its own `PROJECTION.EVENT_INVALID`.
 * - A query event the decision trees refuse (a contradiction, a malformed event) is never seen by a derived
 *   projection: the source fails at it, and the host stops there. Checks of query events live in one place.
 * - Other contexts' events (distillation runs, proxies) are parsed by the derived projection itself.
 */
import type { RecordedQueryEvent } from '../amplification/query.events.js';
import { isLedgerError } from '../common/ledger-error.js';
import { DecisionTreesProjection, type FoldedQueryEvent } from './decision-trees/decision-trees.projection.js';
import { FoldProjection, invalidEntryAt, type ProjectionEntry } from './projection.js';

/** Query events none of the derived projections folds: the policy gate's, assignments, completion. */
const NOT_DERIVED = ['NodeAssigned', 'PolicyDecisionRecorded', 'InferenceAuthorized', 'InferenceDenied', 'QueryCompleted'] as const;
type NotDerived = (typeof NOT_DERIVED)[number];
const notDerived: ReadonlySet<string> = new Set(NOT_DERIVED);

/** The query events a derived projection is handed (`NOT_DERIVED` are counted past for it). */
export type DerivedQueryEvent = Exclude<RecordedQueryEvent, { type: NotDerived }>;
export type FoldedForDerived = Omit<FoldedQueryEvent, 'event'> & { readonly event: DerivedQueryEvent };

export abstract class QueryDerivedProjection extends FoldProjection {
  protected readonly trees: DecisionTreesProjection;
  private readonly ownsTrees: boolean;

  constructor(trees?: DecisionTreesProjection) {
    super();
    this.ownsTrees = trees === undefined;
    this.trees = trees ?? new DecisionTreesProjection();
  }

  override apply(integrated: ProjectionEntry): void {
    // Checked before the fold: running ahead of a shared source is the caller's mistake, like an entry out of
    // order, and breaks nothing (a failure inside `fold` would break this projection for good). `fold` then
    // reads what the source folded without checking again.
    if (!this.ownsTrees && integrated.position === this.position) this.trees.assertAppliedLast(integrated.position);
    super.apply(integrated);
  }

  protected fold(integrated: ProjectionEntry): boolean {
    if (this.ownsTrees) {
      try {
        this.trees.apply(integrated);
      } catch (error) {
        // The private source's refusal, under this projection's name (its reason and details kept).
        if (isLedgerError(error) && error.code === 'PROJECTION.EVENT_INVALID') {
          const details = error.details ?? {};
          const type = typeof details['eventType'] === 'string' ? details['eventType'] : String(integrated.entry?.type);
          const reason = typeof details['reason'] === 'string' ? details['reason'] : error.message;
          const { projection: _source, position: _position, eventType: _type, reason: _reason, ...rest } = details;
          throw invalidEntryAt(this.name, integrated.position, type, reason, rest);
        }
        throw error;
      }
    }
    const query = this.trees.lastFoldedAt(integrated.position);
    if (query !== null && notDerived.has(query.event.type)) return false;
    return this.foldDerived(integrated, query as FoldedForDerived | null);
  }

  /**
   * Applies one entry. `query`: what the decision trees folded for it when it is a query event (its parsed
   * event and the query's state after it), null otherwise. Returns whether the entry is of a type this
   * projection folds.
   */
  protected abstract foldDerived(integrated: ProjectionEntry, query: FoldedForDerived | null): boolean;
}
