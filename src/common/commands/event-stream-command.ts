/**
 * The plumbing between a context's typed events and the `StreamCommandRunner`, written once. A context binds
 * its `<prefix><id>` streams once (`EventStreamKind`: naming, fold, parser, its codes); each command then says
 * only what it decides and how it renders what it recorded (`eventStreamCommand(kind, command)`), and gets the
 * runner's spec: typed `sameRequest` on the first recorded event, and a response rebuilt from the recorded
 * entries alone, so that a replay answers exactly the first result.
 * Plain TypeScript: the runner is the Nest piece.
 */
import type { Principal } from '../../auth/principal.js';
import type { SignedEntry } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { isId } from '../domain-values.js';
import type { StoredEvent } from '../events/stored-event-fields.js';
import { LedgerError } from '../ledger-error.js';
import { loadStream, type DecideContext, type IncrementalFold, type LoadedStream, type StreamCommandSpec } from './stream-command.runner.js';

/** The data of an event of type `T` of the union `E`. */
export type EventDataOf<E extends StoredEvent, T extends E['type']> = Extract<E, { type: T }>['data'];

/** One kind of aggregate stream (`proxy-<id>`, `distillation-<id>`): state `S`, typed events `E`. */
export interface EventStreamKind<S, E extends StoredEvent> {
  /** The stream of aggregate `id` is `prefix + id`. */
  prefix: string;
  /** What the caller reads in errors ("Proxy version", "Distillation run"). */
  aggregate: string;
  /** The context's code prefix for defects: `<codePrefix>.NOTHING_RECORDED`, `<codePrefix>.UNEXPECTED_ENTRY`. */
  codePrefix: string;
  /** The error a missing aggregate answers (404 with the context's code). */
  notFound(id: string): LedgerError;
  rehydrate(entries: readonly SignedEntry[]): S;
  /** When the fold can go on from a state it produced (the runner then keeps states between commands). */
  fold?: IncrementalFold<S>;
  /** False for the initial (no events) state. */
  exists(state: S): boolean;
  /** The context's stored-event parser (throws its `*.EVENT_INVALID`). */
  parse(entry: SignedEntry): E;
}

/** What a command recorded, as its response is built from it (on a replay too). */
export interface RecordedStreamCommand<E extends StoredEvent, T extends E['type']> {
  /** The aggregate id of the command's stream. */
  id: string;
  /** Revision of the command's last entry (what the response and its ETag report). */
  revision: number;
  /** The data of the command's first event, of the command's `eventType`. */
  data: EventDataOf<E, T>;
  /** Every event the command recorded, in order (the first one included). */
  events: E[];
}

/** One command on a stream of `kind`. */
export interface EventStreamCommand<S, E extends StoredEvent, R, T extends E['type']> {
  id: string;
  /**
   * `create`: a new stream at `id` (expected `no_stream`); `createWithNewId`: the same, with an id generated per
   * request, so a replayed create may name any stream of this kind; `update`: the aggregate must exist (else 404).
   */
  mode: 'create' | 'createWithNewId' | 'update';
  /** The event type the command records first; a reused Idempotency-Key is checked against it. */
  eventType: T;
  /** True when the first event recorded under a reused Idempotency-Key is what THIS request would produce. */
  sameRequest(recorded: EventDataOf<E, T>, events: readonly E[]): boolean;
  decide(state: S, ctx: DecideContext): E[];
  respond(recorded: RecordedStreamCommand<E, T>): R;
}

export function eventStreamCommand<S, E extends StoredEvent, R, T extends E['type']>(
  kind: EventStreamKind<S, E>,
  command: EventStreamCommand<S, E, R, T>,
): StreamCommandSpec<S, R> {
  // The recorded entry as the typed event it must be (a mismatch is a defect: 500, logged).
  const recordedData = (entry: SignedEntry): EventDataOf<E, T> => {
    const event = kind.parse(entry);
    if (event.type !== command.eventType) {
      throw new LedgerError(
        `${kind.codePrefix}.UNEXPECTED_ENTRY`,
        'internal',
        `Expected ${command.eventType} at revision ${entry.revision}, found ${event.type}`,
      );
    }
    return event.data as EventDataOf<E, T>;
  };
  return {
    stream: kind.prefix + command.id,
    mode: command.mode === 'update' ? 'update' : 'create',
    aggregate: kind.aggregate,
    notFound: () => kind.notFound(command.id),
    rehydrate: (entries) => kind.rehydrate(entries),
    ...(kind.fold === undefined ? {} : { fold: kind.fold }),
    exists: (state) => kind.exists(state),
    ownsStream: (stream) => command.mode === 'createWithNewId' && stream.startsWith(kind.prefix),
    eventType: command.eventType,
    sameRequest: (entry, all) => command.sameRequest(recordedData(entry), all.map((e) => kind.parse(e))),
    decide: (state, ctx) => command.decide(state, ctx).map(({ type, schema, data }) => ({ type, schema, data })),
    respond: (entries) => {
      const first = entries[0];
      const last = entries[entries.length - 1];
      if (first === undefined || last === undefined) {
        throw new LedgerError(`${kind.codePrefix}.NOTHING_RECORDED`, 'internal', 'A command recorded no entry');
      }
      return command.respond({
        id: first.stream.slice(kind.prefix.length),
        revision: last.revision,
        data: recordedData(first),
        events: entries.map((entry) => kind.parse(entry)),
      });
    },
  };
}

/**
 * Reads `<prefix><id>` for the caller: 403 AUTH.TENANT_FORBIDDEN for another tenant's aggregate; the initial
 * state when there is none (the caller decides what that means).
 */
export async function loadEventStream<S, E extends StoredEvent>(
  store: EventStore,
  principal: Principal,
  kind: EventStreamKind<S, E>,
  id: string,
): Promise<LoadedStream<S>> {
  // An id that cannot name an aggregate names none; never read a stream for it.
  if (!isId(id)) return { state: kind.rehydrate([]), streamRevision: null };
  return loadStream(store, principal, kind.prefix + id, (entries) => kind.rehydrate(entries));
}
