/** `PromoteProxy` (CQRS command) and its handler: the tenant's gates now and the time are the decider's facts. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { loadTenantSettings } from '../../../tenants/tenant-settings.js';
import { proxyCommand } from '../proxy-commands.js';
import type { PromoteProxyResponse } from '../proxy.responses.js';
import { decidePromoteProxy } from './promote-proxy.command.js';
import type { PromoteProxyBody } from './promote-proxy.dto.js';

export class PromoteProxy extends Command<StreamCommandOutcome<PromoteProxyResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly proxyVersionId: string,
    readonly body: PromoteProxyBody,
  ) {
    super();
  }
}

@CommandHandler(PromoteProxy)
export class PromoteProxyHandler implements ICommandHandler<PromoteProxy> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, proxyVersionId, body }: PromoteProxy): Promise<StreamCommandOutcome<PromoteProxyResponse>> {
    const { promotionGates: gates } = await loadTenantSettings(this.store, envelope.principal.tenant);
    const now = this.runner.now();
    return this.runner.run(
      envelope,
      proxyCommand({
        id: proxyVersionId,
        mode: 'update',
        eventType: 'ProxyPromoted',
        sameRequest: (data) => data.to === body.to,
        decide: (state) => decidePromoteProxy({ proxyVersionId, to: body.to }, state, { gates, now }),
        respond: ({ id, revision, data }) => ({ proxyVersionId: id, from: data.from, to: data.to, stage: data.to, checks: data.checks, revision }),
      }),
    );
  }
}
