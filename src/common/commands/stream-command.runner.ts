/**
 * The one path every command on one stream takes (DESIGN §4: "handlers are thin: load stream, decide, append
 * with expected revision"), whatever its bounded context. A context binds its stream naming, state and typed
 * events once (`EventStreamKind`, event-stream-command.ts: `QueryCommandRunner`, `proxyCommand`, `runCommand`);
 * the steps, in this order:
 *
 *   1. idempotency: `findCommand(tenant, key)` first — a retry returns the FIRST result, rebuilt from the
 *      recorded entries, and appends nothing (this also covers a crash between append and response);
 *   2. load the stream and rehydrate (a spec with an incremental `fold` continues the state it folded last time,
 *      and the entries of its own last append, with the entries others appended since, instead of folding the
 *      whole stream again);
 *   3. tenant check (403 AUTH.TENANT_FORBIDDEN) before anything else about the aggregate; then not-found;
 *   4. `If-Match` against the stream's last revision (412 LEDGER.REVISION_CONFLICT);
 *   5. decide (pure; refusals are LedgerErrors with stable codes);
 *   6. append with the stream's last revision as expected revision (`no_stream` for a new stream); a concurrent
 *      append without `If-Match` is retried a few times, then 409 LEDGER.CONCURRENT_MODIFICATION;
 *   7. build the result from the entries just recorded.
 *
 * Nothing is appended on any refusal: every check runs before the single `append`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { assertSameTenant } from '../../auth/tenant.js';
import type { Principal } from '../../auth/principal.js';
import { CLOCK, type Clock } from '../clock.js';
import { ID_GENERATOR, type IdGenerator } from '../ids.js';
import { isLedgerError, LedgerError } from '../ledger-error.js';
import type { IntegratedEntry, ProposedEvent, SignedEntry } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { FoldedStates } from './folded-states.js';

/** Attempts (first try included) when another writer appended between our load and our append. */
export const MAX_APPEND_ATTEMPTS = 8;

/**
 * Pause before attempt `attempt + 1`: exponential (2, 4, … 128 ms: about half a second in all, enough for a
 * commit on a loaded machine) with jitter. Needed, not cosmetic: a group-committing store refuses a stale
 * append before the winning batch is committed, so a loser that re-read at once would read the same old
 * revision and lose again.
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

/** What a decider may need besides the command and state. Time is passed by the caller where a rule needs it. */
export interface DecideContext {
  /** Fresh, unique id (a UUID v7 in the service, a counter in tests). */
  newId(): string;
}

export interface StreamCommandOutcome<R> {
  body: R;
  /** The correlation id recorded in the entries' meta (on a replay: the first attempt's). */
  correlationId: string;
  /** True when the Idempotency-Key had already been used: nothing was appended this time. */
  replayed: boolean;
}

/** The stream of one aggregate, loaded and checked for the caller's tenant. */
export interface LoadedStream<S> {
  state: S;
  /** Revision of the stream's last entry (any event type), or null when the stream does not exist. */
  streamRevision: number | null;
}

/**
 * A fold that can go on from a state it produced: `continue(rehydrate(first), rest)` MUST equal
 * `rehydrate([...first, ...rest])`, and MUST NOT mutate the state it is given (the runner keeps it and hands it
 * to later commands; deciders are pure and do not mutate it either).
 */
export interface IncrementalFold<S> {
  /** Names the fold: states are kept per (key, stream), as two specs may fold one stream differently. */
  readonly key: string;
  continue(state: S, entries: readonly SignedEntry[]): S;
}

/** How one command plugs into the runner. */
export interface StreamCommandSpec<S, R> {
  /** The full stream name, e.g. `distillation-<id>`. */
  stream: string;
  /** `create`: the stream must not exist (expected `no_stream`); `update`: the aggregate must exist; `upsert`: either. */
  mode: 'create' | 'update' | 'upsert';
  /** What the caller reads in errors ("Query", "Distillation run", ...). */
  aggregate: string;
  /** The error a missing aggregate answers in `update` mode (404 with the context's code). */
  notFound(): LedgerError;
  rehydrate(entries: readonly SignedEntry[]): S;
  /** When given, the runner keeps the folded state and continues it with newer entries on the next load. */
  fold?: IncrementalFold<S>;
  /** False for the initial (no events) state. */
  exists(state: S): boolean;
  /**
   * For a create command whose stream id is generated per attempt (a new query): true when a replayed entry's
   * stream is one this command could have created. Default: only `stream` itself.
   */
  ownsStream?(stream: string): boolean;
  /** The event type the command records first; a reused Idempotency-Key is checked against it. */
  eventType: string;
  /**
   * True when the first entry recorded under a reused Idempotency-Key (of `eventType`, on the same stream) is
   * what THIS request would have produced. Else 422 REQUEST.IDEMPOTENCY_KEY_REUSED.
   */
  sameRequest(recorded: SignedEntry, all: readonly SignedEntry[]): boolean;
  decide(state: S, ctx: DecideContext): ProposedEvent[];
  /**
   * The response, from the command's recorded entries only, so a replay can rebuild it exactly (`integrated`:
   * the same entries with their global positions).
   */
  respond(recorded: readonly SignedEntry[], integrated: readonly IntegratedEntry[]): R;
}

