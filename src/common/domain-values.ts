/**
 * Value rules of the IDA domain contract (docs/ida-domain.md, "Conventions"), shared by every context's deciders
 * and stored-event parsers: opaque ids of 1..200 characters, digests `sha256:<64 lowercase hex>`, scores in
 * [0, 1], JSON payloads.
 * Plain TypeScript: no Nest, no storage.
 */
import type { JsonValue } from '../ledger/entry.js';

/** Ids are opaque but bounded, so they fit stream names (`proxy-<id>`), URLs and logs. */
export const MAX_ID_LENGTH = 200;

export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/u;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && SHA256_DIGEST.test(value);
}

/** A confidence, fidelity, agreement or drift: a finite number in [0, 1]. */
export function isUnit(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

export function isNonBlank(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

/** True for JSON values that survive RFC 8785 canonicalisation (no undefined, NaN, Infinity, class instances). */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > 64) return false; // deeper than any sane payload; also stops cycles
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value).every((item) => isJsonValue(item, depth + 1));
  }
  return false;
}

export function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && isJsonValue(value);
}

/** The first value that occurs twice, or undefined. */
export function firstDuplicate<T>(values: readonly T[]): T | undefined {
  const seen = new Set<T>();
  for (const value of values) {
    if (seen.has(value)) return value;
    seen.add(value);
  }
  return undefined;
}

/** Sorted by UTF-16 code units (not locale): the same order on every machine, so recorded lists are stable. */
export function sortedDistinct(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A deep copy of a JSON value (so a state or an event never aliases its input). Not `structuredClone`: that
 * may build objects of another realm (test VMs), which `isJsonValue`'s prototype check rightly refuses.
 */
export function cloneJson<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
