import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { LedgerError, isLedgerError } from '../../common/ledger-error.js';
import type { IntegratedEntry, SignedEntry, UnsignedEntry } from '../entry.js';
import type { EntrySigner } from '../entry-signer.port.js';
import type { AppendRequest, AppendResult, EventStore, ExpectedRevision, ReadAllOptions, Subscription } from '../event-store.port.js';
import { leafHash } from '../hashing.js';
import { MerkleTree } from '../merkle.js';
import { isWellFormedName, prepareAppend, type PreparedAppend, type PreparedEvent } from './append-request.js';
import { EntrySubscription, type SubscriptionErrorHandler } from './entry-subscription.js';
import { applyMigrations, findMigrationsDir, loadMigrations } from './migrations.js';
import { SqliteCheckpointStore } from './sqlite-checkpoint-store.js';
import { CommandIndex, commandHash } from './command-index.js';
import { assertPosition, SqliteEntryReader, type StreamHead } from './sqlite-entry-reader.js';
import { SqliteEventStoreReader } from './sqlite-event-store-reader.js';
import { composeSignedEntryJson, composeUnsignedEntryJson } from './signed-entry-json.js';

export interface SqliteEventStoreOptions {
  /** Database file (its folder is created, mode 0700; a new file gets mode 0600), or ':memory:' for tests. */
  path: string;
  signer: EntrySigner;
  /** Entry ids; default UUID v7. */
  newId?: () => string;
  /** Most entries per group-commit transaction (one request larger than this still goes alone). Default 512. */
  maxBatch?: number;
  /** Default: the package's `migrations/` folder. */
  migrationsDir?: string;
  /** How long a write waits for a lock held by another connection. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Stream heads kept in memory (least recently used are dropped and reloaded on demand). Default 100,000. */
  streamHeadCacheSize?: number;
}

export interface SqliteSubscribeOptions {
  /** Called once when a callback throws; the subscription then stops (it never skips an entry). */
  onError?: SubscriptionErrorHandler;
}

/** An append waiting in the group-commit queue. */
interface QueuedAppend extends PreparedAppend {
  /** Arrival order: a request put back after a failed signature keeps its place. */
  seq: number;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

interface PlannedEntry {
  revision: number;
  id: string;
  event: PreparedEvent;
  entry?: SignedEntry;
  json?: string;
  leafHash?: Buffer;
  leafHashHex?: string;
  integrated?: IntegratedEntry;
}

interface PlannedAppend {
  append: QueuedAppend;
  entries: PlannedEntry[];
  /** Later requests of the same batch with the same (tenant, commandId): they get this append's entries. */
  duplicates: QueuedAppend[];
  signingError?: unknown;
}

/** The requests of one batch that write to one stream, in order: their entries are signed one after another. */
interface StreamChain {
  stream: string;
  /** Leaf hash of the stream's last committed entry. */
  prev: string | null;
  /** Revision of the chain's last planned entry. */
  revision: number;
  appends: PlannedAppend[];
}

interface BatchPlan {
  appends: PlannedAppend[];
  chains: StreamChain[];
}

/** What one batch has written into its (still open) transaction. */
interface BatchWrite {
  nextPosition: number;
  written: PlannedAppend[];
  entries: IntegratedEntry[];
  leafHashes: Buffer[];
  /** Set on the first signing or insert failure: nothing more is written, the transaction is rolled back. */
  broken: boolean;
  storageError?: unknown;
}

const DEFAULT_MAX_BATCH = 512;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_HEAD_CACHE_SIZE = 100_000;
/** Leaf hashes per read when the tree is rebuilt at open (2 MiB of hex text inside SQLite per read). */
const LEAF_HASH_CHUNK = 32_768;
const COMPACT_JWS = /^[\w-]+\.[\w-]*\.[\w-]+$/;

/** Least-recently-used map of stream heads: millions of streams must not mean millions of cached heads. */
class StreamHeadCache {
  private readonly heads = new Map<string, StreamHead>();
  constructor(private readonly capacity: number) {}

  get(stream: string): StreamHead | undefined {
    const head = this.heads.get(stream);
    if (head !== undefined) {
      this.heads.delete(stream);
      this.heads.set(stream, head);
    }
    return head;
  }

