/**
 * `OpenQuery` (CQRS command) and its thin handler: ids from the IdGenerator, the tenant's settings from its
 * stream, then the shared runner.
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { canonicalJson } from '../../ledger/canonical-json.js';
import type { JsonValue } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { loadTenantSettings } from '../../tenants/tenant-settings.js';
import { DEFAULT_DATA_CLASSIFICATION, type AmplificationQueryOpenedData } from '../query.events.js';
import { QueryCommandRunner, type CommandEnvelope, type CommandOutcome } from '../query-command.runner.js';
import type { OpenQueryResponse } from '../query.responses.js';
import { decideOpenQuery } from './open-query.command.js';
import type { OpenQueryBody } from './open-query.dto.js';

export class OpenQuery extends Command<CommandOutcome<OpenQueryResponse>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly body: OpenQueryBody,
  ) {
    super();
  }
}

@CommandHandler(OpenQuery)
export class OpenQueryHandler implements ICommandHandler<OpenQuery> {
  constructor(
    private readonly runner: QueryCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, body }: OpenQuery): Promise<CommandOutcome<OpenQueryResponse>> {
    // Unused (and harmless) when the Idempotency-Key turns out to be a retry.
    const queryId = this.runner.newId();
    const rootNodeId = this.runner.newId();
    const input = body.input as JsonValue;
    // Read once, before deciding: a query opened concurrently with a settings change gets either version,
    // and the event records the limits it actually got.
    const settings = await loadTenantSettings(this.store, envelope.principal.tenant);
    return this.runner.run(envelope, {
      queryId,
      mode: 'create',
      eventType: 'AmplificationQueryOpened',
      sameRequest: (data) => sameOpenRequest(data, body, input),
      decide: (state) => decideOpenQuery({ ...body, input, queryId, rootNodeId }, state, settings),
      respond: ({ data, revision }) => ({ queryId: data.queryId, rootNodeId: data.rootNodeId, revision }),
    });
  }
}

/**
 * A retry is the same request when it states the same things. Limits it left to the settings are not
 * compared by value: the settings may have changed since the first attempt, whose result stands.
 */
function sameOpenRequest(data: AmplificationQueryOpenedData, body: OpenQueryBody, input: JsonValue): boolean {
  const sameLimit = (requested: number | undefined, recorded: number, source: string) =>
    requested === undefined ? source !== 'request' : source === 'request' && recorded === requested;
  return (
    data.task === body.task &&
    data.taskClass === (body.taskClass ?? null) &&
    data.dataClassification === (body.dataClassification ?? DEFAULT_DATA_CLASSIFICATION) &&
    sameLimit(body.maxDepth, data.maxDepth, data.limitSources.maxDepth) &&
    sameLimit(body.confidenceThreshold, data.confidenceThreshold, data.limitSources.confidenceThreshold) &&
    sameJson(data.input, input)
  );
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}
