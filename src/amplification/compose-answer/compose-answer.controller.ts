/** `POST /v1/queries/:queryId/nodes/:nodeId/compose`: the pipeline composes a node's answer from its children. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { NodeCommandResponseSchema, type NodeCommandResponse } from '../query.responses.js';
import { ComposeAnswerBodySchema, type ComposeAnswerBody } from './compose-answer.dto.js';
import { ComposeAnswer } from './compose-answer.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class ComposeAnswerController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/compose')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({ summary: "Compose a decomposed node's answer once every child is answered" })
  @ApiCommandResponse(200, NodeCommandResponseSchema, 'Composed')
  @ApiProblems(
    ...NODE_COMMAND_PROBLEMS,
    'QUERY.COMPLETED',
    'QUERY.NODE_NOT_DECOMPOSED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.CHILD_ESCALATED',
    'QUERY.CHILDREN_UNANSWERED',
  )
  async compose(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(ComposeAnswerBodySchema) body: ComposeAnswerBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    return reply(response, await this.commandBus.execute(new ComposeAnswer(envelope, queryId, nodeId, body)));
  }
}
