/** `EscalateNode` (CQRS command) and its thin handler: a leaf handed to a human by hand. */
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import { nodeCommandResponse, type NodeCommandResponse } from '../query.responses.js';
import { decideEscalateNode } from './escalate-node.command.js';
import type { EscalateNodeBody } from './escalate-node.dto.js';

export class EscalateNode extends NodeCommand<EscalateNodeBody, NodeCommandResponse> {}

@CommandHandler(EscalateNode)
export class EscalateNodeHandler implements ICommandHandler<EscalateNode> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: EscalateNode): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'EscalatedToHuman',
      sameRequest: (data) => data.nodeId === nodeId && data.reason === 'requested' && data.note === (body.note ?? null),
      decide: (state) => decideEscalateNode({ nodeId, ...body }, state),
      respond: nodeCommandResponse,
    });
  }
}
