import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/principal.js';
import { decimalParam, parseQueryParams } from '../audit-query.js';
import { EMBEDDED_LEDGER } from '../../ledger/ledger.tokens.js';
import type { EmbeddedLedger } from '../../ledger/embedded-ledger.js';
import { SYSTEM_TENANT } from '../../ledger/key-lifecycle.js';

export const MAX_ENTRIES_PAGE = 1000;

const ReadEntriesQuery = z
  .object({
    from: decimalParam(0).default(0),
    limit: decimalParam(1, MAX_ENTRIES_PAGE).default(100),
  })
  .strict();

/**
 * The raw integrated log for auditors: entries in position order, exactly as signed, each with its position
 * and leaf hash. A token sees its own tenant's entries and the ledger's own (`system`: keys); positions stay
 * the global ones, so each entry can be proven against a checkpoint with an inclusion proof.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/entries')
export class ReadEntriesController {
  constructor(@Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger) {}

  @Get()
  @Roles('auditor', 'admin')
  @ApiOperation({ summary: 'Integrated entries in position order (own tenant and system entries)' })
  @ApiQuery({ name: 'from', required: false, description: 'first global position (default 0)' })
  @ApiQuery({ name: 'limit', required: false, description: `page size, 1..${MAX_ENTRIES_PAGE} (default 100)` })
  @ApiOkResponse({ description: '{ size, entries: [{ position, leafHash, entry }], nextFrom }' })
  async read(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal) {
    const { from, limit } = parseQueryParams(ReadEntriesQuery, query);
    const entries = await this.ledger.store.readAll(from, limit, { tenants: [principal.tenant, SYSTEM_TENANT] });
    const size = await this.ledger.store.size();
    const last = entries[entries.length - 1];
    return {
      size,
      entries: entries.map(({ position, leafHash, entry }) => ({ position, leafHash, entry })),
      nextFrom: entries.length === limit && last ? last.position + 1 : null,
    };
  }
}
