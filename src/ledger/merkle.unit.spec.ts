import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EMPTY_TREE_HASH, leafHash, nodeHash } from './hashing.js';
import { MerkleTree, rootOfLeaves, verifyConsistency, verifyInclusion } from './merkle.js';

/**
 * RFC 6962 / RFC 9162 §2.1. Vectors: the 8-leaf test tree used by Certificate Transparency implementations
 * (github.com/transparency-dev/merkle proof/verify_test.go and rfc6962/rfc6962_test.go, from
 * google/certificate-transparency), with their roots, inclusion paths and consistency proofs.
 */

const h = (hex: string): Buffer => Buffer.from(hex, 'hex');

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);

/** ROOTS[n - 1] is the root of the first n leaves. */
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);

/** [leaf index (0-based), tree size, path] */
const INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

/** [first size, second size, proof] */
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456');

function ctTree(size = LEAVES.length): MerkleTree {
  const tree = new MerkleTree();
  for (const leaf of LEAVES.slice(0, size)) tree.append(leafHash(leaf));
  return tree;
}

function flipBit(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  copy[(bit >> 3) % copy.length]! ^= 1 << (bit & 7);
  return copy;
}

/** MTH of RFC 9162 §2.1.1, written out naively over leaf hashes. */
function naiveRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

const hexes = (hashes: Buffer[]): string => hashes.map((x) => x.toString('hex')).join(',');

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, naively. */
function naivePath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...naivePath(m, leaves.slice(0, k)), naiveRoot(leaves.slice(k))]
    : [...naivePath(m - k, leaves.slice(k)), naiveRoot(leaves.slice(0, k))];
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1, naively. */
function naiveConsistency(m: number, leaves: Buffer[]): Buffer[] {
  const subproof = (m: number, d: Buffer[], complete: boolean): Buffer[] => {
    if (m === d.length) return complete ? [] : [naiveRoot(d)];
    let k = 1;
    while (k * 2 < d.length) k *= 2;
    return m <= k
      ? [...subproof(m, d.slice(0, k), complete), naiveRoot(d.slice(k))]
      : [...subproof(m - k, d.slice(k), false), naiveRoot(d.slice(0, k))];
  };
  return m === 0 || m === leaves.length ? [] : subproof(m, leaves, true);
}

function randomLeaves(n: number, seed: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(`${seed}:${i}`));
}

