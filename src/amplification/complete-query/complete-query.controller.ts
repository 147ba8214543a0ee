/** `POST /v1/queries/:queryId/complete`: the pipeline delivers the root's current answer. Body `{}` or none. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { IdempotencyKey, IfMatch } from '../../common/http/command-headers.js';
import { ApiCommandResponse, ApiProblems, CorrelationId, OptionalZodBody, reply } from '../query.http.js';
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
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'AUTH.TENANT_FORBIDDEN',
    'QUERY.NOT_FOUND',
    'QUERY.COMPLETED',
    'QUERY.STOPPED',
    'QUERY.ROOT_NOT_ANSWERED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
  )
  async complete(
    @Param('queryId') queryId: string,
    // Validated (unknown fields are refused) but carries nothing: the answer comes from the recorded tree.
    @OptionalZodBody(CompleteQueryBodySchema) _body: CompleteQueryBody,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CompleteQueryResponse> {
    const envelope = { principal, expectedRevision, idempotencyKey, correlationId };
    return reply(response, await this.commandBus.execute(new CompleteQuery(envelope, queryId)));
  }
}
