/**
 * `GET /v1/proxies/:id/impact`: every answer a proxy version gave and what became of it, plus the runs whose
 * dataset holds those queries. Only this route of /v1/proxies lives here; the registry's routes are in
 * src/distillation.
 */
import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseQueryParams } from '../../audit/audit-query.js';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { LedgerError } from '../../common/ledger-error.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import { ApiProblems, READ_PROBLEMS } from '../projections.http.js';
import { LiveProjections } from '../projections.live.js';
import type { ProxyImpact } from './proxy-impact.projection.js';

const NoParams = z.object({}).strict();

const ImpactResponse = z.object({
  proxyVersionId: z.string(),
  answers: z.array(
    z.object({
      queryId: z.string(),
      nodeId: z.string(),
      jobId: z.string(),
      role: z.enum(['single', 'ensemble']),
      answer: z.string(),
      confidence: z.number(),
      escalated: z.boolean().describe('The node was escalated to a human after this answer'),
      overridden: z.boolean().describe('This answer (alone or as the ensemble) was the node answer, and a human overrode it'),
      answeredAt: z.string(),
      position: z.number().int().describe('Global position of the InferenceCompleted entry'),
    }),
  ),
  runs: z.array(
    z.object({
      runId: z.string(),
      status: z.enum(['started', 'completed', 'failed']),
      queryIds: z.array(z.string()).describe('The queries of its dataset this proxy answered in'),
    }),
  ),
});

@ApiTags('projections')
@ApiBearerAuth()
@Controller('v1/proxies')
export class ProxyImpactController {
  constructor(private readonly live: LiveProjections) {}

  @Get(':id/impact')
  @Roles('auditor', 'pipeline', 'admin', 'compliance')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A proxy version's answers (single or ensemble member), escalations and overrides, and the runs trained on them" })
  @ApiParam({ name: 'id', description: 'proxy version id' })
  @ApiOkResponse({ schema: zodToOpenApiSchema(ImpactResponse, 'output') })
  @ApiProblems('REQUEST.VALIDATION_FAILED', 'PROXY.NOT_FOUND', ...READ_PROBLEMS)
  async impact(@Param('id') id: string, @Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal): Promise<ProxyImpact> {
    parseQueryParams(NoParams, query);
    await this.live.catchUp();
    const impact = this.live.set.proxyImpact.impact(principal.tenant, id);
    if (!impact) throw new LedgerError('PROXY.NOT_FOUND', 'not_found', 'Proxy version not found', { proxyVersionId: id });
    return impact;
  }
}
