/**
 * The amplification commands' runner: the shared `StreamCommandRunner` (idempotency, load, tenant, If-Match,
 * decide, append with expected revision, bounded retry; see its header) specialised to `query-<id>` streams,
 * the query state and typed query events. The `@CommandHandler`s only say which decider to call and how
 * to render its recorded event.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Command } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal.js';
import { CLOCK, type Clock } from '../common/clock.js';
import {
  eventStreamCommand,
  type EventStreamCommand,
  type EventStreamKind,
  type RecordedStreamCommand,
} from '../common/commands/event-stream-command.js';
import {
  loadStream,
  StreamCommandRunner,
  type CommandEnvelope,
  type StreamCommandOutcome,
} from '../common/commands/stream-command.runner.js';
import { ID_GENERATOR, type IdGenerator } from '../common/ids.js';
import { LedgerError } from '../common/ledger-error.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { EVENT_STORE } from '../ledger/ledger.tokens.js';
import { parseQueryEvent, type QueryEvent, type QueryEventType } from './query.events.js';
import { rehydrate, rehydrateFrom, type QueryState } from './query.state.js';

export { MAX_APPEND_ATTEMPTS, retryDelayMs, type CommandEnvelope } from '../common/commands/stream-command.runner.js';

export const QUERY_STREAM_PREFIX = 'query-';

export function queryStream(queryId: string): string {
  return QUERY_STREAM_PREFIX + queryId;
}

/**
 * A command on one node of a query (`POST /v1/queries/:queryId/nodes/:nodeId/<verb>`): the caller, the node and
 * the validated body. Each node use case declares its own subclass, which its `@CommandHandler` names.
 */
export abstract class NodeCommand<B, R extends QueryCommandResponse> extends Command<CommandOutcome<R>> {
  constructor(
    readonly envelope: CommandEnvelope,
    readonly queryId: string,
    readonly nodeId: string,
    readonly body: B,
  ) {
    super();
  }
}

/** Every response body of a query command carries these. */
export interface QueryCommandResponse {
  queryId: string;
  /** Revision of the stream's last entry after this command (the value for the next `If-Match`). */
  revision: number;
}

export type CommandOutcome<R extends QueryCommandResponse> = StreamCommandOutcome<R>;

/** What a command recorded, as its response is built from it (on a replay too); `queryId` names its query. */
export type RecordedCommand<T extends QueryEventType> = Omit<RecordedStreamCommand<QueryEvent, T>, 'id'> & { queryId: string };

/**
 * How one command plugs into the runner: `eventType`, `sameRequest` (same node, same payload) and `decide` as
 * any `EventStreamCommand`, on the query `queryId`.
 */
export interface QueryCommandSpec<R extends QueryCommandResponse, T extends QueryEventType>
  extends Pick<EventStreamCommand<QueryState, QueryEvent, R, T>, 'eventType' | 'sameRequest' | 'decide'> {
  queryId: string;
  /** `create`: opens the stream (expected `no_stream`); `update`: the query must exist (else 404). */
  mode: 'create' | 'update';
  /** The response, from the command's recorded entries only, so a replay can rebuild it exactly. */
  respond(recorded: RecordedCommand<T>): R;
}

/** The stream of one query, loaded and checked for the caller's tenant. */
export interface LoadedQuery {
  state: QueryState;
  /** Revision of the stream's last entry (any event type), or null when the stream does not exist. */
  streamRevision: number | null;
}

/**
 * Reads `query-<id>`, refuses another tenant's stream (403) and rehydrates. Shared by the command runner and
 * the decision-tree query. Does not refuse a missing query: the caller decides what that means.
 */
export async function loadQuery(store: EventStore, principal: Principal, queryId: string): Promise<LoadedQuery> {
  return loadStream(store, principal, queryStream(queryId), rehydrate);
}

export function queryNotFound(queryId: string): LedgerError {
  return new LedgerError('QUERY.NOT_FOUND', 'not_found', 'Query not found', { queryId });
}

const QUERY_STREAMS: EventStreamKind<QueryState, QueryEvent> = {
  prefix: QUERY_STREAM_PREFIX,
  aggregate: 'Query',
  codePrefix: 'QUERY',
  notFound: queryNotFound,
  rehydrate,
  fold: { key: 'query', continue: rehydrateFrom },
  exists: (state) => state.status !== 'none',
  parse: parseQueryEvent,
};

@Injectable()
export class QueryCommandRunner {
  private readonly runner: StreamCommandRunner;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {
    this.runner = new StreamCommandRunner(store, clock, ids);
  }

  /** A fresh UUID v7 (query and node ids). */
  newId(): string {
    return this.ids.newId();
  }

  run<R extends QueryCommandResponse, T extends QueryEventType>(
    envelope: CommandEnvelope,
    spec: QueryCommandSpec<R, T>,
  ): Promise<CommandOutcome<R>> {
    return this.runner.run<QueryState, R>(
      envelope,
      eventStreamCommand(QUERY_STREAMS, {
        id: spec.queryId,
        // A new query's id is generated per request, so a replayed create may name any query stream.
        mode: spec.mode === 'create' ? 'createWithNewId' : 'update',
        eventType: spec.eventType,
        sameRequest: (data, events) => spec.sameRequest(data, events),
        decide: (state, ctx) => spec.decide(state, ctx),
        respond: ({ id, ...recorded }) => spec.respond({ queryId: id, ...recorded }),
      }),
    );
  }
}
