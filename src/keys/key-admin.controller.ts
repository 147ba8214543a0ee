import { Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { LedgerError } from '../common/ledger-error.js';
import { ZodBody } from '../common/validation/zod-body.pipe.js';
import { EMBEDDED_LEDGER } from '../ledger/ledger.tokens.js';
import type { EmbeddedLedger } from '../ledger/embedded-ledger.js';

const RevokeKeyBody = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();

/** Admin operations on the log's signing keys; each is itself an entry of the log (stream key-<kid>). */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/keys')
export class KeyAdminController {
  constructor(@Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger) {}

  @Post('rotate')
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Generate a new log signing key, record SigningKeyActivated and sign with it from now on' })
  async rotate(@CurrentPrincipal() principal: Principal) {
    const record = await this.ledger.rotateKey({ sub: principal.sub, role: principal.role });
    return { kid: record.kid, activatedAt: record.activatedAt, position: record.activatedAtPosition };
  }

  @Post(':kid/revoke')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Record SigningKeyRevoked: entries the key signs afterwards fail verification' })
  async revoke(@Param('kid') kid: string, @ZodBody(RevokeKeyBody) body: z.infer<typeof RevokeKeyBody>, @CurrentPrincipal() principal: Principal) {
    const record = this.ledger.keys().find((key) => key.kid === kid);
    if (!record) throw new LedgerError('KEY.NOT_FOUND', 'not_found', `No signing key ${kid}.`);
    if (record.revokedAt) throw new LedgerError('KEY.ALREADY_REVOKED', 'conflict', `Signing key ${kid} is already revoked.`);
    if (kid === this.ledger.keyRing.currentKid())
      throw new LedgerError('KEY.CURRENT_KEY', 'conflict', 'The current signing key cannot be revoked; rotate first.');
    const revoked = await this.ledger.revokeKey(kid, body.reason, { sub: principal.sub, role: principal.role });
    return { kid, revokedAt: revoked.revokedAt, position: revoked.revokedAtPosition };
  }
}
