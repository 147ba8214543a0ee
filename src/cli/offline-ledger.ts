import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataPaths } from '../ledger/embedded-ledger.js';
import type { SignedEntry } from '../ledger/entry.js';
import { applyKeyEntry, isKeyEntryType, jwksOf, SYSTEM_TENANT, type KeyRecord } from '../ledger/key-lifecycle.js';
import type { Jwks, JwksKey } from '../ledger/key-ring.js';
import { readExportCheckpoints, readExportRecords, readJwksFile, exportPaths, writeExport } from '../ledger/ledger-export.js';
import { MerkleTree } from '../ledger/merkle.js';
import { readPrivateKeyFile } from '../ledger/signing-key.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { verifyLedger, type RawRecord, type VerifyReport } from '../ledger/verifier.js';
import { progressBar } from './progress.js';

/** What `export` and `verify` do, without the argument parsing (tests call these directly). */

const isSystemEntry = (entryJson: string) => entryJson.includes(`"tenant":"${SYSTEM_TENANT}"`);

/** Writes `entries.ndjson`, `checkpoints.json`, `jwks.json` and `manifest.json` of a data folder into `outDir`. */
export async function exportLedger(dataDir: string, outDir: string): Promise<{ entries: number; checkpoints: number }> {
  if (!existsSync(dataPaths(dataDir).database)) throw new UsageError(`${dataDir} holds no ledger.sqlite`);
  const reader = SqliteEventStore.openReadOnly(dataPaths(dataDir).database);
  try {
    const checkpoints = await reader.checkpoints.list();
    const bar = progressBar('export', await reader.size());
    const keyRecords = new Map<string, KeyRecord>();
    const tree = new MerkleTree();
    const rows = (function* () {
      for (const row of reader.iterateEntryJson(0)) {
        // Key entries are few: a substring test spares parsing every other entry.
        if (isSystemEntry(row.entryJson)) {
          const entry = JSON.parse(row.entryJson) as SignedEntry;
          if (isKeyEntryType(entry.type)) applyKeyEntry(keyRecords, { position: row.position, entry, leafHash: '' });
        }
        tree.append(row.leafHash);
        yield row;
      }
    })();
    const entries = await writeExport(
      outDir,
      rows,
      checkpoints,
      () => jwksOf(keyRecords.values()),
      () => ({
        origin: checkpoints[0]?.note.split('\n', 1)[0] ?? null,
        rootHash: tree.root().toString('base64'),
        exportedAt: new Date().toISOString(),
      }),
      (written) => bar.update(written),
    );
    bar.stop();
    return { entries, checkpoints: checkpoints.length };
  } finally {
    reader.close();
  }
}

export interface VerifySource {
  exportDir?: string;
  dataDir?: string;
  /** The auditor's own JWKS; default: the export's `jwks.json`, or the data folder's public keys. */
  jwksFile?: string;
  /** Checkpoint notes the auditor holds (files). */
  checkpointFiles?: string[];
}

/** The public keys of the data folder's key files: what an operator trusts when verifying in place. */
function dataDirJwks(dataDir: string): Jwks {
  const dir = dataPaths(dataDir).logKeys;
  const keys: JwksKey[] = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.jwk'))
        .map((name) => {
          const key = readPrivateKeyFile(join(dir, name));
          return { ...key.publicJwk, kid: key.kid, alg: 'EdDSA', use: 'sig' };
        })
    : [];
  return { keys };
}

/** A file named on the command line must exist: a missing one is bad usage (exit 2), not a failed verification. */
function givenFile(path: string, what: string): string {
  if (!existsSync(path)) throw new UsageError(`${what} ${path} does not exist`);
  return path;
}

export async function verifyOffline(source: VerifySource): Promise<VerifyReport> {
  for (const file of source.checkpointFiles ?? []) givenFile(file, '--checkpoint');
  if (source.jwksFile !== undefined) givenFile(source.jwksFile, '--jwks');
  const heldCheckpoints = (source.checkpointFiles ?? []).map((file) => readFileSync(file, 'utf8'));
  if (source.exportDir) {
    const dir = source.exportDir;
    if (!existsSync(exportPaths(dir).entries)) throw new UsageError(`${dir} holds no entries.ndjson`);
    const jwks = readJwksFile(source.jwksFile ?? exportPaths(dir).jwks);
    const manifestPath = exportPaths(dir).manifest;
    const total = existsSync(manifestPath) ? Number((JSON.parse(readFileSync(manifestPath, 'utf8')) as { size?: number }).size ?? 0) : 0;
    const bar = progressBar('verify', total);
    try {
      return await verifyLedger({
        records: readExportRecords(dir),
        jwks,
        checkpoints: readExportCheckpoints(dir).map((checkpoint) => checkpoint.note),
        heldCheckpoints,
        onProgress: (n) => bar.update(n),
      });
    } finally {
      bar.stop();
    }
  }
  if (source.dataDir) {
    const path = dataPaths(source.dataDir).database;
    if (!existsSync(path)) throw new UsageError(`${source.dataDir} holds no ledger.sqlite`);
    const reader = SqliteEventStore.openReadOnly(path);
    const bar = progressBar('verify', await reader.size());
    try {
      const jwks = source.jwksFile ? readJwksFile(source.jwksFile) : dataDirJwks(source.dataDir);
      const records = (function* (): Generator<RawRecord> {
        for (const row of reader.iterateEntryJson(0)) {
          let entry: unknown;
          try {
            entry = JSON.parse(row.entryJson);
          } catch {
            entry = null;
          }
          yield { position: row.position, entry, entryJson: row.entryJson, leafHash: row.leafHash };
        }
      })();
      return await verifyLedger({
        records,
        jwks,
        checkpoints: (await reader.checkpoints.list()).map((checkpoint) => checkpoint.note),
        heldCheckpoints,
        onProgress: (n) => bar.update(n),
      });
    } finally {
      bar.stop();
      reader.close();
    }
  }
  throw new UsageError('verify needs --export DIR or --data-dir DIR');
}

/** Bad usage: the CLI exits 2. */
export class UsageError extends Error {}
