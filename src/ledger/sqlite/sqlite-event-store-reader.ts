import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../common/ledger-error.js';
import type { IntegratedEntry } from '../entry.js';
import type { AppendResult, ReadAllOptions } from '../event-store.port.js';
import type { CheckpointStore } from '../checkpoint-store.port.js';
import { appliedMigrationVersions } from './migrations.js';
import { SqliteCheckpointStore } from './sqlite-checkpoint-store.js';
import { SqliteEntryReader, type EntryJsonRow } from './sqlite-entry-reader.js';

/**
 * A read-only view of a store file for offline readers (CLI export, verify and rebuild). It never writes — not even
 * migrations — so it can read a file a running service holds open (WAL lets readers and the writer proceed
 * together), and every read sees only committed entries.
 */
export class SqliteEventStoreReader {
  /** The checkpoints kept in the file; `save` always rejects (`LEDGER.READ_ONLY`). */
  readonly checkpoints: CheckpointStore;
  private readonly reader: SqliteEntryReader;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.reader = new SqliteEntryReader(db);
    const kept = new SqliteCheckpointStore(db);
    // Refused here rather than left to SQLite: an offline reader must never look as if it could write.
    this.checkpoints = {
      save: async () => {
        throw new LedgerError('LEDGER.READ_ONLY', 'internal', 'the offline reader cannot save checkpoints');
      },
      latest: () => kept.latest(),
      list: () => kept.list(),
    };
  }

  static open(path: string): SqliteEventStoreReader {
    const absolute = resolvePath(path);
    if (!existsSync(absolute))
      throw new LedgerError('LEDGER.STORE_NOT_FOUND', 'not_found', `no event store file at ${absolute}`, { path: absolute });
    const db = new Database(absolute, { readonly: true, fileMustExist: true });
    try {
      if (!appliedMigrationVersions(db).includes(1))
        throw new LedgerError('LEDGER.NOT_AN_EVENT_STORE', 'bad_request', `${absolute} is not an ida-ledger event store`, {
          path: absolute,
        });
      return new SqliteEventStoreReader(db, absolute);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async readAll(fromPosition: number, limit: number, options: ReadAllOptions = {}): Promise<IntegratedEntry[]> {
    return this.reader.readAll(fromPosition, limit, options);
  }

  /** Up to `limit` rows from `fromPosition` on, `[position, entry JSON]` as stored (a projection rebuild's read). */
  readEntryJson(fromPosition: number, limit: number): [number, string][] {
    return this.reader.readEntryJson(fromPosition, limit);
  }

  async readStream(stream: string, fromRevision = 0): Promise<IntegratedEntry[]> {
    return this.reader.readStream(stream, fromRevision);
  }

  async findCommand(tenant: string, commandId: string): Promise<AppendResult | null> {
    return this.reader.findCommand(tenant, commandId);
  }

  async size(): Promise<number> {
    return this.reader.storedSize();
  }

  /**
   * Every entry from `fromPosition` on as stored — exact signed bytes and stored leaf hash, unparsed — in
   * position order. Synchronous and lazy (a 1M-entry verify streams it); the connection is busy until the loop
   * ends or breaks.
   */
  iterateEntryJson(fromPosition = 0): IterableIterator<EntryJsonRow> {
    return this.reader.iterateEntryJson(fromPosition);
  }

  close(): void {
    this.db.close();
  }
}
