import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../auth/auth.decorators.js';
import { EMBEDDED_LEDGER } from '../../ledger/ledger.tokens.js';
import type { EmbeddedLedger } from '../../ledger/embedded-ledger.js';

/** The log's public signing keys with their validity as recorded in the log (DESIGN §5). */
@ApiTags('audit')
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(EMBEDDED_LEDGER) private readonly ledger: EmbeddedLedger) {}

  @Get('jwks.json')
  @Public()
  @Header('Content-Type', 'application/jwk-set+json')
  @ApiOperation({ summary: 'JWKS of the ledger signing keys (Ed25519, kid = RFC 7638 thumbprint; validFrom / revokedAt)' })
  @ApiOkResponse({ description: '{ keys: [{ kty, crv, x, kid, alg, use, validFrom, revokedAt? }] }' })
  jwks() {
    return this.ledger.jwks();
  }
}