describe('RFC 6962 hashing', () => {
  it('matches the CT hasher vectors', () => {
    expect(EMPTY_TREE_HASH.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(leafHash('L123456').toString('hex')).toBe('395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
    expect(nodeHash(Buffer.from('N123'), Buffer.from('N456')).toString('hex')).toBe('aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb');
  });

  it('separates leaves from nodes and orders children', () => {
    const [a, b] = [leafHash('Hello'), leafHash('World')];
    expect(nodeHash(a, b).equals(leafHash(Buffer.concat([a, b])))).toBe(false);
    expect(nodeHash(a, b).equals(nodeHash(b, a))).toBe(false);
  });
});

describe('MerkleTree: the CT reference tree', () => {
  it('has the known root for every prefix size, and the empty root for 0', () => {
    const tree = ctTree();
    expect(tree.size).toBe(8);
    expect(tree.root(0).equals(EMPTY_TREE_HASH)).toBe(true);
    for (let n = 1; n <= 8; n++) {
      expect(tree.root(n).toString('hex')).toBe(ROOTS[n - 1]!.toString('hex'));
      expect(ctTree(n).root().toString('hex')).toBe(ROOTS[n - 1]!.toString('hex'));
      expect(rootOfLeaves(LEAVES.slice(0, n).map((l) => leafHash(l))).equals(ROOTS[n - 1]!)).toBe(true);
    }
    expect(tree.root().toString('hex')).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  it.each(INCLUSION)('produces and verifies the known inclusion path of leaf %i in a tree of %i', (index, size, path) => {
    const tree = ctTree();
    const proof = tree.inclusionProof(index, size);
    expect(proof.map((p) => p.toString('hex'))).toEqual(path);
    expect(verifyInclusion(leafHash(LEAVES[index]!), index, size, path.map(h), ROOTS[size - 1]!)).toBe(true);
  });

  it.each(CONSISTENCY)('produces and verifies the known consistency proof from %i to %i', (first, second, path) => {
    const tree = ctTree();
    expect(tree.consistencyProof(first, second).map((p) => p.toString('hex'))).toEqual(path);
    expect(verifyConsistency(first, second, ROOTS[first - 1]!, ROOTS[second - 1]!, path.map(h))).toBe(true);
  });

  // The corruptions of transparency-dev/merkle's verifierCheck / verifierConsistencyCheck.
  it.each(INCLUSION.filter(([, size]) => size > 1))('refuses every corruption of the inclusion path of leaf %i in %i', (index, size, path) => {
    const proof = path.map(h);
    const root = ROOTS[size - 1]!;
    const leaf = leafHash(LEAVES[index]!);
    const probes: [string, number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
      ['index - 1', index - 1, size, leaf, proof, root],
      ['index + 1', index + 1, size, leaf, proof, root],
      ['index ^ 2', index ^ 2, size, leaf, proof, root],
      ['size * 2', index, size * 2, leaf, proof, root],
      ['size / 2', index, Math.floor(size / 2), leaf, proof, root],
      ['wrong leaf', index, size, Buffer.from('WrongLeaf'), proof, root],
      ['empty root', index, size, leaf, proof, EMPTY_TREE_HASH],
      ['random root', index, size, leaf, proof, SOME_HASH],
      ['trailing garbage', index, size, leaf, [...proof, Buffer.alloc(0)], root],
      ['trailing root', index, size, leaf, [...proof, root], root],
      ['preceding garbage', index, size, leaf, [Buffer.alloc(0), ...proof], root],
      ['preceding root', index, size, leaf, [root, ...proof], root],
      ['removed component', index, size, leaf, proof.slice(0, -1), root],
      ['inserted component', index, size, leaf, [proof[0]!, SOME_HASH, ...proof.slice(1)], root],
      ...proof.map((_, i): [string, number, number, Uint8Array, Uint8Array[], Uint8Array] => [
        `proof[${i}] bit 3`,
        index,
        size,
        leaf,
        proof.map((p, j) => (i === j ? flipBit(p, 3) : p)),
        root,
      ]),
    ];
    const accepted = probes.filter(([, i, n, l, p, r]) => verifyInclusion(l, i, n, p, r)).map(([name]) => name);
    expect(accepted).toEqual([]);
  });

  it.each(CONSISTENCY.filter(([, , path]) => path.length > 0))('refuses every corruption of the consistency proof from %i to %i', (first, second, path) => {
    const proof = path.map(h);
    const [root1, root2] = [ROOTS[first - 1]!, ROOTS[second - 1]!];
    const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
      ['first - 1', first - 1, second, root1, root2, proof],
      ['first + 1', first + 1, second, root1, root2, proof],
      ['first ^ 2', first ^ 2, second, root1, root2, proof],
      ['second * 2', first, second * 2, root1, root2, proof],
      ['second / 2', first, Math.floor(second / 2), root1, root2, proof],
      ['wrong root1', first, second, Buffer.from('WrongRoot'), root2, proof],
      ['wrong root2', first, second, root1, Buffer.from('WrongRoot'), proof],
      ['swapped roots', first, second, root2, root1, proof],
      ['empty proof', first, second, root1, root2, []],
      ['trailing garbage', first, second, root1, root2, [...proof, Buffer.alloc(0)]],
      ['trailing root1', first, second, root1, root2, [...proof, root1]],
      ['trailing root2', first, second, root1, root2, [...proof, root2]],
      ['preceding garbage', first, second, root1, root2, [Buffer.alloc(0), ...proof]],
      ['preceding root1', first, second, root1, root2, [root1, ...proof]],
      ['preceding root2', first, second, root1, root2, [root2, ...proof]],
      ['preceding proof[0]', first, second, root1, root2, [proof[0]!, ...proof]],
      ['truncated proof', first, second, root1, root2, proof.slice(0, -1)],
      ...proof.map((_, i): [string, number, number, Uint8Array, Uint8Array, Uint8Array[]] => [
        `proof[${i}] bit 4`,
        first,
        second,
        root1,
        root2,
        proof.map((p, j) => (i === j ? flipBit(p, 4) : p)),
      ]),
    ];
    const accepted = probes.filter(([, m, n, r1, r2, p]) => verifyConsistency(m, n, r1, r2, p)).map(([name]) => name);
    expect(accepted).toEqual([]);
  });

  it('handles the trivial cases like the reference verifier', () => {
    const leaf = leafHash('data');
    // One leaf: the root is the leaf hash and the path is empty; hashes of the wrong size are no hashes.
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion(leaf, 0, 1, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], leaf)).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], Buffer.alloc(0))).toBe(false);
    for (const [index, size] of [[0, 0], [1, 0], [2, 1], [-1, 1], [0.5, 1]] as const) {
      expect(verifyInclusion(SOME_HASH, index, size, [], SOME_HASH)).toBe(false);
      expect(verifyInclusion(SOME_HASH, index, size, [], EMPTY_TREE_HASH)).toBe(false);
    }
    // Consistency: equal sizes need equal roots and no proof; from 0 only the empty root; never backwards.
    expect(verifyConsistency(0, 0, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [])).toBe(true);
    expect(verifyConsistency(1, 1, SOME_HASH, SOME_HASH, [])).toBe(true);
    expect(verifyConsistency(0, 1, EMPTY_TREE_HASH, SOME_HASH, [])).toBe(true);
    expect(verifyConsistency(0, 1, SOME_HASH, SOME_HASH, [])).toBe(false);
    expect(verifyConsistency(1, 1, SOME_HASH, EMPTY_TREE_HASH, [])).toBe(false);
    expect(verifyConsistency(1, 1, SOME_HASH, SOME_HASH, [EMPTY_TREE_HASH])).toBe(false);
    expect(verifyConsistency(0, 1, EMPTY_TREE_HASH, SOME_HASH, [EMPTY_TREE_HASH])).toBe(false);
    expect(verifyConsistency(1, 0, SOME_HASH, EMPTY_TREE_HASH, [])).toBe(false);
    expect(verifyConsistency(2, 1, SOME_HASH, SOME_HASH, [])).toBe(false);
    expect(verifyConsistency(1, 2, ROOTS[0]!, ROOTS[1]!, [])).toBe(false);
    expect(verifyConsistency(1, 2, ROOTS[0]!, ROOTS[1]!, [leafHash(LEAVES[1]!)])).toBe(true);
  });

  it('refuses sizes and indexes outside the tree', () => {
    const tree = ctTree();
    expect(() => tree.root(9)).toThrow(RangeError);
    expect(() => tree.inclusionProof(8, 8)).toThrow(RangeError);
    expect(() => tree.inclusionProof(0, 0)).toThrow(RangeError);
    expect(() => tree.inclusionProof(3, 9)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(RangeError);
    expect(() => tree.consistencyProof(1, 9)).toThrow(RangeError);
    expect(() => tree.leaf(8)).toThrow(RangeError);
    expect(() => tree.leaf(1.5)).toThrow(RangeError); // (would read half of two leaves)
    expect(() => tree.root(2.5)).toThrow(RangeError);
    expect(() => tree.append(Buffer.alloc(31))).toThrow(RangeError);
    expect(tree.consistencyProof(0, 8)).toEqual([]);
    expect(tree.consistencyProof(8, 8)).toEqual([]);
  });

  it('returns copies: changing a returned hash does not change the tree', () => {
    const tree = ctTree();
    tree.root().fill(0);
    tree.leaf(3).fill(0);
    tree.inclusionProof(0)[0]!.fill(0);
    tree.consistencyProof(3)[0]!.fill(0);
    expect(tree.root().equals(ROOTS[7]!)).toBe(true);
    expect(tree.inclusionProof(0, 8).map((p) => p.toString('hex'))).toEqual(INCLUSION[1]![2]);
  });
});

