/** `GET /v1/proxies[?stage=...]`: the tenant's proxy registry. */
import { Controller, Get, Query as QueryParam } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../auth/auth.decorators.js';
import type { Principal } from '../../../auth/principal.js';
import { validationFailed } from '../../../common/validation/zod-body.pipe.js';
import { zodToOpenApiSchema } from '../../../common/validation/zod-openapi.js';
import { ApiProblems, ApiReadResponse } from '../../distillation.http.js';
import { PROXY_STAGES, type ProxyStage } from '../proxy.events.js';
import { ProxyListSchema } from '../proxy.responses.js';
import type { ProxyView } from '../proxy.state.js';
import { ListProxies } from './list-proxies.query.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class ListProxiesController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @Roles('pipeline', 'auditor', 'admin', 'overseer')
  @ApiOperation({ summary: "The tenant's proxy versions, in registration order" })
  @ApiQuery({ name: 'stage', required: false, enum: PROXY_STAGES })
  @ApiReadResponse(zodToOpenApiSchema(ProxyListSchema, 'output'), 'The proxies')
  @ApiProblems('REQUEST.VALIDATION_FAILED')
  async list(@CurrentPrincipal() principal: Principal, @QueryParam('stage') stage?: unknown): Promise<{ proxies: ProxyView[] }> {
    if (stage !== undefined && !(typeof stage === 'string' && (PROXY_STAGES as readonly string[]).includes(stage))) {
      throw validationFailed([{ path: '/stage', message: `stage must be one of ${PROXY_STAGES.join(', ')}` }]);
    }
    return { proxies: await this.queryBus.execute(new ListProxies(principal, stage as ProxyStage | undefined)) };
  }
}
