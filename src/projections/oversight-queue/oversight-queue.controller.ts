/** `GET /v1/oversight/queue`: the caller's tenant's escalated, unanswered nodes, oldest escalation first. */
import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { decimalParam, parseQueryParams } from '../../audit/audit-query.js';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import { ApiProblems, READ_PROBLEMS } from '../projections.http.js';
import { LiveProjections } from '../projections.live.js';
import type { OversightItem } from './oversight-queue.projection.js';

export const MAX_QUEUE_PAGE = 1000;

const QueueQuery = z.object({ limit: decimalParam(1, MAX_QUEUE_PAGE).default(100) }).strict();

const QueueResponse = z.object({
  total: z.number().int().describe('Escalated, unanswered nodes of the tenant (the page may hold fewer)'),
  items: z.array(
    z.object({
      queryId: z.string(),
      nodeId: z.string(),
      question: z.string(),
      reason: z.enum(['low_confidence', 'requested', 'inference_denied']),
      confidence: z.number().nullable(),
      threshold: z.number().nullable(),
      note: z.string().nullable(),
      escalatedAt: z.string().describe('recordedAt of the EscalatedToHuman entry'),
      position: z.number().int().describe('Global position of the EscalatedToHuman entry'),
    }),
  ),
});

@ApiTags('projections')
@ApiBearerAuth()
@Controller('v1/oversight')
export class OversightQueueController {
  constructor(private readonly live: LiveProjections) {}

  @Get('queue')
  @Roles('overseer', 'auditor', 'admin')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Escalated, still unanswered nodes of queries that are not stopped, oldest escalation first' })
  @ApiQuery({ name: 'limit', required: false, description: `page size, 1..${MAX_QUEUE_PAGE} (default 100)` })
  @ApiOkResponse({ schema: zodToOpenApiSchema(QueueResponse, 'output') })
  @ApiProblems('REQUEST.VALIDATION_FAILED', ...READ_PROBLEMS)
  async queue(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal): Promise<{ total: number; items: OversightItem[] }> {
    const { limit } = parseQueryParams(QueueQuery, query);
    await this.live.catchUp();
    return this.live.set.oversightQueue.queue(principal.tenant, limit);
  }
}
