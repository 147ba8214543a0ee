import type BetterSqlite3 from 'better-sqlite3';
import { LedgerError } from '../../common/ledger-error.js';
import type { CheckpointStore, StoredCheckpoint } from '../checkpoint-store.port.js';

type CheckpointRow = [size: number, rootHash: string, note: string, issuedAt: string, kid: string];

function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return { size: row[0], rootHash: row[1], note: row[2], issuedAt: row[3], kid: row[4] };
}

function invalid(message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError('LEDGER.INVALID_CHECKPOINT', 'bad_request', message, details);
}

function validateCheckpoint(checkpoint: StoredCheckpoint): void {
  if (typeof checkpoint !== 'object' || checkpoint === null) throw invalid('checkpoint must be an object');
  const { size, rootHash, note, issuedAt, kid } = checkpoint;
  if (!Number.isSafeInteger(size) || size < 0) throw invalid('checkpoint size must be a non-negative integer', { size });
  const rootBytes = typeof rootHash === 'string' ? Buffer.from(rootHash, 'base64') : Buffer.alloc(0);
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== rootHash)
    throw invalid('checkpoint rootHash must be the canonical base64 of 32 bytes', { size });
  for (const [name, value] of Object.entries({ note, issuedAt, kid }))
    if (typeof value !== 'string' || value.length === 0) throw invalid(`checkpoint ${name} must be a non-empty string`, { size });
}

/**
 * Checkpoints in the store's own SQLite file: a checkpoint and the entries it commits to are backed up,
 * copied and verified together. Durable on resolve (the connection runs with synchronous=FULL).
 */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly insertStatement;
  private readonly bySizeStatement;
  private readonly latestStatement;
  private readonly listStatement;

  /**
   * @param whenWritable resolves when the connection has no batch transaction open, so that a saved checkpoint
   *   is never part of (and rolled back with) an append batch. The read-only reader passes none.
   */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly whenWritable: () => Promise<void> = async () => undefined,
  ) {
    const columns = 'size, root_hash, note, issued_at, kid';
    this.insertStatement = db.prepare<[number, string, string, string, string]>(
      `INSERT INTO checkpoints (${columns}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (size) DO NOTHING`,
    );
    this.bySizeStatement = db.prepare<[number], CheckpointRow>(`SELECT ${columns} FROM checkpoints WHERE size = ?`).raw();
    this.latestStatement = db.prepare<[], CheckpointRow>(`SELECT ${columns} FROM checkpoints ORDER BY size DESC LIMIT 1`).raw();
    this.listStatement = db.prepare<[], CheckpointRow>(`SELECT ${columns} FROM checkpoints ORDER BY size`).raw();
  }

  /**
   * Keeps the first checkpoint of each size: saving the same root again is a no-op (a retried save), a different
   * root for a size already kept is refused — two roots for one size would mean the log forked.
   */
  async save(checkpoint: StoredCheckpoint): Promise<void> {
    validateCheckpoint(checkpoint);
    while (this.db.inTransaction) await this.whenWritable();
    const { size, rootHash, note, issuedAt, kid } = checkpoint;
    if (this.insertStatement.run(size, rootHash, note, issuedAt, kid).changes === 1) return;
    const kept = this.bySizeStatement.get(size);
    if (kept && kept[1] !== rootHash)
      throw new LedgerError('LEDGER.CHECKPOINT_CONFLICT', 'conflict', `a checkpoint of size ${size} with another root is already kept`, {
        size,
        keptRootHash: kept[1],
        rootHash,
      });
  }

  async latest(): Promise<StoredCheckpoint | null> {
    const row = this.latestStatement.get();
    return row ? toCheckpoint(row) : null;
  }

  async list(): Promise<StoredCheckpoint[]> {
    return this.listStatement.all().map(toCheckpoint);
  }
}
