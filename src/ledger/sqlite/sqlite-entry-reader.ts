import type BetterSqlite3 from 'better-sqlite3';
import { LedgerError } from '../../common/ledger-error.js';
import type { IntegratedEntry, SignedEntry } from '../entry.js';
import type { AppendResult, ReadAllOptions } from '../event-store.port.js';

/** One stored entry as the verifier wants it: the exact signed bytes and the stored leaf hash, unparsed. */
export interface EntryJsonRow {
  position: number;
  /** RFC 8785 bytes of the signed entry, exactly as stored. */
  entryJson: string;
  /** The stored leaf hash (32 bytes); a verifier recomputes it from `entryJson` and compares. */
  leafHash: Buffer;
}

/** The last entry of a stream: revision -1 and leafHash null when the stream does not exist. */
export interface StreamHead {
  revision: number;
  leafHash: string | null;
}

export const NO_STREAM_HEAD: StreamHead = Object.freeze({ revision: -1, leafHash: null });

type EntryRow = [position: number, entryJson: string, leafHash: Buffer];

export function toIntegratedEntry(row: EntryRow): IntegratedEntry {
  return { position: row[0], entry: JSON.parse(row[1]) as SignedEntry, leafHash: row[2].toString('hex') };
}

function distinctStrings(values: readonly string[], name: string): string[] {
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string'))
    throw new LedgerError('LEDGER.INVALID_ARGUMENT', 'bad_request', `${name} must be an array of strings`);
  return [...new Set(values)];
}

export function assertPosition(value: unknown, name: string): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw new LedgerError('LEDGER.INVALID_ARGUMENT', 'bad_request', `${name} must be a non-negative integer`, { [name]: value });
}

/**
 * The reads shared by the writer and the read-only reader, synchronous (better-sqlite3).
 *
 * `committedBound()` is the number of integrated entries the caller may see: the writer keeps a batch
 * transaction open while signatures are still arriving, and its own connection would otherwise see those
 * uncommitted rows. The read-only reader passes no bound (its connection only ever sees committed data).
 */
export class SqliteEntryReader {
  private readonly readAllStatement;
  private readonly readTenantStatement;
  private readonly readStreamStatement;
  private readonly readRangeStatement;
  private readonly readTypesStatement;
  private readonly readJsonStatement;
  private readonly readTenantTypesStatement;
  private readonly commandStatement;
  private readonly commandAtStatement;
  private readonly commandsFromStatement;
  private readonly streamHeadStatement;
  private readonly sizeStatement;
  private readonly entryJsonStatement;
  private readonly leafHashStatement;
  private readonly leafHashChunkStatement;

