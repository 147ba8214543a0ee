/** `POST /v1/queries/:queryId/nodes/:nodeId/assign`: the pipeline hands a leaf to a human, a proxy or an ensemble. */
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/auth.decorators.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import type { CommandEnvelope } from '../query-command.runner.js';
import { ApiCommandResponse, ApiProblems, Envelope, NODE_COMMAND_PROBLEMS, reply } from '../query.http.js';
import { AssignNodeResponseSchema, type AssignNodeResponse } from '../query.responses.js';
import { AssignNodeBodySchema, type AssignNodeBody } from './assign-node.dto.js';
import { AssignNode } from './assign-node.handler.js';

@ApiTags('amplification')
@Controller('v1/queries')
export class AssignNodeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':queryId/nodes/:nodeId/assign')
  @HttpCode(200)
  @Roles('pipeline')
  @ApiOperation({
    summary: 'Assign an unanswered, undecomposed leaf to a human, a proxy version or an ensemble (majority vote)',
    description:
      'Proxies must be of the tenant and in stage shadow or production. The policy gate decides each job: records NodeAssigned and, ' +
      'per job, InferenceRequested (with the model input), PolicyDecisionRecorded and InferenceAuthorized or InferenceDenied; ' +
      'when no job is authorised the node is escalated to a human (inference_denied). Authorised jobs are leased by registered ' +
      'workers (POST /v1/inference/leases). An escalated node may only be reassigned to a human.',
  })
  @ApiCommandResponse(200, AssignNodeResponseSchema, 'Assigned; `jobs` are the inference jobs to run')
  @ApiProblems(
    ...NODE_COMMAND_PROBLEMS,
    'QUERY.COMPLETED',
    'QUERY.NODE_ALREADY_ANSWERED',
    'QUERY.NODE_DECOMPOSED',
    'QUERY.NODE_ESCALATED',
    'QUERY.NODE_ALREADY_ASSIGNED',
    'QUERY.PROXY_NOT_FOUND',
    'QUERY.PROXY_NOT_SERVING',
    'QUERY.JOB_ID_CONFLICT',
  )
  async assign(
    @Param('queryId') queryId: string,
    @Param('nodeId') nodeId: string,
    @ZodBody(AssignNodeBodySchema) body: AssignNodeBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AssignNodeResponse> {
    return reply(response, await this.commandBus.execute(new AssignNode(envelope, queryId, nodeId, body)));
  }
}
