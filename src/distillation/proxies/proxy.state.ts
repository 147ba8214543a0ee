/**
 * State of one proxy version (stream `proxy-<proxyVersionId>`) and its pure fold. Deterministic: everything
 * comes from the recorded events (actor and time from their meta). Other contexts read proxies through
 * `rehydrateProxy` (e.g. amplification, to snapshot `{proxyVersionId, tenant, stage, artifactSha256}` when it
 * assigns a node to a proxy).
 */
import { assertNever } from '../../common/assert-never.js';
import type { RecordableEntry } from '../../common/events/stored-event-fields.js';
import { LedgerError } from '../../common/ledger-error.js';
import type { Actor } from '../../ledger/entry.js';
import {
  isProxyEventType,
  parseRecordedProxyEvent,
  type PromotionCheck,
  type ProxyArtifact,
  type ProxyMetrics,
  type ProxySource,
  type ProxyStage,
  type RecordedProxyEvent,
} from './proxy.events.js';

export type { ProxyStage } from './proxy.events.js';

export interface ProxyRecalibration {
  readonly recalibrationId: string;
  readonly agreement: number;
  readonly minAgreement: number;
  readonly sampleCount: number;
  readonly at: string;
  readonly by: Actor;
}

/** A change of stage, in order. */
export interface ProxyTransition {
  readonly kind: 'promoted' | 'demoted' | 'retired';
  readonly from: ProxyStage;
  readonly to: ProxyStage;
  readonly at: string;
  readonly by: Actor;
  /** The demotion's or retirement's reason; null for a promotion. */
  readonly reason: string | null;
  /** The gate checks a promotion passed; null otherwise. */
  readonly checks: readonly PromotionCheck[] | null;
}

export interface ProxyState {
  readonly proxyVersionId: string;
  readonly tenant: string;
  readonly name: string;
  readonly version: string;
  readonly stage: ProxyStage;
  readonly source: ProxySource;
  readonly parentProxyVersionId: string | null;
  readonly artifact: ProxyArtifact;
  /** `artifact.sha256`, at the top level for consumers that only need the model's address. */
  readonly artifactSha256: string;
  readonly metrics: ProxyMetrics;
  readonly registeredAt: string;
  readonly registeredBy: Actor;
  /** The most recent recalibration (what the →production gate looks at), or null. */
  readonly lastRecalibration: ProxyRecalibration | null;
  readonly transitions: readonly ProxyTransition[];
  /** Stream revision of the last proxy event applied. */
  readonly revision: number;
}

/**
 * Applies one recorded event; `null` is "no proxy yet". Refuses what cannot be applied without losing or
 * inventing history (`PROXY.CORRUPT_STREAM`, internal); business rules live in the deciders.
 */
