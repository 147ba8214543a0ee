/**
 * How the run use cases plug into the shared `StreamCommandRunner` (idempotency, load, tenant, If-Match, decide,
 * append with expected revision, bounded retry; see its header): `distillation-<runId>` streams bound once (see
 * src/common/commands/event-stream-command.ts).
 */
import type { Principal } from '../../auth/principal.js';
import {
  eventStreamCommand,
  loadEventStream,
  type EventStreamCommand,
  type EventStreamKind,
} from '../../common/commands/event-stream-command.js';
import type { LoadedStream, StreamCommandSpec } from '../../common/commands/stream-command.runner.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { parseRunEvent, RUN_STREAM_PREFIX, type RunEvent, type RunEventType } from './run.events.js';
import { runNotFound } from './run.guards.js';
import { rehydrateRun, type RunState } from './run.state.js';

const RUN_STREAMS: EventStreamKind<RunState | null, RunEvent> = {
  prefix: RUN_STREAM_PREFIX,
  aggregate: 'Distillation run',
  codePrefix: 'DISTILLATION',
  notFound: runNotFound,
  rehydrate: rehydrateRun,
  exists: (state) => state !== null,
  parse: parseRunEvent,
};

/** A command on `distillation-<id>`: `id` is the run id (`createWithNewId` to start a run). */
export type RunCommandSpec<R, T extends RunEventType> = EventStreamCommand<RunState | null, RunEvent, R, T>;

export function runCommand<R, T extends RunEventType>(spec: RunCommandSpec<R, T>): StreamCommandSpec<RunState | null, R> {
  return eventStreamCommand(RUN_STREAMS, spec);
}

/**
 * Reads `distillation-<runId>` for the caller: 403 AUTH.TENANT_FORBIDDEN for another tenant's run, `state` null
 * when there is none (the caller decides what that means).
 */
export function loadRun(store: EventStore, principal: Principal, runId: string): Promise<LoadedStream<RunState | null>> {
  return loadEventStream(store, principal, RUN_STREAMS, runId);
}
