/**
 * The oversight queue: escalated, still unanswered nodes of queries that are not stopped, oldest escalation
 * first (docs/ida-domain.md, "Projections"). An escalation stays until the node is answered (by a human, the
 * only way an escalated node is answered; a composed answer is accepted too, defensively) or its query is
 * stopped. Derived from the decision trees (`QueryDerivedProjection`): they check every query event (a second
 * escalation of a waiting node, an escalation in a stopped query, an unknown node are contradictions they refuse)
 * and hold each node's question, so this projection keeps only the waiting nodes.
 */
import type { EscalationReason } from '../../amplification/query.events.js';
import { CanonicalArrayDigest } from '../canonical-digest.js';
import { assertNever, type ProjectionEntry } from '../projection.js';
import { QueryDerivedProjection, type FoldedForDerived } from '../query-derived-projection.js';

export type OversightItem = {
  queryId: string;
  nodeId: string;
  question: string;
  reason: EscalationReason;
  confidence: number | null;
  threshold: number | null;
  note: string | null;
  escalatedAt: string;
  /** Global position of the `EscalatedToHuman` entry (its inclusion can be proven). */
  position: number;
};

/** Items written between two chances to give the event loop back. */
const SLICE_ITEMS = 1024;

export class OversightQueueProjection extends QueryDerivedProjection {
  readonly name = 'oversight-queue';
  /** Per query stream with a waiting node: the waiting node ids. */
  private readonly waiting = new Map<string, Set<string>>();
  /**
   * Per tenant, by `stream \0 nodeId`. A Map keeps insertion order, and items are inserted in position order
   * and never re-inserted, so iterating it is already oldest-first.
   */
  private readonly queues = new Map<string, Map<string, { tenant: string; item: OversightItem }>>();

  /** The tenant's queue, oldest escalation first; `limit` items at most. */
  queue(tenant: string, limit = Number.MAX_SAFE_INTEGER): { items: OversightItem[]; total: number } {
    this.assertHealthy();
    const queue = this.queues.get(tenant);
    const items: OversightItem[] = [];
    if (queue) {
      for (const { item } of queue.values()) {
        if (items.length >= limit) break;
        items.push({ ...item });
      }
    }
    return { items, total: queue?.size ?? 0 };
  }

  protected foldDerived(integrated: ProjectionEntry, query: FoldedForDerived | null): boolean {
    if (query === null) return false;
    const { event, state, stream } = query;
    switch (event.type) {
      case 'AmplificationQueryOpened':
      case 'SubqueriesDelegated':
        return true;
      case 'EscalatedToHuman': {
        const nodeId = event.data.nodeId;
        // The decision trees refuse an escalation of an unknown node, or of one escalated and still waiting.
        const question = state.nodes.get(nodeId)!.question;
        // Nothing is escalated in a stopped query (the command side refuses it); if it were, it waits for no one.
        if (state.status === 'stopped') return true;
        let waiting = this.waiting.get(stream);
        if (waiting === undefined) this.waiting.set(stream, (waiting = new Set()));
        waiting.add(nodeId);
        let queue = this.queues.get(state.tenant);
        if (!queue) this.queues.set(state.tenant, (queue = new Map()));
        queue.set(`${stream}\u0000${nodeId}`, {
          tenant: state.tenant,
          item: {
            queryId: state.queryId,
            nodeId,
            question,
            reason: event.data.reason,
            confidence: event.data.confidence,
            threshold: event.data.threshold,
            note: event.data.note,
            escalatedAt: event.meta.recordedAt,
            position: integrated.position,
          },
        });
        return true;
      }
      case 'HumanAnswerRecorded':
      case 'AnswerComposed': {
        const waiting = this.waiting.get(stream);
        if (waiting?.delete(event.data.nodeId) === true) {
          this.queues.get(state.tenant)!.delete(`${stream}\u0000${event.data.nodeId}`);
          if (waiting.size === 0) this.waiting.delete(stream);
        }
        return true;
      }
      case 'QueryStopped': {
        const queue = this.queues.get(state.tenant);
        for (const nodeId of this.waiting.get(stream) ?? []) queue?.delete(`${stream}\u0000${nodeId}`);
        this.waiting.delete(stream);
        return true;
      }
      case 'InferenceRequested':
      case 'InferenceCompleted':
      case 'EnsembleAnswerAggregated':
      case 'HumanOverrideRecorded':
        return false;
      default:
        return assertNever(event);
    }
  }

  protected *digestSteps(): Generator<void, string, void> {
    // Every tenant's items, by position: `{tenant, ...item}`.
    const all: { tenant: string; item: OversightItem }[] = [];
    for (const queue of this.queues.values()) for (const waiting of queue.values()) all.push(waiting);
    all.sort((a, b) => a.item.position - b.item.position);
    const digest = new CanonicalArrayDigest();
    for (let i = 0; i < all.length; i++) {
      const { tenant, item } = all[i]!;
      digest.add({ tenant, ...item });
      if (i % SLICE_ITEMS === SLICE_ITEMS - 1) yield;
    }
    return digest.finish();
  }
}
