/**
 * `POST /v1/inference/leases` (docs/policy-gate.md "Workers"): a registered worker long-polls for a job of its
 * tenant; the oldest authorised job without a result whose lease is absent or over is leased to it
 * (`InferenceLeased`, with `InferenceLeaseExpired` for a lease that ran out) and a grant is minted for that
 * lease with the ledger's current log key. Nothing within `waitMs`: null (204).
 */
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Principal } from '../../auth/principal.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { StreamCommandRunner } from '../../common/commands/stream-command.runner.js';
import { isLedgerError, LedgerError } from '../../common/ledger-error.js';
import type { JsonValue } from '../../ledger/entry.js';
import type { EmbeddedLedger } from '../../ledger/embedded-ledger.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EMBEDDED_LEDGER, EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { InferenceIndex } from '../inference.index.js';
import { INFERENCE_OPTIONS, MAX_LEASE_WAIT_MS, type InferenceOptions } from '../inference.options.js';
import { parseInferenceEvent } from '../jobs/inference.events.js';
import type { QueuedJob } from '../jobs/job-queue.js';
import { locateJob, type LocatedJob } from '../jobs/job-stream.js';
import { decisionPositionOf, runOnJobStream } from '../jobs/job-stream.runner.js';
import type { WorkerState } from '../workers/worker.events.js';
import { mintGrant } from './grant.js';
import { decideLease } from './lease.decider.js';

export interface LeaseResponse {
  job: {
    jobId: string;
    queryId: string;
    nodeId: string;
    proxyVersionId: string;
    artifactSha256: string;
    input: JsonValue;
    inputDigest: string;
  };
  grant: string;
  leasedUntil: string;
}

/** Codes that mean "someone else got there first, or the job moved on": try the next job. */
const MOVED_ON = new Set(['INFERENCE.JOB_NOT_LEASABLE', 'INFERENCE.JOB_NOT_FOUND', 'LEDGER.CONCURRENT_MODIFICATION']);

@Injectable()
export class InferenceLeases implements OnModuleDestroy {
  private readonly wakers = new Set<() => void>();
  private closed = false;
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger,
    @Inject(InferenceIndex) private readonly index: InferenceIndex,
    @Inject(INFERENCE_OPTIONS) private readonly options: InferenceOptions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleDestroy(): void {
    this.closed = true;
    for (const wake of this.wakers) wake();
  }

  /**
   * The caller must be a registered, unrevoked worker of its tenant, authenticated by its own key (a token
   * with role `worker` from the identity provider is not enough: grants go to keys the registry knows).
   */
  requireWorker(principal: Principal): WorkerState {
    const worker = this.index.workers.byId(principal.sub);
    if (
      principal.role !== 'worker' ||
      worker === undefined ||
      worker.tenant !== principal.tenant ||
      worker.revokedAt !== null ||
      principal.workerKid !== worker.kid
    ) {
      throw new LedgerError('INFERENCE.NOT_A_WORKER', 'forbidden', 'Only a registered, unrevoked worker of the tenant may lease jobs');
    }
    return worker;
  }

  /**
   * `signal`: aborted when the worker hangs up (its long poll must not lease a job nobody will receive; a lease
   * appended at that very moment simply runs out).
   */
  async lease(principal: Principal, waitMs: number, signal?: AbortSignal): Promise<LeaseResponse | null> {
    const worker = this.requireWorker(principal);
    const hungUp = (): boolean => signal?.aborted === true;
    const deadline = this.now() + Math.max(0, Math.min(MAX_LEASE_WAIT_MS, waitMs));
    // Jobs this call found not leasable; tried again only after the queue changed.
    let tried = new Set<string>();
    for (;;) {
      if (this.closed || this.index.isClosed || hungUp()) return null;
      let changed = false;
      const stop = this.index.jobs.onChange((tenant) => {
        if (tenant === worker.tenant) changed = true;
      });
      try {
        for (const job of this.index.jobs.leasable(worker.tenant, this.now())) {
          if (tried.has(job.jobId)) continue;
          if (hungUp()) return null;
          const leased = await this.tryLease(principal, worker, job);
          if (leased !== null) return leased;
          tried.add(job.jobId);
        }
      } finally {
        stop();
      }
      if (changed) {
        tried = new Set();
        continue;
      }
      const now = this.now();
      if (now >= deadline) return null;
      await this.waitForWork(worker.tenant, deadline, tried.size > 0, signal);
      tried = new Set();
    }
  }

