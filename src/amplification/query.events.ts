/**
 * Events of the amplification query aggregate (stream `query-<id>`, DESIGN §4).
 * Past-tense facts; every type carries a schema version so old versions can be upcast on read.
 * Plain TypeScript: no Nest, no storage.
 */
import { LedgerError } from '../common/ledger-error.js';
import type { Actor, JsonObject, JsonValue, ProposedEvent, Role } from '../ledger/entry.js';

/** The only schema version written today; `parseQueryEvent` is where upcasters for older ones will go. */
export const QUERY_EVENT_SCHEMA = 1 as const;

// Data shapes are `type` aliases, not interfaces, so that they stay assignable to `JsonObject`.
export type AmplificationQueryOpenedData = {
  queryId: string;
  rootNodeId: string;
  task: string;
  input: JsonValue;
  /** The root node's question; equal to `task`, recorded so the root reads like every other node. */
  question: string;
  maxDepth: number;
  confidenceThreshold: number;
};
export type DelegatedSubquery = { nodeId: string; question: string };
export type SubqueriesDelegatedData = { nodeId: string; children: DelegatedSubquery[] };
export type HumanAnswerRecordedData = { nodeId: string; answer: string; confidence: number | null };
export type AnswerComposedData = { nodeId: string; answer: string };
export type HumanOverrideRecordedData = { nodeId: string; answer: string; rationale: string; previousAnswer: string };
export type QueryCompletedData = { answer: string };
export type QueryStoppedData = { reason: string; previousStatus: 'open' | 'completed' };

type EventOf<T extends string, D extends JsonObject> = { type: T; schema: typeof QUERY_EVENT_SCHEMA; data: D };

export type AmplificationQueryOpened = EventOf<'AmplificationQueryOpened', AmplificationQueryOpenedData>;
export type SubqueriesDelegated = EventOf<'SubqueriesDelegated', SubqueriesDelegatedData>;
export type HumanAnswerRecorded = EventOf<'HumanAnswerRecorded', HumanAnswerRecordedData>;
export type AnswerComposed = EventOf<'AnswerComposed', AnswerComposedData>;
export type HumanOverrideRecorded = EventOf<'HumanOverrideRecorded', HumanOverrideRecordedData>;
export type QueryCompleted = EventOf<'QueryCompleted', QueryCompletedData>;
export type QueryStopped = EventOf<'QueryStopped', QueryStoppedData>;

export type QueryEvent =
  | AmplificationQueryOpened
  | SubqueriesDelegated
  | HumanAnswerRecorded
  | AnswerComposed
  | HumanOverrideRecorded
  | QueryCompleted
  | QueryStopped;

export type QueryEventType = QueryEvent['type'];

/** Meta of a recorded entry that the aggregate needs: whose tenant, who acted, when. */
export type RecordedMeta = { tenant: string; actor: Actor; recordedAt: string };

/** A query event as read back from the stream: `evolve`'s input. Distributes over the union, so `type` narrows. */
export type RecordedQueryEvent<E extends QueryEvent = QueryEvent> = E extends QueryEvent
  ? E & { meta: RecordedMeta; revision: number }
  : never;

/** The entry fields `parseRecordedQueryEvent` reads; an `UnsignedEntry`/`SignedEntry` satisfies it. */
export type RecordableEntry = {
  type: string;
  schema: number;
  data: JsonObject;
  meta: { tenant: string; actor: Actor; recordedAt: string };
  revision: number;
};

export const QUERY_EVENT_TYPES: readonly QueryEventType[] = Object.freeze([
  'AmplificationQueryOpened',
  'SubqueriesDelegated',
  'HumanAnswerRecorded',
  'AnswerComposed',
  'HumanOverrideRecorded',
  'QueryCompleted',
  'QueryStopped',
] as const);

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(QUERY_EVENT_TYPES);

/** True for the event types this aggregate owns (a `query-` stream may also carry other contexts' events). */
export function isQueryEventType(type: string): type is QueryEventType {
  return EVENT_TYPE_SET.has(type);
}

/** True when `value` is a well-formed query event of a supported schema. */
export function isQueryEvent(value: unknown): value is QueryEvent {
  try {
    parseQueryEvent(value as { type: string; schema: number; data: JsonObject });
    return true;
  } catch {
    return false;
  }
}

/** What the handler hands to the event store (which adds stream, revision, id, meta, signature). */
export function toProposed(event: QueryEvent): ProposedEvent {
  return { type: event.type, schema: event.schema, data: event.data };
}

/**
 * The inverse of `toProposed`: checks the shape of a stored event and returns a typed copy holding only the
 * known fields. Throws `QUERY.EVENT_INVALID` (internal): a malformed event in a signed log is a defect, never
 * a client mistake, and must fail loudly rather than be half-applied.
 */
