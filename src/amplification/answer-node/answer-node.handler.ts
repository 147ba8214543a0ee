/** `AnswerNode` (CQRS command) and its thin handler: a human answers an open leaf. */
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
import { decideAnswerNode } from './answer-node.command.js';
import type { AnswerNodeBody } from './answer-node.dto.js';

export class AnswerNode extends Command<CommandOutcome<NodeCommandResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
    readonly nodeId: string,
    readonly body: AnswerNodeBody,
  ) {
    super();
  }
}

@CommandHandler(AnswerNode)
export class AnswerNodeHandler implements ICommandHandler<AnswerNode> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: AnswerNode): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'HumanAnswerRecorded',
      sameRequest: (first) => {
        const { data } = recordedEvent(first, 'HumanAnswerRecorded');
        return data.nodeId === nodeId && data.answer === body.answer && data.confidence === (body.confidence ?? null);
      },
      decide: (state) => decideAnswerNode({ nodeId, ...body }, state),
      respond: (entries) => {
        const first = firstEntry(entries);
        const { data } = recordedEvent(first, 'HumanAnswerRecorded');
        return { queryId: queryIdOf(first), nodeId: data.nodeId, revision: lastRevision(entries) };
      },
    });
  }
}
