/** `POST /v1/distillation-runs/:runId/fail`: the pipeline records that a run failed. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, Envelope, reply, UPDATE_PROBLEMS } from '../../distillation.http.js';
import { FailRunResponseSchema, type FailRunResponse } from '../run.responses.js';
import { FailRunBodySchema, type FailRunBody } from './fail-run.dto.js';
import { FailRun } from './fail-run.handler.js';

@ApiTags('distillation')
@Controller('v1/distillation-runs')
export class FailRunController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':runId/fail')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Record that a running distillation run failed' })
  @ApiCommandResponse(200, FailRunResponseSchema, 'Failed')
  @ApiProblems(
    ...UPDATE_PROBLEMS,
    'DISTILLATION.NOT_FOUND',
    'DISTILLATION.INVALID_COMMAND',
    'DISTILLATION.ALREADY_COMPLETED',
    'DISTILLATION.ALREADY_FAILED',
  )
  async fail(
    @Param('runId') runId: string,
    @ZodBody(FailRunBodySchema) body: FailRunBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<FailRunResponse> {
    return reply(response, await this.commandBus.execute(new FailRun(envelope, runId, body)));
  }
}
