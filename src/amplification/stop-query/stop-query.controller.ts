/** `POST /v1/queries/:queryId/stop`: an overseer, the pipeline or an admin stops a query for good. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { IdempotencyKey, IfMatch } from '../../common/http/command-headers.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, CorrelationId, reply } from '../query.http.js';
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
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'AUTH.TENANT_FORBIDDEN',
    'QUERY.NOT_FOUND',
    'QUERY.STOPPED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
    'QUERY.REASON_REQUIRED',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
  )
  async stop(
    @Param('queryId') queryId: string,
    @ZodBody(StopQueryBodySchema) body: StopQueryBody,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StopQueryResponse> {
    const envelope = { principal, expectedRevision, idempotencyKey, correlationId };
    return reply(response, await this.commandBus.execute(new StopQuery(envelope, queryId, body)));
  }
}
