/** `POST /v1/queries/:queryId/nodes/:nodeId/override`: an overseer replaces an answer, with a rationale. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { NodeCommandResponseSchema, type NodeCommandResponse } from '../query.responses.js';
import { OverrideAnswerBodySchema, type OverrideAnswerBody } from './override-answer.dto.js';
import { OverrideAnswer } from './override-answer.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class OverrideAnswerController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/override')
  @HttpCode(200)
  @Roles('overseer')
  @ApiOperation({
    summary:
      "Override a node's current answer, whoever gave it (human, proxy, ensemble, composed); " +
      'the original stays in the history; also after completion',
  })
  @ApiCommandResponse(200, NodeCommandResponseSchema, 'Overridden')
  @ApiProblems(...NODE_COMMAND_PROBLEMS, 'QUERY.NODE_NOT_ANSWERED', 'QUERY.RATIONALE_REQUIRED', 'QUERY.OVERRIDE_UNCHANGED')
  async override(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(OverrideAnswerBodySchema) body: OverrideAnswerBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    return reply(response, await this.commandBus.execute(new OverrideAnswer(envelope, queryId, nodeId, body)));
  }
}
