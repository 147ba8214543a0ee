import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StoredCheckpoint } from './checkpoint-store.port.js';
import type { Jwks } from './key-ring.js';
import type { RawRecord } from './verifier.js';

/**
 * The export an auditor takes away (format `ida-ledger-export/1`):
 * - `entries.ndjson`: one line per position, `{"entry":<RFC 8785 signed entry>,"position":N}` (itself canonical);
 * - `checkpoints.json`: every published checkpoint (the signed notes among them);
 * - `jwks.json`: the log's public keys with their validity;
 * - `manifest.json`: origin, size, root, time of export.
 */
export const EXPORT_FORMAT = 'ida-ledger-export/1';

export const exportPaths = (dir: string) => ({
  entries: join(dir, 'entries.ndjson'),
  checkpoints: join(dir, 'checkpoints.json'),
  jwks: join(dir, 'jwks.json'),
  manifest: join(dir, 'manifest.json'),
});

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  origin: string | null;
  size: number;
  rootHash: string;
  exportedAt: string;
}

export interface EntryRow {
  position: number;
  entryJson: string;
}

/**
 * Writes an export; `rows` must be in position order. The JWKS and manifest are asked for after the last row,
 * so that a single pass over the log can also collect them. Returns the number of entries written.
 */
export async function writeExport(
  dir: string,
  rows: Iterable<EntryRow>,
  checkpoints: StoredCheckpoint[],
  jwks: () => Jwks,
  manifest: () => Omit<ExportManifest, 'format' | 'size'>,
  onProgress?: (written: number) => void,
): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const paths = exportPaths(dir);
  const out = createWriteStream(paths.entries, { encoding: 'utf8' });
  let written = 0;
  let chunk = '';
  for (const row of rows) {
    chunk += `{"entry":${row.entryJson},"position":${row.position}}\n`;
    written++;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
      onProgress?.(written);
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  onProgress?.(written);
  writeFileSync(paths.checkpoints, JSON.stringify(checkpoints, null, 2) + '\n');
  writeFileSync(paths.jwks, JSON.stringify(jwks(), null, 2) + '\n');
  const full: ExportManifest = { format: EXPORT_FORMAT, ...manifest(), size: written };
  writeFileSync(paths.manifest, JSON.stringify(full, null, 2) + '\n');
  return written;
}

/**
 * Streams the records of `entries.ndjson`. A line that is not exactly `{"entry":…,"position":N}` as the exporter
 * writes it (not JSON, empty, members reordered or spaced) becomes a record the verifier rejects: it is a
 * changed byte even where it parses to the same values.
 */
export async function* readExportRecords(dir: string): AsyncGenerator<RawRecord> {
  const lines = createInterface({ input: createReadStream(exportPaths(dir).entries, { encoding: 'utf8' }), crlfDelay: Infinity });
  let index = 0;
  for await (const line of lines) {
    index++;
    if (line.length === 0) {
      yield { position: undefined, entry: null, problem: `line ${index} is empty` };
      continue;
    }
    // Lines this ledger wrote are `{"entry":<stored bytes>,"position":N}`: the entry is parsed from exactly the
    // bytes handed to the verifier (so what is checked and what is hashed cannot differ).
    // Cheaper than a regular expression over a kilobyte line: the prefix, and the position after the last
    // top-level `,"position":` (positions are the last member, and digits only).
    const tail = line.lastIndexOf(',"position":');
    const positionText = tail > 0 && line.startsWith('{"entry":{') && line.endsWith('}') ? line.slice(tail + 12, -1) : '';
    const fast = /^(0|[1-9][0-9]*)$/u.test(positionText);
    try {
      if (fast) {
        const entryJson = line.slice(9, tail);
        yield { position: Number(positionText), entry: JSON.parse(entryJson) as unknown, entryJson };
      } else {
        const record = JSON.parse(line) as { position?: unknown; entry?: unknown } | null;
        yield { position: record?.position, entry: record?.entry, problem: `line ${index} is not in the export's form {"entry":…,"position":N}` };
      }
    } catch {
      yield { position: undefined, entry: null, problem: `line ${index} is not JSON` };
    }
  }
}

export function readExportCheckpoints(dir: string): StoredCheckpoint[] {
  const path = exportPaths(dir).checkpoints;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as StoredCheckpoint[]) : [];
}

export function readJwksFile(path: string): Jwks {
  const jwks = JSON.parse(readFileSync(path, 'utf8')) as Jwks;
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error(`${path} is not a JWKS ({"keys": [...]})`);
  return jwks;
}
