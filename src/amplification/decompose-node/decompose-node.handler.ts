/** `DecomposeNode` (CQRS command) and its thin handler. Child ids are UUID v7 from the IdGenerator. */
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
import type { DecomposeNodeResponse } from '../query.responses.js';
import { decideDecomposeNode } from './decompose-node.command.js';
import type { DecomposeNodeBody } from './decompose-node.dto.js';

export class DecomposeNode extends Command<CommandOutcome<DecomposeNodeResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
    readonly nodeId: string,
    readonly body: DecomposeNodeBody,
  ) {
    super();
  }
}

@CommandHandler(DecomposeNode)
export class DecomposeNodeHandler implements ICommandHandler<DecomposeNode> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: DecomposeNode): Promise<CommandOutcome<DecomposeNodeResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'SubqueriesDelegated',
      sameRequest: (first) => {
        const { data } = recordedEvent(first, 'SubqueriesDelegated');
        return (
          data.nodeId === nodeId &&
          data.children.length === body.subquestions.length &&
          data.children.every((child, i) => child.question === body.subquestions[i])
        );
      },
      decide: (state, ctx) => decideDecomposeNode({ nodeId, subquestions: body.subquestions }, state, ctx),
      respond: (entries) => {
        const first = firstEntry(entries);
        const { data } = recordedEvent(first, 'SubqueriesDelegated');
        return {
          queryId: queryIdOf(first),
          nodeId: data.nodeId,
          childNodeIds: data.children.map((child) => child.nodeId),
          revision: lastRevision(entries),
        };
      },
    });
  }
}
