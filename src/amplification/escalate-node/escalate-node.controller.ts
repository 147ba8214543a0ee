/** `POST /v1/queries/:queryId/nodes/:nodeId/escalate`: the pipeline or an overseer hands a leaf to a human. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, OptionalZodBody, reply } from '../query.http.js';
import { NodeCommandResponseSchema, type NodeCommandResponse } from '../query.responses.js';
import { EscalateNodeBodySchema, type EscalateNodeBody } from './escalate-node.dto.js';
import { EscalateNode } from './escalate-node.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class EscalateNodeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/escalate')
  @HttpCode(200)
  @Roles('pipeline', 'overseer')
  @ApiOperation({
    summary: 'Escalate an unanswered leaf to a human by hand (pending proxy jobs on it are abandoned)',
  })
  @ApiCommandResponse(200, NodeCommandResponseSchema, 'Escalated')
  @ApiProblems(
    ...NODE_COMMAND_PROBLEMS,
    'REQUEST.UNSUPPORTED_MEDIA_TYPE',
    'QUERY.COMPLETED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.NODE_DECOMPOSED',
    'QUERY.NODE_ALREADY_ESCALATED',
  )
  async escalate(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @OptionalZodBody(EscalateNodeBodySchema) body: EscalateNodeBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    return reply(response, await this.commandBus.execute(new EscalateNode(envelope, queryId, nodeId, body)));
  }
}
