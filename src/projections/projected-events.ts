/**
 * The events of docs/ida-domain.md that the projections fold (besides the decision trees, which reuse the
 * amplification fold), parsed from raw entries defensively: only the members a projection reads, each checked.
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

export type EnsembleMember = { jobId: string; proxyVersionId: string; answer: string; confidence: number };
export const ESCALATION_REASONS = ['low_confidence', 'requested', 'inference_denied'] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];
export type ProxySource = { kind: 'distillation'; runId: string } | { kind: 'imported' };
export const PROXY_STAGES = ['candidate', 'shadow', 'production', 'retired'] as const;
export type ProxyStage = (typeof PROXY_STAGES)[number];

export type ProjectedEvent =
  | Ev<'AmplificationQueryOpened', { queryId: string; rootNodeId: string; question: string; confidenceThreshold: number }>
  | Ev<'SubqueriesDelegated', { nodeId: string; children: { nodeId: string; question: string }[] }>
  | Ev<'InferenceRequested', { jobId: string; nodeId: string; proxyVersionId: string; ensemble: boolean }>
  | Ev<'InferenceCompleted', { jobId: string; nodeId: string; proxyVersionId: string; answer: string; confidence: number }>
  | Ev<'EnsembleAnswerAggregated', { nodeId: string; members: EnsembleMember[]; answer: string; confidence: number }>
  | Ev<
      'EscalatedToHuman',
      {
        nodeId: string;
        reason: EscalationReason;
        confidence: number | null;
        threshold: number | null;
        jobId: string | null;
        note: string | null;
      }
    >
  | Ev<'HumanAnswerRecorded', { nodeId: string }>
  | Ev<'AnswerComposed', { nodeId: string }>
  | Ev<'HumanOverrideRecorded', { nodeId: string }>
  | Ev<'QueryStopped', object>
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
  AmplificationQueryOpened: 'query-',
  SubqueriesDelegated: 'query-',
  InferenceRequested: 'query-',
  InferenceCompleted: 'query-',
  EnsembleAnswerAggregated: 'query-',
  EscalatedToHuman: 'query-',
  HumanAnswerRecorded: 'query-',
  AnswerComposed: 'query-',
  HumanOverrideRecorded: 'query-',
  QueryStopped: 'query-',
  DistillationRunStarted: 'distillation-',
  DistillationRunCompleted: 'distillation-',
  DistillationRunFailed: 'distillation-',
  ProxyRegistered: 'proxy-',
  ProxyPromoted: 'proxy-',
  ProxyDemoted: 'proxy-',
  ProxyRetired: 'proxy-',
};

const KNOWN: ReadonlyMap<string, string> = new Map(Object.entries(STREAM_PREFIX));

/** The schema each type is written at today, where above 1. */
const LATEST_SCHEMA: Partial<Record<ProjectedEventType, number>> = { AmplificationQueryOpened: 3, InferenceRequested: 2, InferenceCompleted: 2 };

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

  strOrNull(name: string): string | null {
    const v = this.data[name];
    return v === null || v === undefined ? null : this.str(name);
  }

  id(name: string): string {
    const v = this.data[name];
    return isId(v) ? v : this.fail(name, `an id (1..${MAX_ID} characters)`);
  }

  idOrNull(name: string): string | null {
    return this.data[name] === null ? null : this.id(name);
  }

  unit(name: string): number {
    const v = this.data[name];
    return typeof v === 'number' && v >= 0 && v <= 1 ? v : this.fail(name, 'a number in [0, 1]');
  }

  unitOrNull(name: string): number | null {
    return this.data[name] === null ? null : this.unit(name);
  }

  bool(name: string): boolean {
    const v = this.data[name];
    return typeof v === 'boolean' ? v : this.fail(name, 'a boolean');
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

  objects(name: string): Fields[] {
    const v = this.data[name];
    if (!Array.isArray(v)) return this.fail(name, 'an array');
    return v.map((item, i) => new Fields(objectAt(item, `${this.path}.${name}[${i}]`), `${this.path}.${name}[${i}]`));
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
  // Later schemas add members only; the ones read here are in every version (upcast by reading):
  // AmplificationQueryOpened 2 (limits' sources) and 3 (data classification), InferenceRequested 2 (model
  // input), InferenceCompleted 2 (the granted worker's fields) — docs/ida-domain.md, docs/policy-gate.md.
  const supported = schema >= 1 && schema <= (LATEST_SCHEMA[type] ?? 1);
  if (!supported) throw new EventParseError(`unsupported schema version ${String(schema)}`);
  switch (type) {
    case 'AmplificationQueryOpened':
      event.queryId = f.id('queryId');
      event.rootNodeId = f.id('rootNodeId');
      event.question = f.str('question');
      event.confidenceThreshold = f.unit('confidenceThreshold');
      return;
    case 'SubqueriesDelegated':
      event.nodeId = f.id('nodeId');
      event.children = f.objects('children').map((c) => ({ nodeId: c.id('nodeId'), question: c.str('question') }));
      return;
    case 'InferenceRequested':
      event.jobId = f.id('jobId');
      event.nodeId = f.id('nodeId');
      event.proxyVersionId = f.id('proxyVersionId');
      event.ensemble = f.bool('ensemble');
      return;
    case 'InferenceCompleted':
      event.jobId = f.id('jobId');
      event.nodeId = f.id('nodeId');
      event.proxyVersionId = f.id('proxyVersionId');
      event.answer = f.str('answer');
      event.confidence = f.unit('confidence');
      return;
    case 'EnsembleAnswerAggregated':
      event.nodeId = f.id('nodeId');
      event.members = f.objects('members').map((m) => ({
        jobId: m.id('jobId'),
        proxyVersionId: m.id('proxyVersionId'),
        answer: m.str('answer'),
        confidence: m.unit('confidence'),
      }));
      event.answer = f.str('answer');
      event.confidence = f.unit('confidence');
      return;
    case 'EscalatedToHuman':
      event.nodeId = f.id('nodeId');
      event.reason = f.oneOf('reason', ESCALATION_REASONS);
      event.confidence = f.unitOrNull('confidence');
      event.threshold = f.unitOrNull('threshold');
      event.jobId = f.idOrNull('jobId');
      event.note = f.strOrNull('note');
      return;
    case 'HumanAnswerRecorded':
    case 'AnswerComposed':
    case 'HumanOverrideRecorded':
      event.nodeId = f.id('nodeId');
      return;
    case 'QueryStopped':
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
