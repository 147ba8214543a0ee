/** `POST /v1/queries/:queryId/nodes/:nodeId/decompose`: the pipeline splits a leaf into subquestions. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { DecomposeNodeResponseSchema, type DecomposeNodeResponse } from '../query.responses.js';
import { DecomposeNodeBodySchema, type DecomposeNodeBody } from './decompose-node.dto.js';
import { DecomposeNode } from './decompose-node.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class DecomposeNodeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/decompose')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Decompose an open leaf into subquestions (one child node each)' })
  @ApiCommandResponse(200, DecomposeNodeResponseSchema, 'Decomposed')
  @ApiProblems(
    ...NODE_COMMAND_PROBLEMS,
    'QUERY.COMPLETED',
    'QUERY.NODE_ALREADY_DECOMPOSED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.NODE_ESCALATED',
    'QUERY.NODE_ALREADY_ASSIGNED',
    'QUERY.MAX_DEPTH_EXCEEDED',
  )
  async decompose(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(DecomposeNodeBodySchema) body: DecomposeNodeBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<DecomposeNodeResponse> {
    return reply(response, await this.commandBus.execute(new DecomposeNode(envelope, queryId, nodeId, body)));
  }
}
