/**
 * A lean twin of `parseRecordedQueryEvent` (src/amplification/query.events.ts) for the decision-trees
 * projection, which parses every query event of the log: the same checks and the same result, without the
 * generic field readers' objects and copies (the amplification parser costs more per event than JSON.parse).
 *
 * It only reads the (type, schema) pairs listed in `LEAN`, and only well-formed ones: for anything else — a
 * pair it does not know, a field that is missing or of another shape, an object that is not a plain JSON
 * object — it answers `undefined`, and the caller falls back to `parseRecordedQueryEvent`, which parses it or
 * throws the canonical error. So it can never refuse differently; that it accepts exactly what the
 * amplification parser accepts, and returns an equal event, is checked over random entries by
 * lean-query-event.unit.spec.ts (it fails there first if the amplification parser changes under it).
 */
import { isDigest, isJsonValue } from '../../common/domain-values.js';
import {
  DATA_CLASSIFICATIONS,
  DEFAULT_DATA_CLASSIFICATION,
  ENSEMBLE_METHODS,
  ESCALATION_REASONS,
  INFERENCE_COMPLETED_SCHEMA,
  INFERENCE_REQUESTED_SCHEMA,
  LIMIT_SOURCES,
  modelInputDigest,
  QUERY_EVENT_SCHEMA,
  QUERY_OPENED_SCHEMA,
  type Assignee,
  type RecordedQueryEvent,
} from '../../amplification/query.events.js';
import type { JsonValue, Role } from '../../ledger/entry.js';

type Obj = Record<string, JsonValue | undefined>;

/** A plain JSON object (what JSON.parse makes): its members are its own, nothing comes from a prototype. */
function plain(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

const str = (v: unknown): v is string => typeof v === 'string';
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const finiteOrNull = (v: unknown): v is number | null => v === null || finite(v);
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]): v is T => typeof v === 'string' && (allowed as readonly string[]).includes(v);

/**
 * Type → readable schema versions handled here (others go to the amplification parser), and the type name as
 * this module's own constant. The parsed event carries that constant, not the entry's string: a type name
 * JSON.parse made is a fresh, non-internalized string, and every `switch` over the event's type downstream
 * (the fold, the projections derived from it) would compare it character by character against each case.
 * The constant is internalized, so those comparisons are pointer comparisons.
 */
const LEAN: ReadonlyMap<string, { type: string; schemas: readonly number[] }> = new Map(
  (
    [
      ['AmplificationQueryOpened', [1, 2, 3]],
      ['SubqueriesDelegated', [1]],
      ['HumanAnswerRecorded', [1]],
      ['AnswerComposed', [1]],
      ['HumanOverrideRecorded', [1]],
      ['QueryCompleted', [1]],
      ['QueryStopped', [1]],
      ['NodeAssigned', [1]],
      ['InferenceRequested', [1, 2]],
      ['InferenceCompleted', [1]],
      ['EnsembleAnswerAggregated', [1]],
      ['EscalatedToHuman', [1]],
    ] as const
  ).map(([type, schemas]) => [type, { type, schemas }]),
);

/**
 * Upcast inputs of schema-1 requests by question: the input `{question}` (frozen: one shared, immutable value)
 * and its digest. The jobs of an ensemble share their question, and subquestions recur across queries (a task
 * class decomposes the same way), while a SHA-256 over the canonical input costs several times the Map lookup.
 * Bounded: emptied when full, so a log of all-distinct questions costs one lookup more per request, never memory.
 */
const upcastInputs = new Map<string, { input: JsonValue; digest: string }>();
const UPCAST_INPUTS_MAX = 4096;

/**
 * `parseRecordedQueryEvent(entry)` when this parser handles the entry and it is well-formed; `undefined`
 * otherwise (then call `parseRecordedQueryEvent`).
 */
