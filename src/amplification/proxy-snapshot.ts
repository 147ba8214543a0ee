/**
 * What assigning a node needs to know of a proxy version: whose it is, its stage, its artifact digest, and
 * the registry attributes the policy gate reads (fidelity, drift; null when unknown).
 * Read from `proxy-<proxyVersionId>` through the registry's own fold (`rehydrateProxy`, src/distillation), so
 * amplification and the registry can never disagree about a proxy's stage; this file is the one seam
 * between the two contexts.
 */
import type { EventStore } from '../ledger/event-store.port.js';
import type { RecordableEntry } from './query.events.js';
import { rehydrateProxy, type ProxyStage } from '../distillation/proxies/proxy.state.js';

export type { ProxyStage };

/** Stages whose proxies may serve queries (shadow: alongside humans, to be measured). */
export const SERVING_STAGES: readonly ProxyStage[] = Object.freeze(['shadow', 'production'] as const);

export interface ProxySnapshot {
  readonly proxyVersionId: string;
  readonly tenant: string;
  readonly stage: ProxyStage;
  /** `sha256:<hex>` of the registered artifact. */
  readonly artifactSha256: string;
  /** The registered metrics (0..1; null when unknown), for the policy gate. */
  readonly fidelity: number | null;
  readonly drift: number | null;
}

export const PROXY_STREAM_PREFIX = 'proxy-';

export function proxyStream(proxyVersionId: string): string {
  return PROXY_STREAM_PREFIX + proxyVersionId;
}

/** The snapshot after `entries` (one proxy stream, in order); null when no proxy was registered there. */
export function proxySnapshotOf(entries: Iterable<RecordableEntry>): ProxySnapshot | null {
  const proxy = rehydrateProxy(entries);
  if (proxy === null) return null;
  return {
    proxyVersionId: proxy.proxyVersionId,
    tenant: proxy.tenant,
    stage: proxy.stage,
    artifactSha256: proxy.artifactSha256,
    fidelity: proxy.metrics.fidelity,
    drift: proxy.metrics.drift,
  };
}

/**
 * Snapshots of the named proxy versions, any tenant's: the decider, not this reader, refuses another
 * tenant's proxy, with the same answer as for one that does not exist.
 */
export async function readProxySnapshots(store: EventStore, proxyVersionIds: readonly string[]): Promise<Map<string, ProxySnapshot>> {
  const snapshots = new Map<string, ProxySnapshot>();
  for (const id of new Set(proxyVersionIds)) {
    const entries = await store.readStream(proxyStream(id));
    const snapshot = proxySnapshotOf(entries.map((e) => e.entry));
    if (snapshot !== null) snapshots.set(id, snapshot);
  }
  return snapshots;
}