/** Stream names are `<prefix><id>`; ids longer than this cannot name an aggregate. */
const MAX_ID_LENGTH = 200;

/**
 * Reads a stream, refuses another tenant's stream (403) and rehydrates. Does not refuse a missing aggregate:
 * the caller decides what that means.
 */
export async function loadStream<S>(
  store: EventStore,
  principal: Principal,
  stream: string,
  rehydrate: (entries: readonly SignedEntry[]) => S,
): Promise<LoadedStream<S>> {
  const entries = await store.readStream(stream);
  const first = entries[0];
  if (first === undefined) return { state: rehydrate([]), streamRevision: null };
  // Before anything else about the aggregate: another tenant learns nothing but "not yours".
  assertSameTenant(principal, first.entry.meta.tenant);
  const state = rehydrate(entries.map((e) => e.entry));
  return { state, streamRevision: entries[entries.length - 1]!.entry.revision };
}

@Injectable()
export class StreamCommandRunner {
  /** Keyed `<fold key> <stream>`. */
  private readonly folded = new FoldedStates();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  /** A fresh UUID v7. */
  newId(): string {
    return this.ids.newId();
  }

  /** The current time (for deciders whose rules depend on it, e.g. "recalibrated within N days"). */
  now(): Date {
    return this.clock.now();
  }

