/** `POST /v1/queries/:queryId/stop`: an overseer, the pipeline or an admin stops a query for good. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, QUERY_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { StopQueryResponseSchema, type StopQueryResponse } from '../query.responses.js';
import { StopQueryBodySchema, type StopQueryBody } from './stop-query.dto.js';
import { StopQuery } from './stop-query.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class StopQueryController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/stop')
  @HttpCode(200)
  @Roles('overseer', 'pipeline', 'admin')
  @ApiOperation({ summary: 'Stop the query (open or completed); a stopped query accepts no further change' })
  @ApiCommandResponse(200, StopQueryResponseSchema, 'Stopped')
  @ApiProblems(...QUERY_COMMAND_PROBLEMS, 'QUERY.REASON_REQUIRED')
  async stop(
    @Param('queryId') queryId: string,
    @ZodBody(StopQueryBodySchema) body: StopQueryBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StopQueryResponse> {
    return reply(response, await this.commandBus.execute(new StopQuery(envelope, queryId, body)));
  }
}
