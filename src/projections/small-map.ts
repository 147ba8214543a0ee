/**
 * A string-keyed map for the many small maps a projection keeps per query (its jobs, its nodes' questions...):
 * a flat `[key, value, key, value, ...]` array while it holds few entries, a `Map` beyond. A `Map` of three
 * entries costs about ten times the memory of its contents, and a projection of a million-entry log keeps
 * several per query: memory the garbage collector copies and scans for nothing.
 */
const FLAT_LIMIT = 8;
const EMPTY: never[] = Object.freeze([]) as unknown as never[];

export class SmallMap<V> {
  /** Exactly as long as its contents (grown by copying: it stays below 16 slots); EMPTY (shared) at first. */
  private flat: (string | V)[] | null = EMPTY;
  private map: Map<string, V> | null = null;

  get size(): number {
    return this.map !== null ? this.map.size : this.flat!.length / 2;
  }

  get(key: string): V | undefined {
    const flat = this.flat;
    if (flat === null) return this.map!.get(key);
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === key) return flat[i + 1] as V;
    return undefined;
  }

  has(key: string): boolean {
    const flat = this.flat;
    if (flat === null) return this.map!.has(key);
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === key) return true;
    return false;
  }

  set(key: string, value: V): this {
    const flat = this.flat;
    if (flat === null) {
      this.map!.set(key, value);
      return this;
    }
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] === key) {
        flat[i + 1] = value;
        return this;
      }
    }
    if (flat.length < FLAT_LIMIT * 2) {
      const grown = new Array<string | V>(flat.length + 2);
      for (let i = 0; i < flat.length; i++) grown[i] = flat[i]!;
      grown[flat.length] = key;
      grown[flat.length + 1] = value;
      this.flat = grown;
      return this;
    }
    const map = new Map<string, V>();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i] as string, flat[i + 1] as V);
    map.set(key, value);
    this.map = map;
    this.flat = null;
    return this;
  }

  /** Values in insertion order. */
  *values(): Generator<V> {
    if (this.map !== null) {
      yield* this.map.values();
      return;
    }
    const flat = this.flat!;
    for (let i = 1; i < flat.length; i += 2) yield flat[i] as V;
  }
}
