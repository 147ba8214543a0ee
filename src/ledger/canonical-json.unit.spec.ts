import { describe, expect, it } from '@jest/globals';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson } from './canonical-json.js';

/**
 * RFC 8785 (JCS). Vectors: the RFC's own examples (§3.2.2 / §3.2.3 / Appendix B) and the RFC author's
 * test data (github.com/cyberphone/json-canonicalization, testdata/input|output).
 */

function float64(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

describe('canonicalJson: RFC 8785 vectors', () => {
  it('§3.2.2 example: literals, numbers and string escaping', () => {
    // The RFC's input, as JSON text (so every escape is the RFC's, not JavaScript's).
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it('the reference README sample, down to its UTF-8 bytes', () => {
    const input = String.raw`{
      "numbers": [1E30,4.50,6,2e-3,0.000000000000000000000000001],
      "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "other":  [null, true, false]
    }`;
    const hex = `7b 22 65 73 63 61 70 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c
      5c 5c 5c 22 2f 22 2c 22 6e 75 6d 62 65 72 73 22 3a 5b 31 65 2b 33 30 2c 34 2e 35 2c 36 2c 30 2e
      30 30 32 2c 31 65 2d 32 37 5d 2c 22 6f 74 68 65 72 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61
      6c 73 65 5d 7d`.replace(/\s+/gu, '');
    expect(Buffer.from(canonicalJson(JSON.parse(input)), 'utf8').toString('hex')).toBe(hex);
  });

  it('§3.2.3 sorts member names by UTF-16 code units (the emoji sorts before U+FB33)', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // (JSON.parse would list the integer key "1" first whatever the text says: read the text.)
    const text = canonicalJson(JSON.parse(input));
    const order = [...text.matchAll(/:"([^"]+)"/gu)].map((m) => m[1]);
    expect(order).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')).toBe(true);
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text (the finite rows).
  const appendixB: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  it.each(appendixB)('Appendix B: 0x%s serialises as %s', (bits, expected) => {
    expect(canonicalJson(float64(bits))).toBe(expected);
    expect(canonicalJson([float64(bits)])).toBe(`[${expected}]`);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
  ])('Appendix B: 0x%s (%s) is refused with a TypeError', (bits) => {
    expect(() => canonicalJson(float64(bits))).toThrow(TypeError);
  });

  it.each([
    [1e30, '1e+30'],
    [4.5e-7, '4.5e-7'],
    [-0, '0'],
    [333333333.33333329, '333333333.3333333'],
    [4.5, '4.5'],
    [2e-3, '0.002'],
    [1e-27, '1e-27'],
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
  ])('number %p serialises as %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('reference test data: structures.json', () => {
    const input = '{\n  "1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0},\n  "10": { },\n  "": "empty",\n  "a": { },\n  "111": [ { } ],\n  "A": { }\n}';
    expect(canonicalJson(JSON.parse(input))).toBe('{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}');
  });

  it('reference test data: weird.json (control characters, astral keys, "</script>")', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "1": "One",
      "\u0080": "Control\u007f",
      "\ud83d\ude02": "Smiley",
      "\u00f6": "Latin Small Letter O With Diaeresis",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "</script>": "Browser Challenge"
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('reference test data: values.json', () => {
    const input = String.raw`{
      "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
      "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      String.raw`{"escaping":"€$\u000f\nA'B\"\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}`,
    );
  });

  it('reference test data: french.json (locale-independent order) and unicode.json (no normalisation)', () => {
    const french = '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ingnore locale"}';
    expect(canonicalJson({ sin: 'ingnore locale', pêche: 'but canonicalization MUST', péché: 'is wrong according to French', peach: 'This sorting order' })).toBe(french);
    expect(canonicalJson(JSON.parse('{"Unnormalized Unicode":"\\u1e0d\\u0307"}'))).toBe('{"Unnormalized Unicode":"\u1e0d\u0307"}');
  });

  it('escapes exactly as §3.2.2.2 says: the short escapes, \\u00xx for other controls, nothing else', () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');
    expect(canonicalJson(all + '"\\/\u007f\u2028\u2029')).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f' +
        '\\"\\\\/\u007f\u2028\u2029"',
    );
  });
});

describe('canonicalJson: refusals', () => {
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const circularArray: unknown[] = [1];
  circularArray.push(circularArray);

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a nested NaN', { a: { b: [1, Number.NaN] } }],
    ['a nested Infinity', [[Number.POSITIVE_INFINITY]]],
    ['an undefined member', { a: 1, b: undefined }],
    ['an undefined array element', [1, undefined, 2]],
    ['a function member', { a: 1, f: () => 1 }],
    ['a function array element', [() => 1]],
    ['a symbol member', { s: Symbol('s') }],
    ['a bigint', { n: 1n }],
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00b'],
    ['a reversed surrogate pair', '\ude00\ud83d'],
    ['a lone surrogate in a key', { '\ud800': 1 }],
    ['a circular object', circular],
    ['a circular array', circularArray],
  ])('refuses %s with a TypeError', (_, value) => {
    expect(() => canonicalJson(value as object)).toThrow(TypeError);
  });

  it('names where the refused value is', () => {
    expect(() => canonicalJson({ a: { b: [1, Number.NaN] } })).toThrow('NaN at $["a"]["b"][1]');
    expect(() => canonicalJson({ data: { x: undefined } })).toThrow('undefined at $["data"]["x"]');
    expect(() => canonicalJson(undefined as unknown as object)).toThrow('undefined at $ ');
  });

  it('refuses NaN, ±Infinity and undefined wherever they are put in any JSON value', () => {
    const bad = fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined);
    const place = (container: unknown, value: unknown, key: string): unknown =>
      Array.isArray(container) ? [...container, value] : container !== null && typeof container === 'object' ? { ...container, [key]: value } : { v: container, [key]: value }; // key last: a key `v` must not overwrite the bad value
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 2 }), bad, fc.string(), (outer, inner, value, key) => {
        const tainted = place(outer, place(inner, value, key), `${key}!`);
        expect(() => canonicalJson(tainted as object)).toThrow(TypeError);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts surrogate pairs and serialises objects with toJSON through it, as JSON.stringify does', () => {
    expect(canonicalJson({ e: '\ud83d\ude00' })).toBe('{"e":"\ud83d\ude00"}');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });
});

