/**
 * `StartRun` (CQRS command) and its handler: reads every named query of the caller's tenant (403 for another
 * tenant's) and the parent proxy, then lets the pure decider commit to the dataset and derive the teacher.
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { queryStream } from '../../../amplification/query-command.runner.js';
import { rehydrate as rehydrateQuery } from '../../../amplification/query.state.js';
import type { Principal } from '../../../auth/principal.js';
import { assertSameTenant } from '../../../auth/tenant.js';
import { StreamCommandRunner, type CommandEnvelope, type StreamCommandOutcome } from '../../../common/commands/stream-command.runner.js';
import { canonicalJson } from '../../../ledger/canonical-json.js';
import type { JsonObject } from '../../../ledger/entry.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { loadProxy } from '../../proxies/proxy-commands.js';
import { runCommand } from '../run-commands.js';
import type { StartRunResponse } from '../run.responses.js';
import { decideStartRun, type QueryTranscript, type StartRunFacts } from './start-run.command.js';
import type { StartRunBody } from './start-run.dto.js';

export class StartRun extends Command<StreamCommandOutcome<StartRunResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: StartRunBody,
  ) {
    super();
  }
}

@CommandHandler(StartRun)
export class StartRunHandler implements ICommandHandler<StartRun> {
  constructor(
    private readonly runner: StreamCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, body }: StartRun): Promise<StreamCommandOutcome<StartRunResponse>> {
    // Unused (and harmless) when the Idempotency-Key turns out to be a retry.
    const runId = this.runner.newId();
    const facts = await this.loadFacts(envelope.principal, body);
    const parentProxyVersionId = body.parentProxyVersionId ?? null;
    const student = { ...body.student, hyperparameters: body.student.hyperparameters as JsonObject };
    return this.runner.run(
      envelope,
      runCommand({
        id: runId,
        mode: 'createWithNewId',
        eventType: 'DistillationRunStarted',
        sameRequest: (data) =>
          data.trainingDigest === body.trainingDigest &&
          data.parentProxyVersionId === parentProxyVersionId &&
          sameJson(data.dataset.queryIds, body.queryIds) &&
          sameJson(data.student, student),
        decide: (state) => decideStartRun({ runId, queryIds: body.queryIds, parentProxyVersionId, student, trainingDigest: body.trainingDigest }, state, facts),
        respond: ({ id, revision, data }) => ({
          runId: id,
          status: 'running',
          parentProxyVersionId: data.parentProxyVersionId,
          teacher: data.teacher,
          dataset: data.dataset,
          revision,
        }),
      }),
    );
  }

  /**
   * Each query's whole stream as it is now (its entries are the transcript the dataset root commits to), and
   * the parent proxy. Nothing is refused here but another tenant's query or proxy (403, before anything else).
   */
  private async loadFacts(principal: Principal, body: StartRunBody): Promise<StartRunFacts> {
    const queries = new Map<string, QueryTranscript>();
    for (const queryId of new Set(body.queryIds)) queries.set(queryId, await this.loadTranscript(principal, queryId));
    const parent = body.parentProxyVersionId === undefined ? null : (await loadProxy(this.store, principal, body.parentProxyVersionId)).state;
    return { queries, parent };
  }

  private async loadTranscript(principal: Principal, queryId: string): Promise<QueryTranscript> {
    // One read: the state and the leaves come from the very same entries.
    const entries = await this.store.readStream(queryStream(queryId));
    const first = entries[0];
    if (first === undefined) return { status: 'none', entries: [] };
    assertSameTenant(principal, first.entry.meta.tenant);
    const state = rehydrateQuery(entries.map((e) => e.entry));
    return { status: state.status, entries };
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a as object) === canonicalJson(b as object);
  } catch {
    return false;
  }
}
