/** `GET /v1/proxies/:proxyVersionId`: one proxy version, its stage history and last recalibration. */
import { Controller, Get, Param, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../../../auth/auth.decorators.js';
import type { Principal } from '../../../auth/principal.js';
import { zodToOpenApiSchema } from '../../../common/validation/zod-openapi.js';
import { ApiProblems, ApiReadResponse, etagOf } from '../../distillation.http.js';
import { ProxyViewSchema } from '../proxy.responses.js';
import type { ProxyView } from '../proxy.state.js';
import { GetProxy } from './get-proxy.query.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class GetProxyController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':proxyVersionId')
  @Roles('pipeline', 'auditor', 'admin', 'overseer')
  @ApiOperation({ summary: 'A proxy version, rebuilt from its stream' })
  @ApiReadResponse(zodToOpenApiSchema(ProxyViewSchema, 'output'), 'The proxy; `ETag` is the stream revision to send as `If-Match`')
  @ApiProblems('AUTH.TENANT_FORBIDDEN', 'PROXY.NOT_FOUND')
  async get(
    @Param('proxyVersionId') proxyVersionId: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProxyView> {
    const { proxy, streamRevision } = await this.queryBus.execute(new GetProxy(principal, proxyVersionId));
    response.setHeader('ETag', etagOf(streamRevision));
    response.setHeader('Cache-Control', 'private, no-cache');
    return proxy;
  }
}
