/** `GET /v1/lineage/:proxyVersionId`: the proxy's ancestors (back to human iteration 0) or descendants. */
import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { decimalParam, parseQueryParams } from '../../audit/audit-query.js';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { LedgerError } from '../../common/ledger-error.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import { ApiProblems, READ_PROBLEMS } from '../projections.http.js';
import { LiveProjections } from '../projections.live.js';
import type { LineageGraph } from './lineage.projection.js';

export const MAX_LINEAGE_DEPTH = 100_000;

const LineageQuery = z
  .object({
    direction: z.enum(['ancestors', 'descendants']).default('ancestors'),
    depth: decimalParam(1, MAX_LINEAGE_DEPTH).optional(),
  })
  .strict();

const nodeKind = z.enum(['proxy', 'run', 'query', 'human']);
const LineageResponse = z.object({
  root: z.string().describe('The proxy version walked from'),
  direction: z.enum(['ancestors', 'descendants']),
  depth: z.number().int().nullable().describe('Proxy generations asked for; null: all'),
  truncated: z.boolean().describe('The walk stopped at `depth` while the graph goes on'),
  nodes: z.array(
    z.object({
      kind: nodeKind,
      id: z.string(),
      generation: z.number().int().describe('Proxy generations from the root'),
      proxy: z
        .object({
          name: z.string(),
          version: z.string(),
          stage: z.enum(['candidate', 'shadow', 'production', 'retired']),
          source: z.enum(['distillation', 'imported']),
        })
        .nullable()
        .optional()
        .describe('Proxies only; null when never registered in this tenant'),
      run: z
        .object({ status: z.enum(['started', 'completed', 'failed']) })
        .nullable()
        .optional()
        .describe('Runs only'),
    }),
  ),
  edges: z.array(
    z.object({
      kind: z.enum(['registeredFrom', 'parent', 'trainedOn', 'answeredBy', 'teacher']),
      from: z.string(),
      fromKind: nodeKind,
      to: z.string(),
      toKind: nodeKind,
    }),
  ),
});

@ApiTags('projections')
@ApiBearerAuth()
@Controller('v1/lineage')
export class LineageController {
  constructor(private readonly live: LiveProjections) {}

  @Get(':proxyVersionId')
  @Roles('auditor', 'pipeline', 'admin', 'compliance')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The lineage graph of a proxy version: runs, parents, teachers, dataset queries and who answered them',
    description:
      'Edges: proxy —registeredFrom→ run, run —parent→ proxy, run —trainedOn→ query, query —answeredBy→ human | proxy, ' +
      'run —teacher→ proxy (and proxy —parent→ proxy for an imported proxy with a declared parent). `ancestors` walks back ' +
      'to the purely human iteration 0; `descendants` walks the proxies distilled from it, directly or via transcripts it answered.',
  })
  @ApiParam({ name: 'proxyVersionId' })
  @ApiQuery({ name: 'direction', required: false, enum: ['ancestors', 'descendants'], description: 'default ancestors' })
  @ApiQuery({ name: 'depth', required: false, description: `proxy generations to walk, 1..${MAX_LINEAGE_DEPTH} (default: all)` })
  @ApiOkResponse({ schema: zodToOpenApiSchema(LineageResponse, 'output') })
  @ApiProblems('REQUEST.VALIDATION_FAILED', 'LINEAGE.PROXY_NOT_FOUND', ...READ_PROBLEMS)
  async lineage(
    @Param('proxyVersionId') proxyVersionId: string,
    @Query() query: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
  ): Promise<LineageGraph> {
    const { direction, depth } = parseQueryParams(LineageQuery, query);
    await this.live.catchUp();
    const graph = this.live.set.lineage.lineage(principal.tenant, proxyVersionId, direction, depth);
    // Another tenant's proxy is as unknown as one that does not exist: its existence is not disclosed.
    if (!graph) throw new LedgerError('LINEAGE.PROXY_NOT_FOUND', 'not_found', 'Proxy version not found', { proxyVersionId });
    return graph;
  }
}
