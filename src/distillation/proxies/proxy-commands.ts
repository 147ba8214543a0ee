/**
 * How the proxy-registry use cases plug into the shared `StreamCommandRunner` (idempotency, load, tenant,
 * If-Match, decide, append with expected revision, bounded retry; see its header): `proxy-<proxyVersionId>`
 * streams bound once (see src/common/commands/event-stream-command.ts).
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
import { parseProxyEvent, PROXY_STREAM_PREFIX, type ProxyEvent, type ProxyEventType } from './proxy.events.js';
import { proxyNotFound } from './proxy.guards.js';
import { rehydrateProxy, type ProxyState } from './proxy.state.js';

const PROXY_STREAMS: EventStreamKind<ProxyState | null, ProxyEvent> = {
  prefix: PROXY_STREAM_PREFIX,
  aggregate: 'Proxy version',
  codePrefix: 'PROXY',
  notFound: proxyNotFound,
  rehydrate: rehydrateProxy,
  exists: (state) => state !== null,
  parse: parseProxyEvent,
};

/** A command on `proxy-<id>`: `id` is the proxy version id (`createWithNewId` for an import). */
export type ProxyCommandSpec<R, T extends ProxyEventType> = EventStreamCommand<ProxyState | null, ProxyEvent, R, T>;

export function proxyCommand<R, T extends ProxyEventType>(spec: ProxyCommandSpec<R, T>): StreamCommandSpec<ProxyState | null, R> {
  return eventStreamCommand(PROXY_STREAMS, spec);
}

/**
 * Reads `proxy-<id>` for the caller: 403 AUTH.TENANT_FORBIDDEN for another tenant's proxy, `state` null when
 * there is none (the caller decides what that means).
 */
export function loadProxy(store: EventStore, principal: Principal, proxyVersionId: string): Promise<LoadedStream<ProxyState | null>> {
  return loadEventStream(store, principal, PROXY_STREAMS, proxyVersionId);
}
