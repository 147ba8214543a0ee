/** `RegisterProxy` (CQRS command) and its handler: the run (403 if another tenant's) is the decider's fact. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { loadRun } from '../../runs/run-commands.js';
import { proxyCommand } from '../proxy-commands.js';
import type { ProxyRegisteredData } from '../proxy.events.js';
import type { RegisterProxyResponse } from '../proxy.responses.js';
import { decideRegisterProxy } from './register-proxy.command.js';
import type { RegisterProxyBody } from './register-proxy.dto.js';

export class RegisterProxy extends Command<StreamCommandOutcome<RegisterProxyResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: RegisterProxyBody,
  ) {
    super();
  }
}

/** The response of a registration (from a run or imported), from its recorded event. */
export function registeredResponse(proxyVersionId: string, revision: number, data: ProxyRegisteredData): RegisterProxyResponse {
  return {
    proxyVersionId,
    stage: data.stage,
    source: data.source,
    parentProxyVersionId: data.parentProxyVersionId,
    artifact: data.artifact,
    metrics: data.metrics,
    revision,
  };
}

@CommandHandler(RegisterProxy)
export class RegisterProxyHandler implements ICommandHandler<RegisterProxy> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, body }: RegisterProxy): Promise<StreamCommandOutcome<RegisterProxyResponse>> {
    const run = (await loadRun(this.store, envelope.principal, body.runId)).state;
    return this.runner.run(
      envelope,
      proxyCommand({
        // One run, one proxy version: the id is the run's, so a second registration finds the stream taken.
        id: body.runId,
        mode: 'create',
        eventType: 'ProxyRegistered',
        sameRequest: (data) =>
          data.source.kind === 'distillation' && data.source.runId === body.runId && data.name === body.name && data.version === body.version,
        decide: (state) => decideRegisterProxy(body, state, { run }),
        respond: ({ id, revision, data }) => registeredResponse(id, revision, data),
      }),
    );
  }
}
