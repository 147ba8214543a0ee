import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/auth.decorators.js';
import { LedgerError } from '../../common/ledger-error.js';
import { EMBEDDED_LEDGER } from '../../ledger/ledger.tokens.js';
import type { EmbeddedLedger } from '../../ledger/embedded-ledger.js';

/**
 * Signed checkpoints (C2SP signed notes) and the note verifier key, so that any signed-note verifier
 * (e.g. Go's golang.org/x/mod/sumdb/note) checks them without ida-ledger code.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1')
export class CheckpointController {
  constructor(@Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger) {}

  @Get('checkpoint')
  @Roles('auditor', 'admin', 'compliance', 'pipeline', 'overseer', 'worker')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'The latest checkpoint as a C2SP signed note: "<origin>\\n<size>\\n<base64 root>\\n\\n— <name> <sig>"' })
  async latest(): Promise<string> {
    // The first request on a young log gets a checkpoint right away rather than waiting for N entries or T s.
    const latest = (await this.ledger.checkpoints.latest()) ?? (await this.ledger.checkpointer.issueIfGrown());
    if (!latest) throw new LedgerError('CHECKPOINT.NONE_YET', 'not_found', 'The log has no checkpoint yet.');
    return latest.note;
  }

  @Get('checkpoint/verifier-key')
  @Roles('auditor', 'admin', 'compliance', 'pipeline', 'overseer', 'worker')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'The signed-note verifier key of the current log key: <origin>+<hex key id>+<base64(0x01‖pubkey)>' })
  verifierKey(): string {
    return `${this.ledger.noteVerifierKey()}\n`;
  }

  @Get('checkpoints')
  @Roles('auditor', 'admin')
  @ApiOkResponse({ description: 'Every checkpoint the log published, in increasing size' })
  async list() {
    return { checkpoints: await this.ledger.checkpoints.list() };
  }
}
