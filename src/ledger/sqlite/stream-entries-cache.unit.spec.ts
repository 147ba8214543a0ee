import { describe, expect, it } from '@jest/globals';
import type { IntegratedEntry } from '../entry.js';
import { StreamEntriesCache } from './stream-entries-cache.js';

let position = 0;
const entry = (stream: string, revision: number): IntegratedEntry =>
  ({ position: position++, leafHash: 'ab', entry: { stream, revision, data: { n: revision }, meta: { actor: { sub: 's' } } } }) as unknown as IntegratedEntry;
const streamOf = (stream: string, length: number) => Array.from({ length }, (_, i) => entry(stream, i));

describe('StreamEntriesCache', () => {
  it('answers a remembered stream from any revision, as new arrays of frozen entries', () => {
    const cache = new StreamEntriesCache();
    const a = streamOf('a', 3);
    cache.remember('a', a);
    const read = cache.read('a', 0)!;
    expect(read).toEqual(a);
    expect(cache.read('a', 2)).toEqual([a[2]]);
    expect(cache.read('a', 3)).toEqual([]);
    read.pop();
    expect(cache.read('a', 0)).toHaveLength(3);
    expect(Object.isFrozen(read[0]) && Object.isFrozen(read[0]!.entry) && Object.isFrozen((read[0]!.entry.meta as { actor: object }).actor)).toBe(true);
    expect(cache.read('b', 0)).toBeUndefined();
  });

  it('keeps a new stream from birth, extends a cached one with the next revisions, and drops it when they do not follow', () => {
    const cache = new StreamEntriesCache();
    cache.remember('a', streamOf('a', 2));
    cache.extend('a', [entry('a', 2), entry('a', 3)]);
    expect(cache.read('a', 0)!.map((e) => e.entry.revision)).toEqual([0, 1, 2, 3]);
    cache.extend('a', [entry('a', 5)]);
    expect(cache.read('a', 0)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.extend('a', [entry('a', 6)]);
    expect(cache.read('a', 0)).toBeUndefined();
    cache.extend('not-read', [entry('not-read', 4)]);
    expect(cache.read('not-read', 0)).toBeUndefined();
    cache.extend('new', [entry('new', 0), entry('new', 1)]);
    expect(cache.read('new', 1)!.map((e) => e.entry.revision)).toEqual([1]);
  });

  it('keeps only whole streams: not one with a gap, another stream\'s entries or nothing at all', () => {
    const cache = new StreamEntriesCache();
    cache.remember('gap', [entry('gap', 0), entry('gap', 2)]);
    cache.remember('mixed', [entry('mixed', 0), entry('other', 1)]);
    cache.remember('empty', []);
    expect([cache.read('gap', 0), cache.read('mixed', 0), cache.read('empty', 0)]).toEqual([undefined, undefined, undefined]);
  });

  it('holds at most maxEntries, dropping the least recently used streams first, and no stream above its share', () => {
    const cache = new StreamEntriesCache({ maxEntries: 10, maxStreamEntries: 4 });
    cache.remember('a', streamOf('a', 4));
    cache.remember('b', streamOf('b', 4));
    cache.read('a', 0); // a is now more recent than b
    cache.remember('c', streamOf('c', 3));
    expect(cache.read('b', 0)).toBeUndefined();
    expect(cache.read('a', 0)).toHaveLength(4);
    expect(cache.size).toBe(7);
    cache.remember('big', streamOf('big', 5));
    expect(cache.read('big', 0)).toBeUndefined();
    cache.extend('c', [entry('c', 3), entry('c', 4)]);
    expect(cache.read('c', 0)).toBeUndefined();
    expect(cache.size).toBe(4);
  });
});
