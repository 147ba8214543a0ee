/** `CompleteQuery` (CQRS command) and its thin handler: the root's current answer is delivered. */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { QueryCommandRunner, type CommandEnvelope, type CommandOutcome } from '../query-command.runner.js';
import type { CompleteQueryResponse } from '../query.responses.js';
import { decideCompleteQuery } from './complete-query.command.js';

export class CompleteQuery extends Command<CommandOutcome<CompleteQueryResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
  ) {
    super();
  }
}

@CommandHandler(CompleteQuery)
export class CompleteQueryHandler implements ICommandHandler<CompleteQuery> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId }: CompleteQuery): Promise<CommandOutcome<CompleteQueryResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'QueryCompleted',
      // The command has no payload: the same stream and event type make it the same request.
      sameRequest: () => true,
      decide: (state) => decideCompleteQuery({}, state),
      respond: ({ queryId, data, revision }) => ({ queryId, status: 'completed', answer: data.answer, revision }),
    });
  }
}
