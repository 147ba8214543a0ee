import type { EntryMeta, IntegratedEntry, ProposedEvent } from './entry.js';

/** `no_stream`: the stream must not exist yet; `any`: no check; a number: the stream's last revision must equal it. */
export type ExpectedRevision = number | 'no_stream' | 'any';

export interface AppendRequest {
  stream: string;
  expectedRevision: ExpectedRevision;
  /** At least one event; all of them are appended atomically, in order, with consecutive revisions. */
  events: ProposedEvent[];
  /** Shared by every entry of this append. `commandId` is the idempotency key (unique per tenant). */
  meta: EntryMeta;
}

export interface AppendResult {
  stream: string;
  /** The entries of this append (or, when `duplicate`, of the first append with this command id), in order. */
  entries: IntegratedEntry[];
  /** Revision of the stream's last entry after the append. */
  revision: number;
  /** True when (tenant, commandId) had already been appended: nothing new was written. */
  duplicate: boolean;
}

export interface Subscription {
  /** Stops delivery; resolves once no callback is running. */
  close(): Promise<void>;
}

/**
 * The event-store port (DESIGN §7). Every adapter passes `event-store.contract.ts`.
 *
 * Contract:
 * - `append` MUST sign every entry (via the injected signer) before it is stored, fill `revision`
 *   (consecutive, 0-based per stream), `prev` (hex leaf hash of the stream's previous entry, null at 0),
 *   `id` (UUID v7), `kid` and `sig`, and integrate it at the next global position (gapless, 0-based).
 * - `append` MUST be atomic: either all events of a request are integrated or none is.
 * - `append` MUST reject with `LedgerError` code `LEDGER.REVISION_CONFLICT` (and append nothing) when the
 *   expected revision does not hold.
 * - `append` MUST be idempotent on (meta.tenant, meta.commandId): a repeated command id appends nothing and
 *   resolves to the first append's entries with `duplicate: true` — whatever its expected revision.
 * - `append` MUST NOT resolve before the entries are durable (a crash after resolve loses nothing).
 * - Reads MUST return only integrated entries, in position / revision order, byte-identical to what was signed.
 * - `subscribe` MUST deliver every entry from `fromPosition` on, exactly once, in order: first the stored
 *   ones (catch-up), then new ones as they are integrated (live), with no gap between the two.
 */
export interface ReadAllOptions {
  tenants?: readonly string[];
  types?: readonly string[];
}

export interface EventStore {
  append(request: AppendRequest): Promise<AppendResult>;
  /** Entries of one stream from `fromRevision` (default 0); empty when the stream does not exist. */
  readStream(stream: string, fromRevision?: number): Promise<IntegratedEntry[]>;
  /**
   * Up to `limit` integrated entries at global positions ≥ `fromPosition`, in order. With `tenants`, only
   * entries whose `meta.tenant` is one of them; with `types`, only entries whose `type` is one of them (both:
   * both hold). Positions then have gaps: they stay the global ones. An adapter SHOULD filter where the data
   * is (an index scan, a server-side filter), not after shipping every entry: a start-up index that needs one
   * type of a million-entry log must not read the million.
   */
  readAll(fromPosition: number, limit: number, options?: ReadAllOptions): Promise<IntegratedEntry[]>;
  /**
   * Optional (an embedded store has it; a remote one need not): up to `limit` integrated rows from
   * `fromPosition` on, `[position, entry JSON]` exactly as stored, unparsed and without leaf hashes —
   * synchronous, for folding a large log at start (the live projections). It MUST return what `readAll` would,
   * as text.
   */
  readEntryJson?(fromPosition: number, limit: number): readonly (readonly [number, string])[];
  /** The first append of (tenant, commandId), or null. */
  findCommand(tenant: string, commandId: string): Promise<AppendResult | null>;
  /** Number of integrated entries (= Merkle tree size). */
  size(): Promise<number>;
  subscribe(fromPosition: number, onEntry: (entry: IntegratedEntry) => void | Promise<void>): Subscription;
  close(): Promise<void>;
}
