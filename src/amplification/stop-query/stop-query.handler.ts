/** `StopQuery` (CQRS command) and its thin handler: terminal, from open or completed. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  firstEntry,
  lastRevision,
  queryIdOf,
  QueryCommandRunner,
  recordedEvent,
  type CommandEnvelope,
  type CommandOutcome,
} from '../query-command.runner.js';
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
      sameRequest: (first) => recordedEvent(first, 'QueryStopped').data.reason === body.reason,
      decide: (state) => decideStopQuery({ reason: body.reason }, state),
      respond: (entries) => {
        const first = firstEntry(entries);
        const { data } = recordedEvent(first, 'QueryStopped');
        return {
          queryId: queryIdOf(first),
          status: 'stopped',
          previousStatus: data.previousStatus,
          revision: lastRevision(entries),
        };
      },
    });
  }
}
