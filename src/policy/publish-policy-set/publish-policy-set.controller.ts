/** `POST /v1/policy-sets` (admin) and `GET /v1/policy-sets/current` (admin, auditor, pipeline). */
import { Controller, Get, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import type { CommandEnvelope } from '../../common/commands/stream-command.runner.js';
import { ApiCommandResponse, apiProblemsFor, Envelope, reply } from '../../common/http/command-http.js';
import { LedgerError } from '../../common/ledger-error.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import { PolicySetIndex, type PolicySetInForce } from '../policy-set.index.js';
import {
  PolicySetResponseSchema,
  PublishPolicySetBodySchema,
  type PolicySetResponse,
  type PublishPolicySetBody,
} from './publish-policy-set.dto.js';
import { PublishPolicySet } from './publish-policy-set.handler.js';

/** Refusals of the policy-set routes with their HTTP categories (OpenAPI). */
export const POLICY_REFUSALS = {
  'POLICY.INVALID_SET': 'unprocessable',
  'POLICY.SET_UNCHANGED': 'unprocessable',
  'POLICY.NOT_READY': 'unavailable',
} as const;

const ApiProblems = apiProblemsFor(POLICY_REFUSALS);

@ApiTags('policy')
@Controller('v1/policy-sets')
export class PolicySetsController {
  constructor(
    private readonly commandBus: CommandBus,
    @Inject(PolicySetIndex) private readonly index: PolicySetIndex,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({
    summary: "Publish the tenant's own Cedar policy set; it is in force for the tenant's next decisions",
    description: 'Validated strictly against the schema (given, or the one in force); recorded whole as PolicySetPublished on policy-<tenant>.',
  })
  @ApiCommandResponse(201, PolicySetResponseSchema, 'Recorded as PolicySetPublished')
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
    'POLICY.INVALID_SET',
    'POLICY.SET_UNCHANGED',
    'POLICY.NOT_READY',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
  )
  async publish(
    @ZodBody(PublishPolicySetBodySchema) body: PublishPolicySetBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PolicySetResponse> {
    return reply(response, await this.commandBus.execute(new PublishPolicySet(envelope, body)));
  }

  @Get('current')
  @Roles('admin', 'auditor', 'pipeline')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The policy set in force for the caller's tenant: its own latest, else the system's" })
  @ApiOkResponse({ schema: zodToOpenApiSchema(PolicySetResponseSchema, 'output') })
  @ApiProblems('POLICY.NOT_READY')
  current(@CurrentPrincipal() principal: Principal): PolicySetResponse {
    const set = this.index.inForce(principal.tenant);
    if (set === null) throw new LedgerError('POLICY.NOT_READY', 'unavailable', 'No policy set is in force yet; retry shortly');
    return view(set);
  }
}

function view(set: PolicySetInForce): PolicySetResponse {
  const { digest, source, scope, schema, policies, cedarVersion, position, revision, publishedAt } = set;
  return { digest, source, scope, schema, policies, cedarVersion, position, revision, publishedAt };
}
