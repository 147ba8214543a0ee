/** `GET /v1/projections`: the live projections' positions and digests, to compare with `ida-ledger rebuild`. */
import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseQueryParams } from '../../audit/audit-query.js';
import { Roles } from '../../auth/auth.decorators.js';
import { zodToOpenApiSchema } from '../../common/validation/zod-openapi.js';
import type { ProjectionStatus } from '../projection.js';
import { ApiProblems, READ_PROBLEMS } from '../projections.http.js';
import { LiveProjections } from '../projections.live.js';

const NoParams = z.object({}).strict();

const StatusResponse = z.object({
  position: z.number().int().describe('Entries applied by every projection (the log size when the request arrived, or more)'),
  projections: z.array(
    z.object({
      name: z.string(),
      position: z.number().int().describe('Next position to apply'),
      applied: z.number().int().describe('Entries of a type this projection folds'),
      digest: z.string().describe('sha256: of the RFC 8785 JSON of its sorted content (all tenants)'),
    }),
  ),
});

@ApiTags('projections')
@ApiBearerAuth()
@Controller('v1/projections')
export class ProjectionsStatusController {
  constructor(private readonly live: LiveProjections) {}

  @Get()
  @Roles('auditor', 'admin')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "Each live projection's position and digest; `ida-ledger rebuild` must print the same digests at the same position" })
  @ApiOkResponse({ schema: zodToOpenApiSchema(StatusResponse, 'output') })
  @ApiProblems('REQUEST.VALIDATION_FAILED', ...READ_PROBLEMS)
  async status(@Query() query: Record<string, unknown>): Promise<{ position: number; projections: ProjectionStatus[] }> {
    parseQueryParams(NoParams, query);
    await this.live.catchUp();
    // Digests of one position, computed in slices: a million-entry log takes seconds, and the rest of the
    // service (appends, other reads) goes on meanwhile.
    return this.live.host.statusInSlices();
  }
}
