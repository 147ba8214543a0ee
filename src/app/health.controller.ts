import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { EMBEDDED_LEDGER } from '../ledger/ledger.tokens.js';
import type { EmbeddedLedger } from '../ledger/embedded-ledger.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger) {}

  @Get()
  @Public()
  @ApiOkResponse({ description: '{ status: "ok", store, size, checkpointSize, kid }' })
  async health() {
    const latest = await this.ledger.checkpoints.latest();
    return {
      status: 'ok',
      store: 'sqlite',
      size: await this.ledger.store.size(),
      checkpointSize: latest?.size ?? 0,
      kid: this.ledger.keyRing.currentKid(),
    };
  }
}
