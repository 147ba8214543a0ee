/** `POST /v1/proxies`: register the proxy version a completed distillation run produced (id = run id). */
import { Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, COMMAND_PROBLEMS, Envelope, reply } from '../../distillation.http.js';
import { RegisterProxyResponseSchema, type RegisterProxyResponse } from '../proxy.responses.js';
import { RegisterProxyBodySchema, type RegisterProxyBody } from './register-proxy.dto.js';
import { RegisterProxy } from './register-proxy.handler.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class RegisterProxyController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(201)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Register the proxy of a completed run; its id is the run id, its stage candidate' })
  @ApiCommandResponse(201, RegisterProxyResponseSchema, 'Registered; `Location` names the proxy version')
  @ApiProblems(...COMMAND_PROBLEMS, 'PROXY.INVALID_COMMAND', 'PROXY.ALREADY_REGISTERED', 'PROXY.RUN_NOT_FOUND', 'PROXY.RUN_NOT_COMPLETED')
  async register(
    @ZodBody(RegisterProxyBodySchema) body: RegisterProxyBody,
    @Envelope({ ifMatch: false }) envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RegisterProxyResponse> {
    const outcome = await this.commandBus.execute(new RegisterProxy(envelope, body));
    response.setHeader('Location', `/v1/proxies/${encodeURIComponent(outcome.body.proxyVersionId)}`);
    return reply(response, outcome);
  }
}
