/**
 * The one path every amplification command takes (DESIGN §4: "handlers are thin: load stream, decide, append
 * with expected revision"). The seven `@CommandHandler`s only say which decider to call and how to render its
 * recorded event; everything else is here, in this order:
 *
 *   1. idempotency: `findCommand(tenant, key)` first — a retry returns the FIRST result, rebuilt from the
 *      recorded entries, and appends nothing (this also covers a crash between append and response);
 *   2. load the stream `query-<id>` and rehydrate;
 *   3. tenant check (403 AUTH.TENANT_FORBIDDEN) before anything else about the query; then 404 QUERY.NOT_FOUND;
 *   4. `If-Match` against the stream's last revision (412 LEDGER.REVISION_CONFLICT);
 *   5. decide (pure; refusals are LedgerErrors with stable codes);
 *   6. append with the stream's last revision as expected revision (`no_stream` for a new query); a concurrent
 *      append without `If-Match` is retried a few times, then 409 LEDGER.CONCURRENT_MODIFICATION;
 *   7. build the result from the entries just recorded.
 *
 * Nothing is appended on any refusal: every check runs before the single `append`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Command } from '@nestjs/cqrs';
import { assertSameTenant } from '../auth/tenant.js';
import type { Principal } from '../auth/principal.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ID_GENERATOR, type IdGenerator } from '../common/ids.js';
import { isLedgerError, LedgerError } from '../common/ledger-error.js';
import type { IntegratedEntry, SignedEntry } from '../ledger/entry.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { EVENT_STORE } from '../ledger/ledger.tokens.js';
import { parseQueryEvent, toProposed, type QueryEvent, type QueryEventType } from './query.events.js';
import type { QueryDecideContext } from './query.guards.js';
import { rehydrate, type QueryState } from './query.state.js';

export const QUERY_STREAM_PREFIX = 'query-';

export function queryStream(queryId: string): string {
  return QUERY_STREAM_PREFIX + queryId;
}

/** Attempts (first try included) when another writer appended between our load and our append. */
export const MAX_APPEND_ATTEMPTS = 8;

/**
 * Pause before attempt `attempt + 1`: exponential (2, 4, … 128 ms: about half a second in all, enough for a
 * commit on a loaded machine) with jitter. Needed, not cosmetic: a
 * group-committing store refuses a stale append before the winning batch is committed, so a loser that
 * re-read at once would read the same old revision and lose again.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(2 ** attempt * (0.5 + random() / 2));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the HTTP layer hands to every command: who, and the command headers. */
export interface CommandEnvelope {
  principal: Principal;
  /** `Idempotency-Key`; without it a command id is generated (and the command is not retry-safe). */
  idempotencyKey?: string | undefined;
  /** `If-Match`: the stream revision the client last saw. */
  expectedRevision?: number | undefined;
  /** A valid `X-Correlation-Id`, else a new id is generated. */
  correlationId?: string | undefined;
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

export interface CommandOutcome<R extends QueryCommandResponse> {
  body: R;
  /** The correlation id recorded in the entries' meta (on a replay: the first attempt's). */
  correlationId: string;
  /** True when the Idempotency-Key had already been used: nothing was appended this time. */
  replayed: boolean;
}

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
  const entries = await store.readStream(queryStream(queryId));
  const first = entries[0];
  if (first === undefined) return { state: rehydrate([]), streamRevision: null };
  // Before anything else about the query: another tenant learns nothing but "not yours".
  assertSameTenant(principal, first.entry.meta.tenant);
  const state = rehydrate(entries.map((e) => e.entry));
  return { state, streamRevision: entries[entries.length - 1]!.entry.revision };
}

export function queryNotFound(queryId: string): LedgerError {
  return new LedgerError('QUERY.NOT_FOUND', 'not_found', 'Query not found', { queryId });
}

/** Ids longer than this cannot name a query (the deciders bound every id the same way). */
const MAX_QUERY_ID_LENGTH = 200;

@Injectable()
export class QueryCommandRunner {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  /** A fresh UUID v7 (query and node ids). */
  newId(): string {
    return this.ids.newId();
  }

