import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { verifyOffline } from '../cli/offline-ledger.js';
import {
  cachedRealisticLedger,
  generateRealisticLedger,
  measureLineageQuery,
  measureRawReadParse,
  measureRebuild,
  measureRebuildAgainstRaw,
} from './projection-bench.js';

const root = mkdtempSync(join(tmpdir(), 'ida-projection-bench-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('projection benchmark helpers', () => {
  it('generate a verifiable ledger of exactly N entries, cached on request, and measure reads and rebuilds over it', async () => {
    const cacheDir = join(root, 'cache');
    const generated = await generateRealisticLedger(join(root, 'a'), 3000, { cacheDir });
    expect(generated).toMatchObject({ entries: 3000, size: 3001, cached: false });
    expect((await verifyOffline({ dataDir: join(root, 'a') })).ok).toBe(true);
    await expect(generateRealisticLedger(join(root, 'a'), 10)).rejects.toThrow(/already holds a ledger/u);

    const again = await generateRealisticLedger(join(root, 'b'), 3000, { cacheDir });
    expect(again).toMatchObject({ size: 3001, cached: true });

    const raw = await measureRawReadParse(join(root, 'b'));
    expect(raw.entries).toBe(3001);
    const rebuild = await measureRebuild(join(root, 'b'));
    expect(rebuild.entries).toBe(3001);
    expect(rebuild.entriesPerSecond).toBeGreaterThan(0);
    // The mix exercises every projection.
    for (const projection of rebuild.projections) expect(projection.applied).toBeGreaterThan(0);
    const digests = rebuild.projections.map((p) => p.digest);
    expect((await measureRebuild(join(root, 'a'))).projections.map((p) => p.digest)).toEqual(digests);
  }, 120_000);

  it('cache a generated ledger for the benchmark, read in place', async () => {
    const cacheDir = join(root, 'bench-cache');
    const first = await cachedRealisticLedger(500, cacheDir);
    expect(first).toMatchObject({ entries: 500, size: 501, cached: false });
    const again = await cachedRealisticLedger(500, cacheDir);
    expect(again).toMatchObject({ dataDir: first.dataDir, size: 501, cached: true });
    expect((await verifyOffline({ dataDir: again.dataDir })).ok).toBe(true);
    const rebuild = await measureRebuild(again.dataDir);
    expect(rebuild.entries).toBe(501);
    expect(rebuild.digestSeconds).toBeGreaterThanOrEqual(0);
    expect(await measureRebuild(again.dataDir, { digests: false })).toMatchObject({ entries: 501, digestSeconds: 0, projections: [] });

    // Rounds: the last rebuild keeps its digests; the ratio is the median of the rounds'.
    const rounds = await measureRebuildAgainstRaw(again.dataDir, 3);
    expect(rounds.ratios).toHaveLength(3);
    expect(rounds.ratio).toBe([...rounds.ratios].sort((a, b) => a - b)[1]);
    expect(rounds.rebuild.projections.map((p) => p.digest)).toEqual(rebuild.projections.map((p) => p.digest));
  }, 60_000);

  it('measure a lineage walk over n generations', () => {
    const measured = measureLineageQuery(300, 5);
    // 300 proxies, 300 runs, 300 queries and the human who answered the first.
    expect(measured.nodes).toBe(901);
    expect(Number.isFinite(measured.medianMs)).toBe(true); // its goal (< 50 ms) is checked by npm run bench
  });
});
