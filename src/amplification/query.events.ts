/**
 * Events of the amplification query aggregate (stream `query-<id>`, DESIGN §4).
 * Past-tense facts; every type carries a schema version so old versions can be upcast on read.
 * Plain TypeScript: no Nest, no storage.
 */
import { LedgerError } from '../common/ledger-error.js';
import type { Actor, JsonObject, JsonValue, ProposedEvent, Role } from '../ledger/entry.js';

/**
 * Schema version of every event type that has only ever had one. `AmplificationQueryOpened` is written at
 * `QUERY_OPENED_SCHEMA`; `parseQueryEvent` upcasts its older versions on read (never rewriting the log).
 */
export const QUERY_EVENT_SCHEMA = 1 as const;
export const QUERY_OPENED_SCHEMA = 2 as const;

/**
 * Where a query's limit came from. `unrecorded`: a schema-1 opening, written before the source was recorded;
 * only the upcaster produces it.
 */
export type LimitSource = 'request' | 'taskClass' | 'tenantDefault' | 'unrecorded';
export type LimitSources = { maxDepth: LimitSource; confidenceThreshold: LimitSource };
export const LIMIT_SOURCES: readonly LimitSource[] = Object.freeze(['request', 'taskClass', 'tenantDefault', 'unrecorded'] as const);

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
  /** The task class named at opening (it must exist in the tenant's settings then), else null. */
  taskClass: string | null;
  limitSources: LimitSources;
};
export type DelegatedSubquery = { nodeId: string; question: string };
export type SubqueriesDelegatedData = { nodeId: string; children: DelegatedSubquery[] };
export type HumanAnswerRecordedData = { nodeId: string; answer: string; confidence: number | null };
export type AnswerComposedData = { nodeId: string; answer: string };
export type HumanOverrideRecordedData = { nodeId: string; answer: string; rationale: string; previousAnswer: string };
export type QueryCompletedData = { answer: string };
export type QueryStoppedData = { reason: string; previousStatus: 'open' | 'completed' };

/** One proxy job: which proxy version runs it. The job id is unique within the query. */
export type ProxyJobRef = { proxyVersionId: string; jobId: string };
export type Assignee =
  | { kind: 'human' }
  | { kind: 'proxy'; proxyVersionId: string; jobId: string }
  | { kind: 'ensemble'; method: 'majority'; members: ProxyJobRef[] };
export type AssigneeKind = Assignee['kind'];
export const ENSEMBLE_METHODS = ['majority'] as const;
export type EnsembleMethod = (typeof ENSEMBLE_METHODS)[number];

export type NodeAssignedData = { nodeId: string; assignee: Assignee };
export type InferenceRequestedData = {
  jobId: string;
  nodeId: string;
  proxyVersionId: string;
  /** The proxy version's artifact digest at assignment time: what the worker must load, and nothing else. */
  artifactSha256: string;
  question: string;
  ensemble: boolean;
};
export type InferenceCompletedData = {
  jobId: string;
  nodeId: string;
  proxyVersionId: string;
  answer: string;
  confidence: number;
  output: JsonValue | null;
};
export type EnsembleMember = { jobId: string; proxyVersionId: string; answer: string; confidence: number };
export type EnsembleAnswerAggregatedData = {
  nodeId: string;
  method: EnsembleMethod;
  /** Every member, in assignment order. */
  members: EnsembleMember[];
  answer: string;
  confidence: number;
};
export type EscalationReason = 'low_confidence' | 'requested';
export const ESCALATION_REASONS: readonly EscalationReason[] = Object.freeze(['low_confidence', 'requested'] as const);
export type EscalatedToHumanData = {
  nodeId: string;
  reason: EscalationReason;
  /** The confidence that fell short (a job's, or an ensemble's aggregate); null when requested by hand. */
  confidence: number | null;
  threshold: number | null;
  /** The single-proxy job whose result fell short; null for an ensemble's aggregate or a manual escalation. */
  jobId: string | null;
  note: string | null;
};

