/** `POST /v1/queries/:queryId/nodes/:nodeId/answer`: an overseer answers a leaf (also an escalated one). */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { NodeCommandResponseSchema, type NodeCommandResponse } from '../query.responses.js';
import { AnswerNodeBodySchema, type AnswerNodeBody } from './answer-node.dto.js';
import { AnswerNode } from './answer-node.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class AnswerNodeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/answer')
  @HttpCode(200)
  @Roles('overseer')
  @ApiOperation({
    summary: 'Record a human answer to a leaf (open, assigned to a human, or escalated: this clears the escalation)',
  })
  @ApiCommandResponse(200, NodeCommandResponseSchema, 'Answered')
  @ApiProblems(
    ...NODE_COMMAND_PROBLEMS,
    'QUERY.COMPLETED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.NODE_DECOMPOSED',
    'QUERY.NODE_AWAITING_INFERENCE',
  )
  async answer(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(AnswerNodeBodySchema) body: AnswerNodeBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    return reply(response, await this.commandBus.execute(new AnswerNode(envelope, queryId, nodeId, body)));
  }
}
