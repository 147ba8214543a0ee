/**
 * The dataset root of a distillation run (docs/ida-domain.md, "Dataset root"): for each query id in the run's
 * order, the first `entryCount` entries of `query-<id>` in revision order; `transcriptRoot` is the hex RFC 9162
 * Merkle tree hash over their leaf hashes (`leafCount` leaves).
 *
 * Plain TypeScript (no Nest, no storage) so that an auditor's offline tooling can import it: with an export of
 * the log (or the SQLite file) in hand, `verifyDatasetRoot` recomputes the root from the entries themselves, and
 * `datasetInclusionProof` / `verifyDatasetInclusion` prove that one entry (an answer) was in the training set.
 */
import type { IntegratedEntry, SignedEntry } from '../ledger/entry.js';
import { entryLeafHash } from '../ledger/hashing.js';
import { MerkleTree, rootOfLeaves, verifyInclusion } from '../ledger/merkle.js';

/** The stream a query's transcript lives in (docs/ida-domain.md, "Amplification"). Hard-coded: offline code. */
export const TRANSCRIPT_STREAM_PREFIX = 'query-';

const LEAF_HASH = /^[0-9a-f]{64}$/u;

/** What the run records about its dataset (`DistillationRunStarted.data.dataset`). */
export type DatasetCommitment = {
  queryIds: string[];
  transcripts: { queryId: string; entryCount: number }[];
  leafCount: number;
  /** Hex RFC 9162 MTH over the transcripts' leaf hashes, in order. */
  transcriptRoot: string;
};

/** One query's transcript as the store returns it: its entries' leaf hashes, in revision order. */
export interface TranscriptLeaves {
  queryId: string;
  /** `IntegratedEntry` satisfies this (its `leafHash` is hex SHA-256(0x00 || JCS(entry))). */
  entries: readonly { leafHash: string }[];
}

/**
 * The dataset commitment over whole transcripts, in the given order (each transcript's entries taken as
 * given: the caller passes all entries of the stream at start time). Throws a RangeError on a leaf hash that is
 * not 64 lowercase hex characters.
 */
export function datasetRoot(transcripts: readonly TranscriptLeaves[]): DatasetCommitment {
  const tree = new MerkleTree();
  for (const transcript of transcripts) {
    for (const { leafHash } of transcript.entries) {
      if (typeof leafHash !== 'string' || !LEAF_HASH.test(leafHash)) {
        throw new RangeError(`datasetRoot: leaf hash of a ${transcript.queryId} entry is not 64 lowercase hex characters`);
      }
      tree.append(Buffer.from(leafHash, 'hex'));
    }
  }
  return {
    queryIds: transcripts.map((t) => t.queryId),
    transcripts: transcripts.map((t) => ({ queryId: t.queryId, entryCount: t.entries.length })),
    leafCount: tree.size,
    transcriptRoot: tree.root().toString('hex'),
  };
}

/** Entries an auditor holds: signed entries, or integrated ones (an export line, a store read). */
export type HeldEntry = SignedEntry | IntegratedEntry;

/** Entries by query id, or simply every entry of an export (the transcripts are picked out by stream). */
export type HeldEntries = ReadonlyMap<string, readonly HeldEntry[]> | readonly HeldEntry[];

export type DatasetVerification =
  | { valid: true; leafCount: number; transcriptRoot: string }
  | { valid: false; reason: string; queryId?: string };

function signed(held: HeldEntry): SignedEntry {
  return 'entry' in held ? held.entry : held;
}

/**
 * The first `entryCount` entries of `query-<queryId>` among the held ones, by revision; null (with why) when
 * they are not all there, in which case no root can be recomputed.
 */
function transcriptPrefix(held: HeldEntries, queryId: string, entryCount: number): SignedEntry[] | string {
  const stream = TRANSCRIPT_STREAM_PREFIX + queryId;
  const candidates: readonly HeldEntry[] = held instanceof Map ? (held.get(queryId) ?? []) : (held as readonly HeldEntry[]);
  const entries = candidates
    .map(signed)
    .filter((e) => e.stream === stream && e.revision < entryCount)
    .sort((a, b) => a.revision - b.revision);
  if (entries.length !== entryCount) return `expected revisions 0..${entryCount - 1} of ${stream}, found ${entries.length} entries`;
  for (let i = 0; i < entryCount; i++) {
    // A duplicate revision would hide a missing one; two different entries at one revision mean a forged copy.
    if (entries[i]!.revision !== i) return `revision ${i} of ${stream} is missing or duplicated`;
  }
  return entries;
}

