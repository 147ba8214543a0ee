/** `POST /v1/queries/:queryId/nodes/:nodeId/override`: an overseer replaces an answer, with a rationale. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { IdempotencyKey, IfMatch } from '../../common/http/command-headers.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, CorrelationId, reply } from '../query.http.js';
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
  @ApiOperation({ summary: "Override a node's current answer (the original stays in the history); also after completion" })
  @ApiCommandResponse(200, NodeCommandResponseSchema, 'Overridden')
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'AUTH.TENANT_FORBIDDEN',
    'QUERY.NOT_FOUND',
    'QUERY.NODE_NOT_FOUND',
    'QUERY.STOPPED',
    'QUERY.NODE_NOT_ANSWERED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
    'QUERY.RATIONALE_REQUIRED',
    'QUERY.OVERRIDE_UNCHANGED',
    'QUERY.INVALID_COMMAND',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
  )
  async override(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(OverrideAnswerBodySchema) body: OverrideAnswerBody,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    const envelope = { principal, expectedRevision, idempotencyKey, correlationId };
    return reply(response, await this.commandBus.execute(new OverrideAnswer(envelope, queryId, nodeId, body)));
  }
}
