/** `ImportProxy` (CQRS command) and its handler: a new id, the artifact and the parent as the decider's facts. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { ARTIFACT_STORE, type ArtifactStore } from '../../artifacts/artifact-store.port.js';
import { loadProxy, proxyCommand } from '../proxy-commands.js';
import type { RegisterProxyResponse } from '../proxy.responses.js';
import { registeredResponse } from '../register-proxy/register-proxy.handler.js';
import { decideImportProxy } from './import-proxy.command.js';
import type { ImportProxyBody } from './import-proxy.dto.js';

export class ImportProxy extends Command<StreamCommandOutcome<RegisterProxyResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: ImportProxyBody,
  ) {
    super();
  }
}

@CommandHandler(ImportProxy)
export class ImportProxyHandler implements ICommandHandler<ImportProxy> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  async execute({ envelope, body }: ImportProxy): Promise<StreamCommandOutcome<RegisterProxyResponse>> {
    // Unused (and harmless) when the Idempotency-Key turns out to be a retry.
    const proxyVersionId = this.runner.newId();
    const artifact = await this.artifacts.stat(body.artifactSha256);
    const parentProxyVersionId = body.parentProxyVersionId ?? null;
    const parent = parentProxyVersionId === null ? null : (await loadProxy(this.store, envelope.principal, parentProxyVersionId)).state;
    const metrics = {
      fidelity: body.metrics?.fidelity ?? null,
      groundTruthAgreement: body.metrics?.groundTruthAgreement ?? null,
      drift: body.metrics?.drift ?? null,
    };
    return this.runner.run(
      envelope,
      proxyCommand({
        id: proxyVersionId,
        mode: 'createWithNewId',
        eventType: 'ProxyRegistered',
        sameRequest: (data) =>
          data.source.kind === 'imported' &&
          data.source.provenance.origin === body.provenance.origin &&
          data.source.provenance.description === body.provenance.description &&
          data.name === body.name &&
          data.version === body.version &&
          data.artifact.sha256 === body.artifactSha256 &&
          data.parentProxyVersionId === parentProxyVersionId &&
          data.metrics.fidelity === metrics.fidelity &&
          data.metrics.groundTruthAgreement === metrics.groundTruthAgreement &&
          data.metrics.drift === metrics.drift,
        decide: (state) =>
          decideImportProxy(
            {
              proxyVersionId,
              name: body.name,
              version: body.version,
              artifactSha256: body.artifactSha256,
              provenance: body.provenance,
              declaredBy: envelope.principal.sub,
              parentProxyVersionId,
              metrics,
            },
            state,
            { artifact, parent },
          ),
        respond: ({ id, revision, data }) => registeredResponse(id, revision, data),
      }),
    );
  }
}
