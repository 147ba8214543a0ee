import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CommandIndex, commandHash } from './command-index.js';

describe('CommandIndex', () => {
  it('finds every added command among the candidates of its hash, across growth', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 40 })), { maxLength: 3000 }), (commands) => {
        const index = new CommandIndex();
        commands.forEach(([tenant, commandId], position) => index.add(...commandHash(tenant, commandId), position));
        expect(index.size).toBe(commands.length);
        commands.forEach(([tenant, commandId], position) => {
          expect(index.candidates(...commandHash(tenant, commandId))).toContain(position);
        });
      }),
      { numRuns: 20 },
    );
  });

  it('keeps every position of a colliding hash, so the caller can confirm each against its row', () => {
    const index = new CommandIndex();
    index.add(7, 9, 10);
    index.add(7, 9, 42);
    index.add(7, 10, 99);
    expect(index.candidates(7, 9)).toEqual([10, 42]);
    expect(index.candidates(7, 10)).toEqual([99]);
    expect(index.candidates(8, 9)).toEqual([]);
  });

  it('separates tenant from command id (no ambiguity at the boundary)', () => {
    expect(commandHash('ab', 'c')).not.toEqual(commandHash('a', 'bc'));
    expect(commandHash('acme', 'k-1')).toEqual(commandHash('acme', 'k-1'));
  });
});
