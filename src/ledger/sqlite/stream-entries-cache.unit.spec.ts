import { describe, expect, it } from '@jest/globals';
import { StreamEntriesCache, type StreamRow } from './stream-entries-cache.js';

let position = 0;
/** A row of exactly `chars` characters of JSON (or the bare entry's, when more). */
const row = (stream: string, revision: number, chars = 0): StreamRow => {
  const bare = JSON.stringify({ stream, revision, data: { pad: '' } }).length;
  const json = JSON.stringify({ stream, revision, data: { pad: 'x'.repeat(Math.max(0, chars - bare)) } });
  return { position: position++, revision, json, leafHash: 'ab'.repeat(32) };
};
const streamOf = (stream: string, length: number, chars = 0) => Array.from({ length }, (_, i) => row(stream, i, chars));

describe('StreamEntriesCache', () => {
  it('answers a remembered stream from any revision, each time with freshly parsed entries', () => {
    const cache = new StreamEntriesCache();
    const a = streamOf('a', 3);
    cache.remember('a', a);
    const read = cache.read('a', 0)!;
    expect(read).toEqual(a.map((r) => ({ position: r.position, entry: JSON.parse(r.json), leafHash: r.leafHash })));
    expect(cache.read('a', 2)!.map((e) => e.entry.revision)).toEqual([2]);
    expect(cache.read('a', 3)).toEqual([]);
    (read[0]!.entry as { revision: number }).revision = 99;
    read.pop();
    expect(cache.read('a', 0)!.map((e) => e.entry.revision)).toEqual([0, 1, 2]);
    expect(cache.read('b', 0)).toBeUndefined();
    expect([cache.holds('a'), cache.holds('b')]).toEqual([true, false]);
  });

  it('extends a cached stream with the next revisions, drops it when they do not follow, and keeps no stream nobody read', () => {
    const cache = new StreamEntriesCache();
    cache.remember('a', streamOf('a', 2));
    cache.extend('a', [row('a', 2), row('a', 3)]);
    expect(cache.read('a', 0)!.map((e) => e.entry.revision)).toEqual([0, 1, 2, 3]);
    cache.extend('a', [row('a', 5)]);
    expect(cache.read('a', 0)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.extend('a', [row('a', 6)]);
    expect(cache.read('a', 0)).toBeUndefined();
    cache.extend('not-read', [row('not-read', 4)]);
    expect(cache.read('not-read', 0)).toBeUndefined();
    cache.extend('new', [row('new', 0), row('new', 1)]);
    expect(cache.read('new', 0)).toBeUndefined();
  });

  it('keeps only whole streams: not one with a gap, nor one that does not start at revision 0, nor nothing at all', () => {
    const cache = new StreamEntriesCache();
    cache.remember('gap', [row('gap', 0), row('gap', 2)]);
    cache.remember('late', [row('late', 1)]);
    cache.remember('empty', []);
    expect([cache.read('gap', 0), cache.read('late', 0), cache.read('empty', 0)]).toEqual([undefined, undefined, undefined]);
  });

  it('holds at most maxChars, dropping the least recently used streams first, and no stream above its share', () => {
    const cache = new StreamEntriesCache({ maxChars: 1000, maxStreamChars: 400 });
    cache.remember('a', streamOf('a', 4, 100));
    cache.remember('b', streamOf('b', 4, 100));
    cache.read('a', 0); // a is now more recent than b
    cache.remember('c', streamOf('c', 3, 100));
    expect(cache.read('b', 0)).toBeUndefined();
    expect(cache.read('a', 0)).toHaveLength(4);
    expect(cache.size).toBe(700);
    cache.remember('big', streamOf('big', 5, 100));
    expect(cache.read('big', 0)).toBeUndefined();
    cache.extend('c', [row('c', 3, 100), row('c', 4, 100)]);
    expect(cache.read('c', 0)).toBeUndefined();
    expect(cache.size).toBe(400);
  });
});