export function leanRecordedQueryEvent(entry: {
  type: string;
  schema: number;
  data: unknown;
  meta: unknown;
  revision: number;
}): RecordedQueryEvent | undefined {
  const schema = entry.schema;
  const lean = LEAN.get(entry.type);
  if (lean === undefined || !lean.schemas.includes(schema)) return undefined;
  const type = lean.type;
  const d = entry.data;
  const meta = entry.meta as Obj | null;
  if (!plain(d) || !plain(meta)) return undefined;
  const actor = meta.actor;
  if (!str(meta.tenant) || !str(meta.recordedAt) || !plain(actor) || !str(actor.sub) || !str(actor.role)) return undefined;
  const revision = entry.revision;
  if (!Number.isSafeInteger(revision) || revision < 0) return undefined;
  const data = leanData(type, schema, d);
  if (data === undefined) return undefined;
  return {
    type,
    schema: data.schema,
    data: data.data,
    meta: { tenant: meta.tenant, actor: { sub: actor.sub, role: actor.role as Role }, recordedAt: meta.recordedAt },
    revision,
  } as RecordedQueryEvent;
}

function leanData(type: string, schema: number, d: Obj): { schema: number; data: object } | undefined {
  const one = QUERY_EVENT_SCHEMA;
  switch (type) {
    case 'AmplificationQueryOpened': {
      const { queryId, rootNodeId, task, input, question, maxDepth, confidenceThreshold } = d;
      if (!str(queryId) || !str(rootNodeId) || !str(task) || input === undefined || !isJsonValue(input) || !str(question)) return undefined;
      if (!finite(maxDepth) || !finite(confidenceThreshold)) return undefined;
      let taskClass: string | null = null;
      let limitSources: { maxDepth: string; confidenceThreshold: string } = { maxDepth: 'unrecorded', confidenceThreshold: 'unrecorded' };
      if (schema !== 1) {
        const sources = d.limitSources;
        if (!strOrNull(d.taskClass) || !plain(sources)) return undefined;
        if (!oneOf(sources.maxDepth, LIMIT_SOURCES) || !oneOf(sources.confidenceThreshold, LIMIT_SOURCES)) return undefined;
        taskClass = d.taskClass;
        limitSources = { maxDepth: sources.maxDepth, confidenceThreshold: sources.confidenceThreshold };
      }
      let dataClassification: string = DEFAULT_DATA_CLASSIFICATION;
      if (schema >= 3) {
        if (!oneOf(d.dataClassification, DATA_CLASSIFICATIONS)) return undefined;
        dataClassification = d.dataClassification;
      }
      const data = { queryId, rootNodeId, task, input, question, maxDepth, confidenceThreshold, taskClass, limitSources, dataClassification };
      return { schema: QUERY_OPENED_SCHEMA, data };
    }
    case 'SubqueriesDelegated': {
      const { nodeId, children } = d;
      if (!str(nodeId) || !Array.isArray(children)) return undefined;
      const out = new Array<{ nodeId: string; question: string }>(children.length);
      for (let i = 0; i < children.length; i++) {
        const child = children[i];
        if (!plain(child) || !str(child.nodeId) || !str(child.question)) return undefined;
        out[i] = { nodeId: child.nodeId, question: child.question };
      }
      return { schema: one, data: { nodeId, children: out } };
    }
    case 'HumanAnswerRecorded': {
      const { nodeId, answer, confidence } = d;
      return str(nodeId) && str(answer) && finiteOrNull(confidence) ? { schema: one, data: { nodeId, answer, confidence } } : undefined;
    }
    case 'AnswerComposed': {
      const { nodeId, answer } = d;
      return str(nodeId) && str(answer) ? { schema: one, data: { nodeId, answer } } : undefined;
    }
    case 'HumanOverrideRecorded': {
      const { nodeId, answer, rationale, previousAnswer } = d;
      return str(nodeId) && str(answer) && str(rationale) && str(previousAnswer)
        ? { schema: one, data: { nodeId, answer, rationale, previousAnswer } }
        : undefined;
    }
    case 'QueryCompleted':
      return str(d.answer) ? { schema: one, data: { answer: d.answer } } : undefined;
    case 'QueryStopped': {
      const { reason, previousStatus } = d;
      return str(reason) && (previousStatus === 'open' || previousStatus === 'completed') ? { schema: one, data: { reason, previousStatus } } : undefined;
    }
    case 'NodeAssigned': {
      const assignee = leanAssignee(d.assignee);
      return str(d.nodeId) && assignee !== undefined ? { schema: one, data: { nodeId: d.nodeId, assignee } } : undefined;
    }
    case 'InferenceRequested': {
      const { jobId, nodeId, proxyVersionId, artifactSha256, question, ensemble } = d;
      if (!str(question) || !str(jobId) || !str(nodeId) || !str(proxyVersionId) || !str(artifactSha256) || typeof ensemble !== 'boolean') return undefined;
      let input: JsonValue;
      let inputDigest: string;
      if (schema === 1) {
        // Upcaster 1 → 2 (as the amplification parser): the input was the question.
        let upcast = upcastInputs.get(question);
        if (upcast === undefined) {
          const shared = Object.freeze({ question });
          upcast = { input: shared, digest: modelInputDigest(shared) };
          if (upcastInputs.size >= UPCAST_INPUTS_MAX) upcastInputs.clear();
          upcastInputs.set(question, upcast);
        }
        input = upcast.input;
        inputDigest = upcast.digest;
      } else {
        const stored = d.input;
        const digest = d.inputDigest;
        if (stored === undefined || !isJsonValue(stored) || !isDigest(digest)) return undefined;
        input = stored;
        inputDigest = digest;
      }
      const data = { jobId, nodeId, proxyVersionId, artifactSha256, question, ensemble, input, inputDigest };
      return { schema: INFERENCE_REQUESTED_SCHEMA, data };
    }
    case 'InferenceCompleted': {
      const { jobId, nodeId, proxyVersionId, answer, confidence, output } = d;
      if (!str(jobId) || !str(nodeId) || !str(proxyVersionId) || !str(answer) || !finite(confidence) || output === undefined || !isJsonValue(output))
        return undefined;
      // Upcaster 1 → 2: a schema-1 result has no worker, grant or signature behind it.
      const data = { jobId, nodeId, proxyVersionId, answer, confidence, output, workerId: null, jti: null, decisionPosition: null, provider: null, timing: null, resultSignature: null };
      return { schema: INFERENCE_COMPLETED_SCHEMA, data };
    }
    case 'EnsembleAnswerAggregated': {
      const { nodeId, method, members, answer, confidence } = d;
      if (!str(nodeId) || !oneOf(method, ENSEMBLE_METHODS) || !Array.isArray(members) || !str(answer) || !finite(confidence)) return undefined;
      const out = new Array<{ jobId: string; proxyVersionId: string; answer: string; confidence: number }>(members.length);
      for (let i = 0; i < members.length; i++) {
        const m = members[i];
        if (!plain(m) || !str(m.jobId) || !str(m.proxyVersionId) || !str(m.answer) || !finite(m.confidence)) return undefined;
        out[i] = { jobId: m.jobId, proxyVersionId: m.proxyVersionId, answer: m.answer, confidence: m.confidence };
      }
      return { schema: one, data: { nodeId, method, members: out, answer, confidence } };
    }
    case 'EscalatedToHuman': {
      const { nodeId, reason, confidence, threshold, jobId, note } = d;
      return str(nodeId) && oneOf(reason, ESCALATION_REASONS) && finiteOrNull(confidence) && finiteOrNull(threshold) && strOrNull(jobId) && strOrNull(note)
        ? { schema: one, data: { nodeId, reason, confidence, threshold, jobId, note } }
        : undefined;
    }
    default:
      return undefined;
  }
}

function leanAssignee(value: unknown): Assignee | undefined {
  if (!plain(value)) return undefined;
  switch (value.kind) {
    case 'human':
      return { kind: 'human' };
    case 'proxy':
      return str(value.proxyVersionId) && str(value.jobId) ? { kind: 'proxy', proxyVersionId: value.proxyVersionId, jobId: value.jobId } : undefined;
    case 'ensemble': {
      const { method, members } = value;
      if (!oneOf(method, ENSEMBLE_METHODS) || !Array.isArray(members)) return undefined;
      const out = new Array<{ proxyVersionId: string; jobId: string }>(members.length);
      for (let i = 0; i < members.length; i++) {
        const m = members[i];
        if (!plain(m) || !str(m.proxyVersionId) || !str(m.jobId)) return undefined;
        out[i] = { proxyVersionId: m.proxyVersionId, jobId: m.jobId };
      }
      return { kind: 'ensemble', method, members: out };
    }
    default:
      return undefined;
  }
}
