/**
 * How the proxy-registry use cases plug into the shared `StreamCommandRunner` (idempotency, load, tenant,
 * If-Match, decide, append with expected revision, bounded retry; see its header): stream naming, state, typed
 * events, and the response rebuilt from the recorded entries (so a replay answers exactly the first result).
 */
import type { Principal } from '../../auth/principal.js';
import { loadStream, type DecideContext, type LoadedStream, type StreamCommandSpec } from '../../common/commands/stream-command.runner.js';
import { LedgerError } from '../../common/ledger-error.js';
import type { SignedEntry } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { isId } from '../distillation.values.js';
import { parseProxyEvent, proxyStream, PROXY_STREAM_PREFIX, toProposed, type ProxyEvent, type ProxyEventType } from './proxy.events.js';
import { proxyNotFound } from './proxy.guards.js';
import { rehydrateProxy, type ProxyState } from './proxy.state.js';

export type ProxyEventData<T extends ProxyEventType> = Extract<ProxyEvent, { type: T }>['data'];

/** What a command recorded, as its response is built from it. */
export interface RecordedProxyCommand<T extends ProxyEventType> {
  proxyVersionId: string;
  /** Revision of the command's last entry (what the response and its ETag report). */
  revision: number;
  /** The data of the command's first event, of the spec's `eventType`. */
  data: ProxyEventData<T>;
  /** Every event the command recorded, in order (a recalibration may also have demoted). */
  events: ProxyEvent[];
}

export interface ProxyCommandSpec<R, T extends ProxyEventType> {
  proxyVersionId: string;
  /**
   * `create`: a new proxy stream (expected `no_stream`); `createWithNewId`: the same, with an id generated per
   * request (an import); `update`: the proxy must exist (else 404).
   */
  mode: 'create' | 'createWithNewId' | 'update';
  eventType: T;
  /** True when the first event recorded under a reused Idempotency-Key is what THIS request would produce. */
  sameRequest(recorded: ProxyEventData<T>): boolean;
  decide(state: ProxyState | null, ctx: DecideContext): ProxyEvent[];
  respond(recorded: RecordedProxyCommand<T>): R;
}

export function proxyCommand<R, T extends ProxyEventType>(spec: ProxyCommandSpec<R, T>): StreamCommandSpec<ProxyState | null, R> {
  return {
    stream: proxyStream(spec.proxyVersionId),
    mode: spec.mode === 'update' ? 'update' : 'create',
    aggregate: 'Proxy version',
    notFound: () => proxyNotFound(spec.proxyVersionId),
    rehydrate: rehydrateProxy,
    exists: (state) => state !== null,
    ownsStream: (stream) => spec.mode === 'createWithNewId' && stream.startsWith(PROXY_STREAM_PREFIX),
    eventType: spec.eventType,
    sameRequest: (entry) => spec.sameRequest(recordedData(entry, spec.eventType)),
    decide: (state, ctx) => spec.decide(state, ctx).map(toProposed),
    respond: (entries) => {
      const first = entries[0];
      const last = entries[entries.length - 1];
      if (first === undefined || last === undefined) throw new LedgerError('PROXY.NOTHING_RECORDED', 'internal', 'A command recorded no entry');
      return spec.respond({
        proxyVersionId: first.stream.slice(PROXY_STREAM_PREFIX.length),
        revision: last.revision,
        data: recordedData(first, spec.eventType),
        events: entries.map(parseProxyEvent),
      });
    },
  };
}

/** The recorded entry's data, as the typed proxy event it must be (a mismatch is a defect: 500, logged). */
function recordedData<T extends ProxyEventType>(entry: SignedEntry, type: T): ProxyEventData<T> {
  const event = parseProxyEvent(entry);
  if (event.type !== type) {
    throw new LedgerError('PROXY.UNEXPECTED_ENTRY', 'internal', `Expected ${type} at revision ${entry.revision}, found ${event.type}`);
  }
  return event.data as ProxyEventData<T>;
}

/**
 * Reads `proxy-<id>` for the caller: 403 AUTH.TENANT_FORBIDDEN for another tenant's proxy, `state` null when
 * there is none (the caller decides what that means).
 */
export async function loadProxy(store: EventStore, principal: Principal, proxyVersionId: string): Promise<LoadedStream<ProxyState | null>> {
  if (!isId(proxyVersionId)) return { state: null, streamRevision: null };
  return loadStream(store, principal, proxyStream(proxyVersionId), rehydrateProxy);
}
