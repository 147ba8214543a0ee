/** `ComposeAnswer` (CQRS command) and its thin handler: a decomposed node's answer from its children. */
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
import type { NodeCommandResponse } from '../query.responses.js';
import { decideComposeAnswer } from './compose-answer.command.js';
import type { ComposeAnswerBody } from './compose-answer.dto.js';

export class ComposeAnswer extends Command<CommandOutcome<NodeCommandResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
    readonly nodeId: string,
    readonly body: ComposeAnswerBody,
  ) {
    super();
  }
}

@CommandHandler(ComposeAnswer)
export class ComposeAnswerHandler implements ICommandHandler<ComposeAnswer> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: ComposeAnswer): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'AnswerComposed',
      sameRequest: (first) => {
        const { data } = recordedEvent(first, 'AnswerComposed');
        return data.nodeId === nodeId && data.answer === body.answer;
      },
      decide: (state) => decideComposeAnswer({ nodeId, answer: body.answer }, state),
      respond: (entries) => {
        const first = firstEntry(entries);
        const { data } = recordedEvent(first, 'AnswerComposed');
        return { queryId: queryIdOf(first), nodeId: data.nodeId, revision: lastRevision(entries) };
      },
    });
  }
}
