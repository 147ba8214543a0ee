/**
 * The distillation-run and proxy events of docs/ida-domain.md that the projections fold (query events are
 * folded by the decision trees, which reuse the amplification fold, and read from there by the projections
 * derived from them), parsed from raw entries defensively: only the members a projection reads, each checked.
 * A known type with a bad shape or an unsupported schema is a defect of the log, never skipped: the parse
 * fails with the reason, and the projection turns it into `PROJECTION.EVENT_INVALID` at the entry's position.
 * Unknown types parse to `null` (other contexts' events, events of a later issue).
 *
 * Several projections parse the same entry one after another (the host applies each entry to all of them):
 * a one-slot cache keyed by the entry object makes that one parse.
 */
import type { JsonValue, SignedEntry } from '../ledger/entry.js';

export type Meta = { tenant: string; sub: string; role: string; recordedAt: string };

type Ev<T extends string, D> = { type: T; stream: string; revision: number; meta: Meta } & D;

export type ProxySource = { kind: 'distillation'; runId: string } | { kind: 'imported' };
export const PROXY_STAGES = ['candidate', 'shadow', 'production', 'retired'] as const;
export type ProxyStage = (typeof PROXY_STAGES)[number];

export type ProjectedEvent =
  | Ev<
      'DistillationRunStarted',
      { runId: string; parentProxyVersionId: string | null; teacherProxyVersionIds: string[]; humanPool: string[]; queryIds: string[] }
    >
  | Ev<'DistillationRunCompleted', { runId: string }>
  | Ev<'DistillationRunFailed', { runId: string }>
  | Ev<
      'ProxyRegistered',
      { proxyVersionId: string; name: string; version: string; source: ProxySource; parentProxyVersionId: string | null }
    >
  | Ev<'ProxyPromoted', { to: ProxyStage }>
  | Ev<'ProxyDemoted', { to: ProxyStage }>
  | Ev<'ProxyRetired', object>;

export type ProjectedEventType = ProjectedEvent['type'];

/** Stream prefix of each context (docs/ida-domain.md): a known type on another stream is refused. */
const STREAM_PREFIX: Record<ProjectedEventType, string> = {
  DistillationRunStarted: 'distillation-',
  DistillationRunCompleted: 'distillation-',
  DistillationRunFailed: 'distillation-',
  ProxyRegistered: 'proxy-',
  ProxyPromoted: 'proxy-',
  ProxyDemoted: 'proxy-',
  ProxyRetired: 'proxy-',
};

const KNOWN: ReadonlyMap<string, string> = new Map(Object.entries(STREAM_PREFIX));

/** Why a known entry could not be parsed (the projection adds its name and the position). */
export class EventParseError extends Error {}

/** Ids are opaque strings of 1..200 characters (docs/ida-domain.md). */
const MAX_ID = 200;

class Fields {
  /** `path`: where this object sits in the entry (`data`, `data.teacher`, ...), for the error message. */
  constructor(
    readonly data: Record<string, JsonValue>,
    private readonly path = 'data',
  ) {}

  private fail(name: string, expected: string): never {
    throw new EventParseError(`${this.path}.${name} must be ${expected}`);
  }

  str(name: string): string {
    const v = this.data[name];
    return typeof v === 'string' ? v : this.fail(name, 'a string');
  }

  id(name: string): string {
    const v = this.data[name];
    return isId(v) ? v : this.fail(name, `an id (1..${MAX_ID} characters)`);
  }

  idOrNull(name: string): string | null {
    return this.data[name] === null ? null : this.id(name);
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.data[name];
    return values.includes(v as T) ? (v as T) : this.fail(name, `one of ${values.join(', ')}`);
  }

  ids(name: string): string[] {
    const v = this.data[name];
    return Array.isArray(v) && v.every(isId) ? (v as string[]) : this.fail(name, 'an array of ids');
  }

  strings(name: string): string[] {
    const v = this.data[name];
    return Array.isArray(v) && v.every((item) => typeof item === 'string') ? (v as string[]) : this.fail(name, 'an array of strings');
  }

  object(name: string): Fields {
    return new Fields(objectAt(this.data[name], `${this.path}.${name}`), `${this.path}.${name}`);
  }
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;
}

