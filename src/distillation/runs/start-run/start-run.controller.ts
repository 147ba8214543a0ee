/** `POST /v1/distillation-runs`: the pipeline starts a distillation run over completed queries. */
import { Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, COMMAND_PROBLEMS, Envelope, reply } from '../../distillation.http.js';
import { StartRunResponseSchema, type StartRunResponse } from '../run.responses.js';
import { StartRunBodySchema, type StartRunBody } from './start-run.dto.js';
import { StartRun } from './start-run.handler.js';

@ApiTags('distillation')
@Controller('v1/distillation-runs')
export class StartRunController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(201)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Start a distillation run; the dataset root and the teacher are derived from the transcripts' })
  @ApiCommandResponse(201, StartRunResponseSchema, 'Started; `Location` names the run')
  @ApiProblems(
    ...COMMAND_PROBLEMS,
    'DISTILLATION.INVALID_COMMAND',
    'DISTILLATION.EMPTY_DATASET',
    'DISTILLATION.DUPLICATE_QUERY',
    'DISTILLATION.QUERY_NOT_FOUND',
    'DISTILLATION.QUERY_NOT_COMPLETED',
    'DISTILLATION.QUERY_STOPPED',
    'DISTILLATION.PARENT_NOT_FOUND',
  )
  async start(
    @ZodBody(StartRunBodySchema) body: StartRunBody,
    // A new run has no revision to match: If-Match is not read.
    @Envelope({ ifMatch: false }) envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StartRunResponse> {
    const outcome = await this.commandBus.execute(new StartRun(envelope, body));
    response.setHeader('Location', `/v1/distillation-runs/${encodeURIComponent(outcome.body.runId)}`);
    return reply(response, outcome);
  }
}
