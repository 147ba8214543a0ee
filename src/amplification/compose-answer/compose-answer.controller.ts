/** `POST /v1/queries/:queryId/nodes/:nodeId/compose`: the pipeline composes a node's answer from its children. */
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
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'AUTH.TENANT_FORBIDDEN',
    'QUERY.NOT_FOUND',
    'QUERY.NODE_NOT_FOUND',
    'QUERY.COMPLETED',
    'QUERY.STOPPED',
    'QUERY.NODE_NOT_DECOMPOSED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.CHILDREN_UNANSWERED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
    'QUERY.INVALID_COMMAND',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
  )
  async compose(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(ComposeAnswerBodySchema) body: ComposeAnswerBody,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    const envelope = { principal, expectedRevision, idempotencyKey, correlationId };
    return reply(response, await this.commandBus.execute(new ComposeAnswer(envelope, queryId, nodeId, body)));
  }
}
