/**
 * Events of the amplification query aggregate (stream `query-<id>`, DESIGN §4).
 * Past-tense facts; every type carries a schema version so old versions can be upcast on read.
 * Plain TypeScript: no Nest, no storage.
 */
import { assertNever as assertNeverOf } from '../common/assert-never.js';
import {
  badEventOf,
  eventTypeGuard,
  openStoredEvent,
  recordedMeta,
  type Fields,
  type RecordableEntry,
  type Recorded,
  type StoredEvent,
} from '../common/events/stored-event-fields.js';
import { canonicalJson } from '../ledger/canonical-json.js';
import type { JsonObject, JsonValue } from '../ledger/entry.js';
import { hash } from 'node:crypto';
import type { PolicyDecisionRecordedData } from '../policy/policy-decision.js';

/**
 * Schema version of every event type that has only ever had one. `AmplificationQueryOpened`,
 * `InferenceRequested` and `InferenceCompleted` are written at the versions below; `parseQueryEvent` upcasts
 * their older versions on read (never rewriting the log).
 */
export const QUERY_EVENT_SCHEMA = 1 as const;
export const QUERY_OPENED_SCHEMA = 3 as const;
/** 2: the model input and its digest (docs/policy-gate.md). */
export const INFERENCE_REQUESTED_SCHEMA = 2 as const;
/** 2: the granted worker's fields (worker, grant, decision position, provider, timing, result signature). */
export const INFERENCE_COMPLETED_SCHEMA = 2 as const;

/** How sensitive a query's data is: the policy gate's `context.dataClassification`. */
export const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];
/** What a query opened without a classification (and every schema 1/2 opening, upcast) is. */
export const DEFAULT_DATA_CLASSIFICATION: DataClassification = 'internal';

/** `sha256:` of the RFC 8785 JSON of a model input: `InferenceRequested.inputDigest` and the grant's `input`. */
export function modelInputDigest(input: JsonValue): string {
  // One-shot `hash`: a fraction of `createHash` for short inputs (a rebuild upcasts every schema-1 request).
  return `sha256:${hash('sha256', canonicalJson(input), 'hex')}`;
}

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
  /** Schema 3; `internal` when upcast from 1 or 2. */
  dataClassification: DataClassification;
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
  /** Schema 2: the model input the pipeline gave at assignment (default `{question}`; upcast likewise). */
  input: JsonValue;
  /** `modelInputDigest(input)`. */
  inputDigest: string;
};

export const EXECUTION_PROVIDERS = ['cuda', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export type InferenceTiming = { loadMs: number; runMs: number };

export type InferenceCompletedData = {
  jobId: string;
  nodeId: string;
  proxyVersionId: string;
  answer: string;
  confidence: number;
  output: JsonValue | null;
  // Schema 2 (the granted worker path, docs/policy-gate.md); null only when upcast from schema 1, whose results
  // a pipeline posted before the gate existed.
  workerId: string | null;
  /** The grant's `jti`. */
  jti: string | null;
  /** Global position of the job's `PolicyDecisionRecorded`. */
  decisionPosition: number | null;
  provider: ExecutionProvider | null;
  timing: InferenceTiming | null;
  /** The worker's compact JWS over the result body. */
  resultSignature: string | null;
};

/** `PolicyDecisionRecorded` (src/policy/policy-decision.ts) as the query stream carries it. */
export type { PolicyDecisionRecordedData };

export type InferenceAuthorizedData = {
  jobId: string;
  nodeId: string;
  proxyVersionId: string;
  artifactSha256: string;
  inputDigest: string;
  policySetDigest: string;
};

export type InferenceDeniedData = {
  jobId: string;
  nodeId: string;
  proxyVersionId: string;
  determiningPolicies: string[];
  reason: string;
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
/** `inference_denied`: the policy gate authorised no job of the node (docs/policy-gate.md). */
export type EscalationReason = 'low_confidence' | 'requested' | 'inference_denied';
export const ESCALATION_REASONS: readonly EscalationReason[] = Object.freeze(['low_confidence', 'requested', 'inference_denied'] as const);
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
export type InferenceRequested = EventOf<'InferenceRequested', InferenceRequestedData, typeof INFERENCE_REQUESTED_SCHEMA>;
export type InferenceCompleted = EventOf<'InferenceCompleted', InferenceCompletedData, typeof INFERENCE_COMPLETED_SCHEMA>;
export type PolicyDecisionRecorded = EventOf<'PolicyDecisionRecorded', PolicyDecisionRecordedData>;
export type InferenceAuthorized = EventOf<'InferenceAuthorized', InferenceAuthorizedData>;
export type InferenceDenied = EventOf<'InferenceDenied', InferenceDeniedData>;
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
  | PolicyDecisionRecorded
  | InferenceAuthorized
  | InferenceDenied
  | InferenceCompleted
  | EnsembleAnswerAggregated
  | EscalatedToHuman;

export type QueryEventType = QueryEvent['type'];

export type { RecordableEntry, RecordedMeta } from '../common/events/stored-event-fields.js';

/** A query event as read back from the stream: `evolve`'s input. Distributes over the union, so `type` narrows. */
export type RecordedQueryEvent<E extends QueryEvent = QueryEvent> = E extends QueryEvent ? Recorded<E> : never;

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
  'PolicyDecisionRecorded',
  'InferenceAuthorized',
  'InferenceDenied',
  'InferenceCompleted',
  'EnsembleAnswerAggregated',
  'EscalatedToHuman',
] as const);

