/**
 * The oversight queue: escalated, still unanswered nodes of queries that are not stopped, oldest escalation
 * first (docs/ida-domain.md, "Projections"). An escalation stays until the node is answered (by a human, the
 * only way an escalated node is answered; a composed answer is accepted too, defensively) or its query is
 * stopped. A node escalated again while still waiting keeps its first escalation: it has waited since then.
 */
import { CanonicalArrayDigest } from '../canonical-digest.js';
import { parseProjectedEvent, type EscalationReason, type ProjectedEvent } from '../projected-events.js';
import { assertNever, FoldProjection, type ProjectionEntry } from '../projection.js';
import { SmallMap } from '../small-map.js';

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

interface QueryInfo {
  queryId: string;
  tenant: string;
  stopped: boolean;
  /** Node id → question, of every node. */
  questions: SmallMap<string>;
  /** Node ids of this query that are in the queue now; null until the first escalation. */
  waiting: Set<string> | null;
}

export class OversightQueueProjection extends FoldProjection {
  readonly name = 'oversight-queue';
  private readonly queries = new Map<string, QueryInfo>();
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

  protected fold(integrated: ProjectionEntry): boolean {
    const event = parseProjectedEvent(integrated.entry);
    if (event === null) return false;
    switch (event.type) {
      case 'AmplificationQueryOpened': {
        if (this.queries.has(event.stream)) throw new Error('query opened twice');
        this.queries.set(event.stream, {
          queryId: event.queryId,
          tenant: event.meta.tenant,
          stopped: false,
          questions: new SmallMap<string>().set(event.rootNodeId, event.question),
          waiting: null,
        });
        return true;
      }
      case 'SubqueriesDelegated': {
        const query = this.queryOf(event);
        for (const child of event.children) query.questions.set(child.nodeId, child.question);
        return true;
      }
      case 'EscalatedToHuman': {
        const query = this.queryOf(event);
        const question = query.questions.get(event.nodeId);
        if (question === undefined) throw new Error(`escalation of unknown node ${event.nodeId}`);
        // Nothing is escalated in a stopped query (the command side refuses it); if it were, it waits for no one.
        if (query.stopped || query.waiting?.has(event.nodeId) === true) return true;
        (query.waiting ??= new Set()).add(event.nodeId);
        let queue = this.queues.get(query.tenant);
        if (!queue) this.queues.set(query.tenant, (queue = new Map()));
        queue.set(`${event.stream}\u0000${event.nodeId}`, {
          tenant: query.tenant,
          item: {
            queryId: query.queryId,
            nodeId: event.nodeId,
            question,
            reason: event.reason,
            confidence: event.confidence,
            threshold: event.threshold,
            note: event.note,
            escalatedAt: event.meta.recordedAt,
            position: integrated.position,
          },
        });
        return true;
      }
      case 'HumanAnswerRecorded':
      case 'AnswerComposed': {
        const query = this.queryOf(event);
        if (query.waiting?.delete(event.nodeId) === true) this.queues.get(query.tenant)!.delete(`${event.stream}\u0000${event.nodeId}`);
        return true;
      }
      case 'QueryStopped': {
        const query = this.queryOf(event);
        query.stopped = true;
        const queue = this.queues.get(query.tenant);
        for (const nodeId of query.waiting ?? []) queue?.delete(`${event.stream}\u0000${nodeId}`);
        query.waiting = null;
        return true;
      }
      case 'InferenceRequested':
      case 'InferenceCompleted':
      case 'EnsembleAnswerAggregated':
      case 'HumanOverrideRecorded':
      case 'DistillationRunStarted':
      case 'DistillationRunCompleted':
      case 'DistillationRunFailed':
      case 'ProxyRegistered':
      case 'ProxyPromoted':
      case 'ProxyDemoted':
      case 'ProxyRetired':
        return false;
      default:
        return assertNever(event);
    }
  }

  protected computeDigest(): string {
    // Every tenant's items, by position: `{tenant, ...item}`.
    const all: { tenant: string; item: OversightItem }[] = [];
    for (const queue of this.queues.values()) for (const waiting of queue.values()) all.push(waiting);
    all.sort((a, b) => a.item.position - b.item.position);
    const digest = new CanonicalArrayDigest();
    for (const { tenant, item } of all) digest.add({ tenant, ...item });
    return digest.finish();
  }

  private queryOf(event: ProjectedEvent): QueryInfo {
    const query = this.queries.get(event.stream);
    if (query === undefined) throw new Error('event before AmplificationQueryOpened');
    if (query.tenant !== event.meta.tenant) throw new Error('event of another tenant');
    return query;
  }
}
