/** `POST /v1/queries/:queryId/complete`: the pipeline delivers the root's current answer. Body `{}` or none. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, OptionalZodBody, QUERY_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { CompleteQueryResponseSchema, type CompleteQueryResponse } from '../query.responses.js';
import { CompleteQueryBodySchema, type CompleteQueryBody } from './complete-query.dto.js';
import { CompleteQuery } from './complete-query.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class CompleteQueryController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/complete')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({ summary: "Complete the query: the root's current answer becomes the delivered answer" })
  @ApiCommandResponse(200, CompleteQueryResponseSchema, 'Completed')
  @ApiProblems(...QUERY_COMMAND_PROBLEMS, 'QUERY.COMPLETED', 'QUERY.ROOT_NOT_ANSWERED')
  async complete(
    @Param('queryId') queryId: string,
    // Validated (unknown fields are refused) but carries nothing: the answer comes from the recorded tree.
    @OptionalZodBody(CompleteQueryBodySchema) _body: CompleteQueryBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CompleteQueryResponse> {
    return reply(response, await this.commandBus.execute(new CompleteQuery(envelope, queryId)));
  }
}
