/** `OverrideAnswer` (CQRS command) and its thin handler: a human replaces an answer, with a rationale. */
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
import { decideOverrideAnswer } from './override-answer.command.js';
import type { OverrideAnswerBody } from './override-answer.dto.js';

export class OverrideAnswer extends Command<CommandOutcome<NodeCommandResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
    readonly nodeId: string,
    readonly body: OverrideAnswerBody,
  ) {
    super();
  }
}

@CommandHandler(OverrideAnswer)
export class OverrideAnswerHandler implements ICommandHandler<OverrideAnswer> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: OverrideAnswer): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'HumanOverrideRecorded',
      sameRequest: (first) => {
        const { data } = recordedEvent(first, 'HumanOverrideRecorded');
        return data.nodeId === nodeId && data.answer === body.answer && data.rationale === body.rationale;
      },
      decide: (state) => decideOverrideAnswer({ nodeId, answer: body.answer, rationale: body.rationale }, state),
      respond: (entries) => {
        const first = firstEntry(entries);
        const { data } = recordedEvent(first, 'HumanOverrideRecorded');
        return { queryId: queryIdOf(first), nodeId: data.nodeId, revision: lastRevision(entries) };
      },
    });
  }
}