/** True for the event types this aggregate owns (a `query-` stream may also carry other contexts' events). */
export const isQueryEventType = eventTypeGuard(QUERY_EVENT_TYPES);

/** True when `value` is a well-formed query event of a supported schema. */
export function isQueryEvent(value: unknown): value is QueryEvent {
  try {
    parseQueryEvent(value as StoredEvent);
    return true;
  } catch {
    return false;
  }
}

export { toProposed } from '../common/events/stored-event-fields.js';

/** Schema versions each type may be stored with; the last is the one written today. */
const READABLE_SCHEMAS: Readonly<Record<QueryEventType, readonly number[]>> = {
  AmplificationQueryOpened: [1, 2, QUERY_OPENED_SCHEMA],
  SubqueriesDelegated: [1],
  HumanAnswerRecorded: [1],
  AnswerComposed: [1],
  HumanOverrideRecorded: [1],
  QueryCompleted: [1],
  QueryStopped: [1],
  NodeAssigned: [1],
  InferenceRequested: [1, INFERENCE_REQUESTED_SCHEMA],
  PolicyDecisionRecorded: [1],
  InferenceAuthorized: [1],
  InferenceDenied: [1],
  InferenceCompleted: [1, INFERENCE_COMPLETED_SCHEMA],
  EnsembleAnswerAggregated: [1],
  EscalatedToHuman: [1],
};

const bad = badEventOf('QUERY.EVENT_INVALID');

/**
 * The inverse of `toProposed`: checks the shape of a stored event and returns a typed copy holding only the
 * known fields, upcast to the schema written today. Throws `QUERY.EVENT_INVALID` (internal): a malformed
 * event in a signed log is a defect, never a client mistake, and must fail loudly rather than be half-applied.
 */
