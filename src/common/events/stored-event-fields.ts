/**
 * Reading stored events back, for every context's parser (`parseQueryEvent`, `parseRunEvent`, ...): the type and
 * schema check, field readers that name the event and the field in the error, and the meta every `evolve`
 * needs. A malformed event in a signed log is a defect, never a client mistake: the readers throw an internal
 * `LedgerError` with the context's code (`QUERY.EVENT_INVALID`, ...; 500, logged) rather than half-apply it.
 * Plain TypeScript: no Nest, no storage.
 */
import type { Actor, JsonObject, JsonValue, ProposedEvent, Role } from '../../ledger/entry.js';
import { cloneJson, isDigest, isId, isJsonObject, isJsonValue, isUnit } from '../domain-values.js';
import { LedgerError } from '../ledger-error.js';

/** Meta of a recorded entry that an aggregate needs: whose tenant, who acted, when. */
export type RecordedMeta = { tenant: string; actor: Actor; recordedAt: string };

/** The stored fields an event parser reads; a `ProposedEvent`, `UnsignedEntry` or `SignedEntry` satisfies it. */
export type StoredEvent = { type: string; schema: number; data: JsonObject };

/** What a handler hands to the event store (which adds stream, revision, id, meta, signature): a copy of the event's own fields only. */
export function toProposed(event: StoredEvent): ProposedEvent {
  return { type: event.type, schema: event.schema, data: event.data };
}

/** The entry fields `recordedMeta` reads as well; an `UnsignedEntry` / `SignedEntry` satisfies it. */
export type RecordableEntry = StoredEvent & {
  meta: { tenant: string; actor: Actor; recordedAt: string };
  revision: number;
};

/** An event as read back from its stream: `evolve`'s input. */
export type Recorded<E> = E & { meta: RecordedMeta; revision: number };

/** `(type, reason) => LedgerError` of one aggregate, e.g. `DISTILLATION.EVENT_INVALID`. */
export type BadEvent = (type: string, reason: string) => LedgerError;

/** `isXEventType` of one aggregate: true for the types it owns (its streams may also carry other contexts' events). */
export function eventTypeGuard<T extends string>(types: readonly T[]): (type: string) => type is T {
  const owned: ReadonlySet<string> = new Set(types);
  return (type): type is T => owned.has(type);
}

export function badEventOf(code: string): BadEvent {
  return (type, reason) =>
    new LedgerError(code, 'internal', `Stored event ${type} is invalid: ${reason}`, { eventType: type, reason });
}

/**
 * The first step of every parser: `entry.type` must be one the aggregate owns and `entry.schema` a version it
 * can read (`readableSchemas(type)`; upcasting older ones is the parser's job); returns the narrowed type and
 * readers over the data object.
 */
export function openStoredEvent<T extends string>(
  entry: StoredEvent,
  isType: (type: string) => type is T,
  readableSchemas: (type: T) => readonly number[],
  bad: BadEvent,
): { type: T; fields: Fields } {
  const type = entry?.type;
  if (typeof type !== 'string' || !isType(type)) throw bad(String(type), 'unknown event type');
  if (!readableSchemas(type).includes(entry.schema)) throw bad(type, `unsupported schema version ${String(entry.schema)}`);
  const data = entry.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw bad(type, 'data is not an object');
  return { type, fields: new Fields(type, data, bad) };
}

/** Copies and checks the meta and revision of a stored entry, so a state never aliases the entry. */
export function recordedMeta(entry: RecordableEntry, bad: BadEvent): { meta: RecordedMeta; revision: number } {
  const meta = entry.meta;
  if (
    meta === null ||
    typeof meta !== 'object' ||
    typeof meta.tenant !== 'string' ||
    typeof meta.recordedAt !== 'string' ||
    typeof meta.actor?.sub !== 'string' ||
    typeof meta.actor?.role !== 'string'
  ) {
    throw bad(entry.type, 'meta lacks tenant, actor or recordedAt');
  }
  if (!Number.isSafeInteger(entry.revision) || entry.revision < 0) throw bad(entry.type, 'bad revision');
  return {
    meta: { tenant: meta.tenant, actor: { sub: meta.actor.sub, role: meta.actor.role as Role }, recordedAt: meta.recordedAt },
    revision: entry.revision,
  };
}

