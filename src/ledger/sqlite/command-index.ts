/**
 * The store's in-memory index of committed idempotency records: a 64-bit hash of (tenant, command id) mapped to
 * the position of the command's first entry (the key of its `commands` row, migration 002).
 *
 * Compact on purpose (1M commands: ~32 MB, against 100+ MB for a Map of strings): open addressing over typed
 * arrays, two 32-bit hash halves and one float64 position per slot, load factor at most 1/2. The index only
 * proposes candidates: equal hashes may come from different commands, so it keeps every one of them and the
 * caller confirms each candidate against the stored row. A collision costs a read, never a wrong answer.
 */

const EMPTY = -1;
const INITIAL_CAPACITY = 1 << 12;

/** Two independent 32-bit FNV-1a-style hashes of the UTF-16 code units of `tenant \0 commandId`. */
export function commandHash(tenant: string, commandId: string): [hi: number, lo: number] {
  let hi = 0x811c9dc5;
  let lo = 0x01000193 ^ tenant.length;
  const mix = (code: number) => {
    hi = Math.imul(hi ^ code, 0x01000193);
    lo = Math.imul(lo ^ code, 0x5bd1e995);
    lo ^= lo >>> 15;
  };
  for (let i = 0; i < tenant.length; i++) mix(tenant.charCodeAt(i));
  mix(0x10000); // a separator no UTF-16 code unit can equal
  for (let i = 0; i < commandId.length; i++) mix(commandId.charCodeAt(i));
  // Final avalanche of each half (murmur3 fmix32).
  const fmix = (h: number) => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return [fmix(hi), fmix(lo ^ Math.imul(hi, 0x27d4eb2d))];
}

export class CommandIndex {
  private hashes: Uint32Array;
  private positions: Float64Array;
  private mask: number;
  private count = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    let size = INITIAL_CAPACITY;
    while (size < capacity * 2) size *= 2;
    this.hashes = new Uint32Array(size * 2);
    this.positions = new Float64Array(size).fill(EMPTY);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Records that the command hashed to (hi, lo) starts at `firstPosition`. */
  add(hi: number, lo: number, firstPosition: number): void {
    if ((this.count + 1) * 2 > this.positions.length) this.grow();
    this.insert(hi, lo, firstPosition);
    this.count++;
  }

  /** Every recorded first position whose hash is (hi, lo), in insertion order for one hash. */
  candidates(hi: number, lo: number): number[] {
    const found: number[] = [];
    for (let slot = lo & this.mask; ; slot = (slot + 1) & this.mask) {
      const position = this.positions[slot]!;
      if (position === EMPTY) return found;
      if (this.hashes[slot * 2] === hi && this.hashes[slot * 2 + 1] === lo) found.push(position);
    }
  }

  clear(): void {
    this.positions.fill(EMPTY);
    this.count = 0;
  }

  private insert(hi: number, lo: number, position: number): void {
    let slot = lo & this.mask;
    while (this.positions[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.hashes[slot * 2] = hi;
    this.hashes[slot * 2 + 1] = lo;
    this.positions[slot] = position;
  }

  private grow(): void {
    const { hashes, positions } = this;
    const size = positions.length * 2;
    this.hashes = new Uint32Array(size * 2);
    this.positions = new Float64Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (let slot = 0; slot < positions.length; slot++) {
      const position = positions[slot]!;
      if (position !== EMPTY) this.insert(hashes[slot * 2]!, hashes[slot * 2 + 1]!, position);
    }
  }
}
