/**
 * `digestInSlices` gives the very digest `digest` gives, for every projection, however finely it is sliced;
 * an entry applied in between interrupts it without breaking the projection.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { realisticEntries } from './projection-bench.js';
import { createProjections } from './projections.registry.js';

describe('digests in slices', () => {
  it('equal the digests computed at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 30 }), async (seed, units) => {
        const entries = realisticEntries(seed, units, 4, 3);
        const atOnce = createProjections();
        const sliced = createProjections();
        for (const entry of entries) {
          for (const projection of atOnce.all) projection.apply(entry);
          for (const projection of sliced.all) projection.apply(entry);
        }
        const slicedDigests: string[] = [];
        for (const projection of sliced.all) slicedDigests.push(await projection.digestInSlices!(0));
        expect(slicedDigests).toEqual(atOnce.all.map((projection) => projection.digest()));
      }),
      { numRuns: 15 },
    );
  });

  it('is interrupted by an entry applied meanwhile, and the projection goes on', async () => {
    const entries = realisticEntries(3, 12);
    const set = createProjections();
    for (const entry of entries.slice(0, -1)) for (const projection of set.all) projection.apply(entry);
    const pending = set.decisionTrees.digestInSlices(0);
    set.decisionTrees.apply(entries[entries.length - 1]!);
    await expect(pending).rejects.toMatchObject({ code: 'PROJECTION.DIGEST_INTERRUPTED' });
    const reference = createProjections();
    for (const entry of entries) reference.decisionTrees.apply(entry);
    expect(await set.decisionTrees.digestInSlices(0)).toBe(reference.decisionTrees.digest());
  });
});
