/** `RecalibrateProxy` (CQRS command) and its handler: the tenant's minAgreement now is the decider's fact. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { LedgerError } from '../../../common/ledger-error.js';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { loadTenantSettings } from '../../../tenants/tenant-settings.js';
import { proxyCommand } from '../proxy-commands.js';
import { proxyStream, type ProxyStage } from '../proxy.events.js';
import type { RecalibrateProxyResponse } from '../proxy.responses.js';
import { rehydrateProxy, type ProxyState } from '../proxy.state.js';
import { decideRecalibrateProxy } from './recalibrate-proxy.command.js';
import type { RecalibrateProxyBody } from './recalibrate-proxy.dto.js';

export class RecalibrateProxy extends Command<StreamCommandOutcome<RecalibrateProxyResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly proxyVersionId: string,
    readonly body: RecalibrateProxyBody,
  ) {
    super();
  }
}

@CommandHandler(RecalibrateProxy)
export class RecalibrateProxyHandler implements ICommandHandler<RecalibrateProxy> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, proxyVersionId, body }: RecalibrateProxy): Promise<StreamCommandOutcome<RecalibrateProxyResponse>> {
    const { minAgreement } = (await loadTenantSettings(this.store, envelope.principal.tenant)).promotionGates;
    // The recalibration event alone does not say the stage it left the proxy in: added below.
    const outcome = await this.runner.run<ProxyState | null, Omit<RecalibrateProxyResponse, 'stage'>>(
      envelope,
      proxyCommand({
        id: proxyVersionId,
        mode: 'update',
        eventType: 'ProxyRecalibrated',
        sameRequest: (data) =>
          data.samples.length === body.samples.length &&
          data.samples.every((s, i) => {
            const given = body.samples[i]!;
            return s.queryId === given.queryId && s.nodeId === given.nodeId && s.humanAnswer === given.humanAnswer && s.proxyAnswer === given.proxyAnswer;
          }),
        decide: (state, ctx) => decideRecalibrateProxy({ proxyVersionId, samples: body.samples }, state, { minAgreement }, ctx),
        respond: ({ id, revision, data, events }) => {
          const demotion = events.find((e) => e.type === 'ProxyDemoted');
          return {
            proxyVersionId: id,
            recalibrationId: data.recalibrationId,
            sampleCount: data.samples.length,
            agreement: data.agreement,
            minAgreement: data.minAgreement,
            demoted: demotion?.type === 'ProxyDemoted' ? { from: demotion.data.from, to: demotion.data.to, reason: demotion.data.reason } : null,
            revision,
          };
        },
      }),
    );
    return { ...outcome, body: { ...outcome.body, stage: await this.stageAt(proxyVersionId, outcome.body.revision) } };
  }

  /** The stage as of `revision` (not now: a replayed response must say what the first one said). */
  private async stageAt(proxyVersionId: string, revision: number): Promise<ProxyStage> {
    const entries = await this.store.readStream(proxyStream(proxyVersionId), 0);
    const proxy = rehydrateProxy(entries.map((e) => e.entry).filter((e) => e.revision <= revision));
    if (proxy === null) throw new LedgerError('PROXY.NOTHING_RECORDED', 'internal', `Proxy ${proxyVersionId} vanished after its recalibration`);
    return proxy.stage;
  }
}
