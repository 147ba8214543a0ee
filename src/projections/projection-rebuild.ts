import { dataPaths } from '../ledger/embedded-ledger.js';
import type { SignedEntry } from '../ledger/entry.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { statusOf, type Projection, type ProjectionEntry, type ProjectionStatus } from './projection.js';
import { createProjections } from './projections.registry.js';

/**
 * Where a rebuild reads the log: the event store itself or its read-only reader (`SqliteEventStoreReader`).
 * Both read global positions, in order, from position 0.
 */
export interface RebuildSource {
  /** Number of integrated entries. */
  size(): Promise<number>;
  /** Up to `limit` entries at positions ≥ `fromPosition`, in position order. */
  readAll(fromPosition: number, limit: number): Promise<ProjectionEntry[]>;
  /**
   * Optional, preferred when present (`EventStore.readEntryJson`): the same entries as `[position, entry JSON]`
   * rows, unparsed. The rebuild then parses each entry right before applying it, so that at most one parsed
   * entry is alive at a time (a parsed batch alive across a young-generation GC would be copied, for nothing).
   */
  readEntryJson?(fromPosition: number, limit: number): readonly (readonly [number, string])[];
}

/**
 * Folds the rows from `fromPosition` up to (not including) `toPosition`, batch by batch, parsing each row right
 * before `apply` gets it; stops early when `apply` returns false or the rows run out. Returns the next position.
 * The one loop of a rebuild and of the live projections' start (`ProjectionHost.preload`).
 */
export function foldEntryRows(
  readRows: (fromPosition: number, limit: number) => readonly (readonly [number, string])[],
  fromPosition: number,
  toPosition: number,
  apply: (entry: ProjectionEntry) => boolean,
  onBatch?: (next: number) => void,
): number {
  let next = fromPosition;
  while (next < toPosition) {
    const rows = readRows(next, Math.min(REBUILD_BATCH, toPosition - next));
    if (rows.length === 0) break;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (!apply({ position: row[0], entry: JSON.parse(row[1]) as SignedEntry })) return row[0];
      next = row[0] + 1;
    }
    onBatch?.(next);
  }
  return next;
}

export interface RebuildResult {
  /** Entries folded (= the log's size when the rebuild started). */
  entries: number;
  /**
   * Seconds spent reading, parsing and folding until every projection can answer its reads (`settle`
   * included); the digests are not part of it.
   */
  foldSeconds: number;
  /** Seconds spent computing the digests afterwards (to compare a rebuild with the live projections); 0 without. */
  digestSeconds: number;
  /** Each projection's status, digest included; empty when the digests were not asked for. */
  projections: ProjectionStatus[];
}

/**
 * Rows per read: large enough that the per-call cost vanishes, small enough that a batch's rows die young
 * (8,192 measured ~40% slower than 1,024 on a 100,000-entry log: the batch outlived V8's young generation and
 * was copied into the old one).
 */
export const REBUILD_BATCH = 1024;

/**
 * Folds fresh projections over the whole log, from position 0 to the size it has when the call starts, then
 * computes each digest (timed apart: `foldSeconds`, `digestSeconds`; `digests: false` skips them, as a benchmark
 * repeating the fold does). `onProgress(applied, total)` is called after each batch.
 */
export async function rebuildProjections(
  source: RebuildSource,
  projections: readonly Projection[],
  onProgress?: (applied: number, total: number) => void,
  { digests = true }: { digests?: boolean } = {},
): Promise<RebuildResult> {
  if (projections.some((projection) => projection.position !== 0)) throw new TypeError('rebuildProjections: the projections must be fresh');
  const total = await source.size();
  const started = process.hrtime.bigint();
  const count = projections.length;
  let next = 0;
  const readRows = source.readEntryJson?.bind(source);
  if (readRows !== undefined) {
    // Entry by entry over the projections (as the live host does).
    next = foldEntryRows(readRows, 0, total, (entry) => {
      for (let p = 0; p < count; p++) projections[p]!.apply(entry);
      return true;
    }, onProgress === undefined ? undefined : (reached) => onProgress(reached, total));
  } else {
    while (next < total) {
      const batch = await source.readAll(next, Math.min(REBUILD_BATCH, total - next));
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i++) {
        const entry = batch[i]!;
        for (let p = 0; p < count; p++) projections[p]!.apply(entry);
      }
      next = batch[batch.length - 1]!.position + 1;
      onProgress?.(next, total);
    }
  }
  for (const projection of projections) projection.settle?.();
  const folded = process.hrtime.bigint();
  const statuses = digests ? projections.map(statusOf) : [];
  return {
    entries: next,
    foldSeconds: Number(folded - started) / 1e9,
    digestSeconds: digests ? Number(process.hrtime.bigint() - folded) / 1e9 : 0,
    projections: statuses,
  };
}

/**
 * `ida-ledger rebuild`: fresh instances of every projection of the service, folded from a data folder's
 * `ledger.sqlite`, opened read-only (also while a service has it open).
 */
export async function rebuildDataDir(
  dataDir: string,
  onProgress?: (applied: number, total: number) => void,
  options: { digests?: boolean } = {},
): Promise<RebuildResult> {
  const reader = SqliteEventStore.openReadOnly(dataPaths(dataDir).database);
  try {
    return await rebuildProjections(reader, createProjections().all, onProgress, options);
  } finally {
    reader.close();
  }
}

/** Name, position, entries folded and digest of each freshly rebuilt projection of a data folder. */
export async function rebuildProjectionsFromDataDir(dataDir: string): Promise<ProjectionStatus[]> {
  return (await rebuildDataDir(dataDir)).projections;
}
