/**
 * State of one distillation run (stream `distillation-<runId>`) and its pure fold. Deterministic: everything
 * comes from the recorded events (actor and time from their meta).
 */
import { assertNever } from '../../common/assert-never.js';
import type { RecordableEntry } from '../../common/events/stored-event-fields.js';
import { LedgerError } from '../../common/ledger-error.js';
import type { Actor } from '../../ledger/entry.js';
import {
  isRunEventType,
  parseRecordedRunEvent,
  type DatasetData,
  type RecordedRunEvent,
  type RunArtifactData,
  type RunMetricsData,
  type StudentData,
  type TeacherData,
} from './run.events.js';

export type RunStatus = 'running' | 'completed' | 'failed';

export interface RunState {
  readonly runId: string;
  readonly tenant: string;
  readonly status: RunStatus;
  readonly parentProxyVersionId: string | null;
  readonly teacher: TeacherData;
  readonly dataset: DatasetData;
  readonly student: StudentData;
  readonly trainingDigest: string;
  readonly startedAt: string;
  readonly startedBy: Actor;
  readonly completion: { readonly artifact: RunArtifactData; readonly metrics: RunMetricsData; readonly at: string; readonly by: Actor } | null;
  readonly failure: { readonly reason: string; readonly at: string; readonly by: Actor } | null;
  /** Stream revision of the last run event applied. */
  readonly revision: number;
}

/**
 * Applies one recorded event; `null` is "no run yet". Refuses what cannot be applied without losing or
 * inventing history (`DISTILLATION.CORRUPT_STREAM`, internal); business rules live in the deciders.
 */
export function evolveRun(state: RunState | null, recorded: RecordedRunEvent): RunState {
  const by: Actor = { sub: recorded.meta.actor.sub, role: recorded.meta.actor.role };
  const at = recorded.meta.recordedAt;
  if (recorded.type === 'DistillationRunStarted') {
    if (state !== null) throw corrupt(recorded, 'run started twice');
    const d = recorded.data;
    return {
      runId: d.runId,
      tenant: recorded.meta.tenant,
      status: 'running',
      parentProxyVersionId: d.parentProxyVersionId,
      teacher: d.teacher,
      dataset: d.dataset,
      student: d.student,
      trainingDigest: d.trainingDigest,
      startedAt: at,
      startedBy: by,
      completion: null,
      failure: null,
      revision: recorded.revision,
    };
  }
  if (state === null) throw corrupt(recorded, 'event before DistillationRunStarted');
  if (recorded.meta.tenant !== state.tenant) throw corrupt(recorded, 'event of another tenant');
  if (recorded.revision <= state.revision) throw corrupt(recorded, 'revision does not increase');
  if (recorded.data.runId !== state.runId) throw corrupt(recorded, 'event of another run');
  if (state.status !== 'running') throw corrupt(recorded, `run already ${state.status}`);
  const revision = recorded.revision;
  switch (recorded.type) {
    case 'DistillationRunCompleted':
      return { ...state, status: 'completed', completion: { artifact: recorded.data.artifact, metrics: recorded.data.metrics, at, by }, revision };
    case 'DistillationRunFailed':
      return { ...state, status: 'failed', failure: { reason: recorded.data.reason, at, by }, revision };
    default:
      return assertNever(recorded, 'DISTILLATION.UNREACHABLE');
  }
}

/** The run from its raw stream entries (other contexts' event types on the stream are skipped); null if none. */
export function rehydrateRun(entries: Iterable<RecordableEntry>): RunState | null {
  let state: RunState | null = null;
  for (const entry of entries) if (isRunEventType(entry.type)) state = evolveRun(state, parseRecordedRunEvent(entry));
  return state;
}

function corrupt(recorded: RecordedRunEvent, reason: string): LedgerError {
  return new LedgerError('DISTILLATION.CORRUPT_STREAM', 'internal', `Cannot apply ${recorded.type}: ${reason}`, {
    eventType: recorded.type,
    revision: recorded.revision,
    reason,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Read model of `GET /v1/distillation-runs/:runId`. Type aliases so the view is a JSON value.

export type ActorView = { sub: string; role: string };

export type RunView = {
  runId: string;
  tenant: string;
  status: RunStatus;
  parentProxyVersionId: string | null;
  teacher: TeacherData;
  dataset: DatasetData;
  student: StudentData;
  trainingDigest: string;
  startedAt: string;
  startedBy: ActorView;
  artifact: RunArtifactData | null;
  metrics: RunMetricsData | null;
  completedAt: string | null;
  completedBy: ActorView | null;
  failureReason: string | null;
  failedAt: string | null;
  failedBy: ActorView | null;
  revision: number;
};

export function runView(run: RunState): RunView {
  const actor = (a: Actor): ActorView => ({ sub: a.sub, role: a.role });
  return {
    runId: run.runId,
    tenant: run.tenant,
    status: run.status,
    parentProxyVersionId: run.parentProxyVersionId,
    teacher: run.teacher,
    dataset: run.dataset,
    student: run.student,
    trainingDigest: run.trainingDigest,
    startedAt: run.startedAt,
    startedBy: actor(run.startedBy),
    artifact: run.completion?.artifact ?? null,
    metrics: run.completion?.metrics ?? null,
    completedAt: run.completion?.at ?? null,
    completedBy: run.completion ? actor(run.completion.by) : null,
    failureReason: run.failure?.reason ?? null,
    failedAt: run.failure?.at ?? null,
    failedBy: run.failure ? actor(run.failure.by) : null,
    revision: run.revision,
  };
}
