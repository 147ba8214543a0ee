/** `GET /v1/distillation-runs/:runId`: the run, its dataset commitment, teacher, artifact and metrics. */
import { Controller, Get, Param, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../../auth/auth.decorators.js';
import type { Principal } from '../../../auth/principal.js';
import { zodToOpenApiSchema } from '../../../common/validation/zod-openapi.js';
import { ApiProblems, ApiReadResponse, etagOf } from '../../distillation.http.js';
import { RunViewSchema } from '../run.views.js';
import type { RunView } from '../run.state.js';
import { GetRun } from './get-run.query.js';

@ApiTags('distillation')
@Controller('v1/distillation-runs')
export class GetRunController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':runId')
  @Roles('pipeline', 'auditor', 'admin', 'overseer')
  @ApiOperation({ summary: 'A distillation run, rebuilt from its stream' })
  @ApiReadResponse(zodToOpenApiSchema(RunViewSchema, 'output'), 'The run; `ETag` is the stream revision to send as `If-Match`')
  @ApiProblems('AUTH.TENANT_FORBIDDEN', 'DISTILLATION.NOT_FOUND')
  async get(
    @Param('runId') runId: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RunView> {
    const { run, streamRevision } = await this.queryBus.execute(new GetRun(principal, runId));
    response.setHeader('ETag', etagOf(streamRevision));
    response.setHeader('Cache-Control', 'private, no-cache');
    return run;
  }
}