type EventOf<T extends string, D extends JsonObject, S extends number = typeof QUERY_EVENT_SCHEMA> = {
  type: T;
  schema: S;
  data: D;
};

export type AmplificationQueryOpened = EventOf<'AmplificationQueryOpened', AmplificationQueryOpenedData, typeof QUERY_OPENED_SCHEMA>;
export type SubqueriesDelegated = EventOf<'SubqueriesDelegated', SubqueriesDelegatedData>;
export type HumanAnswerRecorded = EventOf<'HumanAnswerRecorded', HumanAnswerRecordedData>;
export type AnswerComposed = EventOf<'AnswerComposed', AnswerComposedData>;
export type HumanOverrideRecorded = EventOf<'HumanOverrideRecorded', HumanOverrideRecordedData>;
export type QueryCompleted = EventOf<'QueryCompleted', QueryCompletedData>;
export type QueryStopped = EventOf<'QueryStopped', QueryStoppedData>;
export type NodeAssigned = EventOf<'NodeAssigned', NodeAssignedData>;
export type InferenceRequested = EventOf<'InferenceRequested', InferenceRequestedData>;
export type InferenceCompleted = EventOf<'InferenceCompleted', InferenceCompletedData>;
export type EnsembleAnswerAggregated = EventOf<'EnsembleAnswerAggregated', EnsembleAnswerAggregatedData>;
export type EscalatedToHuman = EventOf<'EscalatedToHuman', EscalatedToHumanData>;

export type QueryEvent =
  | AmplificationQueryOpened
  | SubqueriesDelegated
  | HumanAnswerRecorded
  | AnswerComposed
  | HumanOverrideRecorded
  | QueryCompleted
  | QueryStopped
  | NodeAssigned
  | InferenceRequested
  | InferenceCompleted
  | EnsembleAnswerAggregated
  | EscalatedToHuman;

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
  'NodeAssigned',
  'InferenceRequested',
  'InferenceCompleted',
  'EnsembleAnswerAggregated',
  'EscalatedToHuman',
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

/** Schema versions each type may be stored with; the last is the one written today. */
const READABLE_SCHEMAS: Readonly<Record<QueryEventType, readonly number[]>> = {
  AmplificationQueryOpened: [1, QUERY_OPENED_SCHEMA],
  SubqueriesDelegated: [1],
  HumanAnswerRecorded: [1],
  AnswerComposed: [1],
  HumanOverrideRecorded: [1],
  QueryCompleted: [1],
  QueryStopped: [1],
  NodeAssigned: [1],
  InferenceRequested: [1],
  InferenceCompleted: [1],
  EnsembleAnswerAggregated: [1],
  EscalatedToHuman: [1],
};

/**
 * The inverse of `toProposed`: checks the shape of a stored event and returns a typed copy holding only the
 * known fields, upcast to the schema written today. Throws `QUERY.EVENT_INVALID` (internal): a malformed
 * event in a signed log is a defect, never a client mistake, and must fail loudly rather than be half-applied.
 */