export function parseQueryEvent(entry: StoredEvent): QueryEvent {
  const { type, fields: f } = openStoredEvent(entry, isQueryEventType, (known) => READABLE_SCHEMAS[known], bad);
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
          : { taskClass: f.strOrNull('taskClass'), limitSources: readLimitSources(f.object('limitSources')) };
      // Upcaster 2 → 3: before the policy gate every query was `internal`, the classification new ones default to.
      const v3 = {
        dataClassification: entry.schema < 3 ? DEFAULT_DATA_CLASSIFICATION : f.oneOf('dataClassification', DATA_CLASSIFICATIONS),
      };
      return { type, schema: QUERY_OPENED_SCHEMA, data: { ...v1, ...v2, ...v3 } };
    }
    case 'SubqueriesDelegated':
      return { type, schema, data: { nodeId: f.str('nodeId'), children: readChildren(f, 'children') } };
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
      return { type, schema, data: { reason: f.str('reason'), previousStatus: f.oneOf('previousStatus', ['open', 'completed']) } };
    case 'NodeAssigned':
      return { type, schema, data: { nodeId: f.str('nodeId'), assignee: readAssignee(f.object('assignee')) } };
    case 'InferenceRequested': {
      const question = f.str('question');
      // Upcaster 1 → 2: before the gate the job's input was its question.
      const input = entry.schema === 1 ? { question } : f.json('input');
      return {
        type,
        schema: INFERENCE_REQUESTED_SCHEMA,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          proxyVersionId: f.str('proxyVersionId'),
          artifactSha256: f.str('artifactSha256'),
          question,
          ensemble: f.bool('ensemble'),
          input,
          inputDigest: entry.schema === 1 ? modelInputDigest(input) : f.digest('inputDigest'),
        },
      };
    }
    case 'PolicyDecisionRecorded':
      return {
        type,
        schema,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          action: f.oneOf('action', ['RunInference']),
          decision: f.oneOf('decision', ['allow', 'deny']),
          determiningPolicies: f.strings('determiningPolicies'),
          errors: f.strings('errors'),
          policySetDigest: f.raw('policySetDigest') === null ? null : f.digest('policySetDigest'),
          cedarVersion: f.str('cedarVersion'),
          request: f.jsonObject('request') as unknown as PolicyDecisionRecordedData['request'],
          requestDigest: f.digest('requestDigest'),
        },
      };
    case 'InferenceAuthorized':
      return {
        type,
        schema,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          proxyVersionId: f.str('proxyVersionId'),
          artifactSha256: f.str('artifactSha256'),
          inputDigest: f.digest('inputDigest'),
          policySetDigest: f.digest('policySetDigest'),
        },
      };
    case 'InferenceDenied':
      return {
        type,
        schema,
        data: {
          jobId: f.str('jobId'),
          nodeId: f.str('nodeId'),
          proxyVersionId: f.str('proxyVersionId'),
          determiningPolicies: f.strings('determiningPolicies'),
          reason: f.str('reason'),
        },
      };
    case 'InferenceCompleted': {
      const v1 = {
        jobId: f.str('jobId'),
        nodeId: f.str('nodeId'),
        proxyVersionId: f.str('proxyVersionId'),
        answer: f.str('answer'),
        confidence: f.num('confidence'),
        output: f.json('output'),
      };
      // Upcaster 1 → 2: a pipeline posted schema 1 results; no worker, grant or signature stands behind them.
      const v2 =
        entry.schema === 1
          ? { workerId: null, jti: null, decisionPosition: null, provider: null, timing: null, resultSignature: null }
          : {
              workerId: f.str('workerId'),
              jti: f.str('jti'),
              decisionPosition: f.int('decisionPosition'),
              provider: f.oneOf('provider', EXECUTION_PROVIDERS),
              timing: readTiming(f.object('timing')),
              resultSignature: f.str('resultSignature'),
            };
      return { type, schema: INFERENCE_COMPLETED_SCHEMA, data: { ...v1, ...v2 } };
    }
    case 'EnsembleAnswerAggregated':
      return {
        type,
        schema,
        data: {
          nodeId: f.str('nodeId'),
          method: f.oneOf('method', ENSEMBLE_METHODS),
          members: f.objects('members').map((m) => ({
            jobId: m.str('jobId'),
            proxyVersionId: m.str('proxyVersionId'),
            answer: m.str('answer'),
            confidence: m.num('confidence'),
          })),
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
  return { ...parseQueryEvent(entry), ...recordedMeta(entry, bad) } as RecordedQueryEvent;
}

/** `assertNever` (src/common/assert-never.ts) with this context's code, QUERY.UNREACHABLE. */
export function assertNever(value: never): never {
  return assertNeverOf(value, 'QUERY.UNREACHABLE');
}

function readChildren(f: Fields, field: string): DelegatedSubquery[] {
  const v = f.raw(field);
  if (!Array.isArray(v)) return f.fail(field, 'an array');
  return v.map((child) => {
    if (child === null || typeof child !== 'object' || Array.isArray(child)) return f.fail(field, 'objects');
    const { nodeId, question } = child;
    if (typeof nodeId !== 'string' || typeof question !== 'string') return f.fail(field, '{nodeId, question}');
    return { nodeId, question };
  });
}

function readTiming(f: Fields): InferenceTiming {
  const ms = (field: string): number => {
    const v = f.num(field);
    return v >= 0 ? v : f.fail(field, 'a non-negative number');
  };
  return { loadMs: ms('loadMs'), runMs: ms('runMs') };
}

function readLimitSources(f: Fields): LimitSources {
  return { maxDepth: f.oneOf('maxDepth', LIMIT_SOURCES), confidenceThreshold: f.oneOf('confidenceThreshold', LIMIT_SOURCES) };
}

function readAssignee(f: Fields): Assignee {
  const kind = f.oneOf('kind', ['human', 'proxy', 'ensemble']);
  switch (kind) {
    case 'human':
      return { kind: 'human' };
    case 'proxy':
      return { kind: 'proxy', proxyVersionId: f.str('proxyVersionId'), jobId: f.str('jobId') };
    case 'ensemble':
      return {
        kind: 'ensemble',
        method: f.oneOf('method', ENSEMBLE_METHODS),
        members: f.objects('members').map((m) => ({ proxyVersionId: m.str('proxyVersionId'), jobId: m.str('jobId') })),
      };
    default:
      return assertNever(kind);
  }
}