function objectAt(value: unknown, what: string): Record<string, JsonValue> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new EventParseError(`${what} must be an object`);
  return value as Record<string, JsonValue>;
}

function parseMeta(entry: SignedEntry): Meta {
  const meta = entry.meta as Partial<SignedEntry['meta']> | undefined;
  const actor = meta?.actor;
  if (
    typeof meta?.tenant !== 'string' ||
    typeof meta.recordedAt !== 'string' ||
    typeof actor?.sub !== 'string' ||
    typeof actor.role !== 'string'
  )
    throw new EventParseError('meta lacks tenant, actor or recordedAt');
  return { tenant: meta.tenant, sub: actor.sub, role: actor.role, recordedAt: meta.recordedAt };
}

/**
 * Reads the members of `type` into `event` (which holds type, stream, revision and meta already): one object
 * per event, no copy of a parsed `data`.
 */
function parseData(type: ProjectedEventType, schema: number, f: Fields, event: Record<string, unknown>): void {
  // Every type read here is at schema 1 still.
  if (schema !== 1) throw new EventParseError(`unsupported schema version ${String(schema)}`);
  switch (type) {
    case 'ProxyRetired':
      return;
    case 'DistillationRunStarted': {
      const teacher = f.object('teacher');
      event.runId = f.id('runId');
      event.parentProxyVersionId = f.idOrNull('parentProxyVersionId');
      event.teacherProxyVersionIds = teacher.ids('proxyVersionIds');
      event.humanPool = teacher.strings('humanPool');
      event.queryIds = f.object('dataset').ids('queryIds');
      return;
    }
    case 'DistillationRunCompleted':
    case 'DistillationRunFailed':
      event.runId = f.id('runId');
      return;
    case 'ProxyRegistered': {
      const source = f.object('source');
      const kind = source.oneOf('kind', ['distillation', 'imported'] as const);
      const parsedSource: ProxySource = kind === 'distillation' ? { kind, runId: source.id('runId') } : { kind };
      event.proxyVersionId = f.id('proxyVersionId');
      event.name = f.str('name');
      event.version = f.str('version');
      event.source = parsedSource;
      event.parentProxyVersionId = f.idOrNull('parentProxyVersionId');
      return;
    }
    case 'ProxyPromoted':
    case 'ProxyDemoted':
      event.to = f.oneOf('to', PROXY_STAGES);
      return;
    default:
      assertNeverType(type);
  }
}

function assertNeverType(value: never): never {
  throw new EventParseError(`unexpected event type ${String(value)}`);
}

let cachedEntry: SignedEntry | null = null;
let cachedResult: ProjectedEvent | EventParseError | null = null;

/**
 * The parsed event of an entry, `null` for a type no projection here folds; throws `EventParseError` for a
 * known type it cannot read.
 */
export function parseProjectedEvent(entry: SignedEntry): ProjectedEvent | null {
  if (entry !== cachedEntry) {
    cachedResult = parseUncached(entry);
    cachedEntry = entry;
  }
  if (cachedResult instanceof EventParseError) throw cachedResult;
  return cachedResult;
}

function parseUncached(entry: SignedEntry): ProjectedEvent | EventParseError | null {
  const type = entry.type;
  const prefix = KNOWN.get(type);
  if (prefix === undefined) return null;
  try {
    if (typeof entry.stream !== 'string' || !entry.stream.startsWith(prefix) || entry.stream.length === prefix.length)
      throw new EventParseError(`a ${type} belongs on a ${prefix}<id> stream, not ${String(entry.stream)}`);
    if (!Number.isSafeInteger(entry.revision) || entry.revision < 0) throw new EventParseError('bad revision');
    const fields = new Fields(objectAt(entry.data, 'data'));
    const event: Record<string, unknown> = { type, stream: entry.stream, revision: entry.revision, meta: null };
    parseData(type as ProjectedEventType, entry.schema, fields, event);
    // After the data, as before: of two faults, the data's is the one reported.
    event.meta = parseMeta(entry);
    return event as ProjectedEvent;
  } catch (error) {
    if (error instanceof EventParseError) return error;
    throw error;
  }
}
