import { createHash, hash as oneShotHash, type Hash } from 'node:crypto';
import type { JsonValue } from '../ledger/entry.js';

/**
 * RFC 8785 canonical JSON of a projection's own content, several times faster than `canonicalJson` (the
 * projections' digests serialise their whole state: tens of megabytes on a large log). Byte-identical to
 * `canonicalJson` for every value it accepts (canonical-digest.unit.spec.ts checks it on random values): members
 * sorted by UTF-16 code units, strings as `JSON.stringify` writes them, numbers as ECMAScript's Number::toString.
 * It skips `canonicalJson`'s refusals, which guard what gets signed: a projection's content is built from
 * entries the store already canonicalised on append (no lone surrogates, no NaN, no undefined), by code that
 * never puts a function or a cycle in it. `undefined` members are omitted, as `JSON.stringify` does.
 */
export function fastCanonicalJson(value: JsonValue | object): string {
  // Parts joined once: several times cheaper than growing one string (V8 ropes) on large values.
  const parts: string[] = [];
  writeCanonical(value, parts);
  return parts.join('');
}

/** `"key":` per member name: the same few names recur millions of times in a projection's content. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 10_000;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    // Bounded: member names of user data (query inputs) are unbounded in number.
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function writeCanonical(value: unknown, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`fastCanonicalJson: ${value} is not representable as JSON`);
      out.push(String(value)); // Number::toString, as JSON.stringify; -0 becomes 0
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          writeCanonical(value[i], out);
        }
        out.push(']');
        return;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      // Sorted by UTF-16 code units (the default sort); most objects here are already in order: check first.
      for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1]! > keys[i]!) {
          keys.sort();
          break;
        }
      }
      let separator = '{';
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        out.push(separator + quotedKey(key));
        separator = ',';
        writeCanonical(member, out);
      }
      out.push(separator === '{' ? '{}' : '}');
      return;
    }
    default:
      throw new TypeError(`fastCanonicalJson: a ${typeof value} is not representable as JSON`);
  }
}

/**
 * `sha256:` + hex SHA-256 of the RFC 8785 JSON of an array, written element by element. The bytes hashed are
 * exactly `canonicalJson([e0, e1, …])` (an array's canonical form is `[` + its elements' canonical forms
 * joined by `,` + `]`), but the whole text never exists at once: a million-entry projection would otherwise
 * build a string of hundreds of megabytes just to hash it.
 *
 * The caller gives the elements already in their sorted order.
 */
export class CanonicalArrayDigest {
  private readonly hash: Hash = createHash('sha256').update('[');
  private first = true;

  add(element: JsonValue): this {
    this.hash.update(this.first ? fastCanonicalJson(element) : `,${fastCanonicalJson(element)}`);
    this.first = false;
    return this;
  }

  /**
   * Starts an element the caller writes in pieces (`write`), for one too large to serialise at once; the pieces
   * written until the next element (or `finish`) MUST be exactly its canonical JSON.
   */
  beginElement(): this {
    if (!this.first) this.hash.update(',');
    this.first = false;
    return this;
  }

  /** A piece of the element begun last (canonical JSON text). */
  write(text: string): this {
    this.hash.update(text);
    return this;
  }

  finish(): string {
    return `sha256:${this.hash.update(']').digest('hex')}`;
  }
}

/** Sorted copy of strings by UTF-16 code units (RFC 8785's member order; locale-independent). */
export function sortedStrings(values: Iterable<string>): string[] {
  return [...values].sort(compareStrings);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `sha256:` + hex SHA-256 of a text (a canonical JSON already written). */
export function sha256Digest(text: string): string {
  return `sha256:${oneShotHash('sha256', text, 'hex')}`;
}
