/**
 * Events of the distillation run aggregate (stream `distillation-<runId>`, docs/ida-domain.md "Distillation").
 * Past-tense facts, each with a schema version; `parseRunEvent` is where upcasters for older versions go.
 * Plain TypeScript: no Nest, no storage.
 */
import { assertNever } from '../../common/assert-never.js';
import {
  badEventOf,
  eventTypeGuard,
  openStoredEvent,
  recordedMeta,
  type Recorded,
  type RecordableEntry,
  type StoredEvent,
} from '../../common/events/stored-event-fields.js';
import type { JsonObject } from '../../ledger/entry.js';
import type { DatasetCommitment } from '../dataset-root.js';

export const RUN_EVENT_SCHEMA = 1 as const;
export const RUN_STREAM_PREFIX = 'distillation-';
/** The only media type a run's artifact has today (an ONNX model, run by the GPU workers). */
export const ONNX_MEDIA_TYPE = 'application/onnx' as const;

export function runStream(runId: string): string {
  return RUN_STREAM_PREFIX + runId;
}

// Data shapes are `type` aliases, not interfaces, so that they stay assignable to `JsonObject`.
export type TeacherData = { proxyVersionIds: string[]; humanPool: string[] };
export type DatasetData = DatasetCommitment;
export type StudentData = { name: string; architecture: string; hyperparameters: JsonObject };
export type RunArtifactData = { sha256: string; sizeBytes: number; mediaType: typeof ONNX_MEDIA_TYPE };
export type RunMetricsData = { fidelity: number; groundTruthAgreement: number; drift: number | null; heldOutQueryIds: string[] };

export type DistillationRunStartedData = {
  runId: string;
  parentProxyVersionId: string | null;
  teacher: TeacherData;
  dataset: DatasetData;
  student: StudentData;
  trainingDigest: string;
};
export type DistillationRunCompletedData = { runId: string; artifact: RunArtifactData; metrics: RunMetricsData };
export type DistillationRunFailedData = { runId: string; reason: string };

type EventOf<T extends string, D extends JsonObject> = { type: T; schema: typeof RUN_EVENT_SCHEMA; data: D };

export type DistillationRunStarted = EventOf<'DistillationRunStarted', DistillationRunStartedData>;
export type DistillationRunCompleted = EventOf<'DistillationRunCompleted', DistillationRunCompletedData>;
export type DistillationRunFailed = EventOf<'DistillationRunFailed', DistillationRunFailedData>;

export type RunEvent = DistillationRunStarted | DistillationRunCompleted | DistillationRunFailed;
export type RunEventType = RunEvent['type'];

/** A run event as read back from its stream. Distributes over the union, so `type` narrows. */
export type RecordedRunEvent<E extends RunEvent = RunEvent> = E extends RunEvent ? Recorded<E> : never;

export const RUN_EVENT_TYPES: readonly RunEventType[] = Object.freeze([
  'DistillationRunStarted',
  'DistillationRunCompleted',
  'DistillationRunFailed',
] as const);

export const isRunEventType = eventTypeGuard(RUN_EVENT_TYPES);

export { toProposed } from '../../common/events/stored-event-fields.js';

const bad = badEventOf('DISTILLATION.EVENT_INVALID');

/**
 * Checks the shape of a stored run event and returns a typed copy holding only the known fields. Throws
 * `DISTILLATION.EVENT_INVALID` (internal) on anything else.
 */
export function parseRunEvent(entry: StoredEvent): RunEvent {
  const { type, fields: f } = openStoredEvent(entry, isRunEventType, () => [RUN_EVENT_SCHEMA], bad);
  const schema = RUN_EVENT_SCHEMA;
  switch (type) {
    case 'DistillationRunStarted': {
      const teacher = f.object('teacher');
      const dataset = f.object('dataset');
      const student = f.object('student');
      return {
        type,
        schema,
        data: {
          runId: f.id('runId'),
          parentProxyVersionId: f.idOrNull('parentProxyVersionId'),
          teacher: { proxyVersionIds: teacher.strings('proxyVersionIds'), humanPool: teacher.strings('humanPool') },
          dataset: {
            queryIds: dataset.strings('queryIds'),
            transcripts: dataset.objects('transcripts').map((t) => ({ queryId: t.id('queryId'), entryCount: t.int('entryCount') })),
            leafCount: dataset.int('leafCount'),
            transcriptRoot: dataset.str('transcriptRoot'),
          },
          student: { name: student.str('name'), architecture: student.str('architecture'), hyperparameters: student.jsonObject('hyperparameters') },
          trainingDigest: f.digest('trainingDigest'),
        },
      };
    }
    case 'DistillationRunCompleted': {
      const artifact = f.object('artifact');
      const metrics = f.object('metrics');
      return {
        type,
        schema,
        data: {
          runId: f.id('runId'),
          artifact: { sha256: artifact.digest('sha256'), sizeBytes: artifact.int('sizeBytes'), mediaType: artifact.oneOf('mediaType', [ONNX_MEDIA_TYPE]) },
          metrics: {
            fidelity: metrics.unit('fidelity'),
            groundTruthAgreement: metrics.unit('groundTruthAgreement'),
            drift: metrics.unitOrNull('drift'),
            heldOutQueryIds: metrics.strings('heldOutQueryIds'),
          },
        },
      };
    }
    case 'DistillationRunFailed':
      return { type, schema, data: { runId: f.id('runId'), reason: f.str('reason') } };
    default:
      return assertNever(type, 'DISTILLATION.UNREACHABLE');
  }
}

export function parseRecordedRunEvent(entry: RecordableEntry): RecordedRunEvent {
  return { ...parseRunEvent(entry), ...recordedMeta(entry, bad) } as RecordedRunEvent;
}