  private async tryLease(principal: Principal, worker: WorkerState, queued: QueuedJob): Promise<LeaseResponse | null> {
    let located: LocatedJob | undefined;
    let entries;
    try {
      entries = await runOnJobStream(this.runner, principal, queued.queryId, queued.jobId, 'InferenceLeased', (state, ctx) => {
        const events = decideLease(
          { jobId: queued.jobId, workerId: worker.workerId, now: this.now(), leaseMs: this.options.leaseMs, newId: () => ctx.newId() },
          state,
        );
        located = locateJob(state, queued.jobId);
        return events;
      });
    } catch (error) {
      if (isLedgerError(error) && MOVED_ON.has(error.code)) return null;
      throw error;
    }
    const leasedEntry = entries.find((e) => e.entry.type === 'InferenceLeased');
    if (leasedEntry === undefined || located === undefined) throw new LedgerError('INFERENCE.NOTHING_RECORDED', 'internal', 'The lease recorded no InferenceLeased');
    const leased = parseInferenceEvent(leasedEntry.entry);
    if (leased.type !== 'InferenceLeased') throw new LedgerError('INFERENCE.NOTHING_RECORDED', 'internal', 'Unexpected lease entry');
    const { query, job, nodeId } = located;
    const positions = await decisionPositionOf(this.store, this.index.jobs, query.queryId, job.jobId);
    const decision = positions.get(job.jobId);
    const policy = job.gate?.policySetDigest;
    if (decision === undefined || policy == null) {
      throw new LedgerError('INFERENCE.DECISION_MISSING', 'internal', `Job ${job.jobId} was leased without a recorded allow`);
    }
    const grant = mintGrant(
      {
        sub: worker.workerId,
        jti: leased.data.jti,
        exp: Math.floor(Date.parse(leased.data.grantExpiresAt) / 1000),
        job: job.jobId,
        query: query.queryId,
        node: nodeId,
        tenant: query.tenant,
        model: job.artifactSha256,
        input: job.inputDigest,
        policy,
        decision,
      },
      { key: this.ledger.keyRing.current(), issuer: this.ledger.origin, now: this.clock.now() },
    );
    // The queue sees this lease before the next poll looks at it.
    await this.index.caughtUp(leasedEntry.position);
    return {
      job: {
        jobId: job.jobId,
        queryId: query.queryId,
        nodeId,
        proxyVersionId: job.proxyVersionId,
        artifactSha256: job.artifactSha256,
        input: job.input,
        inputDigest: job.inputDigest,
      },
      grant,
      leasedUntil: leased.data.leasedUntil,
    };
  }

  /** Until a job of the tenant is authorised, a lease ends, the deadline, or the service stops. */
  private waitForWork(tenant: string, deadline: number, retrySoon: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const now = this.now();
      const nextEnd = this.index.jobs.nextLeaseEnd(tenant, now);
      // A job found not leasable while the queue said otherwise: the queue is catching up; look again shortly.
      const wakeAt = Math.min(deadline, nextEnd ?? Number.POSITIVE_INFINITY, retrySoon ? now + 50 : Number.POSITIVE_INFINITY);
      const done = () => {
        clearTimeout(timer);
        stop();
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wakeAt - now));
      const stop = this.index.jobs.onChange((changed) => {
        if (changed === tenant) done();
      });
      this.wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
      if (this.closed || signal?.aborted === true) done();
    });
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
