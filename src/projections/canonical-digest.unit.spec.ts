import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../ledger/canonical-json.js';
import type { JsonValue } from '../ledger/entry.js';
import { CanonicalArrayDigest, fastCanonicalJson } from './canonical-digest.js';

/** JSON values canonicalJson accepts (it refuses lone surrogates); integer-like keys included on purpose. */
const json = fc
  .jsonValue({ maxDepth: 4 })
  .chain((value) => fc.constantFrom(value, { '10': value, '9': [value, -0, 1e21, 5e-7], b: 'é\u2028"\\', a: null, aa: { z: 1, '': 2 } }))
  .filter((value) => {
    try {
      canonicalJson(value as JsonValue);
      return true;
    } catch {
      return false;
    }
  });

describe('fastCanonicalJson', () => {
  it('writes the very bytes of canonicalJson (RFC 8785)', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(fastCanonicalJson(value as JsonValue)).toBe(canonicalJson(value as JsonValue));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what JSON cannot carry', () => {
    expect(() => fastCanonicalJson([Number.NaN])).toThrow(TypeError);
    expect(() => fastCanonicalJson({ f: () => 1 } as unknown as JsonValue)).toThrow(TypeError);
  });
});

describe('CanonicalArrayDigest', () => {
  it('is sha256: of the canonical JSON of the whole array, written element by element', () => {
    fc.assert(
      fc.property(fc.array(json, { maxLength: 8 }), (values) => {
        const digest = new CanonicalArrayDigest();
        for (const value of values) digest.add(value as JsonValue);
        const expected = `sha256:${createHash('sha256').update(canonicalJson(values as JsonValue)).digest('hex')}`;
        expect(digest.finish()).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});
