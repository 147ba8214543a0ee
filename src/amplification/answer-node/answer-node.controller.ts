/** `POST /v1/queries/:queryId/nodes/:nodeId/answer`: an overseer answers an open leaf. */
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
import { AnswerNodeBodySchema, type AnswerNodeBody } from './answer-node.dto.js';
import { AnswerNode } from './answer-node.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class AnswerNodeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/answer')
  @HttpCode(200)
  @Roles('overseer')
  @ApiOperation({ summary: 'Record a human answer to an open leaf' })
  @ApiCommandResponse(200, NodeCommandResponseSchema, 'Answered')
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'AUTH.TENANT_FORBIDDEN',
    'QUERY.NOT_FOUND',
    'QUERY.NODE_NOT_FOUND',
    'QUERY.COMPLETED',
    'QUERY.STOPPED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.NODE_DECOMPOSED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
    'QUERY.INVALID_COMMAND',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
  )
  async answer(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(AnswerNodeBodySchema) body: AnswerNodeBody,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NodeCommandResponse> {
    const envelope = { principal, expectedRevision, idempotencyKey, correlationId };
    return reply(response, await this.commandBus.execute(new AnswerNode(envelope, queryId, nodeId, body)));
  }
}
