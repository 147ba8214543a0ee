/** `POST /v1/queries`: the pipeline opens an amplification query. */
import { Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, reply } from '../query.http.js';
import { OpenQueryResponseSchema, type OpenQueryResponse } from '../query.responses.js';
import { OpenQueryBodySchema, type OpenQueryBody } from './open-query.dto.js';
import { OpenQuery } from './open-query.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class OpenQueryController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(201)
  @Roles('pipeline')
  @ApiOperation({
    summary: 'Open an amplification query (the task becomes the root node)',
    description:
      "maxDepth and confidenceThreshold come from the request, else the named task class of the tenant's settings, " +
      "else the tenant's defaults; the tree's limitSources says which.",
  })
  @ApiCommandResponse(201, OpenQueryResponseSchema, 'Opened; `Location` names the decision tree')
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'REQUEST.BODY_TOO_LARGE',
    'REQUEST.UNSUPPORTED_MEDIA_TYPE',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
    'QUERY.INVALID_COMMAND',
    'QUERY.UNKNOWN_TASK_CLASS',
  )
  async open(
    @ZodBody(OpenQueryBodySchema) body: OpenQueryBody,
    // A new query has no revision to match: If-Match is not read.
    @Envelope({ ifMatch: false }) envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OpenQueryResponse> {
    const outcome = await this.commandBus.execute(new OpenQuery(envelope, body));
    response.setHeader('Location', `/v1/queries/${encodeURIComponent(outcome.body.queryId)}`);
    return reply(response, outcome);
  }
}