/** Field readers over one stored object (an event's data, or a nested object of it). */
export class Fields {
  constructor(
    private readonly type: string,
    private readonly data: JsonObject,
    private readonly bad: BadEvent,
    /** Where `data` sits in the event, for the error ("data", "data.artifact", "data.members[0]"). */
    private readonly path = 'data',
  ) {}

  fail(field: string, expected: string): never {
    throw this.bad(this.type, `${this.path}.${field} must be ${expected}`);
  }

  /** Own fields only: a name such as `constructor` never reads the prototype. */
  raw(field: string): JsonValue | undefined {
    return Object.prototype.hasOwnProperty.call(this.data, field) ? this.data[field] : undefined;
  }

  str(field: string): string {
    const v = this.raw(field);
    return typeof v === 'string' ? v : this.fail(field, 'a string');
  }

  strOrNull(field: string): string | null {
    return this.raw(field) === null ? null : this.str(field);
  }

  id(field: string): string {
    const v = this.raw(field);
    return isId(v) ? v : this.fail(field, 'an id');
  }

  idOrNull(field: string): string | null {
    return this.raw(field) === null ? null : this.id(field);
  }

  digest(field: string): string {
    const v = this.raw(field);
    return isDigest(v) ? v : this.fail(field, 'a sha256:<hex> digest');
  }

  int(field: string): number {
    const v = this.raw(field);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : this.fail(field, 'a non-negative integer');
  }

  unit(field: string): number {
    const v = this.raw(field);
    return isUnit(v) ? v : this.fail(field, 'a number in [0, 1]');
  }

  unitOrNull(field: string): number | null {
    return this.raw(field) === null ? null : this.unit(field);
  }

  num(field: string): number {
    const v = this.raw(field);
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(field, 'a finite number');
  }

  numOrNull(field: string): number | null {
    return this.raw(field) === null ? null : this.num(field);
  }

  bool(field: string): boolean {
    const v = this.raw(field);
    return typeof v === 'boolean' ? v : this.fail(field, 'a boolean');
  }

  oneOf<const T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.raw(field);
    return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : this.fail(field, `one of ${allowed.join(', ')}`);
  }

  strings(field: string): string[] {
    const v = this.raw(field);
    if (!Array.isArray(v) || !v.every((item) => typeof item === 'string')) return this.fail(field, 'an array of strings');
    return [...(v as string[])];
  }

  /** Any JSON value but an absent one (`null` included), as stored. */
  json(field: string): JsonValue {
    const v = this.raw(field);
    return v !== undefined && isJsonValue(v) ? v : this.fail(field, 'a JSON value');
  }

  jsonObject(field: string): JsonObject {
    const v = this.raw(field);
    // A structured clone: the state never aliases the stored entry.
    return isJsonObject(v) ? cloneJson(v) : this.fail(field, 'a JSON object');
  }

  /** Readers over a nested object; their errors name the path (`data.assignee.jobId`). */
  object(field: string): Fields {
    const v = this.raw(field);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return this.fail(field, 'an object');
    return new Fields(this.type, v, this.bad, `${this.path}.${field}`);
  }

  /** Readers over each object of an array (`data.members[0].jobId`). */
  objects(field: string): Fields[] {
    const v = this.raw(field);
    if (!Array.isArray(v)) return this.fail(field, 'an array');
    return v.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) return this.fail(`${field}[${i}]`, 'an object');
      return new Fields(this.type, item, this.bad, `${this.path}.${field}[${i}]`);
    });
  }
}
