import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '../../auth/auth.decorators.js';
import { LedgerError } from '../../common/ledger-error.js';
import { EMBEDDED_LEDGER } from '../../ledger/ledger.tokens.js';
import type { EmbeddedLedger } from '../../ledger/embedded-ledger.js';
import { decimalParam, parseQueryParams } from '../audit-query.js';

const count = decimalParam(0);
const InclusionQuery = z.object({ index: count, size: count.optional() }).strict();
const ConsistencyQuery = z.object({ from: count, to: count.optional() }).strict();

const b64 = (hash: Buffer) => hash.toString('base64');

/** RFC 9162 §2.1.3 / §2.1.4 proofs over global positions; hashes in base64 as tlog tooling uses. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/proofs')
export class ProofsController {
  constructor(@Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger) {}

  @Get('inclusion')
  @Roles('auditor', 'admin', 'compliance', 'pipeline', 'overseer', 'worker')
  @ApiOperation({ summary: 'Inclusion proof of leaf `index` in the tree of `size` entries (default: current size)' })
  @ApiQuery({ name: 'index', required: true })
  @ApiQuery({ name: 'size', required: false })
  @ApiOkResponse({ description: '{ index, size, leafHash, rootHash, proof: base64[] }' })
  inclusion(@Query() query: Record<string, unknown>) {
    const { index, size: requested } = parseQueryParams(InclusionQuery, query);
    const tree = this.ledger.tree;
    const size = requested ?? tree.size;
    if (size > tree.size) throw outOfRange(`size ${size} is beyond the log's ${tree.size} entries`, tree.size);
    if (index >= size) throw outOfRange(`index ${index} is not below size ${size}`, tree.size);
    return {
      index,
      size,
      leafHash: b64(tree.leaf(index)),
      rootHash: b64(tree.root(size)),
      proof: tree.inclusionProof(index, size).map(b64),
    };
  }

  @Get('consistency')
  @Roles('auditor', 'admin', 'compliance', 'pipeline', 'overseer', 'worker')
  @ApiOperation({ summary: 'Consistency proof between the trees of `from` and `to` entries (default: current size)' })
  @ApiQuery({ name: 'from', required: true })
  @ApiQuery({ name: 'to', required: false })
  @ApiOkResponse({ description: '{ from, to, fromRootHash, toRootHash, proof: base64[] }' })
  consistency(@Query() query: Record<string, unknown>) {
    const { from, to: requested } = parseQueryParams(ConsistencyQuery, query);
    const tree = this.ledger.tree;
    const to = requested ?? tree.size;
    if (to > tree.size) throw outOfRange(`to ${to} is beyond the log's ${tree.size} entries`, tree.size);
    if (from > to) throw outOfRange(`from ${from} is beyond to ${to}`, tree.size);
    return {
      from,
      to,
      fromRootHash: b64(tree.root(from)),
      toRootHash: b64(tree.root(to)),
      proof: tree.consistencyProof(from, to).map(b64),
    };
  }
}

function outOfRange(message: string, size: number): LedgerError {
  return new LedgerError('PROOF.OUT_OF_RANGE', 'unprocessable', message, { treeSize: size });
}