export function parseQueryEvent(entry: { type: string; schema: number; data: JsonObject }): QueryEvent {
  const type = entry?.type;
  if (typeof type !== 'string' || !isQueryEventType(type)) throw badEvent(String(type), 'unknown event type');
  if (!READABLE_SCHEMAS[type].includes(entry.schema)) {
    throw badEvent(type, `unsupported schema version ${String(entry.schema)}`);
  }
  const d = entry.data;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw badEvent(type, 'data is not an object');
  const f = new Fields(type, d);
  const schema = QUERY_EVENT_SCHEMA;
  switch (type) {
    case 'AmplificationQueryOpened': {
      const v1 = {
        queryId: f.str('queryId'),
        rootNodeId: f.str('rootNodeId'),
        task: f.str('task'),
        input: f.json('input'),
        question: f.str('question'),
        maxDepth: f.num('maxDepth'),
        confidenceThreshold: f.num('confidenceThreshold'),
      };
      // Upcaster 1 → 2: schema 1 predates task classes and did not record where its limits came from.
      const v2 =
        entry.schema === 1
          ? { taskClass: null, limitSources: { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' } as const }
          : { taskClass: f.strOrNull('taskClass'), limitSources: f.limitSources('limitSources') };
      return { type, schema: QUERY_OPENED_SCHEMA, data: { ...v1, ...v2 } };
    }
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
    case 'NodeAssigned':
      return { type, schema, data: { nodeId: f.str('nodeId'), assignee: f.assignee('assignee') } };
    case 'InferenceRequested':
      return {
        type,
        schema,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          proxyVersionId: f.str('proxyVersionId'),
          artifactSha256: f.str('artifactSha256'),
          question: f.str('question'),
          ensemble: f.bool('ensemble'),
        },
      };
    case 'InferenceCompleted':
      return {
        type,
        schema,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          proxyVersionId: f.str('proxyVersionId'),
          answer: f.str('answer'),
          confidence: f.num('confidence'),
          output: f.json('output'),
        },
      };
    case 'EnsembleAnswerAggregated':
      return {
        type,
        schema,
        data: {
          nodeId: f.str('nodeId'),
          method: f.oneOf('method', ENSEMBLE_METHODS),
          members: f.members('members'),
          answer: f.str('answer'),
          confidence: f.num('confidence'),
        },
      };
    case 'EscalatedToHuman':
      return {
        type,
        schema,
        data: {
          nodeId: f.str('nodeId'),
          reason: f.oneOf('reason', ESCALATION_REASONS),
          confidence: f.numOrNull('confidence'),
          threshold: f.numOrNull('threshold'),
          jobId: f.strOrNull('jobId'),
          note: f.strOrNull('note'),
        },
      };
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
    /** Path of `data` inside the event's data, for nested objects. */
    private readonly prefix = '',
  ) {}

  private fail(field: string, expected: string): never {
    throw badEvent(this.type, `data.${this.prefix}${field} must be ${expected}`);
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

  strOrNull(field: string): string | null {
    const v = this.data[field];
    return v === null ? null : this.str(field);
  }

  bool(field: string): boolean {
    const v = this.data[field];
    return typeof v === 'boolean' ? v : this.fail(field, 'a boolean');
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.data[field];
    return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : this.fail(field, `one of ${allowed.join(', ')}`);
  }

  limitSources(field: string): LimitSources {
    const inner = this.nested(field);
    return { maxDepth: inner.oneOf('maxDepth', LIMIT_SOURCES), confidenceThreshold: inner.oneOf('confidenceThreshold', LIMIT_SOURCES) };
  }

  assignee(field: string): Assignee {
    const inner = this.nested(field);
    const kind = inner.oneOf('kind', ['human', 'proxy', 'ensemble'] as const);
    switch (kind) {
      case 'human':
        return { kind: 'human' };
      case 'proxy':
        return { kind: 'proxy', proxyVersionId: inner.str('proxyVersionId'), jobId: inner.str('jobId') };
      case 'ensemble':
        return {
          kind: 'ensemble',
          method: inner.oneOf('method', ENSEMBLE_METHODS),
          members: inner.objects('members').map((m) => ({ proxyVersionId: m.str('proxyVersionId'), jobId: m.str('jobId') })),
        };
      default:
        return assertNever(kind);
    }
  }

  members(field: string): EnsembleMember[] {
    return this.objects(field).map((m) => ({
      jobId: m.str('jobId'),
      proxyVersionId: m.str('proxyVersionId'),
      answer: m.str('answer'),
      confidence: m.num('confidence'),
    }));
  }

  /** Readers for an object-valued field; their errors name the path (`assignee.jobId`). */
  private nested(field: string): Fields {
    const v = this.data[field];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return this.fail(field, 'an object');
    return new Fields(this.type, v, `${this.prefix}${field}.`);
  }

  private objects(field: string): Fields[] {
    const v = this.data[field];
    if (!Array.isArray(v)) return this.fail(field, 'an array');
    return v.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) return this.fail(`${field}[${i}]`, 'an object');
      return new Fields(this.type, item, `${this.prefix}${field}[${i}].`);
    });
  }
}
