/**
 * A job's query stream as the inference deciders read it: the amplification state (is the job pending,
 * authorised, of which node) and the lease fold (who holds it under which grant). Plain TypeScript.
 */
import { jobOf, rehydrate, rehydrateFrom, type ExistingQueryState, type InferenceJob, type QueryState } from '../../amplification/query.state.js';
import { LedgerError } from '../../common/ledger-error.js';
import { foldJobLeases, leaseStateOf, type JobLeaseState } from './job-leases.js';

export interface JobStreamState {
  readonly query: QueryState;
  readonly leases: ReadonlyMap<string, JobLeaseState>;
}

type StreamEntry = Parameters<typeof rehydrate>[0] extends Iterable<infer E> ? E : never;

export function rehydrateJobStream(entries: readonly StreamEntry[]): JobStreamState {
  return { query: rehydrate(entries), leases: foldJobLeases(entries) };
}

/** `state` (not mutated) folded further with the stream's next entries: `rehydrateJobStream` continued. */
export function continueJobStream(state: JobStreamState, entries: readonly StreamEntry[]): JobStreamState {
  return { query: rehydrateFrom(state.query, entries), leases: foldJobLeases(entries, state.leases) };
}

export interface LocatedJob {
  readonly query: ExistingQueryState;
  readonly job: InferenceJob;
  readonly nodeId: string;
  readonly lease: JobLeaseState;
}

export function jobNotFound(jobId: string): LedgerError {
  return new LedgerError('INFERENCE.JOB_NOT_FOUND', 'not_found', `Job ${jobId} not found`, { jobId });
}

/** The job in the stream, or 404 INFERENCE.JOB_NOT_FOUND. */
export function locateJob(state: JobStreamState, jobId: string): LocatedJob {
  const query = state.query;
  if (query.status === 'none') throw jobNotFound(jobId);
  const found = jobOf(query, jobId);
  if (found === undefined) throw jobNotFound(jobId);
  return { query, job: found.job, nodeId: found.node.nodeId, lease: leaseStateOf(state.leases, jobId) };
}
