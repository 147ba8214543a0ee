/** `POST /v1/proxies/:proxyVersionId/recalibrations`: measure agreement with humans; demote a failing serving proxy. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, Envelope, reply, UPDATE_PROBLEMS } from '../../distillation.http.js';
import { RecalibrateProxyResponseSchema, type RecalibrateProxyResponse } from '../proxy.responses.js';
import { RecalibrateProxyBodySchema, type RecalibrateProxyBody } from './recalibrate-proxy.dto.js';
import { RecalibrateProxy } from './recalibrate-proxy.handler.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class RecalibrateProxyController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':proxyVersionId/recalibrations')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Record a recalibration; below minAgreement a shadow/production proxy is demoted to candidate in the same append' })
  @ApiCommandResponse(200, RecalibrateProxyResponseSchema, 'Recalibrated (and possibly demoted)')
  @ApiProblems(...UPDATE_PROBLEMS, 'PROXY.NOT_FOUND', 'PROXY.INVALID_COMMAND', 'PROXY.RETIRED')
  async recalibrate(
    @Param('proxyVersionId') proxyVersionId: string,
    @ZodBody(RecalibrateProxyBodySchema) body: RecalibrateProxyBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RecalibrateProxyResponse> {
    return reply(response, await this.commandBus.execute(new RecalibrateProxy(envelope, proxyVersionId, body)));
  }
}
