/**
 * The worker's routes (docs/policy-gate.md "Workers"): `POST /v1/inference/leases` (role worker; long poll →
 * 200 with job and grant, or 204) and `POST /v1/inference/results` (authenticated by the result's own
 * signature and grant: see InferenceResults).
 */
import { Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Public, Roles } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { OptionalZodBody } from '../common/http/command-http.js';
import { ZodBody } from '../common/validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../common/validation/zod-openapi.js';
import {
  LeaseBodySchema,
  LeaseResponseSchema,
  ResultBodySchema,
  ResultResponseSchema,
  type LeaseBody,
  type ResultBody,
  type ResultResponse,
} from './inference.dto.js';
import { ApiProblems } from './inference.http.js';
import { MAX_LEASE_WAIT_MS } from './inference.options.js';
import { InferenceLeases, type LeaseResponse } from './leases/leases.service.js';
import { InferenceResults } from './results/results.service.js';

@ApiTags('inference')
@Controller('v1/inference')
export class InferenceController {
  constructor(
    @Inject(InferenceLeases) private readonly leases: InferenceLeases,
    @Inject(InferenceResults) private readonly results: InferenceResults,
  ) {}

  @Post('leases')
  @HttpCode(200)
  @Roles('worker')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Long poll for an authorised job of the worker\'s tenant; leases it and returns it with a single-use grant',
    description:
      'Records InferenceLeased (and InferenceLeaseExpired when the job is leased again after a lease ran out). ' +
      'The grant binds job, model digest, input digest, policy-set digest and decision position; it expires with the lease.',
  })
  @ApiOkResponse({ schema: zodToOpenApiSchema(LeaseResponseSchema, 'output') })
  @ApiNoContentResponse({ description: 'No job within waitMs' })
  @ApiProblems('REQUEST.VALIDATION_FAILED', 'INFERENCE.NOT_A_WORKER')
  async lease(
    @OptionalZodBody(LeaseBodySchema) body: LeaseBody,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LeaseResponse | undefined> {
    // A worker that hangs up (stopped, killed, timed out) must not be leased a job it will never receive.
    const hangUp = new AbortController();
    const onClose = () => {
      if (!response.writableEnded) hangUp.abort();
    };
    response.once('close', onClose);
    const leased = await this.leases.lease(principal, body.waitMs ?? MAX_LEASE_WAIT_MS, hangUp.signal).finally(() => response.off('close', onClose));
    response.setHeader('Cache-Control', 'no-store');
    if (leased === null) {
      response.status(204);
      return undefined;
    }
    return leased;
  }

  @Post('results')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: "A worker's signed result for a job it leased",
    description:
      'Accepted only with a valid, unexpired, unconsumed grant whose bindings match, signed by the registered worker the job is ' +
      'leased to: then InferenceCompleted (and escalation on low confidence). Every refusal is recorded as InferenceRejected on the ' +
      "job's query stream and answered with its code. Authenticated by the result's own signature and grant (no bearer token needed).",
  })
  @ApiOkResponse({ schema: zodToOpenApiSchema(ResultResponseSchema, 'output') })
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'INFERENCE.JOB_NOT_FOUND',
    'INFERENCE.JOB_NOT_AUTHORIZED',
    'INFERENCE.JOB_NOT_PENDING',
    'INFERENCE.GRANT_INVALID',
    'INFERENCE.GRANT_EXPIRED',
    'INFERENCE.GRANT_MISMATCH',
    'INFERENCE.GRANT_CONSUMED',
    'INFERENCE.LEASE_SUPERSEDED',
    'INFERENCE.WORKER_UNKNOWN',
    'INFERENCE.WORKER_REVOKED',
    'INFERENCE.SIGNATURE_INVALID',
    'LEDGER.CONCURRENT_MODIFICATION',
  )
  async result(@ZodBody(ResultBodySchema) body: ResultBody, @Res({ passthrough: true }) response: Response): Promise<ResultResponse> {
    response.setHeader('Cache-Control', 'no-store');
    return this.results.submit(body);
  }
}
