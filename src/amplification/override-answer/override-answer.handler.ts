/** `OverrideAnswer` (CQRS command) and its thin handler: a human replaces an answer, with a rationale. */
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import { nodeCommandResponse, type NodeCommandResponse } from '../query.responses.js';
import { decideOverrideAnswer } from './override-answer.command.js';
import type { OverrideAnswerBody } from './override-answer.dto.js';

export class OverrideAnswer extends NodeCommand<OverrideAnswerBody, NodeCommandResponse> {}

@CommandHandler(OverrideAnswer)
export class OverrideAnswerHandler implements ICommandHandler<OverrideAnswer> {
  constructor(private readonly runner: QueryCommandRunner) {}

  execute({ envelope, queryId, nodeId, body }: OverrideAnswer): Promise<CommandOutcome<NodeCommandResponse>> {
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'HumanOverrideRecorded',
      sameRequest: (data) => data.nodeId === nodeId && data.answer === body.answer && data.rationale === body.rationale,
      decide: (state) => decideOverrideAnswer({ nodeId, answer: body.answer, rationale: body.rationale }, state),
      respond: nodeCommandResponse,
    });
  }
}