describe('MerkleTree: agrees with RFC 9162 written out naively', () => {
  it('for every size up to 40, every root, inclusion path and consistency proof', () => {
    const leaves = randomLeaves(40, 7);
    const roots = Array.from({ length: leaves.length + 1 }, (_, n) => naiveRoot(leaves.slice(0, n)));
    const tree = new MerkleTree();
    const wrong: string[] = [];
    for (let n = 1; n <= leaves.length; n++) {
      tree.append(leaves[n - 1]!);
      const prefix = leaves.slice(0, n);
      if (!tree.root().equals(roots[n]!)) wrong.push(`root ${n}`);
      for (let i = 0; i < n; i++) {
        const path = tree.inclusionProof(i, n);
        if (hexes(path) !== hexes(naivePath(i, prefix))) wrong.push(`path ${i} ${n}`);
        if (!verifyInclusion(leaves[i]!, i, n, path, roots[n]!)) wrong.push(`verify path ${i} ${n}`);
      }
      for (let m = 0; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        if (hexes(proof) !== hexes(naiveConsistency(m, prefix))) wrong.push(`proof ${m} ${n}`);
        if (!verifyConsistency(m, n, roots[m]!, roots[n]!, proof)) wrong.push(`verify proof ${m} ${n}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('MerkleTree: properties (sizes 1..300)', () => {
  const sized = fc
    .record({ n: fc.integer({ min: 1, max: 300 }), seed: fc.nat(), a: fc.nat(), b: fc.nat(), bit: fc.nat(255) })
    .map(({ n, seed, a, b, bit }) => ({ n, seed, i: a % n, m: b % (n + 1), bit }));

  it('root equals the naive MTH, every inclusion proof verifies, and every corruption of it fails', () => {
    fc.assert(
      fc.property(sized, ({ n, seed, i, bit }) => {
        const leaves = randomLeaves(n, seed);
        const tree = new MerkleTree();
        leaves.forEach((l) => tree.append(l));
        const root = tree.root();
        expect(root.equals(naiveRoot(leaves))).toBe(true);
        const proof = tree.inclusionProof(i);
        expect(verifyInclusion(leaves[i]!, i, n, proof, root)).toBe(true);

        // Any bit of any proof hash, of the leaf, or of the root.
        proof.forEach((_, k) => {
          const bad = proof.map((p, j) => (j === k ? flipBit(p, bit) : p));
          expect(verifyInclusion(leaves[i]!, i, n, bad, root)).toBe(false);
        });
        expect(verifyInclusion(flipBit(leaves[i]!, bit), i, n, proof, root)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, n, proof, flipBit(root, bit))).toBe(false);
        // Another leaf of the tree at this position.
        if (n > 1) expect(verifyInclusion(leaves[(i + 1) % n]!, i, n, proof, root)).toBe(false);
        // Another index, against the same root.
        for (const j of [i - 1, i + 1, i ^ 1, i ^ 2, n - 1 - i, 0, n - 1])
          if (j !== i) expect(verifyInclusion(leaves[i]!, j, n, proof, root)).toBe(false);
        // Another size, against the root of that size (the checkpoint signs size and root together).
        for (const size of [n - 1, n + 1, n * 2, Math.floor(n / 2)])
          if (size !== n && size > i && size <= n) expect(verifyInclusion(leaves[i]!, i, size, proof, tree.root(size))).toBe(false);
        for (const size of [n + 1, n * 2]) {
          const bigger = [...leaves, ...randomLeaves(size - n, seed + 1)];
          expect(verifyInclusion(leaves[i]!, i, size, proof, naiveRoot(bigger))).toBe(false);
        }
        // Proofs of the wrong length.
        expect(verifyInclusion(leaves[i]!, i, n, [...proof, root], root)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, n, [root, ...proof], root)).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(leaves[i]!, i, n, proof.slice(1), root)).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(leaves[i]!, i, n, proof.slice(0, -1), root)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('every consistency proof verifies, and every corruption of it fails', () => {
    fc.assert(
      fc.property(sized, ({ n, seed, m, bit }) => {
        const leaves = randomLeaves(n, seed);
        const tree = new MerkleTree();
        leaves.forEach((l) => tree.append(l));
        const [root1, root2] = [tree.root(m), tree.root()];
        expect(root1.equals(naiveRoot(leaves.slice(0, m)))).toBe(true);
        const proof = tree.consistencyProof(m);
        expect(verifyConsistency(m, n, root1, root2, proof)).toBe(true);

        proof.forEach((_, k) => {
          const bad = proof.map((p, j) => (j === k ? flipBit(p, bit) : p));
          expect(verifyConsistency(m, n, root1, root2, bad)).toBe(false);
        });
        expect(verifyConsistency(m, n, flipBit(root1, bit), root2, proof)).toBe(false);
        // (The empty tree is a prefix of every tree: from 0, any second root is consistent.)
        expect(verifyConsistency(m, n, root1, flipBit(root2, bit), proof)).toBe(m === 0);
        // Other sizes, against the roots of those sizes (an empty proof, from 0 or to itself, proves nothing to vary).
        if (proof.length > 0) {
          for (const other of [m - 1, m + 1, m * 2, Math.floor(m / 2)])
            if (other !== m && other >= 0 && other <= n) expect(verifyConsistency(other, n, tree.root(other), root2, proof)).toBe(false);
          for (const other of [n - 1, Math.floor(n / 2)])
            if (other !== n && other >= m) expect(verifyConsistency(m, other, root1, tree.root(other), proof)).toBe(false);
        }
        // A tree that differs from the first one anywhere in its first m leaves is not consistent with it.
        if (m > 0) {
          const forked = [...leaves];
          forked[bit % m] = flipBit(forked[bit % m]!, bit);
          expect(verifyConsistency(m, n, root1, naiveRoot(forked), proof)).toBe(false);
        }
        // Proofs of the wrong length.
        expect(verifyConsistency(m, n, root1, root2, [...proof, root2])).toBe(false);
        expect(verifyConsistency(m, n, root1, root2, [root1, ...proof])).toBe(false);
        if (proof.length > 0) expect(verifyConsistency(m, n, root1, root2, proof.slice(1))).toBe(false);
        if (proof.length > 0) expect(verifyConsistency(m, n, root1, root2, proof.slice(0, -1))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('appendMany (a tree rebuilt from storage in batches) gives the tree that appending leaf by leaf gives', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.nat(), fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 12 }), (n, seed, cuts) => {
        const leaves = randomLeaves(n, seed);
        const one = new MerkleTree();
        for (const leaf of leaves) one.append(leaf);
        const many = new MerkleTree();
        let at = 0;
        for (const cut of [...cuts, n]) {
          const end = Math.min(n, at + cut);
          many.appendMany(Buffer.concat(leaves.slice(at, end)));
          at = end;
          if (at < n && cut % 3 === 0) many.append(leaves[at++]!); // single appends in between keep working
        }
        if (at < n) many.appendMany(Buffer.concat(leaves.slice(at)));
        expect(many.size).toBe(n);
        expect(many.root().equals(one.root())).toBe(true);
        for (let size = 1; size <= n; size += Math.max(1, Math.floor(n / 11))) {
          expect(many.root(size).equals(one.root(size))).toBe(true);
          expect(many.inclusionProof(size - 1, size)).toEqual(one.inclusionProof(size - 1, size));
          expect(many.consistencyProof(size, n)).toEqual(one.consistencyProof(size, n));
        }
      }),
      { numRuns: 60 },
    );
    expect(() => new MerkleTree().appendMany(Buffer.alloc(33))).toThrow(RangeError);
  });

  it('keeps its roots while it grows: every old root is consistent with every new one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (n, seed) => {
        const leaves = randomLeaves(n, seed);
        const tree = new MerkleTree();
        const roots: Buffer[] = [tree.root()];
        for (const leaf of leaves) {
          tree.append(leaf);
          roots.push(tree.root());
        }
        for (let size = 0; size <= n; size += Math.max(1, Math.floor(n / 17))) {
          expect(tree.root(size).equals(roots[size]!)).toBe(true);
          expect(verifyConsistency(size, n, roots[size]!, roots[n]!, tree.consistencyProof(size))).toBe(true);
        }
      }),
      { numRuns: 30 },
    );
  });
});

/**
 * Trees of one repeated leaf: the hash of any subtree depends only on its size, so proofs for sizes far
 * beyond memory (up to 2^52) can be computed by the RFC's definitions and checked against the verifiers.
 */
describe('verifiers: sizes beyond 2^31 (uniform trees)', () => {
  const leaf = leafHash('x');
  const memo = new Map<number, Buffer>();
  const mth = (n: number): Buffer => {
    if (n === 1) return leaf;
    let hash = memo.get(n);
    if (!hash) {
      let k = 1;
      while (k * 2 < n) k *= 2;
      hash = nodeHash(mth(k), mth(n - k));
      memo.set(n, hash);
    }
    return hash;
  };
  const path = (m: number, n: number): Buffer[] => {
    if (n === 1) return [];
    let k = 1;
    while (k * 2 < n) k *= 2;
    return m < k ? [...path(m, k), mth(n - k)] : [...path(m - k, n - k), mth(k)];
  };
  const subproof = (m: number, n: number, complete: boolean): Buffer[] => {
    if (m === n) return complete ? [] : [mth(n)];
    let k = 1;
    while (k * 2 < n) k *= 2;
    return m <= k ? [...subproof(m, k, complete), mth(n - k)] : [...subproof(m - k, n - k, false), mth(k)];
  };

  const big = fc.oneof(
    fc.integer({ min: 2 ** 31 - 4, max: 2 ** 31 + 4 }),
    fc.integer({ min: 2 ** 32 - 4, max: 2 ** 32 + 4 }),
    fc.integer({ min: 2, max: 2 ** 52 }),
    fc.constantFrom(3 * 2 ** 31, 5 * 2 ** 32, 2 ** 52, 2 ** 40 + 1),
  );

  it('verifies inclusion at any index of any size up to 2^52', () => {
    fc.assert(
      fc.property(big, fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const m = Math.min(n - 1, Math.floor(f * n));
        const proof = path(m, n);
        expect(verifyInclusion(leaf, m, n, proof, mth(n))).toBe(true);
        expect(verifyInclusion(leaf, m, n, proof, mth(n - 1))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('verifies consistency between any two sizes up to 2^52 (e.g. from 3·2^31, not a power of two)', () => {
    const check = (first: number, second: number) => {
      const proof = first === second ? [] : subproof(first, second, true);
      expect(verifyConsistency(first, second, mth(first), mth(second), proof)).toBe(true);
      if (proof.length > 0) expect(verifyConsistency(first, second, mth(first), mth(second), proof.slice(1))).toBe(false);
    };
    check(3 * 2 ** 31, 3 * 2 ** 31 + 1);
    check(3 * 2 ** 31, 2 ** 33);
    check(2 ** 32, 2 ** 32 + 5);
    check(2 ** 31 + 2 ** 30, 2 ** 40);
    fc.assert(
      fc.property(big, big, (a, b) => check(Math.min(a, b), Math.max(a, b))),
      { numRuns: 200 },
    );
  });

  it('refuses sizes that a Number cannot hold exactly', () => {
    expect(verifyInclusion(leaf, 0, 2 ** 53 + 2, path(0, 2 ** 52), mth(2 ** 52))).toBe(false);
    expect(verifyConsistency(2 ** 52, 2 ** 53 + 2, mth(2 ** 52), mth(2 ** 52), [mth(2)])).toBe(false);
  });
});