  set(stream: string, head: StreamHead): void {
    this.heads.delete(stream);
    this.heads.set(stream, head);
    if (this.heads.size > this.capacity) this.heads.delete(this.heads.keys().next().value!);
  }

  clear(): void {
    this.heads.clear();
  }
}

function revisionConflict(stream: string, expectedRevision: ExpectedRevision, head: StreamHead): LedgerError {
  const actualRevision = head.revision < 0 ? null : head.revision;
  const actual = actualRevision === null ? 'does not exist' : `is at revision ${actualRevision}`;
  return new LedgerError(
    'LEDGER.REVISION_CONFLICT',
    'precondition_failed',
    `stream ${stream} ${actual}, expected ${String(expectedRevision)}`,
    { stream, expectedRevision, actualRevision },
  );
}

function holds(expected: ExpectedRevision, actualRevision: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actualRevision < 0;
  return expected === actualRevision;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function storageFailure(error: unknown): LedgerError {
  return new LedgerError('LEDGER.STORAGE_FAILED', 'unavailable', `the append batch was not stored: ${messageOf(error)}`, {
    reason: messageOf(error),
  });
}

function signingFailure(error: unknown): unknown {
  if (isLedgerError(error)) return error;
  return new LedgerError('LEDGER.SIGNING_FAILED', 'internal', `the entry could not be signed: ${messageOf(error)}`, {
    reason: messageOf(error),
  });
}

function closedError(): LedgerError {
  return new LedgerError('LEDGER.STORE_CLOSED', 'unavailable', 'the event store is closed');
}

/**
 * The embedded event store (DESIGN §7): SQLite in WAL mode with synchronous=FULL, entries integrated in the same
 * transaction as the append.
 *
 * Group commit: per-entry Ed25519 signing, not SQLite, is the ceiling (STACK.md), so appends queue and one loop
 * takes everything pending (up to `maxBatch` entries). For each batch it checks idempotency and expected
 * revisions (stream heads cached in memory), assigns revisions and ids, and starts every signature at once
 * (the signer may run them on libuv's pool, so both cores work). Entries of one stream form a chain — an
 * entry's `prev` is the leaf hash of the one before, which covers its signature — so a stream's entries are
 * signed one after another while different streams sign in parallel. Each request is inserted into the open
 * batch transaction as soon as its last signature arrives (overlapping SQLite's work with the signing), the
 * batch commits once (one fsync), and only then do the Merkle tree, the caches, the callers and the
 * subscribers see it. Reads on this connection are bounded by the committed size, so the open transaction's
 * rows stay invisible.
 *
 * One writer per file. Another writer's rows make this store's next batch fail (the primary key and the
 * triggers refuse it) and reload its caches; nothing is corrupted, but nothing coordinates two writers either.
 */
export class SqliteEventStore implements EventStore {
  /** Signed checkpoints, kept in the same file. */
  readonly checkpoints: SqliteCheckpointStore;

  private readonly reader: SqliteEntryReader;
  private readonly tree = new MerkleTree();
  /** Committed commands by hash of (tenant, commandId); candidates are confirmed against their `commands` row. */
  private readonly commandIndex = new CommandIndex();
  /** Stored commands with a first position below this are in `commandIndex`. */
  private commandsIndexedTo = 0;
  private readonly heads: StreamHeadCache;
  private readonly subscriptions = new Set<EntrySubscription>();
  private readonly newId: () => string;
  private readonly maxBatch: number;
  private readonly insertEntry;
  private readonly insertCommand;
  private readonly beginStatement;
  private readonly commitStatement;
  private readonly rollbackStatement;

  /** Entries integrated so far: positions [0, committed) are durable and visible. */
  private committed = 0;
  private queue: QueuedAppend[] = [];
  private nextSeq = 0;
  private draining: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Set when the database no longer matches memory in a way a reload cannot repair; appends then refuse. */
  private failure: LedgerError | null = null;
  private batchIdle: Promise<void> = Promise.resolve();
  private settleBatch: () => void = () => undefined;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly signer: EntrySigner,
    options: SqliteEventStoreOptions,
  ) {
    this.newId = options.newId ?? uuidv7;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.heads = new StreamHeadCache(options.streamHeadCacheSize ?? DEFAULT_HEAD_CACHE_SIZE);
    this.reader = new SqliteEntryReader(db, () => this.committed);
    this.checkpoints = new SqliteCheckpointStore(db, () => this.batchIdle);
    this.insertEntry = db.prepare<[number, string, number, string, string, string, string, string, string, Buffer]>(
      `INSERT INTO entries (position, stream, revision, id, type, tenant, command_id, recorded_at, entry_json, leaf_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCommand = db.prepare<[number, number, string, string]>(
      'INSERT INTO commands (first_position, entry_count, tenant, command_id) VALUES (?, ?, ?, ?)',
    );
    this.beginStatement = db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = db.prepare('COMMIT');
    this.rollbackStatement = db.prepare('ROLLBACK');
    this.appendStoredLeaves();
    this.indexStoredCommands();
  }

  /** Opens (creating and migrating as needed) the store at `options.path`. */
  static async open(options: SqliteEventStoreOptions): Promise<SqliteEventStore> {
    if (typeof options?.path !== 'string' || options.path.length === 0) throw new TypeError('SqliteEventStore.open: path is required');
    if (typeof options.signer?.sign !== 'function' || typeof options.signer.currentKid !== 'function')
      throw new TypeError('SqliteEventStore.open: signer must implement EntrySigner');
    if (options.maxBatch !== undefined && (!Number.isSafeInteger(options.maxBatch) || options.maxBatch < 1))
      throw new TypeError('SqliteEventStore.open: maxBatch must be a positive integer');
    const inMemory = options.path === ':memory:';
    const path = inMemory ? options.path : resolvePath(options.path);
    if (!inMemory) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // SQLite gives the -wal and -shm files the database file's mode, so tenants' data stays owner-only.
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const db = new Database(path, { timeout: busyTimeoutMs });
    try {
      if (!inMemory) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal') throw new Error(`could not switch ${path} to WAL mode (got ${String(mode)})`);
      }
      // FULL: in WAL mode NORMAL may lose the last commits on power loss; an acknowledged append must survive.
      db.pragma('synchronous = FULL');
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      applyMigrations(db, loadMigrations(options.migrationsDir ?? findMigrationsDir()));
      return new SqliteEventStore(db, path, options.signer, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Opens a store file read-only, for offline readers (export, verify) — also while a writer has it open. */
  static openReadOnly(path: string): SqliteEventStoreReader {
    return SqliteEventStoreReader.open(path);
  }

  /** The live Merkle tree over every integrated entry (leaf index = position). Read it; never append to it. */
  merkleTree(): MerkleTree {
    return this.tree;
  }

  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closing) return Promise.reject(closedError());
    if (this.failure) return Promise.reject(this.failure);
    let prepared: PreparedAppend;
    try {
      prepared = prepareAppend(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ ...prepared, seq: this.nextSeq++, resolve, reject });
      this.drain();
    });
  }

  async readStream(stream: string, fromRevision = 0): Promise<IntegratedEntry[]> {
    this.assertOpen();
    return this.reader.readStream(stream, fromRevision);
  }

  /**
   * Beyond the port: up to `limit` integrated rows from `fromPosition` on, `[position, entry JSON]` as stored
   * (synchronous, unparsed, no leaf hash) — the lean path a projection rebuild and the live projections' start
   * fold from.
   */
  readEntryJson(fromPosition: number, limit: number): [number, string][] {
    return this.reader.readEntryJson(fromPosition, limit);
  }

  async readAll(fromPosition: number, limit: number, options: ReadAllOptions = {}): Promise<IntegratedEntry[]> {
    this.assertOpen();
    return this.reader.readAll(fromPosition, limit, options);
  }

  async findCommand(tenant: string, commandId: string): Promise<AppendResult | null> {
    this.assertOpen();
    return this.committedCommand(tenant, commandId);
  }

  /** The committed first append of (tenant, commandId), or null: index candidates, each confirmed by its row. */
  private committedCommand(tenant: string, commandId: string): AppendResult | null {
    const [hi, lo] = commandHash(tenant, commandId);
    for (const position of this.commandIndex.candidates(hi, lo)) {
      const found = this.reader.commandAt(position, tenant, commandId);
      if (found) return found;
    }
    return null;
  }

  /** Indexes the stored commands beyond those already indexed (at open, and after a reload). */
  private indexStoredCommands(): void {
    for (const [firstPosition, tenant, commandId] of this.reader.iterateCommands(this.commandsIndexedTo))
      this.indexCommand(tenant, commandId, firstPosition);
  }

  private indexCommand(tenant: string, commandId: string, firstPosition: number): void {
    const [hi, lo] = commandHash(tenant, commandId);
    this.commandIndex.add(hi, lo, firstPosition);
    this.commandsIndexedTo = firstPosition + 1;
  }

  async size(): Promise<number> {
    return this.committed;
  }

  subscribe(
    fromPosition: number,
    onEntry: (entry: IntegratedEntry) => void | Promise<void>,
    options: SqliteSubscribeOptions = {},
  ): Subscription {
    if (this.closing) throw closedError();
    assertPosition(fromPosition, 'fromPosition');
    if (typeof onEntry !== 'function') throw new TypeError('subscribe: onEntry must be a function');
    const onError =
      options.onError ??
      ((error: unknown, entry: IntegratedEntry) =>
        process.emitWarning(`event store subscription stopped at position ${entry.position}: ${messageOf(error)}`, {
          code: 'LEDGER_SUBSCRIPTION_STOPPED',
        }));
    // Registered before anything is read, so that every later commit is offered to it (see EntrySubscription).
    const subscription = new EntrySubscription(
      { committedSize: () => this.committed, readRange: (from, to) => this.reader.readRange(from, to) },
      fromPosition,
      onEntry,
      onError,
      (finished) => this.subscriptions.delete(finished),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Stops accepting appends, commits everything already queued, stops the subscriptions, closes the file. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.draining) await this.draining;
      await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
      this.db.close();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (!this.db.open) throw closedError();
  }

  // ---- group commit -------------------------------------------------------------------------------------------

  private drain(): void {
    if (this.draining) return;
    this.draining = (async () => {
      try {
        while (this.queue.length > 0) {
          // One turn of the event loop lets concurrent callers join the batch.
          await yieldToEventLoop();
          await this.runBatch(this.takeBatch());
        }
      } finally {
        this.draining = null;
      }
    })();
  }

  private takeBatch(): QueuedAppend[] {
    let count = 0;
    let entries = 0;
    while (count < this.queue.length) {
      const size = this.queue[count]!.events.length;
      if (count > 0 && entries + size > this.maxBatch) break;
      entries += size;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async runBatch(batch: QueuedAppend[]): Promise<void> {
    if (this.failure) {
      for (const append of batch) append.reject(this.failure);
      return;
    }
    const plan = this.plan(batch);
    if (plan.appends.length === 0) return;
    this.batchIdle = new Promise((resolve) => (this.settleBatch = resolve));
    try {
      const write: BatchWrite = { nextPosition: this.committed, written: [], entries: [], leafHashes: [], broken: false };
      try {
        this.beginStatement.run();
      } catch (error) {
        write.broken = true;
        write.storageError = error;
      }
      if (!write.broken) await Promise.all(plan.chains.map((chain) => this.signChain(chain, write)));
      const signingFailed = plan.appends.some((planned) => planned.signingError !== undefined);
      if (!write.broken) {
        try {
          this.commitStatement.run();
        } catch (error) {
          write.storageError = error;
        }
      }
      if (write.storageError !== undefined || signingFailed) this.rollbackIfOpen();

      if (write.storageError !== undefined) this.failBatch(plan, write.storageError);
      else if (signingFailed) this.retryAfterSigningFailure(plan);
      else this.integrate(write);
    } catch (error) {
      // Nothing above should throw; if it does, no caller may be left waiting.
      this.rollbackIfOpen();
      this.failBatch(plan, error);
    } finally {
      this.settleBatch();
    }
  }

  /** Idempotency and expected-revision checks, revisions and ids; rejects or resolves what fails or is a duplicate. */
  private plan(batch: QueuedAppend[]): BatchPlan {
    const appends: PlannedAppend[] = [];
    const chains = new Map<string, StreamChain>();
    const byCommand = new Map<string, PlannedAppend>();
    for (const append of batch) {
      try {
        const commandKey = `${append.meta.tenant}\u0000${append.meta.commandId}`;
        const original = byCommand.get(commandKey);
        if (original) {
          original.duplicates.push(append);
          continue;
        }
        const stored = this.committedCommand(append.meta.tenant, append.meta.commandId);
        if (stored) {
          append.resolve(stored);
          continue;
        }
        const chain = chains.get(append.stream);
        const head = chain ? { revision: chain.revision, leafHash: null } : this.streamHead(append.stream);
        if (!holds(append.expectedRevision, head.revision)) {
          append.reject(revisionConflict(append.stream, append.expectedRevision, head));
          continue;
        }
        const entries = append.events.map(
          (event, index): PlannedEntry => ({ revision: head.revision + 1 + index, id: this.entryId(), event }),
        );
        const planned: PlannedAppend = { append, entries, duplicates: [] };
        const last = entries[entries.length - 1]!.revision;
        if (chain) {
          chain.appends.push(planned);
          chain.revision = last;
        } else {
          chains.set(append.stream, { stream: append.stream, prev: head.leafHash, revision: last, appends: [planned] });
        }
        byCommand.set(commandKey, planned);
        appends.push(planned);
      } catch (error) {
        append.reject(error);
      }
    }
    return { appends, chains: [...chains.values()] };
  }

  private streamHead(stream: string): StreamHead {
    let head = this.heads.get(stream);
    if (head === undefined) {
      head = this.reader.streamHead(stream);
      this.heads.set(stream, head);
    }
    return head;
  }

  private entryId(): string {
    const id = this.newId();
    if (!isWellFormedName(id)) throw new LedgerError('LEDGER.INVALID_ID', 'internal', 'the id generator returned an unusable id');
    return id;
  }

  /**
   * Signs a stream's entries in order (each `prev` is the previous leaf hash) and writes each request into the
   * open transaction as soon as its last entry is signed. A request whose signature fails stops its chain:
   * later requests of the stream were planned on top of it.
   */
  private async signChain(chain: StreamChain, write: BatchWrite): Promise<void> {
    let prev = chain.prev;
    for (const planned of chain.appends) {
      const { append } = planned;
      try {
        for (const entry of planned.entries) {
          const kid = this.signer.currentKid();
          if (!isWellFormedName(kid)) throw new Error('the signer named no usable key id');
          const unsigned: UnsignedEntry = {
            stream: chain.stream,
            revision: entry.revision,
            id: entry.id,
            type: entry.event.type,
            schema: entry.event.schema,
            data: entry.event.data,
            meta: append.meta,
            prev,
            kid,
          };
          const { sig } = await this.signer.sign(unsigned, composeUnsignedEntryJson(unsigned, entry.event.dataJson, append.metaJson));
          // The composed bytes below are exact only for an ASCII compact JWS (see signed-entry-json.ts).
          if (typeof sig !== 'string' || !COMPACT_JWS.test(sig)) throw new Error('the signer returned no compact JWS');
          const signed: SignedEntry = Object.freeze({ ...unsigned, sig });
          entry.entry = signed;
          entry.json = composeSignedEntryJson(signed, entry.event.dataJson, append.metaJson);
          entry.leafHash = leafHash(entry.json);
          entry.leafHashHex = entry.leafHash.toString('hex');
          prev = entry.leafHashHex;
        }
      } catch (error) {
        planned.signingError = signingFailure(error);
        write.broken = true;
        return;
      }
      this.write(planned, write);
    }
  }

  private write(planned: PlannedAppend, write: BatchWrite): void {
    if (write.broken) return;
    const { append, entries } = planned;
    const { tenant, commandId, recordedAt } = append.meta;
    try {
      const firstPosition = write.nextPosition;
      for (const entry of entries) {
        const position = write.nextPosition++;
        const { revision, id, event } = entry;
        const hash = entry.leafHash!;
        this.insertEntry.run(position, append.stream, revision, id, event.type, tenant, commandId, recordedAt, entry.json!, hash);
        entry.integrated = Object.freeze({ position, entry: entry.entry!, leafHash: entry.leafHashHex! });
        write.entries.push(entry.integrated);
        write.leafHashes.push(hash);
      }
      this.insertCommand.run(firstPosition, entries.length, tenant, commandId);
      write.written.push(planned);
    } catch (error) {
      write.broken = true;
      write.storageError = error;
    }
  }

  /** After COMMIT: the Merkle tree, the caches, the callers, then the subscribers. */
  private integrate(write: BatchWrite): void {
    for (const hash of write.leafHashes) this.tree.append(hash);
    this.committed = write.nextPosition;
    for (const planned of write.written) {
      const entries = planned.entries.map((entry) => entry.integrated!);
      const last = entries[entries.length - 1]!;
      this.heads.set(planned.append.stream, { revision: last.entry.revision, leafHash: last.leafHash });
      this.indexCommand(planned.append.meta.tenant, planned.append.meta.commandId, entries[0]!.position);
      const result: AppendResult = { stream: planned.append.stream, entries, revision: last.entry.revision, duplicate: false };
      planned.append.resolve(result);
      for (const duplicate of planned.duplicates) duplicate.resolve({ ...result, entries: [...entries], duplicate: true });
    }
    for (const subscription of this.subscriptions) subscription.offer(write.entries);
  }

  /** A signature failed: that request fails alone; the rest of the batch is planned again from committed state. */
  private retryAfterSigningFailure(plan: BatchPlan): void {
    const retry: QueuedAppend[] = [];
    for (const planned of plan.appends) {
      if (planned.signingError !== undefined) planned.append.reject(planned.signingError);
      else retry.push(planned.append);
      // Duplicates are planned again: if their original failed, they are no longer duplicates.
      retry.push(...planned.duplicates);
    }
    retry.sort((a, b) => a.seq - b.seq);
    this.queue.unshift(...retry);
  }

  /** The transaction failed: every request of the batch fails, and memory is reloaded from what is stored. */
  private failBatch(plan: BatchPlan, error: unknown): void {
    const failure = storageFailure(error);
    for (const planned of plan.appends) {
      planned.append.reject(failure);
      for (const duplicate of planned.duplicates) duplicate.reject(failure);
    }
    this.reloadFromDatabase();
  }

  private rollbackIfOpen(): void {
    if (!this.db.inTransaction) return;
    try {
      this.rollbackStatement.run();
    } catch {
      // SQLite rolls back by itself after some errors; nothing else to undo then.
    }
  }

  /** Drops the stream-head cache and catches the Merkle tree up with the file (another writer may have appended). */
  private reloadFromDatabase(): void {
    this.heads.clear();
    try {
      this.appendStoredLeaves();
      this.indexStoredCommands();
      for (const subscription of this.subscriptions) subscription.signal();
    } catch (error) {
      this.failure = isLedgerError(error) ? error : storageFailure(error);
    }
  }

  /** Appends the stored leaf hashes beyond the tree to it, checking that positions are gapless. */
  private appendStoredLeaves(): void {
    const stored = this.reader.storedSize();
    if (stored < this.tree.size)
      throw new LedgerError('LEDGER.STORE_CORRUPT', 'internal', `the file holds ${stored} entries, ${this.tree.size} were integrated`);
    for (;;) {
      const from = this.tree.size;
      const chunk = this.reader.leafHashChunk(from, LEAF_HASH_CHUNK);
      if (chunk.count === 0) break;
      // Positions are unique (the primary key): the chunk is gapless when it spans exactly `count` positions
      // from `from`, and whole when every hash has 32 bytes. Otherwise the rows say what is wrong, one by one.
      const whole = chunk.first === from && chunk.last === from + chunk.count - 1 && chunk.hashes?.length === chunk.count * 32;
      if (whole) this.tree.appendMany(chunk.hashes!);
      else this.appendLeafRows(from, chunk.count);
    }
    this.committed = this.tree.size;
  }

  /** The leaves at positions from `from` on, `count` rows, one by one: names the first missing position. */
  private appendLeafRows(from: number, count: number): void {
    let rows = 0;
    for (const [position, hash] of this.reader.iterateLeafHashes(from)) {
      if (rows++ === count) break;
      if (position !== this.tree.size)
        throw new LedgerError('LEDGER.STORE_CORRUPT', 'internal', `entry position ${this.tree.size} is missing`, {
          position: this.tree.size,
        });
      this.tree.append(hash);
    }
  }
}
