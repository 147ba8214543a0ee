/** `GetProxy` (CQRS query) and its handler: one proxy version rebuilt from its stream, for the caller's tenant. */
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../auth/principal.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { loadProxy } from '../proxy-commands.js';
import { proxyNotFound } from '../proxy.guards.js';
import { proxyView, type ProxyView } from '../proxy.state.js';

export interface ProxyResult {
  proxy: ProxyView;
  /** Revision of the stream's last entry: the ETag, and what `If-Match` of the next command must name. */
  streamRevision: number;
}

export class GetProxy extends Query<ProxyResult> {
  constructor(
    readonly principal: Principal,
    readonly proxyVersionId: string,
  ) {
    super();
  }
}

@QueryHandler(GetProxy)
export class GetProxyHandler implements IQueryHandler<GetProxy> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ principal, proxyVersionId }: GetProxy): Promise<ProxyResult> {
    // Tenant first (403), then existence (404).
    const { state, streamRevision } = await loadProxy(this.store, principal, proxyVersionId);
    if (state === null || streamRevision === null) throw proxyNotFound(proxyVersionId);
    return { proxy: proxyView(state), streamRevision };
  }
}
