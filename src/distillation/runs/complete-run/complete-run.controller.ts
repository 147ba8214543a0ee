/** `POST /v1/distillation-runs/:runId/complete`: the pipeline records the trained artifact and its metrics. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, Envelope, reply, UPDATE_PROBLEMS } from '../../distillation.http.js';
import { CompleteRunResponseSchema, type CompleteRunResponse } from '../run.responses.js';
import { CompleteRunBodySchema, type CompleteRunBody } from './complete-run.dto.js';
import { CompleteRun } from './complete-run.handler.js';

@ApiTags('distillation')
@Controller('v1/distillation-runs')
export class CompleteRunController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':runId/complete')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Complete a running distillation run with its artifact (already uploaded) and metrics' })
  @ApiCommandResponse(200, CompleteRunResponseSchema, 'Completed')
  @ApiProblems(
    ...UPDATE_PROBLEMS,
    'DISTILLATION.NOT_FOUND',
    'DISTILLATION.INVALID_COMMAND',
    'DISTILLATION.ALREADY_COMPLETED',
    'DISTILLATION.ALREADY_FAILED',
    'DISTILLATION.DRIFT_REQUIRED',
    'DISTILLATION.ARTIFACT_NOT_FOUND',
  )
  async complete(
    @Param('runId') runId: string,
    @ZodBody(CompleteRunBodySchema) body: CompleteRunBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CompleteRunResponse> {
    return reply(response, await this.commandBus.execute(new CompleteRun(envelope, runId, body)));
  }
}
