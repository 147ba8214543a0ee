/** `POST /v1/queries/:queryId/nodes/:nodeId/decompose`: the pipeline splits a leaf into subquestions. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { IdempotencyKey, IfMatch } from '../../common/http/command-headers.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, CorrelationId, reply } from '../query.http.js';
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
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'AUTH.TENANT_FORBIDDEN',
    'QUERY.NOT_FOUND',
    'QUERY.NODE_NOT_FOUND',
    'QUERY.COMPLETED',
    'QUERY.STOPPED',
    'QUERY.NODE_ALREADY_DECOMPOSED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
    'QUERY.MAX_DEPTH_EXCEEDED',
    'QUERY.INVALID_COMMAND',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
  )
  async decompose(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(DecomposeNodeBodySchema) body: DecomposeNodeBody,
    @CurrentPrincipal() principal: Principal,
    @IfMatch() expectedRevision: number | undefined,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<DecomposeNodeResponse> {
    const envelope = { principal, expectedRevision, idempotencyKey, correlationId };
    return reply(response, await this.commandBus.execute(new DecomposeNode(envelope, queryId, nodeId, body)));
  }
}
