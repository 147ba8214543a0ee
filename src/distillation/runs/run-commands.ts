/**
 * How the run use cases plug into the shared `StreamCommandRunner` (idempotency, load, tenant, If-Match, decide,
 * append with expected revision, bounded retry; see its header): stream naming, state, typed events, and the
 * response rebuilt from the recorded entries (so a replay answers exactly the first result).
 */
import type { Principal } from '../../auth/principal.js';
import { loadStream, type DecideContext, type LoadedStream, type StreamCommandSpec } from '../../common/commands/stream-command.runner.js';
import { LedgerError } from '../../common/ledger-error.js';
import type { SignedEntry } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { isId } from '../distillation.values.js';
import { parseRunEvent, runStream, RUN_STREAM_PREFIX, toProposed, type RunEvent, type RunEventType } from './run.events.js';
import { runNotFound } from './run.guards.js';
import { rehydrateRun, type RunState } from './run.state.js';

/** The data of a run event of type `T`. */
export type RunEventData<T extends RunEventType> = Extract<RunEvent, { type: T }>['data'];

/** What a command recorded, as its response is built from it. */
export interface RecordedRunCommand<T extends RunEventType> {
  runId: string;
  /** Revision of the command's last entry (what the response and its ETag report). */
  revision: number;
  /** The data of the command's first event, of the spec's `eventType`. */
  data: RunEventData<T>;
}

export interface RunCommandSpec<R, T extends RunEventType> {
  runId: string;
  /** `create`: a new run with a generated id (expected `no_stream`); `update`: the run must exist (else 404). */
  mode: 'create' | 'update';
  eventType: T;
  /** True when the first event recorded under a reused Idempotency-Key is what THIS request would produce. */
  sameRequest(recorded: RunEventData<T>): boolean;
  decide(state: RunState | null, ctx: DecideContext): RunEvent[];
  respond(recorded: RecordedRunCommand<T>): R;
}

export function runCommand<R, T extends RunEventType>(spec: RunCommandSpec<R, T>): StreamCommandSpec<RunState | null, R> {
  return {
    stream: runStream(spec.runId),
    mode: spec.mode,
    aggregate: 'Distillation run',
    notFound: () => runNotFound(spec.runId),
    rehydrate: rehydrateRun,
    exists: (state) => state !== null,
    // A new run's id is generated per request, so a replayed create may name any run stream.
    ownsStream: (stream) => spec.mode === 'create' && stream.startsWith(RUN_STREAM_PREFIX),
    eventType: spec.eventType,
    sameRequest: (entry) => spec.sameRequest(recordedData(entry, spec.eventType)),
    decide: (state, ctx) => spec.decide(state, ctx).map(toProposed),
    respond: (entries) => {
      const first = entries[0];
      const last = entries[entries.length - 1];
      if (first === undefined || last === undefined) throw new LedgerError('DISTILLATION.NOTHING_RECORDED', 'internal', 'A command recorded no entry');
      return spec.respond({ runId: first.stream.slice(RUN_STREAM_PREFIX.length), revision: last.revision, data: recordedData(first, spec.eventType) });
    },
  };
}

/** The recorded entry's data, as the typed run event it must be (a mismatch is a defect: 500, logged). */
function recordedData<T extends RunEventType>(entry: SignedEntry, type: T): RunEventData<T> {
  const event = parseRunEvent(entry);
  if (event.type !== type) {
    throw new LedgerError('DISTILLATION.UNEXPECTED_ENTRY', 'internal', `Expected ${type} at revision ${entry.revision}, found ${event.type}`);
  }
  return event.data as RunEventData<T>;
}

/**
 * Reads `distillation-<runId>` for the caller: 403 AUTH.TENANT_FORBIDDEN for another tenant's run, `state` null
 * when there is none (the caller decides what that means).
 */
export async function loadRun(store: EventStore, principal: Principal, runId: string): Promise<LoadedStream<RunState | null>> {
  // An id that cannot name a run names none; never read a stream for it.
  if (!isId(runId)) return { state: null, streamRevision: null };
  return loadStream(store, principal, runStream(runId), rehydrateRun);
}
