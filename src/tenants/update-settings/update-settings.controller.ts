/** `PUT /v1/tenant/settings` (admin) and `GET /v1/tenant/settings` (any role of the tenant). */
import { Controller, Get, HttpCode, Inject, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import type { CommandEnvelope } from '../../common/commands/stream-command.runner.js';
import { ApiCommandResponse, apiProblemsFor, Envelope, etagOf, reply } from '../../common/http/command-http.js';
import { ZodBody } from '../../common/validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { rehydrateTenantSettings, tenantStream } from '../tenant-settings.js';
import {
  TenantSettingsResponseSchema,
  UpdateSettingsBodySchema,
  type TenantSettingsResponse,
  type UpdateSettingsBody,
} from './update-settings.dto.js';
import { UpdateTenantSettings } from './update-settings.handler.js';

/** Refusals of the tenant-settings routes with their HTTP categories (OpenAPI). */
export const TENANT_REFUSALS = {
  'TENANT.INVALID_SETTINGS': 'unprocessable',
  'TENANT.SETTINGS_UNCHANGED': 'unprocessable',
} as const;

const ApiProblems = apiProblemsFor(TENANT_REFUSALS);

@ApiTags('tenant')
@Controller('v1/tenant/settings')
export class TenantSettingsController {
  constructor(
    private readonly commandBus: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Put()
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: "Replace the tenant's settings: amplification limits per task class, promotion gates" })
  @ApiCommandResponse(200, TenantSettingsResponseSchema, 'Recorded as TenantSettingsUpdated')
  @ApiProblems(
    'REQUEST.VALIDATION_FAILED',
    'REQUEST.INVALID_IF_MATCH',
    'REQUEST.INVALID_IDEMPOTENCY_KEY',
    'REQUEST.IDEMPOTENCY_KEY_REUSED',
    'TENANT.INVALID_SETTINGS',
    'TENANT.SETTINGS_UNCHANGED',
    'LEDGER.CONCURRENT_MODIFICATION',
    'LEDGER.REVISION_CONFLICT',
  )
  async update(
    @ZodBody(UpdateSettingsBodySchema) body: UpdateSettingsBody,
    @Envelope() envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TenantSettingsResponse> {
    return reply(response, await this.commandBus.execute(new UpdateTenantSettings(envelope, body)));
  }

  @Get()
  @Roles('pipeline', 'overseer', 'auditor', 'compliance', 'admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The tenant's settings in force (defaults until an admin sets them)" })
  @ApiOkResponse({ schema: zodToOpenApiSchema(TenantSettingsResponseSchema, 'output') })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TenantSettingsResponse> {
    const entries = await this.store.readStream(tenantStream(principal.tenant));
    const revision = entries.length === 0 ? -1 : entries[entries.length - 1]!.entry.revision;
    if (revision >= 0) response.setHeader('ETag', etagOf(revision));
    return {
      tenant: principal.tenant,
      settings: rehydrateTenantSettings(entries.map((e) => e.entry)),
      revision,
    };
  }
}
