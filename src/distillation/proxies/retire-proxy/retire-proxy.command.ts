/** Retire a proxy version from any stage. Final: a retired proxy never serves, recalibrates or moves again. */
import type { ProxyRetired } from '../proxy.events.js';
import { invalidTransition, MAX_PROXY_REASON_LENGTH, requireProxy, requireProxyId, requireProxyText } from '../proxy.guards.js';
import type { ProxyState } from '../proxy.state.js';

export interface RetireProxyCommand {
  proxyVersionId: string;
  reason: string;
}

export function decideRetireProxy(command: RetireProxyCommand, state: ProxyState | null): [ProxyRetired] {
  const proxyVersionId = requireProxyId(command.proxyVersionId, 'proxyVersionId');
  const reason = requireProxyText(command.reason, 'reason', MAX_PROXY_REASON_LENGTH);
  const proxy = requireProxy(state, proxyVersionId);
  if (proxy.stage === 'retired') throw invalidTransition('retired', 'retired');
  return [{ type: 'ProxyRetired', schema: 1, data: { from: proxy.stage, reason } }];
}
