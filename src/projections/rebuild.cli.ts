/** `ida-ledger rebuild --data-dir DIR [--json]`: what the command prints, without the argument parsing. */
import { existsSync } from 'node:fs';
import { progressBar } from '../cli/progress.js';
import { UsageError } from '../cli/offline-ledger.js';
import { dataPaths } from '../ledger/embedded-ledger.js';
import { rebuildDataDir, type RebuildResult } from './projection-rebuild.js';

export interface RebuildReport extends RebuildResult {
  /** Entries per second of the whole rebuild (fold and digests). */
  entriesPerSecond: number;
  seconds: number;
}

/** Folds fresh projections from `dataDir` (read-only), with a progress bar on a TTY, and prints the digests. */
export async function runRebuild(options: { dataDir: string; json?: boolean }): Promise<RebuildReport> {
  if (!existsSync(dataPaths(options.dataDir).database)) throw new UsageError(`${options.dataDir} holds no ledger.sqlite`);
  const started = process.hrtime.bigint();
  let bar: ReturnType<typeof progressBar> | null = null;
  const result = await rebuildDataDir(options.dataDir, (applied, total) => {
    bar ??= progressBar('rebuild', total);
    bar.update(applied);
  });
  (bar as ReturnType<typeof progressBar> | null)?.stop();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const report: RebuildReport = { ...result, seconds, entriesPerSecond: seconds > 0 ? Math.round(result.entries / seconds) : 0 };
  if (options.json) {
    console.log(JSON.stringify(report));
  } else {
    const width = Math.max(...result.projections.map((projection) => projection.name.length));
    for (const projection of result.projections)
      console.log(`${projection.name.padEnd(width)}  ${projection.digest}  ${projection.applied} of ${projection.position} entries applied`);
    console.log(`rebuilt from ${result.entries} entries in ${seconds.toFixed(2)} s (${report.entriesPerSecond} entries/s)`);
  }
  return report;
}