/** Rebuilds every object with its members in a shuffled insertion order. */
function reorder(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, random));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, reorder(v, random)]));
}

describe('canonicalJson: properties', () => {
  const json = fc.jsonValue({ maxDepth: 4 });

  it('is a fixed point: canonicalJson(JSON.parse(canonicalJson(x))) === canonicalJson(x)', () => {
    fc.assert(
      fc.property(json, (value) => {
        const once = canonicalJson(value as object);
        expect(canonicalJson(JSON.parse(once) as object)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on member insertion order', () => {
    fc.assert(
      fc.property(json, fc.integer(), (value, seed) => {
        let state = seed >>> 0;
        const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        expect(canonicalJson(reorder(value, random) as object)).toBe(canonicalJson(value as object));
      }),
      { numRuns: 300 },
    );
  });

  it('is valid JSON that parses back to the same value, with no insignificant whitespace', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value as object);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(text.length).toBeLessThanOrEqual(JSON.stringify(value).length);
      }),
      { numRuns: 300 },
    );
  });

  it('is byte-identical to the `canonicalize` reference implementation on every JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        expect(canonicalJson(value as object)).toBe(canonicalize(value));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(canonicalJson(n)).toBe(canonicalize(n));
        expect(Number(canonicalJson(n))).toBe(n === 0 ? 0 : n); // numbers round-trip exactly (-0 aside)
      }),
      { numRuns: 1000 },
    );
  });

  it('sorts any member names by UTF-16 code units, whatever their characters', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'binary' }).filter((k) => !/\p{Cs}/u.test(k)), { maxLength: 12 }), (keys) => {
        const object = Object.fromEntries(keys.map((k, i) => [k, i]));
        const byCodeUnits = [...keys].sort((a, b) => {
          for (let i = 0; i < Math.min(a.length, b.length); i++) {
            const d = a.charCodeAt(i) - b.charCodeAt(i);
            if (d !== 0) return d;
          }
          return a.length - b.length;
        });
        const expected = `{${byCodeUnits.map((k) => `${JSON.stringify(k)}:${keys.indexOf(k)}`).join(',')}}`;
        expect(canonicalJson(object)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