  async run<R extends QueryCommandResponse, T extends QueryEventType>(
    envelope: CommandEnvelope,
    spec: QueryCommandSpec<R, T>,
  ): Promise<CommandOutcome<R>> {
    const { principal } = envelope;

    // 1. A retried command: answer from the log, before looking at anything else.
    if (envelope.idempotencyKey !== undefined) {
      const previous = await this.store.findCommand(principal.tenant, envelope.idempotencyKey);
      if (previous !== null) return this.replay(envelope, spec, previous.entries);
    }

    const commandId = envelope.idempotencyKey ?? this.ids.newId();
    const correlationId = envelope.correlationId ?? this.ids.newId();
    const stream = queryStream(spec.queryId);

    for (let attempt = 1; ; attempt++) {
      // 2.–3. Load, tenant, existence.
      const { state, streamRevision } = await this.load(principal, spec);

      // 4. The client's precondition.
      if (envelope.expectedRevision !== undefined && envelope.expectedRevision !== streamRevision) {
        throw staleIfMatch(envelope.expectedRevision, streamRevision);
      }

      // 5. Decide. Node ids are UUID v7 from the IdGenerator.
      const events = spec.decide(state, { newId: () => this.ids.newId() });
      if (events.length === 0) {
        throw new LedgerError('QUERY.NOTHING_DECIDED', 'internal', `Decider of ${spec.eventType} returned no event`);
      }

      // 6. Append, expecting exactly the revision we decided on.
      try {
        const result = await this.store.append({
          stream,
          expectedRevision: streamRevision ?? 'no_stream',
          events: events.map(toProposed),
          meta: {
            tenant: principal.tenant,
            actor: { sub: principal.sub, role: principal.role },
            correlationId,
            causationId: null,
            commandId,
            recordedAt: this.clock.now().toISOString(),
          },
        });
        // The same key raced in from a parallel retry: the store kept the first one.
        if (result.duplicate) return this.replay(envelope, spec, result.entries);
        // 7. The response, from what was recorded.
        return { body: respond(spec, result.entries.map((e) => e.entry)), correlationId, replayed: false };
      } catch (error) {
        if (!isLedgerError(error) || error.code !== 'LEDGER.REVISION_CONFLICT') throw error;
        // The client stated what it saw; someone else changed it since: its precondition failed.
        if (envelope.expectedRevision !== undefined) throw staleIfMatch(envelope.expectedRevision, null);
        if (attempt >= MAX_APPEND_ATTEMPTS) {
          throw new LedgerError(
            'LEDGER.CONCURRENT_MODIFICATION',
            'conflict',
            `Query ${spec.queryId} kept changing while this command was applied; retry it.`,
            { queryId: spec.queryId, attempts: attempt },
          );
        }
        // Someone appended between our load and our append: decide again on the new state.
        await sleep(retryDelayMs(attempt));
      }
    }
  }

  private async load<R extends QueryCommandResponse, T extends QueryEventType>(
    principal: Principal,
    spec: QueryCommandSpec<R, T>,
  ): Promise<LoadedQuery> {
    if (spec.mode === 'update' && !isPlausibleQueryId(spec.queryId)) throw queryNotFound(spec.queryId);
    const loaded = await loadQuery(this.store, principal, spec.queryId);
    if (spec.mode === 'update' && loaded.state.status === 'none') throw queryNotFound(spec.queryId);
    return loaded;
  }

  /** Rebuilds the first result of a command id, or refuses a key that was used for another request. */
  private async replay<R extends QueryCommandResponse, T extends QueryEventType>(
    envelope: CommandEnvelope,
    spec: QueryCommandSpec<R, T>,
    integrated: readonly IntegratedEntry[],
  ): Promise<CommandOutcome<R>> {
    const entries = integrated.map((e) => e.entry);
    const first = entries[0];
    const sameStream = spec.mode === 'create' || first?.stream === queryStream(spec.queryId);
    const sameType = sameStream && first?.type === spec.eventType;
    if (first === undefined || !sameType || !spec.sameRequest(eventData(first, spec.eventType))) {
      // Tenant and existence of the named query still come first; only then the key's misuse.
      if (spec.mode === 'update') await this.load(envelope.principal, spec);
      throw new LedgerError(
        'REQUEST.IDEMPOTENCY_KEY_REUSED',
        'unprocessable',
        'This Idempotency-Key was already used for a different request; use a new key for a new command.',
      );
    }
    return { body: respond(spec, entries), correlationId: first.meta.correlationId, replayed: true };
  }
}

/** The spec's response from the command's entries: its query, its last revision, its first event's data. */
function respond<R extends QueryCommandResponse, T extends QueryEventType>(
  spec: QueryCommandSpec<R, T>,
  entries: readonly SignedEntry[],
): R {
  const first = firstEntry(entries);
  return spec.respond({ queryId: queryIdOf(first), revision: lastRevision(entries), data: eventData(first, spec.eventType) });
}

function isPlausibleQueryId(queryId: string): boolean {
  return queryId.length > 0 && queryId.length <= MAX_QUERY_ID_LENGTH;
}

function staleIfMatch(expected: number, current: number | null): LedgerError {
  return new LedgerError(
    'LEDGER.REVISION_CONFLICT',
    'precondition_failed',
    `If-Match "${expected}" does not match the query's current revision; read it again and retry.`,
    current === null ? { expectedRevision: expected } : { expectedRevision: expected, currentRevision: current },
  );
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