  constructor(
    db: BetterSqlite3.Database,
    private readonly committedBound: () => number = () => Number.MAX_SAFE_INTEGER,
  ) {
    const columns = 'position, entry_json, leaf_hash';
    this.readAllStatement = db
      .prepare<[number, number, number], EntryRow>(
        `SELECT ${columns} FROM entries WHERE position >= ? AND position < ? ORDER BY position LIMIT ?`,
      )
      .raw();
    this.readTenantStatement = db
      .prepare<[string, number, number, number], EntryRow>(
        `SELECT ${columns} FROM entries WHERE tenant = ? AND position >= ? AND position < ? ORDER BY position LIMIT ?`,
      )
      .raw();
    this.readJsonStatement = db
      .prepare<[number, number, number], [number, string]>(
        'SELECT position, entry_json FROM entries WHERE position >= ? AND position < ? ORDER BY position LIMIT ?',
      )
      .raw();
    // `types` as a JSON array (one statement for any number of types); no index on type: scanned in SQLite.
    this.readTypesStatement = db
      .prepare<[number, number, string, number], EntryRow>(
        `SELECT ${columns} FROM entries WHERE position >= ? AND position < ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?`,
      )
      .raw();
    this.readTenantTypesStatement = db
      .prepare<[string, number, number, string, number], EntryRow>(
        `SELECT ${columns} FROM entries WHERE tenant = ? AND position >= ? AND position < ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?`,
      )
      .raw();
    this.readStreamStatement = db
      .prepare<[string, number, number], EntryRow>(
        `SELECT ${columns} FROM entries WHERE stream = ? AND revision >= ? AND position < ? ORDER BY revision`,
      )
      .raw();
    this.readRangeStatement = db
      .prepare<[number, number], EntryRow>(`SELECT ${columns} FROM entries WHERE position >= ? AND position < ? ORDER BY position`)
      .raw();
    // `commands` has no index on (tenant, command_id) (see migrations/001): the writing store looks commands up
    // through its in-memory CommandIndex and `commandAt`; read-only readers scan the narrow table.
    this.commandStatement = db
      .prepare<[string, string, number], [number, number]>(
        'SELECT first_position, entry_count FROM commands WHERE tenant = ? AND command_id = ? AND first_position < ? LIMIT 1',
      )
      .raw();
    this.commandAtStatement = db
      .prepare<[number, number], [number, string, string]>(
        'SELECT entry_count, tenant, command_id FROM commands WHERE first_position = ? AND first_position < ?',
      )
      .raw();
    this.commandsFromStatement = db
      .prepare<[number], [number, string, string]>(
        'SELECT first_position, tenant, command_id FROM commands WHERE first_position >= ? ORDER BY first_position',
      )
      .raw();
    this.streamHeadStatement = db
      .prepare<[string], [number, Buffer]>('SELECT revision, leaf_hash FROM entries WHERE stream = ? ORDER BY revision DESC LIMIT 1')
      .raw();
    this.sizeStatement = db.prepare<[], number | null>('SELECT max(position) + 1 FROM entries').pluck();
    this.entryJsonStatement = db.prepare<[number], EntryRow>(`SELECT ${columns} FROM entries WHERE position >= ? ORDER BY position`).raw();
    this.leafHashStatement = db
      .prepare<[number], [number, Buffer]>('SELECT position, leaf_hash FROM entries WHERE position >= ? ORDER BY position')
      .raw();
    // One row per chunk, built inside SQLite: no row object, no Buffer per leaf.
    this.leafHashChunkStatement = db
      .prepare<[number, number], [number, number | null, number | null, Buffer | null]>(
        `SELECT count(*), min(position), max(position), unhex(group_concat(hex(leaf_hash), '' ORDER BY position))
           FROM (SELECT position, leaf_hash FROM entries WHERE position >= ? ORDER BY position LIMIT ?)`,
      )
      .raw();
  }

  readAll(fromPosition: number, limit: number, options: ReadAllOptions = {}): IntegratedEntry[] {
    assertPosition(fromPosition, 'fromPosition');
    assertPosition(limit, 'limit');
    const tenants = options.tenants === undefined ? undefined : distinctStrings(options.tenants, 'tenants');
    const types = options.types === undefined ? undefined : distinctStrings(options.types, 'types');
    if (limit === 0 || tenants?.length === 0 || types?.length === 0) return [];
    const bound = this.committedBound();
    if (tenants === undefined) {
      if (types === undefined) return this.readAllStatement.all(fromPosition, bound, limit).map(toIntegratedEntry);
      // Filtered inside SQLite: only the wanted rows cross into JavaScript and get parsed.
      return this.readTypesStatement.all(fromPosition, bound, JSON.stringify(types), limit).map(toIntegratedEntry);
    }
    // One ordered index walk per tenant, then a merge: O(tenants × limit), never a scan of other tenants' rows.
    const typeList = types === undefined ? null : JSON.stringify(types);
    const rows = tenants.flatMap((tenant) =>
      typeList === null
        ? this.readTenantStatement.all(tenant, fromPosition, bound, limit)
        : this.readTenantTypesStatement.all(tenant, fromPosition, bound, typeList, limit),
    );
    if (tenants.length > 1) rows.sort((a, b) => a[0] - b[0]);
    return rows.slice(0, limit).map(toIntegratedEntry);
  }

  readStream(stream: string, fromRevision = 0): IntegratedEntry[] {
    if (typeof stream !== 'string') throw new LedgerError('LEDGER.INVALID_ARGUMENT', 'bad_request', 'stream must be a string');
    assertPosition(fromRevision, 'fromRevision');
    return this.readStreamStatement.all(stream, fromRevision, this.committedBound()).map(toIntegratedEntry);
  }

