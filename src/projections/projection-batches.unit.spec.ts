/**
 * The fold does not depend on batching: applying a log in one pass, or in arbitrary batches with digests and
 * reads taken in between (as the live host does while requests arrive), gives every projection the same
 * digest. The logs are realistic mixes, with the streams of concurrent queries interleaved at random.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { toEntries, type ScriptAppend } from './ida-event-script.js';
import { RealisticMix } from './projection-bench.js';
import type { ProjectionEntry } from './projection.js';
import { rebuildProjections, type RebuildSource } from './projection-rebuild.js';
import { createProjections } from './projections.registry.js';

/** `units` whole units of the mix, interleaved append by append as `picks` says (each unit keeps its order). */
function interleavedLog(seed: number, units: number, picks: number[]): ProjectionEntry[] {
  const mix = new RealisticMix(seed, 6, 4);
  const queues: ScriptAppend[][] = Array.from({ length: units }, () => mix.next());
  const appends: ScriptAppend[] = [];
  let p = 0;
  while (queues.some((queue) => queue.length > 0)) {
    const open = queues.filter((queue) => queue.length > 0);
    appends.push(open[(picks[p++ % Math.max(1, picks.length)] ?? 0) % open.length]!.shift()!);
  }
  return toEntries(appends);
}

function onePass(entries: ProjectionEntry[]): Record<string, string> {
  const set = createProjections();
  for (const entry of entries) for (const projection of set.all) projection.apply(entry);
  return Object.fromEntries(set.all.map((projection) => [projection.name, projection.digest()]));
}

describe('projections under arbitrary batching', () => {
  it('give the same digests in one pass and in any batches, with reads in between', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.nat({ max: 50 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }),
        (seed, picks, batchSizes) => {
          const entries = interleavedLog(seed, 30, picks);
          const expected = onePass(entries);
          const set = createProjections();
          let at = 0;
          for (let b = 0; at < entries.length; b++) {
            const size = batchSizes[b % batchSizes.length]!;
            for (const entry of entries.slice(at, at + size)) for (const projection of set.all) projection.apply(entry);
            at += size;
            // What requests do between batches: digests and reads.
            set.decisionTrees.digest();
            set.oversightQueue.queue('acme');
            set.lineage.lineage('acme', 'run-acme-1', 'ancestors');
            set.proxyImpact.impact('globex', 'run-globex-1');
            if (b % 3 === 0) for (const projection of set.all) projection.digest();
          }
          expect(Object.fromEntries(set.all.map((projection) => [projection.name, projection.digest()]))).toEqual(expected);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('rebuildProjections reads any source in batches and folds the same', async () => {
    const entries = interleavedLog(7, 120, [3, 1, 4, 1, 5, 9, 2, 6]);
    const source: RebuildSource = {
      size: async () => entries.length,
      // A source that returns fewer than asked for, as a reader bounded by its page size would.
      readAll: async (from, limit) => entries.slice(from, from + Math.min(limit, 97)),
    };
    const progress: number[] = [];
    const result = await rebuildProjections(source, createProjections().all, (applied) => progress.push(applied));
    expect(result.entries).toBe(entries.length);
    expect(progress[progress.length - 1]).toBe(entries.length);
    expect(Object.fromEntries(result.projections.map((p) => [p.name, p.digest]))).toEqual(onePass(entries));
    expect(result.projections.map((p) => p.name)).toEqual(['decision-trees', 'oversight-queue', 'lineage', 'proxy-impact']);
    // Some of everything was folded.
    for (const projection of result.projections) expect(projection.applied).toBeGreaterThan(0);
  });
});
