/**
 * The lease side of a query's jobs, folded from its stream (pure): for each job, its current lease, the
 * grants (`jti`) ever issued and the one consumed by a result. The amplification fold (query.state.ts) says
 * whether a job is pending and authorised; this fold says who holds it. Deciders of leases and results read
 * both. Plain TypeScript.
 */
import { isInferenceEventType, parseInferenceEvent } from './inference.events.js';

export interface JobLease {
  readonly workerId: string;
  readonly jti: string;
  /** ms since the epoch. */
  readonly leasedUntil: number;
  readonly grantExpiresAt: number;
}

export interface JobLeaseState {
  /** The latest lease (expired or not); null before the first. */
  readonly current: JobLease | null;
  /** Every grant ever issued for the job, by jti. */
  readonly issued: ReadonlyMap<string, JobLease>;
  /** The jti of the grant whose result completed the job. */
  readonly consumedJti: string | null;
  readonly leaseCount: number;
  readonly rejections: number;
}

export type JobLeases = ReadonlyMap<string, JobLeaseState>;

const EMPTY: JobLeaseState = Object.freeze({ current: null, issued: new Map(), consumedJti: null, leaseCount: 0, rejections: 0 });

export function leaseStateOf(leases: JobLeases, jobId: string): JobLeaseState {
  return leases.get(jobId) ?? EMPTY;
}

/**
 * Entries of one query stream, in order (any event types; only the ones read here count), folded onto `from`
 * (the leases of the stream's earlier entries; never mutated: a job's state is replaced, not changed).
 */
export function foldJobLeases(
  entries: Iterable<{ type: string; schema: number; data: Record<string, unknown> }>,
  from: ReadonlyMap<string, JobLeaseState> = new Map(),
): Map<string, JobLeaseState> {
  const jobs = new Map<string, JobLeaseState>(from);
  const get = (jobId: string) => jobs.get(jobId) ?? EMPTY;
  for (const entry of entries) {
    if (entry.type === 'InferenceCompleted') {
      const jti = entry.data['jti'];
      const jobId = entry.data['jobId'];
      if (typeof jobId === 'string' && typeof jti === 'string') jobs.set(jobId, { ...get(jobId), consumedJti: jti });
      continue;
    }
    if (!isInferenceEventType(entry.type)) continue;
    const event = parseInferenceEvent(entry as Parameters<typeof parseInferenceEvent>[0]);
    const before = get(event.data.jobId);
    switch (event.type) {
      case 'InferenceLeased': {
        const lease: JobLease = {
          workerId: event.data.workerId,
          jti: event.data.jti,
          leasedUntil: Date.parse(event.data.leasedUntil),
          grantExpiresAt: Date.parse(event.data.grantExpiresAt),
        };
        jobs.set(event.data.jobId, {
          ...before,
          current: lease,
          issued: new Map(before.issued).set(lease.jti, lease),
          leaseCount: before.leaseCount + 1,
        });
        break;
      }
      case 'InferenceLeaseExpired':
        break;
      case 'InferenceRejected':
        jobs.set(event.data.jobId, { ...before, rejections: before.rejections + 1 });
        break;
    }
  }
  return jobs;
}
