/**
 * Leasing a job to a worker (pure; docs/policy-gate.md "Workers"): only an authorised job with no result
 * (pending, in an open query) whose lease is absent or over may be leased. A lease that ran out is recorded
 * as such (`InferenceLeaseExpired`) in the same append as the new lease. The grant itself is signed after
 * the append, from the recorded lease.
 */
import { LedgerError } from '../../common/ledger-error.js';
import type { InferenceEvent } from '../jobs/inference.events.js';
import { locateJob, type JobStreamState } from '../jobs/job-stream.js';

export interface LeaseCommand {
  jobId: string;
  workerId: string;
  /** ms since the epoch. */
  now: number;
  leaseMs: number;
  newId(): string;
}

/** Why a job cannot be leased now (the lease loop moves on to the next job; never sent to a worker). */
export function notLeasable(jobId: string, reason: string): LedgerError {
  return new LedgerError('INFERENCE.JOB_NOT_LEASABLE', 'conflict', `Job ${jobId} cannot be leased: ${reason}`, { jobId });
}

export function decideLease(command: LeaseCommand, state: JobStreamState): InferenceEvent[] {
  const { query, job, lease } = locateJob(state, command.jobId);
  if (query.status !== 'open') throw notLeasable(command.jobId, `the query is ${query.status}`);
  if (job.status !== 'pending') throw notLeasable(command.jobId, `the job is ${job.status}`);
  if (job.gate?.outcome !== 'authorized') throw notLeasable(command.jobId, 'the policy gate did not authorise it');
  const current = lease.current;
  if (current !== null && current.leasedUntil > command.now) throw notLeasable(command.jobId, `it is leased until ${new Date(current.leasedUntil).toISOString()}`);
  const leasedUntil = command.now + command.leaseMs;
  // The grant's `exp` is in whole seconds and must not outlive the lease.
  const grantExpiresAt = Math.floor(leasedUntil / 1000) * 1000;
  const events: InferenceEvent[] = [];
  if (current !== null) {
    events.push({ type: 'InferenceLeaseExpired', schema: 1, data: { jobId: job.jobId, workerId: current.workerId, jti: current.jti } });
  }
  events.push({
    type: 'InferenceLeased',
    schema: 1,
    data: {
      jobId: job.jobId,
      workerId: command.workerId,
      jti: command.newId(),
      leasedUntil: new Date(leasedUntil).toISOString(),
      grantExpiresAt: new Date(grantExpiresAt).toISOString(),
    },
  });
  return events;
}