export function parseQueryEvent(entry: { type: string; schema: number; data: JsonObject }): QueryEvent {
  const type = entry?.type;
  if (typeof type !== 'string' || !isQueryEventType(type)) throw badEvent(String(type), 'unknown event type');
  if (entry.schema !== QUERY_EVENT_SCHEMA) throw badEvent(type, `unsupported schema version ${String(entry.schema)}`);
  const d = entry.data;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw badEvent(type, 'data is not an object');
  const f = new Fields(type, d);
  const schema = QUERY_EVENT_SCHEMA;
  switch (type) {
    case 'AmplificationQueryOpened':
      return {
        type,
        schema,
        data: {
          queryId: f.str('queryId'),
          rootNodeId: f.str('rootNodeId'),
          task: f.str('task'),
          input: f.json('input'),
          question: f.str('question'),
          maxDepth: f.num('maxDepth'),
          confidenceThreshold: f.num('confidenceThreshold'),
        },
      };
    case 'SubqueriesDelegated':
      return { type, schema, data: { nodeId: f.str('nodeId'), children: f.children('children') } };
    case 'HumanAnswerRecorded':
      return {
        type,
        schema,
        data: { nodeId: f.str('nodeId'), answer: f.str('answer'), confidence: f.numOrNull('confidence') },
      };
    case 'AnswerComposed':
      return { type, schema, data: { nodeId: f.str('nodeId'), answer: f.str('answer') } };
    case 'HumanOverrideRecorded':
      return {
        type,
        schema,
        data: {
          nodeId: f.str('nodeId'),
          answer: f.str('answer'),
          rationale: f.str('rationale'),
          previousAnswer: f.str('previousAnswer'),
        },
      };
    case 'QueryCompleted':
      return { type, schema, data: { answer: f.str('answer') } };
    case 'QueryStopped':
      return { type, schema, data: { reason: f.str('reason'), previousStatus: f.previousStatus('previousStatus') } };
    default:
      return assertNever(type);
  }
}

/** Parses a stored entry into `evolve`'s input; copies the meta so the state never aliases the entry. */
export function parseRecordedQueryEvent(entry: RecordableEntry): RecordedQueryEvent {
  const event = parseQueryEvent(entry);
  const meta = entry.meta;
  if (
    meta === null ||
    typeof meta !== 'object' ||
    typeof meta.tenant !== 'string' ||
    typeof meta.recordedAt !== 'string' ||
    typeof meta.actor?.sub !== 'string' ||
    typeof meta.actor?.role !== 'string'
  ) {
    throw badEvent(event.type, 'meta lacks tenant, actor or recordedAt');
  }
  if (!Number.isSafeInteger(entry.revision) || entry.revision < 0) throw badEvent(event.type, 'bad revision');
  return {
    ...event,
    meta: {
      tenant: meta.tenant,
      actor: { sub: meta.actor.sub, role: meta.actor.role as Role },
      recordedAt: meta.recordedAt,
    },
    revision: entry.revision,
  } as RecordedQueryEvent;
}

/** Compile-time exhaustiveness check for `switch` over a union; throws if an unexpected value slips through at run time. */
export function assertNever(value: never): never {
  throw new LedgerError('QUERY.UNREACHABLE', 'internal', `Unexpected value: ${JSON.stringify(value)}`);
}

/** True for JSON values that survive RFC 8785 canonicalisation (no undefined, NaN, Infinity, functions, class instances). */
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

function badEvent(type: string, reason: string): LedgerError {
  return new LedgerError('QUERY.EVENT_INVALID', 'internal', `Stored event ${type} is invalid: ${reason}`, {
    eventType: type,
    reason,
  });
}

/** Field readers that name the event and field in the error. */
class Fields {
  constructor(
    private readonly type: string,
    private readonly data: JsonObject,
  ) {}

  private fail(field: string, expected: string): never {
    throw badEvent(this.type, `data.${field} must be ${expected}`);
  }

  str(field: string): string {
    const v = this.data[field];
    return typeof v === 'string' ? v : this.fail(field, 'a string');
  }

  num(field: string): number {
    const v = this.data[field];
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(field, 'a finite number');
  }

  numOrNull(field: string): number | null {
    const v = this.data[field];
    return v === null ? null : this.num(field);
  }

  json(field: string): JsonValue {
    const v = this.data[field];
    return v !== undefined && isJsonValue(v) ? v : this.fail(field, 'a JSON value');
  }

  children(field: string): DelegatedSubquery[] {
    const v = this.data[field];
    if (!Array.isArray(v)) return this.fail(field, 'an array');
    return v.map((child) => {
      if (child === null || typeof child !== 'object' || Array.isArray(child)) return this.fail(field, 'objects');
      const { nodeId, question } = child;
      if (typeof nodeId !== 'string' || typeof question !== 'string') return this.fail(field, '{nodeId, question}');
      return { nodeId, question };
    });
  }

  previousStatus(field: string): 'open' | 'completed' {
    const v = this.data[field];
    return v === 'open' || v === 'completed' ? v : this.fail(field, "'open' or 'completed'");
  }
}
