/** `AnswerNode` (CQRS command) and its thin handler: a human answers an open leaf. */
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import { nodeCommandResponse, type NodeCommandResponse } from '../query.responses.js';
import { decideAnswerNode } from './answer-node.command.js';
import type { AnswerNodeBody } from './answer-node.dto.js';

export class AnswerNode extends NodeCommand<AnswerNodeBody, NodeCommandResponse> {}

@CommandHandler(AnswerNode)
export class AnswerNodeHandler implements ICommandHandler<AnswerNode> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: AnswerNode): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'HumanAnswerRecorded',
      sameRequest: (data) => data.nodeId === nodeId && data.answer === body.answer && data.confidence === (body.confidence ?? null),
      decide: (state) => decideAnswerNode({ nodeId, ...body }, state),
      respond: nodeCommandResponse,
    });
  }
}
