/** `POST /v1/queries/:queryId/nodes/:nodeId/inference-results`: the pipeline posts a proxy's result for one job. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { RecordInferenceResultResponseSchema, type RecordInferenceResultResponse } from '../query.responses.js';
import { RecordInferenceResultBodySchema, type RecordInferenceResultBody } from './record-inference-result.dto.js';
import { RecordInferenceResult } from './record-inference-result.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class RecordInferenceResultController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/inference-results')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({
    summary: "Record a proxy's result for a pending job of the node",
    description:
      "A single proxy's result answers the node at or above the query's confidence threshold; an ensemble's results are aggregated " +
      '(majority) with the last member. Below the threshold the node is escalated to a human (EscalatedToHuman, reason low_confidence).',
  })
  @ApiCommandResponse(200, RecordInferenceResultResponseSchema, 'Recorded; `outcome` says what it did to the node')
  @ApiProblems(
    ...NODE_COMMAND_PROBLEMS,
    'QUERY.COMPLETED',
    'QUERY.JOB_NOT_FOUND',
    'QUERY.JOB_PROXY_MISMATCH',
    'QUERY.JOB_NOT_PENDING',
  )
  async record(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(RecordInferenceResultBodySchema) body: RecordInferenceResultBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RecordInferenceResultResponse> {
    return reply(response, await this.commandBus.execute(new RecordInferenceResult(envelope, queryId, nodeId, body)));
  }
}
