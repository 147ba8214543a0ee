import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';
import { LedgerError } from '../../common/ledger-error.js';

/**
 * Numbered SQL migrations (`migrations/NNN_name.sql` at the package root), applied in order when a store
 * opens, each in its own transaction, and recorded in `schema_migrations` with a checksum so that an edited,
 * already-applied migration is refused instead of silently diverging between databases.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 hex of the file with line endings normalised (a CRLF checkout must not look edited). */
  checksum: string;
}

const MIGRATION_FILE = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/u;

/**
 * The `migrations/` folder of this package: the first ancestor of this module that holds both `package.json`
 * and `migrations/`. Walking up works from `src/ledger/sqlite` (Jest, tsx) and from `dist/src/ledger/sqlite`
 * (after `tsc`) alike.
 */
export function findMigrationsDir(from: string | URL = import.meta.url): string {
  const start = from instanceof URL || from.startsWith('file:') ? dirname(fileURLToPath(from)) : from;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new LedgerError('LEDGER.MIGRATIONS_NOT_FOUND', 'internal', `no migrations/ folder next to a package.json above ${start}`);
}

export function loadMigrations(dir: string = findMigrationsDir()): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) continue;
    const sql = readFileSync(join(dir, file), 'utf8').replace(/\r\n/gu, '\n');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version)
      throw new LedgerError('LEDGER.MIGRATIONS_INVALID', 'internal', `two migrations have version ${migrations[i]!.version}`);
  }
  return migrations;
}

interface AppliedRow {
  version: number;
  checksum: string;
}

function hasMigrationTable(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
}

/** Versions recorded in `schema_migrations` (empty for a database this code never opened). */
export function appliedMigrationVersions(db: Database): number[] {
  if (!hasMigrationTable(db)) return [];
  return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[]).map(Number);
}

/**
 * Applies every migration not yet recorded, in version order, each in an IMMEDIATE transaction (so two
 * processes opening the same new file cannot both apply one). Returns the versions applied now.
 */
export function applyMigrations(db: Database, migrations: Migration[] = loadMigrations()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const selectApplied = db.prepare('SELECT version, checksum FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
  const known = new Set(migrations.map((m) => m.version));
  const newest = (db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null) ?? 0;
  if (newest > 0 && !known.has(newest))
    throw new LedgerError('LEDGER.SCHEMA_TOO_NEW', 'internal', `database schema version ${newest} is newer than this code knows`);

  const appliedNow: number[] = [];
  for (const migration of migrations) {
    const apply = db.transaction(() => {
      const applied = selectApplied.get(migration.version) as AppliedRow | undefined;
      if (applied) {
        if (applied.checksum !== migration.checksum)
          throw new LedgerError(
            'LEDGER.MIGRATION_CHANGED',
            'internal',
            `migration ${migration.version}_${migration.name} was edited after it was applied`,
          );
        return;
      }
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migration.checksum, new Date().toISOString());
      appliedNow.push(migration.version);
    });
    apply.immediate();
  }
  return appliedNow;
}
