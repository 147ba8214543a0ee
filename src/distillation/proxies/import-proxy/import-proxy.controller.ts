/** `POST /v1/proxies/import`: register a proxy trained outside the ledger, with declared provenance. */
import { Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../../auth/auth.decorators.js';
import type { CommandEnvelope } from '../../../common/commands/stream-command.runner.js';
import { ZodBody } from '../../../common/validation/zod-body.pipe.js';
import { ApiCommandResponse, ApiProblems, COMMAND_PROBLEMS, Envelope, reply } from '../../distillation.http.js';
import { RegisterProxyResponseSchema, type RegisterProxyResponse } from '../proxy.responses.js';
import { ImportProxyBodySchema, type ImportProxyBody } from './import-proxy.dto.js';
import { ImportProxy } from './import-proxy.handler.js';

@ApiTags('proxies')
@Controller('v1/proxies')
export class ImportProxyController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post('import')
  @HttpCode(201)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Import a proxy trained elsewhere (new id, stage candidate, provenance as declared)' })
  @ApiCommandResponse(201, RegisterProxyResponseSchema, 'Imported; `Location` names the proxy version')
  @ApiProblems(...COMMAND_PROBLEMS, 'PROXY.INVALID_COMMAND', 'PROXY.PARENT_NOT_FOUND', 'PROXY.ARTIFACT_NOT_FOUND')
  async import(
    @ZodBody(ImportProxyBodySchema) body: ImportProxyBody,
    @Envelope({ ifMatch: false }) envelope: CommandEnvelope,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RegisterProxyResponse> {
    const outcome = await this.commandBus.execute(new ImportProxy(envelope, body));
    response.setHeader('Location', `/v1/proxies/${encodeURIComponent(outcome.body.proxyVersionId)}`);
    return reply(response, outcome);
  }
}
