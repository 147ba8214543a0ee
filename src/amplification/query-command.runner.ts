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
  loadStream,
  StreamCommandRunner,
  type CommandEnvelope,
  type StreamCommandOutcome,
} from '../common/commands/stream-command.runner.js';
import { ID_GENERATOR, type IdGenerator } from '../common/ids.js';
import { LedgerError } from '../common/ledger-error.js';
import type { SignedEntry } from '../ledger/entry.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { EVENT_STORE } from '../ledger/ledger.tokens.js';
import { parseQueryEvent, toProposed, type QueryEvent, type QueryEventType } from './query.events.js';
import type { QueryDecideContext } from './query.guards.js';
import { rehydrate, type QueryState } from './query.state.js';

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

/** The data of a recorded query event of type `T`. */
export type EventData<T extends QueryEventType> = Extract<QueryEvent, { type: T }>['data'];

/** What a command recorded, as its response is built from it (on a replay too). */
export interface RecordedCommand<T extends QueryEventType> {
  /** The query of the command's stream. */
  queryId: string;
  /** Revision of the command's last entry (what the response and its ETag report). */
  revision: number;
  /** The data of the command's first event, of the spec's `eventType`. */
  data: EventData<T>;
  /** Every event the command recorded, in order (the first one included). */
  events: QueryEvent[];
}

/** How one command plugs into the runner. */
export interface QueryCommandSpec<R extends QueryCommandResponse, T extends QueryEventType> {
  queryId: string;
  /** `create`: opens the stream (expected `no_stream`); `update`: the query must exist (else 404). */
  mode: 'create' | 'update';
  /** The event type the command records first; a reused Idempotency-Key is checked against it. */
  eventType: T;
  /**
   * True when the first event recorded under a reused Idempotency-Key (of `eventType`, on the same query) is
   * what THIS request would have produced (same node, same payload). Else 422 REQUEST.IDEMPOTENCY_KEY_REUSED.
   */
  sameRequest(recorded: EventData<T>): boolean;
  decide(state: QueryState, ctx: QueryDecideContext): QueryEvent[];
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
    const respond = (entries: readonly SignedEntry[]): R => {
      const first = firstEntry(entries);
      return spec.respond({
        queryId: queryIdOf(first),
        revision: lastRevision(entries),
        data: eventData(first, spec.eventType),
        events: entries.map(parseQueryEvent),
      });
    };
    return this.runner.run<QueryState, R>(envelope, {
      stream: queryStream(spec.queryId),
      mode: spec.mode,
      aggregate: 'Query',
      notFound: () => queryNotFound(spec.queryId),
      rehydrate,
      exists: (state) => state.status !== 'none',
      // A new query's id is generated per request, so a replayed create may name any query stream.
      ownsStream: (stream) => spec.mode === 'create' && stream.startsWith(QUERY_STREAM_PREFIX),
      eventType: spec.eventType,
      sameRequest: (entry) => spec.sameRequest(eventData(entry, spec.eventType)),
      decide: (state, ctx) => spec.decide(state, ctx).map(toProposed),
      respond,
    });
  }
}

/** The query id of a `query-<id>` stream. */
export function queryIdOf(entry: SignedEntry): string {
  return entry.stream.startsWith(QUERY_STREAM_PREFIX) ? entry.stream.slice(QUERY_STREAM_PREFIX.length) : entry.stream;
}

/** Revision of the last entry of a command (what the response and its ETag report). */
export function lastRevision(entries: readonly SignedEntry[]): number {
  const last = entries[entries.length - 1];
  if (last === undefined) throw new LedgerError('QUERY.NOTHING_RECORDED', 'internal', 'A command recorded no entry');
  return last.revision;
}

/** The first entry of a command, typed by the caller's knowledge of what it recorded. */
export function firstEntry(entries: readonly SignedEntry[]): SignedEntry {
  const first = entries[0];
  if (first === undefined) throw new LedgerError('QUERY.NOTHING_RECORDED', 'internal', 'A command recorded no entry');
  return first;
}

/** The recorded entry as the typed query event it must be (a mismatch is a defect: 500, logged). */
export function recordedEvent<T extends QueryEventType>(entry: SignedEntry, type: T): Extract<QueryEvent, { type: T }> {
  const event = parseQueryEvent(entry);
  if (event.type !== type) {
    throw new LedgerError('QUERY.UNEXPECTED_ENTRY', 'internal', `Expected ${type} at revision ${entry.revision}, found ${event.type}`);
  }
  return event as Extract<QueryEvent, { type: T }>;
}

/** The data of the recorded entry, as the typed query event it must be (see `recordedEvent`). */
function eventData<T extends QueryEventType>(entry: SignedEntry, type: T): EventData<T> {
  return recordedEvent(entry, type).data as EventData<T>;
}
