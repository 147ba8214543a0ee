/**
 * `ida-ledger dataset --run ID`: an auditor's offline proof of which answers trained a student. Reads the run's
 * `DistillationRunStarted` from an export (or a data folder, read-only), gathers the transcript entries of the
 * queries it names, and recomputes the dataset root (src/distillation/dataset-root.ts). Signatures and chains
 * are `verify`'s business: run it on the same source first.
 */
import { existsSync } from 'node:fs';
import { verifyDatasetRoot, TRANSCRIPT_STREAM_PREFIX, type DatasetCommitment } from '../distillation/dataset-root.js';
import { dataPaths } from '../ledger/embedded-ledger.js';
import type { SignedEntry } from '../ledger/entry.js';
import { exportPaths, readExportRecords } from '../ledger/ledger-export.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { UsageError } from './offline-ledger.js';

export interface DatasetCheckReport {
  runId: string;
  ok: boolean;
  /** Why the root could not be confirmed (absent when ok). */
  reason?: string;
  queryIds?: string[];
  leafCount?: number;
  transcriptRoot?: string;
}

/** Every entry of the source, in position order, parsed (a line that does not parse is skipped: `verify` reports it). */
async function* entriesOf(source: { exportDir?: string; dataDir?: string }): AsyncGenerator<SignedEntry> {
  if (source.exportDir !== undefined) {
    if (!existsSync(exportPaths(source.exportDir).entries)) throw new UsageError(`${source.exportDir} holds no entries.ndjson`);
    for await (const record of readExportRecords(source.exportDir)) {
      if (record.entry !== null && typeof record.entry === 'object') yield record.entry as SignedEntry;
    }
    return;
  }
  if (source.dataDir !== undefined) {
    const path = dataPaths(source.dataDir).database;
    if (!existsSync(path)) throw new UsageError(`${source.dataDir} holds no ledger.sqlite`);
    const reader = SqliteEventStore.openReadOnly(path);
    try {
      for (const row of reader.iterateEntryJson(0)) {
        try {
          yield JSON.parse(row.entryJson) as SignedEntry;
        } catch {
          // Not JSON: `verify` names the position; this check only needs the entries it can read.
        }
      }
    } finally {
      reader.close();
    }
    return;
  }
  throw new UsageError('dataset needs --export DIR or --data-dir DIR');
}

/**
 * Two passes over the source (the run, then its transcripts), so memory holds only the named queries' entries.
 */
export async function checkDataset(source: { exportDir?: string; dataDir?: string }, runId: string): Promise<DatasetCheckReport> {
  const runStream = `distillation-${runId}`;
  let dataset: DatasetCommitment | undefined;
  for await (const entry of entriesOf(source)) {
    if (entry.stream === runStream && entry.type === 'DistillationRunStarted') {
      dataset = (entry.data as { dataset?: DatasetCommitment }).dataset;
      break;
    }
  }
  if (dataset === undefined) return { runId, ok: false, reason: `no DistillationRunStarted on ${runStream}` };

  const wanted = new Set(dataset.queryIds.map((id) => TRANSCRIPT_STREAM_PREFIX + id));
  const held: SignedEntry[] = [];
  for await (const entry of entriesOf(source)) if (wanted.has(entry.stream)) held.push(entry);
  const verdict = verifyDatasetRoot(held, dataset);
  if (!verdict.valid) return { runId, ok: false, reason: verdict.reason, queryIds: dataset.queryIds };
  return { runId, ok: true, queryIds: dataset.queryIds, leafCount: verdict.leafCount, transcriptRoot: verdict.transcriptRoot };
}
