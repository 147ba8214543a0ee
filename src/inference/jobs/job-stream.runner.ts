/**
 * The inference commands' plumbing on a job's query stream: the shared `StreamCommandRunner` (load, tenant,
 * decide on the fresh state, append with the expected revision, retry on a concurrent append) with the
 * job-stream fold, and the global positions a decider needs (`PolicyDecisionRecorded` per job).
 */
import { queryStream } from '../../amplification/query-command.runner.js';
import type { Principal } from '../../auth/principal.js';
import { StreamCommandRunner, type DecideContext } from '../../common/commands/stream-command.runner.js';
import type { IntegratedEntry, ProposedEvent } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import type { JobQueue } from './job-queue.js';
import { continueJobStream, jobNotFound, rehydrateJobStream, type JobStreamState } from './job-stream.js';

const JOB_STREAM_FOLD = { key: 'job-stream', continue: continueJobStream };

export async function runOnJobStream(
  runner: StreamCommandRunner,
  principal: Principal,
  queryId: string,
  jobId: string,
  eventType: string,
  decide: (state: JobStreamState, ctx: DecideContext) => ProposedEvent[],
): Promise<readonly IntegratedEntry[]> {
  const outcome = await runner.run(
    // Workers send no Idempotency-Key: every lease and every posted result is a new command.
    { principal },
    {
      stream: queryStream(queryId),
      mode: 'update',
      aggregate: 'Query',
      notFound: () => jobNotFound(jobId),
      rehydrate: (entries) => rehydrateJobStream(entries),
      fold: JOB_STREAM_FOLD,
      exists: (state) => state.query.status !== 'none',
      eventType,
      sameRequest: () => false,
      decide: (state, ctx) => decide(state, ctx).map(({ type, schema, data }) => ({ type, schema, data })),
      respond: (_entries, integrated) => integrated,
    },
  );
  return outcome.body;
}

/** Global position of each job's `PolicyDecisionRecorded` on the query stream (fixed once recorded). */
export async function decisionPositions(store: EventStore, queryId: string): Promise<Map<string, number>> {
  const positions = new Map<string, number>();
  for (const { entry, position } of await store.readStream(queryStream(queryId))) {
    if (entry.type === 'PolicyDecisionRecorded' && typeof entry.data['jobId'] === 'string') positions.set(entry.data['jobId'], position);
  }
  return positions;
}

/**
 * What a decider needs of {@link decisionPositions} for one job: the queue's copy when it has applied the job's
 * decision (the position is fixed once recorded), else the stream read.
 */
export async function decisionPositionOf(store: EventStore, queue: JobQueue, queryId: string, jobId: string): Promise<ReadonlyMap<string, number>> {
  const known = queue.decisionPosition(jobId, queryId);
  return known === undefined ? decisionPositions(store, queryId) : new Map([[jobId, known]]);
}
