/**
 * Events of the proxy registry (stream `proxy-<proxyVersionId>`, docs/ida-domain.md "Proxy registry").
 * Past-tense facts, each with a schema version; `parseProxyEvent` is where upcasters for older versions go.
 * Plain TypeScript: no Nest, no storage.
 */
import { assertNever } from '../../common/assert-never.js';
import {
  badEventOf,
  eventTypeGuard,
  openStoredEvent,
  recordedMeta,
  type Fields,
  type Recorded,
  type RecordableEntry,
  type StoredEvent,
} from '../../common/events/stored-event-fields.js';
import type { JsonObject } from '../../ledger/entry.js';
import type { PromotionGates } from '../../tenants/tenant-settings.js';

export const PROXY_EVENT_SCHEMA = 1 as const;
export const PROXY_STREAM_PREFIX = 'proxy-';

export function proxyStream(proxyVersionId: string): string {
  return PROXY_STREAM_PREFIX + proxyVersionId;
}

export const PROXY_STAGES = ['candidate', 'shadow', 'production', 'retired'] as const;
export type ProxyStage = (typeof PROXY_STAGES)[number];
/** Stages a promotion may reach. */
export const PROMOTION_TARGETS = ['shadow', 'production'] as const;
export type PromotionTarget = (typeof PROMOTION_TARGETS)[number];
/** Stages from which a failed recalibration demotes (a candidate is not serving, so it stays). */
export const SERVING_STAGES = ['shadow', 'production'] as const;

/** Why the registry demoted a proxy; one reason today. */
export const DEMOTION_BELOW_MIN_AGREEMENT = 'recalibration_below_min_agreement' as const;

// Data shapes are `type` aliases, not interfaces, so that they stay assignable to `JsonObject`.
export type ProxyProvenance = { origin: string; description: string; declaredBy: string };
export type ProxySource = { kind: 'distillation'; runId: string } | { kind: 'imported'; provenance: ProxyProvenance };
export type ProxyArtifact = { sha256: string; sizeBytes: number };
export type ProxyMetrics = { fidelity: number | null; groundTruthAgreement: number | null; drift: number | null };
export type PromotionGateName = 'minFidelity' | 'maxDrift' | 'minAgreement' | 'maxRecalibrationAgeDays';
export type PromotionCheck = { gate: PromotionGateName; required: number; observed: number | null; passed: boolean };
export type RecalibrationSample = { queryId: string; nodeId: string; humanAnswer: string; proxyAnswer: string; agrees: boolean };

export type ProxyRegisteredData = {
  proxyVersionId: string;
  name: string;
  version: string;
  source: ProxySource;
  parentProxyVersionId: string | null;
  artifact: ProxyArtifact;
  metrics: ProxyMetrics;
  stage: 'candidate';
};
export type ProxyPromotedData = { from: ProxyStage; to: PromotionTarget; gates: PromotionGates; checks: PromotionCheck[] };
export type ProxyRecalibratedData = { recalibrationId: string; samples: RecalibrationSample[]; agreement: number; minAgreement: number };
export type ProxyDemotedData = { from: ProxyStage; to: 'candidate'; reason: string; agreement: number; minAgreement: number };
export type ProxyRetiredData = { from: ProxyStage; reason: string };

type EventOf<T extends string, D extends JsonObject> = { type: T; schema: typeof PROXY_EVENT_SCHEMA; data: D };

export type ProxyRegistered = EventOf<'ProxyRegistered', ProxyRegisteredData>;
export type ProxyPromoted = EventOf<'ProxyPromoted', ProxyPromotedData>;
export type ProxyRecalibrated = EventOf<'ProxyRecalibrated', ProxyRecalibratedData>;
export type ProxyDemoted = EventOf<'ProxyDemoted', ProxyDemotedData>;
export type ProxyRetired = EventOf<'ProxyRetired', ProxyRetiredData>;

export type ProxyEvent = ProxyRegistered | ProxyPromoted | ProxyRecalibrated | ProxyDemoted | ProxyRetired;
export type ProxyEventType = ProxyEvent['type'];

/** A proxy event as read back from its stream. Distributes over the union, so `type` narrows. */
export type RecordedProxyEvent<E extends ProxyEvent = ProxyEvent> = E extends ProxyEvent ? Recorded<E> : never;