  /**
   * Up to `limit` committed rows from `fromPosition` on as stored, `[position, entry JSON]`, unparsed and without
   * their leaf hashes: what a projection rebuild folds (it parses each row right before applying it).
   */
  readEntryJson(fromPosition: number, limit: number): [number, string][] {
    assertPosition(fromPosition, 'fromPosition');
    assertPosition(limit, 'limit');
    return this.readJsonStatement.all(fromPosition, this.committedBound(), limit);
  }

  /** Entries at positions [from, to), both already known to be committed. */
  readRange(from: number, to: number): IntegratedEntry[] {
    return this.readRangeStatement.all(from, Math.min(to, this.committedBound())).map(toIntegratedEntry);
  }

  /** Scans the `commands` table (read-only readers; the writing store uses `commandAt` with its index). */
  findCommand(tenant: string, commandId: string): AppendResult | null {
    const command = this.commandStatement.get(tenant, commandId, this.committedBound());
    if (!command) return null;
    return this.commandResult(tenant, commandId, command[0], command[1]);
  }

  /** The command whose first entry is at `firstPosition`, if it is (tenant, commandId); null otherwise. */
  commandAt(firstPosition: number, tenant: string, commandId: string): AppendResult | null {
    const row = this.commandAtStatement.get(firstPosition, this.committedBound());
    if (!row || row[1] !== tenant || row[2] !== commandId) return null;
    return this.commandResult(tenant, commandId, firstPosition, row[0]);
  }

  /** [first position, tenant, command id] of every stored command from `fromPosition` on (to build the index). */
  iterateCommands(fromPosition = 0): IterableIterator<[number, string, string]> {
    return this.commandsFromStatement.iterate(fromPosition);
  }

  private commandResult(tenant: string, commandId: string, firstPosition: number, entryCount: number): AppendResult {
    const entries = this.readRangeStatement.all(firstPosition, firstPosition + entryCount).map(toIntegratedEntry);
    if (entries.length !== entryCount)
      throw new LedgerError('LEDGER.STORE_CORRUPT', 'internal', `command ${commandId} of tenant ${tenant} lost entries`, {
        tenant,
        commandId,
      });
    return { stream: entries[0]!.entry.stream, entries, revision: entries[entries.length - 1]!.entry.revision, duplicate: true };
  }

  /** The stored head of a stream (ignores the committed bound: only called while no batch is open). */
  streamHead(stream: string): StreamHead {
    const row = this.streamHeadStatement.get(stream);
    return row ? { revision: row[0], leafHash: row[1].toString('hex') } : NO_STREAM_HEAD;
  }

  /** Number of stored entries (max position + 1: positions are gapless, so this is also the row count). */
  storedSize(): number {
    return this.sizeStatement.get() ?? 0;
  }

  /**
   * Every stored entry from `fromPosition` on, unparsed, in position order. Synchronous and lazy: it holds
   * the connection until done (or until the loop breaks), so a reader's other calls must wait for it.
   */
  *iterateEntryJson(fromPosition = 0): Generator<EntryJsonRow, void, undefined> {
    assertPosition(fromPosition, 'fromPosition');
    for (const row of this.entryJsonStatement.iterate(fromPosition)) {
      yield { position: row[0], entryJson: row[1], leafHash: row[2] };
    }
  }

  /** [position, leaf hash] rows from `fromPosition` on (rebuilding the Merkle tree at open). */
  iterateLeafHashes(fromPosition = 0): IterableIterator<[number, Buffer]> {
    return this.leafHashStatement.iterate(fromPosition);
  }

  /**
   * Up to `limit` stored leaf hashes from `fromPosition` on, in position order, as one buffer (`hashes`: the
   * hashes one after the other; null when there are none): what the tree is rebuilt from at open, a million rows
   * at a time without a JavaScript value per row. `first`/`last`: their positions; `count`: how many rows.
   */
  leafHashChunk(fromPosition: number, limit: number): { count: number; first: number | null; last: number | null; hashes: Buffer | null } {
    const [count, first, last, hashes] = this.leafHashChunkStatement.get(fromPosition, limit)!;
    return { count, first, last, hashes };
  }
}
