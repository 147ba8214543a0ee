/** `StopQuery` (CQRS command) and its thin handler: terminal, from open or completed. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { QueryCommandRunner, type CommandEnvelope, type CommandOutcome } from '../query-command.runner.js';
import type { StopQueryResponse } from '../query.responses.js';
import { decideStopQuery } from './stop-query.command.js';
import type { StopQueryBody } from './stop-query.dto.js';

export class StopQuery extends Command<CommandOutcome<StopQueryResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
    readonly body: StopQueryBody,
  ) {
    super();
  }
}

@CommandHandler(StopQuery)
export class StopQueryHandler implements ICommandHandler<StopQuery> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, body }: StopQuery): Promise<CommandOutcome<StopQueryResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'QueryStopped',
      sameRequest: (data) => data.reason === body.reason,
      decide: (state) => decideStopQuery({ reason: body.reason }, state),
      respond: ({ queryId, data, revision }) => ({ queryId, status: 'stopped', previousStatus: data.previousStatus, revision }),
    });
  }
}