/** The leaf hashes of the dataset, recomputed from the entries (a supplied `leafHash` is never trusted). */
function datasetLeaves(held: HeldEntries, dataset: DatasetCommitment): Buffer[] | { reason: string; queryId?: string } {
  if (
    !Array.isArray(dataset.queryIds) ||
    !Array.isArray(dataset.transcripts) ||
    dataset.queryIds.length !== dataset.transcripts.length ||
    dataset.transcripts.some((t, i) => t.queryId !== dataset.queryIds[i])
  ) {
    return { reason: 'dataset.transcripts do not list dataset.queryIds in order' };
  }
  const leaves: Buffer[] = [];
  for (const { queryId, entryCount } of dataset.transcripts) {
    if (!Number.isSafeInteger(entryCount) || entryCount < 1) return { reason: `entryCount of ${queryId} is not a positive integer`, queryId };
    const prefix = transcriptPrefix(held, queryId, entryCount);
    if (typeof prefix === 'string') return { reason: prefix, queryId };
    for (const entry of prefix) leaves.push(entryLeafHash(entry));
  }
  if (leaves.length !== dataset.leafCount) return { reason: `leafCount is ${dataset.leafCount}, the transcripts hold ${leaves.length}` };
  return leaves;
}

/**
 * Recomputes the dataset root from held entries and compares it with the recorded commitment. Checks that
 * the transcripts list the query ids in order, that every counted entry is present exactly once, that the
 * counts add up to `leafCount`, and that the root matches. Signatures and stream chains are the log
 * verifier's business (`ida-ledger verify`); run it on the same export first.
 */
export function verifyDatasetRoot(entriesOfQueries: HeldEntries, dataset: DatasetCommitment): DatasetVerification {
  const leaves = datasetLeaves(entriesOfQueries, dataset);
  if (!Array.isArray(leaves)) return { valid: false, ...leaves };
  const root = rootOfLeaves(leaves).toString('hex');
  if (root !== dataset.transcriptRoot) return { valid: false, reason: `transcriptRoot is ${dataset.transcriptRoot}, the entries give ${root}` };
  return { valid: true, leafCount: leaves.length, transcriptRoot: root };
}

/** An RFC 9162 inclusion proof of one transcript entry in the dataset tree (hashes hex). */
export type DatasetInclusionProof = {
  queryId: string;
  revision: number;
  leafIndex: number;
  leafHash: string;
  treeSize: number;
  proof: string[];
};

/**
 * Proves that entry `revision` of `query-<queryId>` is leaf `leafIndex` of the dataset tree. Throws a RangeError
 * when the held entries do not reproduce the dataset root (a proof against another root would prove nothing)
 * or the entry is not in the dataset.
 */
export function datasetInclusionProof(
  entriesOfQueries: HeldEntries,
  dataset: DatasetCommitment,
  queryId: string,
  revision: number,
): DatasetInclusionProof {
  const leaves = datasetLeaves(entriesOfQueries, dataset);
  if (!Array.isArray(leaves)) throw new RangeError(`datasetInclusionProof: ${leaves.reason}`);
  const leafIndex = leafIndexOf(dataset, queryId, revision);
  if (leafIndex < 0) throw new RangeError(`datasetInclusionProof: revision ${revision} of ${queryId} is not in the dataset`);
  const tree = new MerkleTree();
  for (const leaf of leaves) tree.append(leaf);
  if (tree.root().toString('hex') !== dataset.transcriptRoot) throw new RangeError('datasetInclusionProof: the entries do not give transcriptRoot');
  return {
    queryId,
    revision,
    leafIndex,
    leafHash: tree.leaf(leafIndex).toString('hex'),
    treeSize: tree.size,
    proof: tree.inclusionProof(leafIndex).map((hash) => hash.toString('hex')),
  };
}

/** Leaf index of entry `revision` of `queryId` in the dataset tree, or -1 when it is not in the dataset. */
function leafIndexOf(dataset: DatasetCommitment, queryId: string, revision: number): number {
  let offset = 0;
  for (const transcript of dataset.transcripts) {
    if (transcript.queryId === queryId) {
      return Number.isSafeInteger(revision) && revision >= 0 && revision < transcript.entryCount ? offset + revision : -1;
    }
    offset += transcript.entryCount;
  }
  return -1;
}

/**
 * Checks a dataset inclusion proof against the recorded commitment: the leaf index is where the dataset puts
 * (queryId, revision), and the path leads to `transcriptRoot`. With `entry`, also that the proof is about that
 * very entry (its leaf hash recomputed, its stream and revision). Needs nothing but the proof and the run.
 */
export function verifyDatasetInclusion(proof: DatasetInclusionProof, dataset: DatasetCommitment, entry?: HeldEntry): boolean {
  const hex = [proof.leafHash, dataset.transcriptRoot, ...proof.proof];
  if (!hex.every((h) => typeof h === 'string' && LEAF_HASH.test(h))) return false;
  if (proof.treeSize !== dataset.leafCount) return false;
  if (leafIndexOf(dataset, proof.queryId, proof.revision) !== proof.leafIndex) return false;
  if (entry !== undefined) {
    const e = signed(entry);
    if (e.stream !== TRANSCRIPT_STREAM_PREFIX + proof.queryId || e.revision !== proof.revision) return false;
    if (entryLeafHash(e).toString('hex') !== proof.leafHash) return false;
  }
  return verifyInclusion(
    Buffer.from(proof.leafHash, 'hex'),
    proof.leafIndex,
    proof.treeSize,
    proof.proof.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(dataset.transcriptRoot, 'hex'),
  );
}
