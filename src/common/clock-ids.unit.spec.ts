import { describe, expect, it } from '@jest/globals';
import { FixedClock, SystemClock } from './clock.js';
import { SequentialIdGenerator, UuidV7IdGenerator } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u;

describe('clocks', () => {
  it('SystemClock returns the current time as a fresh Date', () => {
    const clock = new SystemClock();
    const before = Date.now();
    const a = clock.now();
    expect(a.getTime()).toBeGreaterThanOrEqual(before);
    expect(clock.now()).not.toBe(a);
  });

  it('FixedClock moves only when told, and hands out copies', () => {
    const clock = new FixedClock('2025-01-01T00:00:00Z');
    const a = clock.now();
    a.setFullYear(1999);
    expect(clock.now().toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(clock.advance(1500).now().toISOString()).toBe('2025-01-01T00:00:01.500Z');
    expect(clock.set(new Date(0)).now().getTime()).toBe(0);
    expect(() => new FixedClock('not a date')).toThrow(RangeError);
  });
});

describe('id generators', () => {
  it('UuidV7IdGenerator yields unique, sortable UUID v7 strings', () => {
    const ids = new UuidV7IdGenerator();
    const many = Array.from({ length: 1000 }, () => ids.newId());
    for (const id of many) expect(id).toMatch(UUID_V7);
    expect(new Set(many).size).toBe(many.length);
    expect([...many].sort()).toEqual(many);
  });

  it('SequentialIdGenerator is deterministic, UUID-v7 shaped and sortable', () => {
    const a = new SequentialIdGenerator();
    const b = new SequentialIdGenerator();
    const first = [a.newId(), a.newId(), a.newId()];
    expect(first).toEqual([b.newId(), b.newId(), b.newId()]);
    expect(first[0]).toBe('00000000-0000-7000-8000-000000000001');
    for (const id of first) expect(id).toMatch(UUID_V7);
    const big = new SequentialIdGenerator(0xfff_ffff_ffffn);
    const sequence = Array.from({ length: 5 }, () => big.newId());
    expect([...sequence].sort()).toEqual(sequence);
    expect(new SequentialIdGenerator((1n << 62n) - 1n).newId()).toMatch(UUID_V7);
  });
});
