/**
 * What assigning a node needs to know of a proxy version: whose it is, its stage, its artifact digest, and
 * the registry attributes the policy gate reads (fidelity, drift; null when unknown).
 * Read from `proxy-<proxyVersionId>` through the registry's own fold (`rehydrateProxy`, src/distillation), so
 * amplification and the registry can never disagree about a proxy's stage; this file is the one seam
 * between the two contexts.
 */
import type { EventStore } from '../ledger/event-store.port.js';
import type { RecordableEntry } from './query.events.js';
import { continueProxy, rehydrateProxy, type ProxyState, type ProxyStage } from '../distillation/proxies/proxy.state.js';

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
  return snapshotOfState(rehydrateProxy(entries));
}

function snapshotOfState(proxy: ProxyState | null): ProxySnapshot | null {
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

/** A proxy stream folded up to (not including) revision `next`. */
interface FoldedProxy {
  readonly state: ProxyState | null;
  readonly next: number;
}

/**
 * Snapshots of the named proxy versions, any tenant's (the decider, not this reader, refuses another tenant's
 * proxy, with the same answer as for one that does not exist). It keeps each proxy stream's registry state and
 * the revision it reached, and reads only the entries appended since: every assignment reads its proxies, and
 * a proxy stream grows with each stage change and recalibration. A change written by anyone (another process
 * included) is seen on the next call, as the stream is still read each time, from where the kept state ends.
 * At most `maxProxies` states are kept; when full, the oldest half is forgotten (read whole again when named).
 */
export class ProxySnapshotReader {
  private readonly folded = new Map<string, FoldedProxy>();

  constructor(
    private readonly store: EventStore,
    private readonly maxProxies = 4096,
  ) {
    if (!Number.isSafeInteger(maxProxies) || maxProxies < 1) throw new TypeError('ProxySnapshotReader: maxProxies must be a positive integer');
  }

  async read(proxyVersionIds: readonly string[]): Promise<Map<string, ProxySnapshot>> {
    const snapshots = new Map<string, ProxySnapshot>();
    for (const id of new Set(proxyVersionIds)) {
      const snapshot = snapshotOfState(await this.fold(id));
      if (snapshot !== null) snapshots.set(id, snapshot);
    }
    return snapshots;
  }

  /** Proxy states kept now (for tests and metrics). */
  get size(): number {
    return this.folded.size;
  }

  private async fold(id: string): Promise<ProxyState | null> {
    const kept = this.folded.get(id);
    const from = kept?.next ?? 0;
    const entries = await this.store.readStream(proxyStream(id), from);
    const state = continueProxy(kept?.state ?? null, entries.map((e) => e.entry));
    const next = entries.length === 0 ? from : entries[entries.length - 1]!.entry.revision + 1;
    // Nothing folded (an unknown proxy) takes no room; a read that overlapped a longer one puts no older state back.
    const current = this.folded.get(id);
    if (next > 0 && (current === undefined || current.next < next)) this.keep(id, { state, next });
    return state;
  }

  private keep(id: string, folded: FoldedProxy): void {
    if (!this.folded.has(id) && this.folded.size >= this.maxProxies) {
      let forget = Math.ceil(this.maxProxies / 2);
      for (const oldest of this.folded.keys()) {
        if (forget-- === 0) break;
        this.folded.delete(oldest);
      }
    }
    this.folded.set(id, folded);
  }
}
