/** `DecomposeNode` (CQRS command) and its thin handler. Child ids are UUID v7 from the IdGenerator. */
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import type { DecomposeNodeResponse } from '../query.responses.js';
import { decideDecomposeNode } from './decompose-node.command.js';
import type { DecomposeNodeBody } from './decompose-node.dto.js';

export class DecomposeNode extends NodeCommand<DecomposeNodeBody, DecomposeNodeResponse> {}

@CommandHandler(DecomposeNode)
export class DecomposeNodeHandler implements ICommandHandler<DecomposeNode> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: DecomposeNode): Promise<CommandOutcome<DecomposeNodeResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'SubqueriesDelegated',
      sameRequest: (data) =>
        data.nodeId === nodeId &&
        data.children.length === body.subquestions.length &&
        data.children.every((child, i) => child.question === body.subquestions[i]),
      decide: (state, ctx) => decideDecomposeNode({ nodeId, subquestions: body.subquestions }, state, ctx),
      respond: ({ queryId, data, revision }) => ({
        queryId,
        nodeId: data.nodeId,
        childNodeIds: data.children.map((child) => child.nodeId),
        revision,
      }),
    });
  }
}
