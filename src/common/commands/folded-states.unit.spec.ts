import { describe, expect, it } from '@jest/globals';
import { FoldedStates } from './folded-states.js';

const state = (revision: number) => ({ state: { revision }, revision, tenant: 't' });

describe('FoldedStates', () => {
  it('hands a kept state out once (the caller keeps what it folds from it), and replaces a key it keeps again', () => {
    const states = new FoldedStates();
    states.keep('a', state(3));
    expect(states.take('a')).toEqual(state(3));
    expect(states.take('a')).toBeUndefined();
    states.keep('a', state(3));
    states.keep('a', state(5));
    expect(states.size).toEqual({ states: 1, entries: 6 });
    expect(states.take('a')).toEqual(state(5));
    expect(states.size).toEqual({ states: 0, entries: 0 });
  });

  it('keeps at most maxStates, the least recently kept going first', () => {
    const states = new FoldedStates({ maxStates: 2 });
    states.keep('a', state(0));
    states.keep('b', state(0));
    states.keep('a', states.take('a')!); // a is now more recent than b
    states.keep('c', state(0));
    expect([states.take('b'), states.take('a'), states.take('c')].map((s) => s !== undefined)).toEqual([false, true, true]);
  });

  it('keeps at most maxEntries folded entries in all, and no state folded from more than a quarter of them', () => {
    const states = new FoldedStates({ maxEntries: 100 });
    states.keep('big', state(25)); // 26 entries > 100 / 4
    expect(states.take('big')).toBeUndefined();
    for (const key of ['a', 'b', 'c', 'd', 'e']) states.keep(key, state(24)); // 25 entries each
    expect(states.size).toEqual({ states: 4, entries: 100 });
    expect(states.take('a')).toBeUndefined();
    expect(states.take('e')).toEqual(state(24));
  });
});