  async run<S, R>(envelope: CommandEnvelope, spec: StreamCommandSpec<S, R>): Promise<StreamCommandOutcome<R>> {
    const { principal } = envelope;

    // 1. A retried command: answer from the log, before looking at anything else.
    if (envelope.idempotencyKey !== undefined) {
      const previous = await this.store.findCommand(principal.tenant, envelope.idempotencyKey);
      if (previous !== null) return this.replay(envelope, spec, previous.entries);
    }

    const commandId = envelope.idempotencyKey ?? this.ids.newId();
    const correlationId = envelope.correlationId ?? this.ids.newId();

    for (let attempt = 1; ; attempt++) {
      // 2.–3. Load, tenant, existence.
      const { state, streamRevision } = await this.load(principal, spec);

      // 4. The client's precondition.
      if (envelope.expectedRevision !== undefined && envelope.expectedRevision !== streamRevision) {
        throw staleIfMatch(spec.aggregate, envelope.expectedRevision, streamRevision);
      }

      // 5. Decide.
      const events = spec.decide(state, { newId: () => this.ids.newId() });
      if (events.length === 0) {
        throw new LedgerError('LEDGER.NOTHING_DECIDED', 'internal', `Decider of ${spec.eventType} returned no event`);
      }

      // 6. Append, expecting exactly the revision we decided on.
      try {
        const result = await this.store.append({
          stream: spec.stream,
          expectedRevision: streamRevision ?? 'no_stream',
          events: events.map(({ type, schema, data }) => ({ type, schema, data })),
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
        if (spec.fold !== undefined) this.keepAppended(principal, spec, spec.fold, state, result.entries);
        // 7. The response, from what was recorded.
        return { body: spec.respond(result.entries.map((e) => e.entry), result.entries), correlationId, replayed: false };
      } catch (error) {
        if (!isLedgerError(error) || error.code !== 'LEDGER.REVISION_CONFLICT') throw error;
        // The client stated what it saw; someone else changed it since: its precondition failed.
        if (envelope.expectedRevision !== undefined) throw staleIfMatch(spec.aggregate, envelope.expectedRevision, null);
        if (attempt >= MAX_APPEND_ATTEMPTS) {
          throw new LedgerError(
            'LEDGER.CONCURRENT_MODIFICATION',
            'conflict',
            `${spec.aggregate} kept changing while this command was applied; retry it.`,
            { stream: spec.stream, attempts: attempt },
          );
        }
        // Someone appended between our load and our append: decide again on the new state.
        await sleep(retryDelayMs(attempt));
      }
    }
  }

  private async load<S, R>(principal: Principal, spec: StreamCommandSpec<S, R>): Promise<LoadedStream<S>> {
    if (spec.mode === 'update' && !isPlausibleStream(spec.stream)) throw spec.notFound();
    const loaded =
      spec.fold === undefined
        ? await loadStream(this.store, principal, spec.stream, (entries) => spec.rehydrate(entries))
        : await this.loadFolded(principal, spec, spec.fold);
    if (spec.mode === 'update' && !spec.exists(loaded.state)) throw spec.notFound();
    return loaded;
  }

  /** `loadStream`, continuing the state folded last time with only the entries appended since. */
  private async loadFolded<S, R>(principal: Principal, spec: StreamCommandSpec<S, R>, fold: IncrementalFold<S>): Promise<LoadedStream<S>> {
    const key = `${fold.key} ${spec.stream}`;
    const kept = this.folded.take(key);
    const entries = await this.store.readStream(spec.stream, kept === undefined ? 0 : kept.revision + 1);
    const first = entries[0];
    if (kept === undefined && first === undefined) return { state: spec.rehydrate([]), streamRevision: null };
    const tenant = kept?.tenant ?? first!.entry.meta.tenant;
    // Before anything else about the aggregate: another tenant learns nothing but "not yours".
    assertSameTenant(principal, tenant);
    const signed = entries.map((e) => e.entry);
    let state: S;
    if (kept === undefined) state = spec.rehydrate(signed);
    else {
      // A state kept after an append comes with that append's entries, not folded yet.
      const unfolded = kept.pending === undefined ? signed : [...kept.pending, ...signed];
      state = unfolded.length === 0 ? (kept.state as S) : fold.continue(kept.state as S, unfolded);
    }
    const revision = signed.length === 0 ? kept!.revision : signed[signed.length - 1]!.revision;
    this.folded.keep(key, { state, revision, tenant });
    return { state, streamRevision: revision };
  }

  /**
   * After a successful append: the state decided on and the entries just recorded are, together, what the next
   * load would fold from the stream; they are kept (the entries unfolded until a next command needs them: the
   * last command on a stream folds nothing more) at the new revision, so that the next command reads only what
   * others appended since (usually nothing) instead of reading this append back.
   */
  private keepAppended<S, R>(principal: Principal, spec: StreamCommandSpec<S, R>, fold: IncrementalFold<S>, decidedOn: S, appended: readonly IntegratedEntry[]): void {
    const last = appended[appended.length - 1];
    if (last === undefined) return;
    // The stream is the principal's: a new one was just created with its tenant, an existing one passed the check.
    this.folded.keep(`${fold.key} ${spec.stream}`, {
      state: decidedOn,
      pending: appended.map((e) => e.entry),
      revision: last.entry.revision,
      tenant: principal.tenant,
    });
  }

  /** Rebuilds the first result of a command id, or refuses a key that was used for another request. */
  private async replay<S, R>(
    envelope: CommandEnvelope,
    spec: StreamCommandSpec<S, R>,
    integrated: readonly IntegratedEntry[],
  ): Promise<StreamCommandOutcome<R>> {
    const entries = integrated.map((e) => e.entry);
    const first = entries[0];
    const sameStream = first !== undefined && (first.stream === spec.stream || spec.ownsStream?.(first.stream) === true);
    if (first === undefined || !sameStream || first.type !== spec.eventType || !spec.sameRequest(first, entries)) {
      // Tenant and existence of the named aggregate still come first; only then the key's misuse.
      if (spec.mode === 'update') await this.load(envelope.principal, spec);
      throw new LedgerError(
        'REQUEST.IDEMPOTENCY_KEY_REUSED',
        'unprocessable',
        'This Idempotency-Key was already used for a different request; use a new key for a new command.',
      );
    }
    return { body: spec.respond(entries, integrated), correlationId: first.meta.correlationId, replayed: true };
  }
}

function isPlausibleStream(stream: string): boolean {
  const dash = stream.indexOf('-');
  const id = dash < 0 ? '' : stream.slice(dash + 1);
  return id.length > 0 && id.length <= MAX_ID_LENGTH;
}

function staleIfMatch(aggregate: string, expected: number, current: number | null): LedgerError {
  return new LedgerError(
    'LEDGER.REVISION_CONFLICT',
    'precondition_failed',
    `If-Match "${expected}" does not match the ${aggregate.toLowerCase()}'s current revision; read it again and retry.`,
    current === null ? { expectedRevision: expected } : { expectedRevision: expected, currentRevision: current },
  );
}