export function evolveProxy(state: ProxyState | null, recorded: RecordedProxyEvent): ProxyState {
  const by: Actor = { sub: recorded.meta.actor.sub, role: recorded.meta.actor.role };
  const at = recorded.meta.recordedAt;
  if (recorded.type === 'ProxyRegistered') {
    if (state !== null) throw corrupt(recorded, 'proxy registered twice');
    const d = recorded.data;
    return {
      proxyVersionId: d.proxyVersionId,
      tenant: recorded.meta.tenant,
      name: d.name,
      version: d.version,
      stage: d.stage,
      source: d.source,
      parentProxyVersionId: d.parentProxyVersionId,
      artifact: d.artifact,
      artifactSha256: d.artifact.sha256,
      metrics: d.metrics,
      registeredAt: at,
      registeredBy: by,
      lastRecalibration: null,
      transitions: [],
      revision: recorded.revision,
    };
  }
  if (state === null) throw corrupt(recorded, 'event before ProxyRegistered');
  if (recorded.meta.tenant !== state.tenant) throw corrupt(recorded, 'event of another tenant');
  if (recorded.revision <= state.revision) throw corrupt(recorded, 'revision does not increase');
  if (state.stage === 'retired') throw corrupt(recorded, 'event after retirement');
  const revision = recorded.revision;
  switch (recorded.type) {
    case 'ProxyPromoted':
    case 'ProxyDemoted':
    case 'ProxyRetired': {
      const { from } = recorded.data;
      if (from !== state.stage) throw corrupt(recorded, `recorded from ${from}, the proxy is ${state.stage}`);
      const transition: ProxyTransition =
        recorded.type === 'ProxyPromoted'
          ? { kind: 'promoted', from, to: recorded.data.to, at, by, reason: null, checks: recorded.data.checks }
          : recorded.type === 'ProxyDemoted'
            ? { kind: 'demoted', from, to: recorded.data.to, at, by, reason: recorded.data.reason, checks: null }
            : { kind: 'retired', from, to: 'retired', at, by, reason: recorded.data.reason, checks: null };
      return { ...state, stage: transition.to, transitions: [...state.transitions, transition], revision };
    }
    case 'ProxyRecalibrated': {
      const d = recorded.data;
      const lastRecalibration: ProxyRecalibration = {
        recalibrationId: d.recalibrationId,
        agreement: d.agreement,
        minAgreement: d.minAgreement,
        sampleCount: d.samples.length,
        at,
        by,
      };
      return { ...state, lastRecalibration, revision };
    }
    default:
      return assertNever(recorded, 'PROXY.UNREACHABLE');
  }
}

/** The proxy from its raw stream entries (other contexts' event types are skipped); null when there is none. */
export function rehydrateProxy(entries: Iterable<RecordableEntry>): ProxyState | null {
  return continueProxy(null, entries);
}

/** `state` (what `rehydrateProxy` gave for the stream's earlier entries) continued with the entries after them. */
export function continueProxy(state: ProxyState | null, entries: Iterable<RecordableEntry>): ProxyState | null {
  let next = state;
  for (const entry of entries) if (isProxyEventType(entry.type)) next = evolveProxy(next, parseRecordedProxyEvent(entry));
  return next;
}

function corrupt(recorded: RecordedProxyEvent, reason: string): LedgerError {
  return new LedgerError('PROXY.CORRUPT_STREAM', 'internal', `Cannot apply ${recorded.type}: ${reason}`, {
    eventType: recorded.type,
    revision: recorded.revision,
    reason,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Read model of `GET /v1/proxies/:id` and of the list. Type aliases so the view is a JSON value.

export type ActorView = { sub: string; role: string };

export type ProxyView = {
  proxyVersionId: string;
  tenant: string;
  name: string;
  version: string;
  stage: ProxyStage;
  source: ProxySource;
  parentProxyVersionId: string | null;
  artifact: ProxyArtifact;
  metrics: ProxyMetrics;
  registeredAt: string;
  registeredBy: ActorView;
  lastRecalibration: { recalibrationId: string; agreement: number; minAgreement: number; sampleCount: number; at: string; by: ActorView } | null;
  transitions: {
    kind: ProxyTransition['kind'];
    from: ProxyStage;
    to: ProxyStage;
    at: string;
    by: ActorView;
    reason: string | null;
    checks: PromotionCheck[] | null;
  }[];
  revision: number;
};

export function proxyView(proxy: ProxyState): ProxyView {
  const actor = (a: Actor): ActorView => ({ sub: a.sub, role: a.role });
  const r = proxy.lastRecalibration;
  return {
    proxyVersionId: proxy.proxyVersionId,
    tenant: proxy.tenant,
    name: proxy.name,
    version: proxy.version,
    stage: proxy.stage,
    source: proxy.source,
    parentProxyVersionId: proxy.parentProxyVersionId,
    artifact: proxy.artifact,
    metrics: proxy.metrics,
    registeredAt: proxy.registeredAt,
    registeredBy: actor(proxy.registeredBy),
    lastRecalibration: r === null ? null : { ...r, by: actor(r.by) },
    transitions: proxy.transitions.map((t) => ({ ...t, by: actor(t.by), checks: t.checks === null ? null : [...t.checks] })),
    revision: proxy.revision,
  };
}
