/** `POST /v1/proxies/:proxyVersionId/promote`: one stage up, through the tenant's promotion gates. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, Envelope, reply, UPDATE_PROBLEMS } from '../../distillation.http.js';
import { PromoteProxyResponseSchema, type PromoteProxyResponse } from '../proxy.responses.js';
import { PromoteProxyBodySchema, type PromoteProxyBody } from './promote-proxy.dto.js';
import { PromoteProxy } from './promote-proxy.handler.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class PromoteProxyController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':proxyVersionId/promote')
  @HttpCode(200)
  @Roles('pipeline', 'admin')
  @ApiOperation({
    summary: 'Promote candidate → shadow → production; every gate check is recorded, a failing one refuses (checks in details)',
  })
  @ApiCommandResponse(200, PromoteProxyResponseSchema, 'Promoted')
  @ApiProblems(...UPDATE_PROBLEMS, 'PROXY.NOT_FOUND', 'PROXY.INVALID_COMMAND', 'PROXY.INVALID_TRANSITION', 'PROXY.GATES_NOT_MET')
  async promote(
    @Param('proxyVersionId') proxyVersionId: string,
    @ZodBody(PromoteProxyBodySchema) body: PromoteProxyBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PromoteProxyResponse> {
    return reply(response, await this.commandBus.execute(new PromoteProxy(envelope, proxyVersionId, body)));
  }
}