export const PROXY_EVENT_TYPES: readonly ProxyEventType[] = Object.freeze([
  'ProxyRegistered',
  'ProxyPromoted',
  'ProxyRecalibrated',
  'ProxyDemoted',
  'ProxyRetired',
] as const);

export const isProxyEventType = eventTypeGuard(PROXY_EVENT_TYPES);

export { toProposed } from '../../common/events/stored-event-fields.js';

const bad = badEventOf('PROXY.EVENT_INVALID');
const GATE_NAMES: readonly PromotionGateName[] = ['minFidelity', 'maxDrift', 'minAgreement', 'maxRecalibrationAgeDays'];

function readGates(f: Fields): PromotionGates {
  return {
    minFidelity: f.unit('minFidelity'),
    maxDrift: f.unit('maxDrift'),
    minAgreement: f.unit('minAgreement'),
    maxRecalibrationAgeDays: f.num('maxRecalibrationAgeDays'),
  };
}

function readSource(f: Fields): ProxySource {
  const kind = f.oneOf('kind', ['distillation', 'imported']);
  switch (kind) {
    case 'distillation':
      return { kind, runId: f.id('runId') };
    case 'imported': {
      const p = f.object('provenance');
      return { kind, provenance: { origin: p.str('origin'), description: p.str('description'), declaredBy: p.str('declaredBy') } };
    }
    default:
      return assertNever(kind, 'PROXY.UNREACHABLE');
  }
}

/**
 * Checks the shape of a stored proxy event and returns a typed copy holding only the known fields. Throws
 * `PROXY.EVENT_INVALID` (internal) on anything else.
 */
export function parseProxyEvent(entry: StoredEvent): ProxyEvent {
  const { type, fields: f } = openStoredEvent(entry, isProxyEventType, () => [PROXY_EVENT_SCHEMA], bad);
  const schema = PROXY_EVENT_SCHEMA;
  switch (type) {
    case 'ProxyRegistered': {
      const artifact = f.object('artifact');
      const metrics = f.object('metrics');
      return {
        type,
        schema,
        data: {
          proxyVersionId: f.id('proxyVersionId'),
          name: f.str('name'),
          version: f.str('version'),
          source: readSource(f.object('source')),
          parentProxyVersionId: f.idOrNull('parentProxyVersionId'),
          artifact: { sha256: artifact.digest('sha256'), sizeBytes: artifact.int('sizeBytes') },
          metrics: {
            fidelity: metrics.unitOrNull('fidelity'),
            groundTruthAgreement: metrics.unitOrNull('groundTruthAgreement'),
            drift: metrics.unitOrNull('drift'),
          },
          stage: f.oneOf('stage', ['candidate']),
        },
      };
    }
    case 'ProxyPromoted':
      return {
        type,
        schema,
        data: {
          from: f.oneOf('from', PROXY_STAGES),
          to: f.oneOf('to', PROMOTION_TARGETS),
          gates: readGates(f.object('gates')),
          checks: f.objects('checks').map((c) => ({
            gate: c.oneOf('gate', GATE_NAMES),
            required: c.num('required'),
            observed: c.numOrNull('observed'),
            passed: c.bool('passed'),
          })),
        },
      };
    case 'ProxyRecalibrated':
      return {
        type,
        schema,
        data: {
          recalibrationId: f.id('recalibrationId'),
          samples: f.objects('samples').map((s) => ({
            queryId: s.str('queryId'),
            nodeId: s.str('nodeId'),
            humanAnswer: s.str('humanAnswer'),
            proxyAnswer: s.str('proxyAnswer'),
            agrees: s.bool('agrees'),
          })),
          agreement: f.unit('agreement'),
          minAgreement: f.unit('minAgreement'),
        },
      };
    case 'ProxyDemoted':
      return {
        type,
        schema,
        data: {
          from: f.oneOf('from', PROXY_STAGES),
          to: f.oneOf('to', ['candidate']),
          reason: f.str('reason'),
          agreement: f.unit('agreement'),
          minAgreement: f.unit('minAgreement'),
        },
      };
    case 'ProxyRetired':
      return { type, schema, data: { from: f.oneOf('from', PROXY_STAGES), reason: f.str('reason') } };
    default:
      return assertNever(type, 'PROXY.UNREACHABLE');
  }
}

export function parseRecordedProxyEvent(entry: RecordableEntry): RecordedProxyEvent {
  return { ...parseProxyEvent(entry), ...recordedMeta(entry, bad) } as RecordedProxyEvent;
}
