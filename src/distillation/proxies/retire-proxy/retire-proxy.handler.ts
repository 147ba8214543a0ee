/** `RetireProxy` (CQRS command) and its thin handler. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import { proxyCommand } from '../proxy-commands.js';
import type { RetireProxyResponse } from '../proxy.responses.js';
import { decideRetireProxy } from './retire-proxy.command.js';
import type { RetireProxyBody } from './retire-proxy.dto.js';

export class RetireProxy extends Command<StreamCommandOutcome<RetireProxyResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly proxyVersionId: string,
    readonly body: RetireProxyBody,
  ) {
    super();
  }
}

@CommandHandler(RetireProxy)
export class RetireProxyHandler implements ICommandHandler<RetireProxy> {
  constructor(private readonly runner: StreamCommandRunner) {}

  execute({ envelope, proxyVersionId, body }: RetireProxy): Promise<StreamCommandOutcome<RetireProxyResponse>> {
    return this.runner.run(
      envelope,
      proxyCommand({
        id: proxyVersionId,
        mode: 'update',
        eventType: 'ProxyRetired',
        sameRequest: (data) => data.reason === body.reason,
        decide: (state) => decideRetireProxy({ proxyVersionId, reason: body.reason }, state),
        respond: ({ id, revision, data }) => ({ proxyVersionId: id, from: data.from, stage: 'retired', reason: data.reason, revision }),
      }),
    );
  }
}
