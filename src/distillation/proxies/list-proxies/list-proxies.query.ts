/**
 * `ListProxies` (CQRS query) and its handler: every proxy version of the caller's tenant, in registration
 * order. Reads the tenant's proxy events from position 0 (filtered by the store: the queries' entries are never
 * shipped) and folds the `proxy-` streams: linear in the registry's history, not in the tenant's log.
 */
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../auth/principal.js';
import type { SignedEntry } from '../../../ledger/entry.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { PROXY_EVENT_TYPES, PROXY_STREAM_PREFIX, type ProxyStage } from '../proxy.events.js';
import { proxyView, rehydrateProxy, type ProxyView } from '../proxy.state.js';

const PAGE = 1000;

export class ListProxies extends Query<ProxyView[]> {
  constructor(
    readonly principal: Principal,
    readonly stage: ProxyStage | undefined,
  ) {
    super();
  }
}

@QueryHandler(ListProxies)
export class ListProxiesHandler implements IQueryHandler<ListProxies> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ principal, stage }: ListProxies): Promise<ProxyView[]> {
    // Insertion order of the map = order of each proxy's first entry = registration order.
    const streams = new Map<string, SignedEntry[]>();
    for (let from = 0; ; ) {
      const page = await this.store.readAll(from, PAGE, { tenants: [principal.tenant], types: PROXY_EVENT_TYPES });
      for (const { entry } of page) {
        if (!entry.stream.startsWith(PROXY_STREAM_PREFIX)) continue;
        const entries = streams.get(entry.stream);
        if (entries === undefined) streams.set(entry.stream, [entry]);
        else entries.push(entry);
      }
      if (page.length < PAGE) break;
      from = page[page.length - 1]!.position + 1;
    }
    const proxies: ProxyView[] = [];
    for (const entries of streams.values()) {
      const proxy = rehydrateProxy(entries);
      if (proxy !== null && (stage === undefined || proxy.stage === stage)) proxies.push(proxyView(proxy));
    }
    return proxies;
  }
}
