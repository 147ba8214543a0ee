import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { IntegratedEntry, JsonObject } from '../ledger/entry.js';
import { entryLeafHash } from '../ledger/hashing.js';
import { MerkleTree, rootOfLeaves } from '../ledger/merkle.js';
import {
  datasetInclusionProof,
  datasetRoot,
  verifyDatasetInclusion,
  verifyDatasetRoot,
  type DatasetCommitment,
} from './dataset-root.js';
import { transcript } from './distillation.test-kit.js';

/** 1..4 queries of 1..6 entries each, with arbitrary JSON data. */
const transcriptsArb = fc
  .uniqueArray(fc.stringMatching(/^[a-z0-9]{1,8}$/u), { minLength: 1, maxLength: 4 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc
          .array(fc.record({ answer: fc.string(), n: fc.integer(), flag: fc.boolean() }), { minLength: 1, maxLength: 6 })
          .map((datas) => ({ queryId: id, entries: transcript(id, datas.map((data) => ({ type: 'HumanAnswerRecorded', data: data as JsonObject }))) })),
      ),
    ),
  );

const allEntries = (ts: readonly { entries: IntegratedEntry[] }[]): IntegratedEntry[] => ts.flatMap((t) => t.entries);

describe('datasetRoot', () => {
  it('is the RFC 9162 root over the leaf hashes of every transcript, in the given order', () => {
    fc.assert(
      fc.property(transcriptsArb, (ts) => {
        const dataset = datasetRoot(ts);
        const leaves = allEntries(ts).map((e) => Buffer.from(e.leafHash, 'hex'));
        expect(dataset).toEqual({
          queryIds: ts.map((t) => t.queryId),
          transcripts: ts.map((t) => ({ queryId: t.queryId, entryCount: t.entries.length })),
          leafCount: leaves.length,
          transcriptRoot: rootOfLeaves(leaves).toString('hex'),
        });
      }),
    );
  });

  it('depends on the order of the queries', () => {
    const a = { queryId: 'a', entries: transcript('a', [{ type: 'X', data: { v: 1 } }]) };
    const b = { queryId: 'b', entries: transcript('b', [{ type: 'X', data: { v: 2 } }]) };
    expect(datasetRoot([a, b]).transcriptRoot).not.toBe(datasetRoot([b, a]).transcriptRoot);
  });

  it('refuses a leaf hash that is not 64 lowercase hex characters', () => {
    expect(() => datasetRoot([{ queryId: 'q', entries: [{ leafHash: 'AB'.repeat(32) }] }])).toThrow(RangeError);
    expect(() => datasetRoot([{ queryId: 'q', entries: [{ leafHash: 'ab' }] }])).toThrow(RangeError);
  });
});

