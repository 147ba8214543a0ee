import { EMPTY_TREE_HASH, nodeHash } from './hashing.js';

/**
 * RFC 9162 §2.1 Merkle tree over leaf hashes, append-only.
 *
 * Why it keeps every complete subtree: level k holds the hash of each perfect, aligned subtree of 2^k leaves,
 * so a root, inclusion or consistency proof for any size needs O(log² n) lookups and at most O(log n)
 * hashes, never a walk over the leaves (1,000,000 entries cost 64 MB of hashes, one contiguous buffer a level).
 */

const HASH_SIZE = 32;

class HashLevel {
  private buffer = Buffer.allocUnsafe(HASH_SIZE * 1024);
  length = 0;

  push(hash: Uint8Array): void {
    if ((this.length + 1) * HASH_SIZE > this.buffer.length) this.reserve(1);
    this.buffer.set(hash, this.length * HASH_SIZE);
    this.length++;
  }

  /** Room for `more` hashes beyond the current ones (at least doubling, so that pushes stay amortised O(1)). */
  reserve(more: number): void {
    const needed = (this.length + more) * HASH_SIZE;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length * HASH_SIZE);
    this.buffer = grown;
  }

  get(index: number): Buffer {
    return this.buffer.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Exact for every safe integer (a bitwise test would wrap above 2^31: 3·2^31 & (3·2^31 - 1) is 0). */
function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.floor(Math.log2(n)) === n;
}

export class MerkleTree {
  private readonly levels: HashLevel[] = [new HashLevel()];

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends one leaf hash (already SHA-256(0x00 || leaf)); returns its index. */
  append(leafHash: Uint8Array): number {
    if (leafHash.length !== HASH_SIZE) throw new RangeError('leaf hash must be 32 bytes');
    const index = this.size;
    this.levels[0]!.push(leafHash);
    // Each time the new leaf completes a perfect subtree, store that subtree's hash one level up.
    let level = 0;
    let position = index;
    while (position % 2 === 1) {
      const current = this.levels[level]!;
      const parent = nodeHash(current.get(position - 1), current.get(position));
      if (this.levels.length === level + 1) this.levels.push(new HashLevel());
      this.levels[level + 1]!.push(parent);
      position = (position - 1) / 2;
      level++;
    }
    return index;
  }

  /** Appends the leaf hashes of `hashes`, 32 bytes each, one after the other (a tree rebuilt from storage). */
  appendMany(hashes: Uint8Array): void {
    if (hashes.length % HASH_SIZE !== 0) throw new RangeError('leaf hashes must be 32 bytes each');
    // Each level grows once for the whole batch (level k gains about count / 2^k hashes).
    const count = hashes.length / HASH_SIZE;
    for (let level = 0, more = count + 1; more >= 1; level++, more = Math.floor(more / 2)) {
      if (this.levels.length === level) this.levels.push(new HashLevel());
      this.levels[level]!.reserve(more);
    }
    for (let offset = 0; offset < hashes.length; offset += HASH_SIZE) this.append(hashes.subarray(offset, offset + HASH_SIZE));
  }

  leaf(index: number): Buffer {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`no leaf ${index} in a tree of ${this.size}`);
    return Buffer.from(this.levels[0]!.get(index));
  }

  /** MTH(D[0:size]) for any size up to the current one. */
  root(size: number = this.size): Buffer {
    this.checkSize(size);
    return Buffer.from(this.subtreeHash(0, size));
  }

  /** RFC 9162 §2.1.3.1 PATH(index, D[0:size]). */
  inclusionProof(index: number, size: number = this.size): Buffer[] {
    this.checkSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
    const proof: Buffer[] = [];
    this.path(index, 0, size, proof);
    return proof;
  }

  /** RFC 9162 §2.1.4.1 PROOF(first, D[0:second]); empty when first is 0 or equals second. */
  consistencyProof(first: number, second: number = this.size): Buffer[] {
    this.checkSize(second);
    if (!Number.isInteger(first) || first < 0 || first > second) throw new RangeError(`first ${first} is not within 0..${second}`);
    const proof: Buffer[] = [];
    if (first === 0 || first === second) return proof;
    this.subproof(first, 0, second, true, proof);
    return proof;
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) throw new RangeError(`size ${size} is not within 0..${this.size}`);
  }

  private path(m: number, start: number, end: number, out: Buffer[]): void {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      this.path(m, start, start + k, out);
      out.push(Buffer.from(this.subtreeHash(start + k, end)));
    } else {
      this.path(m - k, start + k, end, out);
      out.push(Buffer.from(this.subtreeHash(start, start + k)));
    }
  }

  private subproof(m: number, start: number, end: number, complete: boolean, out: Buffer[]): void {
    const n = end - start;
    if (m === n) {
      if (!complete) out.push(Buffer.from(this.subtreeHash(start, end)));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      this.subproof(m, start, start + k, complete, out);
      out.push(Buffer.from(this.subtreeHash(start + k, end)));
    } else {
      this.subproof(m - k, start + k, end, false, out);
      out.push(Buffer.from(this.subtreeHash(start, start + k)));
    }
  }

  /** MTH(D[start:end]); every left subtree RFC 9162 asks for is perfect and aligned, so it is a lookup. */
  private subtreeHash(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 0) return EMPTY_TREE_HASH;
    if (isPowerOfTwo(n) && start % n === 0) {
      const level = Math.log2(n);
      return this.levels[level]!.get(start / n);
    }
    const k = splitPoint(n);
    return nodeHash(this.subtreeHash(start, start + k), this.subtreeHash(start + k, end));
  }
}

/** Root of a list of leaf hashes (for verifiers that hold all leaves). */
export function rootOfLeaves(leafHashes: Iterable<Uint8Array>): Buffer {
  const tree = new MerkleTree();
  for (const leaf of leafHashes) tree.append(leaf);
  return tree.root();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Every hash a verifier is given must be a SHA-256 output: a 0-byte "leaf" equal to a 0-byte "root" is no proof. */
function allHashes(...groups: (Uint8Array | Uint8Array[])[]): boolean {
  for (const group of groups) {
    if (Array.isArray(group)) {
      for (const hash of group) if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) return false;
    } else if (!(group instanceof Uint8Array) || group.length !== HASH_SIZE) return false;
  }
  return true;
}

/** RFC 9162 §2.1.3.2: verifies an inclusion proof of `leafHash` at `index` in a tree of `size` with `root`. */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (!allHashes(leafHash, root, proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: verifies that the tree of `first` leaves with `firstRoot` is a prefix of the `second` tree. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (!allHashes(firstRoot, secondRoot, proof)) return false;
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0 && equal(firstRoot, EMPTY_TREE_HASH);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}
