/** `POST /v1/proxies/:proxyVersionId/retire`: take a proxy version out of service for good. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, Envelope, reply, UPDATE_PROBLEMS } from '../../distillation.http.js';
import { RetireProxyResponseSchema, type RetireProxyResponse } from '../proxy.responses.js';
import { RetireProxyBodySchema, type RetireProxyBody } from './retire-proxy.dto.js';
import { RetireProxy } from './retire-proxy.handler.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class RetireProxyController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':proxyVersionId/retire')
  @HttpCode(200)
  @Roles('pipeline', 'admin')
  @ApiOperation({ summary: 'Retire a proxy version from any stage (final)' })
  @ApiCommandResponse(200, RetireProxyResponseSchema, 'Retired')
  @ApiProblems(...UPDATE_PROBLEMS, 'PROXY.NOT_FOUND', 'PROXY.INVALID_COMMAND', 'PROXY.INVALID_TRANSITION')
  async retire(
    @Param('proxyVersionId') proxyVersionId: string,
    @ZodBody(RetireProxyBodySchema) body: RetireProxyBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RetireProxyResponse> {
    return reply(response, await this.commandBus.execute(new RetireProxy(envelope, proxyVersionId, body)));
  }
}
