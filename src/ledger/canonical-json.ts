import type { JsonValue } from './entry.js';

/**
 * RFC 8785 (JCS) canonical JSON: object members sorted by UTF-16 code units, no whitespace, strings and
 * numbers serialised as ECMAScript's JSON.stringify does (RFC 8785 §3.2.2 defines them that way).
 *
 * For every JSON value the output is byte-identical to the `canonicalize` package, the RFC authors'
 * reference implementation (canonical-json.unit.spec.ts checks this on random values). It differs only in
 * what it refuses: a signature must cover exactly the bytes that are stored, so anything JSON cannot carry
 * exactly throws a TypeError naming where it is, instead of being dropped (`undefined` or symbol members),
 * turned into `null` (`undefined` array elements) or, for functions, written as the invalid token
 * `undefined` (which `canonicalize` does). Refused: `undefined`, functions, symbols, bigints, NaN and
 * ±Infinity, strings with a lone surrogate (RFC 8785 §3.2.2.2: I-JSON), and circular structures.
 * Objects with `toJSON` (e.g. Date) are serialised through it, as `canonicalize` and JSON.stringify do.
 */
export function canonicalJson(value: JsonValue | object): string {
  try {
    return serialize(value, []);
  } catch (error) {
    if (error instanceof NotJson) {
      throw new TypeError(`canonicalJson: ${error.what} at $${error.path.reverse().join('')} is not representable as JSON`);
    }
    throw error;
  }
}

class NotJson extends Error {
  readonly path: string[] = [];
  constructor(readonly what: string) {
    super(what);
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

function serialize(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new NotJson('a string with a lone surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new NotJson(String(value));
      return JSON.stringify(value); // ECMAScript Number::toString; -0 becomes 0
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return serializeObject(value, ancestors);
    default:
      // undefined, function, symbol, bigint
      throw new NotJson(typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`);
  }
}

function serializeObject(value: object, ancestors: object[]): string {
  if (ancestors.includes(value)) throw new NotJson('a circular reference');
  ancestors.push(value);
  let text: string;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    text = serialize(toJSON.call(value), ancestors);
  } else if (Array.isArray(value)) {
    text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      try {
        text += serialize(value[i], ancestors);
      } catch (error) {
        if (error instanceof NotJson) error.path.push(`[${i}]`);
        throw error;
      }
    }
    text += ']';
  } else {
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is the order RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    text = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > 0) text += ',';
      try {
        text += `${serialize(key, ancestors)}:${serialize(record[key], ancestors)}`;
      } catch (error) {
        if (error instanceof NotJson) error.path.push(`[${JSON.stringify(key)}]`);
        throw error;
      }
    }
    text += '}';
  }
  ancestors.pop();
  return text;
}