describe('verifyDatasetRoot (offline)', () => {
  it('accepts the exact entries, given as a map by query or as a whole shuffled export', () => {
    fc.assert(
      fc.property(transcriptsArb, fc.integer(), (ts, seed) => {
        const dataset = datasetRoot(ts);
        const byQuery = new Map(ts.map((t) => [t.queryId, t.entries.map((e) => e.entry)]));
        expect(verifyDatasetRoot(byQuery, dataset)).toEqual({ valid: true, leafCount: dataset.leafCount, transcriptRoot: dataset.transcriptRoot });
        // An export also holds entries of other streams and later revisions, in any order.
        const extra = transcript('zz-other', [{ type: 'X', data: {} }]);
        const shuffled = [...allEntries(ts), ...extra].sort((x, y) => ((x.position * 31 + seed) % 7) - ((y.position * 31 + seed) % 7));
        expect(verifyDatasetRoot(shuffled, dataset).valid).toBe(true);
      }),
    );
  });

  it('ignores revisions after entryCount (the query went on after the run started)', () => {
    const entries = transcript('q', [{ type: 'A', data: {} }, { type: 'B', data: {} }, { type: 'C', data: {} }]);
    const dataset = datasetRoot([{ queryId: 'q', entries: entries.slice(0, 2) }]);
    expect(verifyDatasetRoot(entries, dataset).valid).toBe(true);
  });

  it('detects any changed, missing or duplicated entry, and any change to the commitment', () => {
    fc.assert(
      fc.property(transcriptsArb, fc.nat(), fc.constantFrom('change', 'drop', 'duplicate', 'root', 'count'), (ts, pick, tamper) => {
        const dataset = datasetRoot(ts);
        const entries = allEntries(ts).map((e) => e.entry);
        const i = pick % entries.length;
        let held = entries;
        let claimed: DatasetCommitment = dataset;
        switch (tamper) {
          case 'change':
            held = entries.map((e, j) => (j === i ? { ...e, data: { ...e.data, tampered: true } } : e));
            break;
          case 'drop':
            held = entries.filter((_, j) => j !== i);
            break;
          case 'duplicate':
            // Same revision twice, different content: a forged copy next to the original.
            held = [...entries, { ...entries[i]!, data: { forged: true } }];
            break;
          case 'root':
            claimed = { ...dataset, transcriptRoot: 'f'.repeat(64) === dataset.transcriptRoot ? '0'.repeat(64) : 'f'.repeat(64) };
            break;
          case 'count':
            claimed = { ...dataset, leafCount: dataset.leafCount + 1 };
            break;
        }
        expect(verifyDatasetRoot(held, claimed).valid).toBe(false);
      }),
    );
  });

  it('detects transcripts listed out of the order of queryIds', () => {
    const ts = [
      { queryId: 'a', entries: transcript('a', [{ type: 'X', data: {} }]) },
      { queryId: 'b', entries: transcript('b', [{ type: 'Y', data: {} }]) },
    ];
    const dataset = datasetRoot(ts);
    const result = verifyDatasetRoot(allEntries(ts), { ...dataset, queryIds: ['b', 'a'] });
    expect(result).toMatchObject({ valid: false, reason: expect.stringContaining('in order') });
  });

  it('names the query whose entries are missing', () => {
    const entries = transcript('q', [{ type: 'A', data: {} }, { type: 'B', data: {} }]);
    const dataset = datasetRoot([{ queryId: 'q', entries }]);
    expect(verifyDatasetRoot(entries.slice(0, 1), dataset)).toMatchObject({ valid: false, queryId: 'q' });
  });

  it('never trusts a supplied leafHash: it recomputes it from the entry', () => {
    const entries = transcript('q', [{ type: 'A', data: { v: 1 } }]);
    const dataset = datasetRoot([{ queryId: 'q', entries }]);
    const forged = [{ ...entries[0]!, entry: { ...entries[0]!.entry, data: { v: 2 } } }]; // leafHash left as it was
    expect(verifyDatasetRoot(forged, dataset).valid).toBe(false);
  });
});

describe('dataset inclusion proofs', () => {
  it('prove every entry of the dataset against transcriptRoot, and nothing else', () => {
    fc.assert(
      fc.property(transcriptsArb, fc.nat(), (ts, pick) => {
        const dataset = datasetRoot(ts);
        const entries = allEntries(ts);
        const target = entries[pick % entries.length]!;
        const queryId = target.entry.stream.slice('query-'.length);
        const proof = datasetInclusionProof(entries, dataset, queryId, target.entry.revision);
        expect(proof.leafHash).toBe(entryLeafHash(target.entry).toString('hex'));
        expect(verifyDatasetInclusion(proof, dataset)).toBe(true);
        expect(verifyDatasetInclusion(proof, dataset, target)).toBe(true);
        // Another entry, another index or another root: no proof.
        const other = entries.find((e) => e !== target);
        if (other) expect(verifyDatasetInclusion(proof, dataset, other)).toBe(false);
        expect(verifyDatasetInclusion({ ...proof, leafIndex: (proof.leafIndex + 1) % proof.treeSize }, dataset)).toBe(proof.treeSize === 1);
        expect(verifyDatasetInclusion(proof, { ...dataset, transcriptRoot: 'e'.repeat(64) })).toBe(false);
      }),
    );
  });

  it('uses the same tree as the ledger (RFC 9162 paths)', () => {
    const entries = transcript('q', Array.from({ length: 7 }, (_, i) => ({ type: 'A', data: { i } })));
    const dataset = datasetRoot([{ queryId: 'q', entries }]);
    const tree = new MerkleTree();
    for (const e of entries) tree.append(Buffer.from(e.leafHash, 'hex'));
    const proof = datasetInclusionProof(entries, dataset, 'q', 5);
    expect(proof.proof).toEqual(tree.inclusionProof(5).map((h) => h.toString('hex')));
  });

  it('refuses to prove an entry outside the dataset, or against entries that do not give the root', () => {
    const entries = transcript('q', [{ type: 'A', data: {} }, { type: 'B', data: {} }]);
    const dataset = datasetRoot([{ queryId: 'q', entries: entries.slice(0, 1) }]);
    expect(() => datasetInclusionProof(entries, dataset, 'q', 1)).toThrow(RangeError);
    expect(() => datasetInclusionProof(entries, dataset, 'other', 0)).toThrow(RangeError);
    expect(() => datasetInclusionProof(entries.slice(1), dataset, 'q', 0)).toThrow(RangeError);
  });
});
