/** `ComposeAnswer` (CQRS command) and its thin handler: a decomposed node's answer from its children. */
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import { nodeCommandResponse, type NodeCommandResponse } from '../query.responses.js';
import { decideComposeAnswer } from './compose-answer.command.js';
import type { ComposeAnswerBody } from './compose-answer.dto.js';

export class ComposeAnswer extends NodeCommand<ComposeAnswerBody, NodeCommandResponse> {}

@CommandHandler(ComposeAnswer)
export class ComposeAnswerHandler implements ICommandHandler<ComposeAnswer> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: ComposeAnswer): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'AnswerComposed',
      sameRequest: (data) => data.nodeId === nodeId && data.answer === body.answer,
      decide: (state) => decideComposeAnswer({ nodeId, answer: body.answer }, state),
      respond: nodeCommandResponse,
    });
  }
}
