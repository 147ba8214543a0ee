/**
 * The queue of inference work, in memory (docs/policy-gate.md "Workers"): where every job lives (job id →
 * tenant, query, node, so a result names only its job) and, per tenant, the authorised jobs without a result
 * in authorisation order with their lease end. Folded from the log in order (rebuilt from position 0 at start,
 * then kept current by the store's subscription). A hint for the lease loop, never the authority: the lease
 * and result deciders re-check everything on the job's stream. Plain TypeScript.
 */
import type { IntegratedEntry } from '../../ledger/entry.js';

export interface JobLocation {
  readonly tenant: string;
  readonly queryId: string;
  readonly nodeId: string;
}

export interface QueuedJob extends JobLocation {
  readonly jobId: string;
  /** ms since the epoch; 0 when never leased. */
  leasedUntil: number;
}

const QUERY_PREFIX = 'query-';

/**
 * The entry types the queue folds (on query streams); `apply` ignores every other one, so a start-up that reads
 * only these (`InferenceIndex`) builds the very same queue.
 */
export const JOB_QUEUE_EVENT_TYPES: readonly string[] = Object.freeze([
  'InferenceRequested',
  'PolicyDecisionRecorded',
  'InferenceAuthorized',
  'InferenceLeased',
  'InferenceCompleted',
  'EscalatedToHuman',
  'QueryStopped',
  'QueryCompleted',
]);
const FOLDED_TYPES: ReadonlySet<string> = new Set(JOB_QUEUE_EVENT_TYPES);

export class JobQueue {
  private readonly locations = new Map<string, JobLocation>();
  /**
   * job id → global position of its `PolicyDecisionRecorded` on the query stream of its location (recorded after
   * its latest `InferenceRequested`), so that leases and results need not read the stream again to find it.
   */
  private readonly decisions = new Map<string, number>();
  /** tenant → job id → job, in authorisation order. */
  private readonly open = new Map<string, Map<string, QueuedJob>>();
  /** query id → its open jobs. */
  private readonly byQuery = new Map<string, Set<string>>();
  private readonly listeners = new Set<(tenant: string) => void>();

  location(jobId: string): JobLocation | undefined {
    return this.locations.get(jobId);
  }

  /**
   * The global position of the job's `PolicyDecisionRecorded` on `query-<queryId>`, when this queue has applied
   * it; undefined otherwise (not yet applied, none recorded, or the job lives on another query): then read the
   * stream.
   */
  decisionPosition(jobId: string, queryId: string): number | undefined {
    return this.locations.get(jobId)?.queryId === queryId ? this.decisions.get(jobId) : undefined;
  }

  /** Called with a tenant whenever one of its jobs may have become leasable. */
  onChange(listener: (tenant: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The tenant's open jobs not leased at `now`, oldest authorisation first. */
  leasable(tenant: string, now: number): QueuedJob[] {
    const jobs = this.open.get(tenant);
    if (jobs === undefined) return [];
    const out: QueuedJob[] = [];
    for (const job of jobs.values()) if (job.leasedUntil <= now) out.push(job);
    return out;
  }

  /** The earliest end of a lease of the tenant after `now` (when a job becomes leasable again), or null. */
  nextLeaseEnd(tenant: string, now: number): number | null {
    let next: number | null = null;
    for (const job of this.open.get(tenant)?.values() ?? []) {
      if (job.leasedUntil > now && (next === null || job.leasedUntil < next)) next = job.leasedUntil;
    }
    return next;
  }

  openCount(tenant: string): number {
    return this.open.get(tenant)?.size ?? 0;
  }

  /** Folds one entry (anything but `JOB_QUEUE_EVENT_TYPES` on a query stream is ignored; malformed data too). */
  apply({ entry, position }: IntegratedEntry): void {
    if (!FOLDED_TYPES.has(entry.type) || !entry.stream.startsWith(QUERY_PREFIX)) return;
    const queryId = entry.stream.slice(QUERY_PREFIX.length);
    const tenant = entry.meta.tenant;
    const d = entry.data;
    const str = (field: string): string | undefined => (typeof d[field] === 'string' ? (d[field] as string) : undefined);
    switch (entry.type) {
      case 'InferenceRequested': {
        const jobId = str('jobId');
        const nodeId = str('nodeId');
        if (jobId !== undefined && nodeId !== undefined) {
          this.locations.set(jobId, { tenant, queryId, nodeId });
          this.decisions.delete(jobId);
        }
        break;
      }
      case 'PolicyDecisionRecorded': {
        const jobId = str('jobId');
        if (jobId !== undefined && this.locations.get(jobId)?.queryId === queryId) this.decisions.set(jobId, position);
        break;
      }
      case 'InferenceAuthorized': {
        const jobId = str('jobId');
        const nodeId = str('nodeId');
        if (jobId === undefined || nodeId === undefined) break;
        let jobs = this.open.get(tenant);
        if (jobs === undefined) this.open.set(tenant, (jobs = new Map()));
        jobs.set(jobId, { jobId, tenant, queryId, nodeId, leasedUntil: 0 });
        let ofQuery = this.byQuery.get(queryId);
        if (ofQuery === undefined) this.byQuery.set(queryId, (ofQuery = new Set()));
        ofQuery.add(jobId);
        this.changed(tenant);
        break;
      }
      case 'InferenceLeased': {
        const job = this.openJob(tenant, str('jobId'));
        const until = Date.parse(str('leasedUntil') ?? '');
        if (job !== undefined && !Number.isNaN(until)) job.leasedUntil = until;
        break;
      }
      case 'InferenceCompleted':
        this.close(tenant, queryId, str('jobId'));
        break;
      case 'EscalatedToHuman': {
        // Escalation abandons the node's pending jobs.
        const nodeId = str('nodeId');
        for (const jobId of [...(this.byQuery.get(queryId) ?? [])]) {
          if (this.openJob(tenant, jobId)?.nodeId === nodeId) this.close(tenant, queryId, jobId);
        }
        break;
      }
      case 'QueryStopped':
      case 'QueryCompleted':
        for (const jobId of [...(this.byQuery.get(queryId) ?? [])]) this.close(tenant, queryId, jobId);
        break;
      default:
        break;
    }
  }

  private openJob(tenant: string, jobId: string | undefined): QueuedJob | undefined {
    return jobId === undefined ? undefined : this.open.get(tenant)?.get(jobId);
  }

  private close(tenant: string, queryId: string, jobId: string | undefined): void {
    if (jobId === undefined) return;
    const jobs = this.open.get(tenant);
    jobs?.delete(jobId);
    if (jobs?.size === 0) this.open.delete(tenant);
    const ofQuery = this.byQuery.get(queryId);
    ofQuery?.delete(jobId);
    if (ofQuery?.size === 0) this.byQuery.delete(queryId);
  }

  private changed(tenant: string): void {
    for (const listener of this.listeners) listener(tenant);
  }
}
