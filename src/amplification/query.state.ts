/**
 * State of one amplification query (stream `query-<id>`) and its pure fold, `evolve`, plus the decision-tree
 * read model. Deterministic: everything comes from the recorded events (actor and time from their meta).
 */
import { LedgerError } from '../common/ledger-error.js';
import type { Actor, JsonValue, Role } from '../ledger/entry.js';
import { applyGateEvent, type JobGate } from './query.gate.js';
import { aggregateMajority } from './query.ensemble.js';
import {
  assertNever,
  isQueryEventType,
  parseRecordedQueryEvent,
  type Assignee,
  type DataClassification,
  type EnsembleMember,
  type EnsembleMethod,
  type EscalationReason,
  type LimitSources,
  type RecordableEntry,
  type RecordedQueryEvent,
} from './query.events.js';

export type QueryStatus = 'open' | 'completed' | 'stopped';
export type AnswerKind = 'human' | 'proxy' | 'ensemble' | 'composed';
export type NodeStatus = 'open' | 'assigned' | 'escalated' | 'decomposed' | 'answered';
/**
 * `abandoned`: still pending when the node was escalated; a result for it is no longer accepted. `denied`: the
 * policy gate refused it (`InferenceDenied`); it never runs.
 */
export type JobStatus = 'pending' | 'completed' | 'abandoned' | 'denied';
export type { JobGate };

export interface NodeAnswer {
  readonly text: string;
  readonly confidence: number | null;
  readonly kind: AnswerKind;
  readonly by: Actor;
  readonly at: string;
  /** The proxy version whose result is the answer (kind `proxy`); null otherwise. */
  readonly proxyVersionId: string | null;
  /** The job whose result is the answer (kind `proxy`); null otherwise. */
  readonly jobId: string | null;
}

export interface NodeOverride {
  readonly answer: string;
  readonly rationale: string;
  readonly previousAnswer: string;
  readonly by: Actor;
  readonly at: string;
}

export interface NodeAssignment {
  readonly assignee: Assignee;
  readonly by: Actor;
  readonly at: string;
}

export interface JobResult {
  readonly answer: string;
  readonly confidence: number;
  readonly output: JsonValue | null;
  readonly by: Actor;
  readonly at: string;
}

export interface InferenceJob {
  readonly jobId: string;
  readonly proxyVersionId: string;
  readonly artifactSha256: string;
  readonly question: string;
  readonly ensemble: boolean;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly status: JobStatus;
  readonly result: JobResult | null;
  /** When an escalation abandoned the job while it was pending. */
  readonly abandonedAt: string | null;
  /** The model input (schema 1 jobs: `{question}`) and its digest, as the grant binds them. */
  readonly input: JsonValue;
  readonly inputDigest: string;
  /** The policy gate's decision on the job; null for a job requested before the gate (schema 1 streams). */
  readonly gate: JobGate | null;
}

export interface NodeEscalation {
  readonly reason: EscalationReason;
  readonly confidence: number | null;
  readonly threshold: number | null;
  readonly jobId: string | null;
  readonly note: string | null;
  readonly by: Actor;
  readonly at: string;
  /** Set by the human answer that clears it. */
  readonly resolvedAt: string | null;
  readonly resolvedBy: Actor | null;
}

export interface EnsembleAggregation {
  readonly method: EnsembleMethod;
  readonly members: readonly EnsembleMember[];
  readonly answer: string;
  readonly confidence: number;
  readonly by: Actor;
  readonly at: string;
}

export interface QueryNode {
  readonly nodeId: string;
  readonly parentId: string | null;
  /** 0 for the root. */
  readonly depth: number;
  readonly question: string;
  /** Child node ids in delegation order; empty until the node is decomposed. */
  readonly children: readonly string[];
  /** The first answer, kept forever; overrides are layered on top of it, never replace it. */
  readonly answer?: NodeAnswer;
  /** Oldest first; the last one's `answer` is the node's current answer. */
  readonly overrides: readonly NodeOverride[];
  /** Oldest first; the last one is the current assignee (an escalated node may be reassigned to a human). */
  readonly assignments: readonly NodeAssignment[];
  /** Proxy jobs in request order, with their results. */
  readonly jobs: readonly InferenceJob[];
  /** Oldest first; at most one is unresolved, and only while the node is unanswered. */
  readonly escalations: readonly NodeEscalation[];
  /** The ensemble's vote, recorded whether or not it reached the threshold. */
  readonly aggregation: EnsembleAggregation | null;
  readonly createdAt: string;
  readonly createdBy: Actor;
}

export interface NoQueryState {
  readonly status: 'none';
}

export interface ExistingQueryState {
  readonly status: QueryStatus;
  readonly queryId: string;
  readonly tenant: string;
  readonly task: string;
  readonly input: JsonValue;
  readonly maxDepth: number;
  readonly confidenceThreshold: number;
  readonly taskClass: string | null;
  readonly limitSources: LimitSources;
  readonly dataClassification: DataClassification;
  readonly rootNodeId: string;
  /** A Map, not a record: node ids come from outside and must not collide with `__proto__` and friends. */
  readonly nodes: ReadonlyMap<string, QueryNode>;
  /** Job id → node id of every job ever assigned: job ids are unique within the query. */
  readonly jobs: ReadonlyMap<string, string>;
  readonly openedAt: string;
  readonly openedBy: Actor;
  /** Stream revision of the last query event applied (other contexts' events on the stream are not counted). */
  readonly revision: number;
  /** Set by QueryCompleted; kept after a later stop. `answer` is the root's answer at completion time. */
  readonly completion: { readonly answer: string; readonly at: string; readonly by: Actor } | null;
  readonly stop: {
    readonly reason: string;
    readonly previousStatus: 'open' | 'completed';
    readonly at: string;
    readonly by: Actor;
  } | null;
}

export type QueryState = NoQueryState | ExistingQueryState;

export const initialQueryState: QueryState = Object.freeze({ status: 'none' });

export function queryExists(state: QueryState): state is ExistingQueryState {
  return state.status !== 'none';
}

/** A job of the query and the node it is on (`jobs` says where, the node holds it); undefined when unknown. */
export function jobOf(state: ExistingQueryState, jobId: string): { node: QueryNode; job: InferenceJob } | undefined {
  const nodeId = state.jobs.get(jobId);
  return nodeId === undefined ? undefined : jobOnNode(state, nodeId, jobId);
}

/**
 * The job `jobId` if it is on node `nodeId` (both as an event names them), with that node; undefined otherwise.
 * For a reader right behind the fold of that event: the node was just read, the query's job index was not.
 */
export function jobOnNode(state: ExistingQueryState, nodeId: string, jobId: string): { node: QueryNode; job: InferenceJob } | undefined {
  const node = state.nodes.get(nodeId);
  if (node === undefined) return undefined;
  const jobs = node.jobs;
  for (let i = 0; i < jobs.length; i++) if (jobs[i]!.jobId === jobId) return { node, job: jobs[i]! };
  return undefined;
}

/** The answer that counts now: the last override's, else the original; undefined while unanswered. */
export function currentAnswer(node: QueryNode): string | undefined {
  const last = node.overrides[node.overrides.length - 1];
  return last !== undefined ? last.answer : node.answer?.text;
}

/** Who the node is assigned to now; undefined when it never was. */
export function currentAssignee(node: QueryNode): Assignee | undefined {
  return node.assignments[node.assignments.length - 1]?.assignee;
}

export function pendingJobs(node: QueryNode): InferenceJob[] {
  return node.jobs.filter((job) => job.status === 'pending');
}

/** The escalation a human answer has not cleared yet, if any. */
export function openEscalation(node: QueryNode): NodeEscalation | undefined {
  return node.escalations.find((e) => e.resolvedAt === null);
}

/** Escalated and unanswered: only a human answer settles it. */
export function isEscalated(node: QueryNode): boolean {
  return node.answer === undefined && openEscalation(node) !== undefined;
}

export function nodeStatus(node: QueryNode): NodeStatus {
  if (node.answer !== undefined) return 'answered';
  if (node.children.length > 0) return 'decomposed';
  if (openEscalation(node) !== undefined) return 'escalated';
  return node.assignments.length > 0 ? 'assigned' : 'open';
}

/**
 * Applies one recorded event. Never mutates `state`: changed nodes and maps are new objects, unchanged nodes
 * are shared. Business rules live in the deciders; here we only refuse what cannot be applied without losing
 * or inventing history (unknown node or job, answer over an answer, a result for a job that is not pending,
 * an aggregate that does not follow from its members, another tenant's event...) with `QUERY.CORRUPT_STREAM`.
 */
export function evolve(state: QueryState, recorded: RecordedQueryEvent): ExistingQueryState {
  return step(state, recorded, NOT_OWNED);
}

/**
 * Folds already-parsed events. Same result as reducing with `evolve`, but the maps are copied once instead
 * of once per event (a ~1000-node query is loaded for every command): the intermediate states are never seen,
 * so the maps this fold created may be updated in place. `from` itself is never mutated.
 */
export function replay(events: Iterable<RecordedQueryEvent>, from: QueryState = initialQueryState): QueryState {
  const foreignNodes = from.status === 'none' ? null : from.nodes;
  const foreignJobs = from.status === 'none' ? null : from.jobs;
  let state = from;
  for (const event of events) {
    const owned =
      state.status === 'none' ? NOT_OWNED : { nodes: state.nodes !== foreignNodes, jobs: state.jobs !== foreignJobs };
    state = step(state, event, owned);
  }
  return state;
}

/**
 * Loads a query from raw stream entries: parses each (upcasting belongs in the parser) and skips the event
 * types other contexts append to the same stream. The caller's expected revision for the next append is the
 * stream's last entry revision, which may be above `state.revision`.
 */
export function rehydrate(entries: Iterable<RecordableEntry>): QueryState {
  return replay(parsedQueryEvents(entries));
}

/** `state` (itself not mutated) folded further with the stream's next entries: `rehydrate` continued. */
export function rehydrateFrom(state: QueryState, entries: Iterable<RecordableEntry>): QueryState {
  return replay(parsedQueryEvents(entries), state);
}

function* parsedQueryEvents(entries: Iterable<RecordableEntry>): Generator<RecordedQueryEvent> {
  for (const entry of entries) if (isQueryEventType(entry.type)) yield parseRecordedQueryEvent(entry);
}

// ---------------------------------------------------------------------------------------------------------
// In-place fold, for read models that fold every query of a large log (the decision-trees projection).

/**
 * What `foldInto` shares between the states it builds: one object per actor, and one string per recurring
 * value (tenants, proxy versions, artifact digests) — equal immutable values, so sharing them is invisible to
 * every reader, while a read model holding a million events keeps much less memory (and its GC copies less).
 * Bounded: past `limit` distinct values, new values are kept as they come.
 */
export class FoldInterner {
  private readonly actors = new Map<string, Map<string, Actor>>();
  private readonly strings = new Map<string, string>();
  private readonly limits = new Map<string, Map<string, LimitSources>>();
  /**
   * The last values handed out, compared before the maps: the strings of a parsed event are fresh, and a Map
   * lookup hashes every character of one, while comparing it with a recent value of another length costs
   * nothing and one of the same length stops at the first difference (events of one append, and the queries
   * a pipeline runs side by side, repeat the same actors, tenants and proxy versions).
   */
  private readonly recentActors: Actor[] = [];
  private readonly recentStrings: string[] = [];
  private nextActor = 0;
  private nextString = 0;
  private lastAt = '';
  private count = 0;

  constructor(private readonly limit = 100_000) {}

  /** The shared (frozen) copy of an actor. */
  actor(actor: Actor): Actor {
    const recent = this.recentActors;
    for (let i = 0; i < recent.length; i++) {
      const candidate = recent[i]!;
      if (candidate.sub === actor.sub && candidate.role === actor.role) return candidate;
    }
    let bySub = this.actors.get(actor.role);
    let shared = bySub?.get(actor.sub);
    if (shared === undefined) {
      shared = Object.freeze(copyActor(actor));
      if (this.count < this.limit) {
        if (bySub === undefined) this.actors.set(actor.role, (bySub = new Map()));
        bySub.set(actor.sub, shared);
        this.count++;
      }
    }
    recent[this.nextActor] = shared;
    this.nextActor = (this.nextActor + 1) % RECENT;
    return shared;
  }

  /** `string`, as a function value. */
  readonly intern = (value: string): string => this.string(value);

  /** The shared instance of a string that recurs across queries (a tenant, a proxy version, a digest). */
  string(value: string): string {
    const recent = this.recentStrings;
    for (let i = 0; i < recent.length; i++) if (recent[i] === value) return recent[i]!;
    let shared = this.strings.get(value);
    if (shared === undefined) {
      shared = value;
      if (this.count < this.limit) {
        this.strings.set(value, value);
        this.count++;
      }
    }
    recent[this.nextString] = shared;
    this.nextString = (this.nextString + 1) % RECENT;
    return shared;
  }

  /** The shared (frozen) `limitSources` of a query: a handful of combinations for all queries. */
  limitSources(sources: LimitSources): LimitSources {
    const maxDepth = this.string(sources.maxDepth) as LimitSources['maxDepth'];
    const confidenceThreshold = this.string(sources.confidenceThreshold) as LimitSources['confidenceThreshold'];
    let byThreshold = this.limits.get(maxDepth);
    if (byThreshold === undefined) this.limits.set(maxDepth, (byThreshold = new Map()));
    let shared = byThreshold.get(confidenceThreshold);
    if (shared === undefined) byThreshold.set(confidenceThreshold, (shared = Object.freeze({ maxDepth, confidenceThreshold })));
    return shared;
  }

  /** `recordedAt`: the events of one append, consecutive in the log, share it. */
  at(value: string): string {
    if (value === this.lastAt) return this.lastAt;
    this.lastAt = value;
    return value;
  }
}

/** How many recent actors and strings `FoldInterner` compares before its maps. */
const RECENT = 4;

type Writable<T> = { -readonly [K in keyof T]: T[K] };
type OwnedJob = Writable<InferenceJob>;
type OwnedEscalation = Writable<NodeEscalation>;
type OwnedNode = Omit<Writable<QueryNode>, 'children' | 'overrides' | 'assignments' | 'jobs' | 'escalations'> & {
  // Arrays are EMPTY (shared, frozen) until their first element: most nodes never get most of them.
  children: readonly string[];
  overrides: NodeOverride[];
  assignments: NodeAssignment[];
  jobs: OwnedJob[];
  escalations: OwnedEscalation[];
};
type OwnedState = Omit<Writable<ExistingQueryState>, 'nodes' | 'jobs'> & { nodes: Map<string, OwnedNode>; jobs: Map<string, string> };

const EMPTY: never[] = Object.freeze([]) as unknown as never[];
const HUMAN_ASSIGNEE: Assignee = Object.freeze({ kind: 'human' });

function append<T>(list: T[], item: T): T[] {
  if (list.length === 0) return [item];
  list.push(item);
  return list;
}

/**
 * `evolve`, in place: applies one recorded event to a state that `foldInto` built (or `initialQueryState`)
 * and returns it, updated — the same state `evolve` gives (same checks, same refusals, equal content, equal
 * decision tree: query.state.fold-into.unit.spec.ts), at a fraction of the cost: nothing is copied, and
 * recurring values are shared through `interner`. For read models that own their states and never hand
 * them out for keeping; the command side keeps the immutable `evolve`/`replay`.
 *
 * `adopt`: the caller hands `recorded` over (a freshly parsed event it never reads or changes again): the state
 * may then keep the event's own objects (an assignee) instead of copies, with their recurring strings interned in
 * place — one object fewer per assignment for a read model that keeps every query.
 *
 * On a refusal (`QUERY.CORRUPT_STREAM`) the state is left as it was (every check runs before any change).
 * Throws a `TypeError` for a state not built by `foldInto`: updating a shared immutable state in place would
 * change other states too.
 */
export function foldInto(state: QueryState, recorded: RecordedQueryEvent, interner?: FoldInterner, adopt = false): ExistingQueryState {
  const by = interner === undefined ? copyActor(recorded.meta.actor) : interner.actor(recorded.meta.actor);
  const at = interner === undefined ? recorded.meta.recordedAt : interner.at(recorded.meta.recordedAt);

  if (recorded.type === 'AmplificationQueryOpened') {
    if (state.status !== 'none') throw corrupt(recorded, 'query opened twice');
    const d = recorded.data;
    // The root's question is the task (recorded twice so the root reads like every other node): one string.
    const root: OwnedNode = new FoldedNode(d.rootNodeId, null, 0, d.question === d.task ? d.task : d.question, at, by);
    const limits = d.limitSources;
    return new FoldedState(
      d.queryId,
      interner === undefined ? recorded.meta.tenant : interner.string(recorded.meta.tenant),
      d.task,
      inputOnOwnText(d.input, 'task', d.task),
      d.maxDepth,
      d.confidenceThreshold,
      d.taskClass,
      interner === undefined ? { maxDepth: limits.maxDepth, confidenceThreshold: limits.confidenceThreshold } : interner.limitSources(limits),
      d.dataClassification,
      root,
      at,
      by,
      recorded.revision,
    );
  }

  if (state.status === 'none') throw corrupt(recorded, 'event before AmplificationQueryOpened');
  if (!(state instanceof FoldedState)) throw new TypeError('foldInto: the state was not built by foldInto');
  if (recorded.meta.tenant !== state.tenant) throw corrupt(recorded, 'event of another tenant');
  if (recorded.revision <= state.revision) throw corrupt(recorded, 'revision does not increase');
  const s = state as unknown as OwnedState;

  switch (recorded.type) {
    case 'SubqueriesDelegated': {
      const { nodeId, children } = recorded.data;
      const parent = nodeOf(state, recorded, nodeId) as OwnedNode;
      if (parent.children.length > 0) throw corrupt(recorded, `node ${nodeId} already decomposed`);
      if (parent.answer !== undefined) throw corrupt(recorded, `node ${nodeId} already answered`);
      if (parent.assignments.length > 0) throw corrupt(recorded, `node ${nodeId} is assigned`);
      if (openEscalation(parent) !== undefined) throw corrupt(recorded, `node ${nodeId} is escalated`);
      const childIds = children.map((c) => c.nodeId);
      const reused = childIds.find((id, i) => s.nodes.has(id) || childIds.indexOf(id) !== i);
      if (reused !== undefined) throw corrupt(recorded, `node id ${reused} already used`);
      for (const child of children) s.nodes.set(child.nodeId, new FoldedNode(child.nodeId, parent.nodeId, parent.depth + 1, child.question, at, by));
      parent.children = childIds;
      break;
    }
    case 'HumanAnswerRecorded': {
      const { nodeId, answer: text, confidence } = recorded.data;
      const node = unansweredNodeOf(state, recorded, nodeId) as OwnedNode;
      if (node.children.length > 0) throw corrupt(recorded, `node ${nodeId} is decomposed`);
      if (hasPendingJob(node)) throw corrupt(recorded, `node ${nodeId} has pending jobs`);
      node.answer = new FoldedAnswer(text, confidence, 'human', by, at, null, null);
      // The human answer is what clears an escalation.
      for (const escalation of node.escalations) {
        if (escalation.resolvedAt === null) {
          escalation.resolvedAt = at;
          escalation.resolvedBy = by;
        }
      }
      break;
    }
    case 'AnswerComposed': {
      const { nodeId, answer: text } = recorded.data;
      const node = unansweredNodeOf(state, recorded, nodeId) as OwnedNode;
      node.answer = new FoldedAnswer(text, null, 'composed', by, at, null, null);
      break;
    }
    case 'HumanOverrideRecorded': {
      const { nodeId, answer, rationale, previousAnswer } = recorded.data;
      const node = nodeOf(state, recorded, nodeId) as OwnedNode;
      if (node.answer === undefined) throw corrupt(recorded, `override of unanswered node ${nodeId}`);
      const current = currentAnswer(node as QueryNode);
      node.overrides = append(node.overrides, { answer, rationale, previousAnswer: previousAnswer === current ? current : previousAnswer, by, at });
      break;
    }
    case 'QueryCompleted': {
      const answer = recorded.data.answer;
      const rootAnswer = currentAnswer(s.nodes.get(s.rootNodeId)! as QueryNode);
      s.status = 'completed';
      s.completion = { answer: answer === rootAnswer ? rootAnswer : answer, at, by };
      break;
    }
    case 'QueryStopped':
      s.status = 'stopped';
      s.stop = { reason: recorded.data.reason, previousStatus: recorded.data.previousStatus, at, by };
      break;
    case 'NodeAssigned': {
      const { nodeId, assignee } = recorded.data;
      const node = unansweredNodeOf(state, recorded, nodeId) as OwnedNode;
      if (node.children.length > 0) throw corrupt(recorded, `node ${nodeId} is decomposed`);
      if (hasPendingJob(node)) throw corrupt(recorded, `node ${nodeId} has pending jobs`);
      if (openEscalation(node) !== undefined) {
        // The one reassignment there is: an escalated node handed to a human.
        if (assignee.kind !== 'human' || currentAssignee(node as QueryNode)?.kind === 'human') {
          throw corrupt(recorded, `escalated node ${nodeId} may only be reassigned to a human`);
        }
      } else if (node.assignments.length > 0) {
        throw corrupt(recorded, `node ${nodeId} already assigned`);
      }
      const reused = reusedJobId(assignee, s.jobs);
      if (reused !== undefined) throw corrupt(recorded, `job id ${reused} already used`);
      // A human assignee has no data: one shared (frozen) object for all of them.
      const copy =
        assignee.kind === 'human' ? HUMAN_ASSIGNEE : adopt ? adoptAssignee(assignee, interner?.intern ?? same) : copyAssignee(assignee, interner?.intern ?? same);
      node.assignments = append(node.assignments, new FoldedAssignment(copy, by, at));
      break;
    }
    case 'InferenceRequested': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId) as OwnedNode;
      const assignee = currentAssignee(node as QueryNode);
      const planned = assignee === undefined ? undefined : plannedJob(assignee, d.jobId, d.proxyVersionId);
      if (assignee === undefined || planned === undefined || (assignee.kind === 'ensemble') !== d.ensemble) {
        throw corrupt(recorded, `job ${d.jobId} is not one the node's assignment planned`);
      }
      // The planned id: equal to d.jobId, and hashed already by the assignment's check (d.jobId is a fresh string).
      if (s.jobs.has(planned.jobId)) throw corrupt(recorded, `job ${d.jobId} requested twice`);
      // Ids shared with the assignment that planned the job; the question is usually the node's own.
      node.jobs = append(
        node.jobs,
        new FoldedJob(
          planned.jobId,
          planned.proxyVersionId,
          intern(d.artifactSha256, interner),
          d.question === node.question ? node.question : d.question,
          d.ensemble,
          by,
          at,
          inputOnOwnText(d.input, 'question', node.question),
          d.inputDigest,
        ),
      );
      s.jobs.set(planned.jobId, node.nodeId);
      break;
    }
    case 'PolicyDecisionRecorded':
    case 'InferenceAuthorized':
    case 'InferenceDenied': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId) as OwnedNode;
      const job = node.jobs.find((j) => j.jobId === d.jobId);
      const next = job === undefined ? `unknown job ${d.jobId} on node ${d.nodeId}` : applyGateEvent(job, recorded);
      if (typeof next === 'string') throw corrupt(recorded, next);
      job!.status = next.status;
      job!.gate = next.gate;
      break;
    }
    case 'InferenceCompleted': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId) as OwnedNode;
      const job = node.jobs.find((j) => j.jobId === d.jobId);
      if (job === undefined) throw corrupt(recorded, `unknown job ${d.jobId} on node ${d.nodeId}`);
      if (job.status !== 'pending') throw corrupt(recorded, `job ${d.jobId} is ${job.status}, not pending`);
      if (job.proxyVersionId !== d.proxyVersionId) throw corrupt(recorded, `job ${d.jobId} runs another proxy version`);
      job.status = 'completed';
      job.result = new FoldedJobResult(d.answer, d.confidence, d.output, by, at);
      // A single proxy answers the node when confident enough; an ensemble's members only vote.
      if (!job.ensemble && d.confidence >= s.confidenceThreshold) {
        node.answer = new FoldedAnswer(d.answer, d.confidence, 'proxy', by, at, job.proxyVersionId, job.jobId);
      }
      break;
    }
    case 'EnsembleAnswerAggregated': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId) as OwnedNode;
      const assignee = currentAssignee(node as QueryNode);
      if (assignee?.kind !== 'ensemble' || assignee.method !== d.method) {
        throw corrupt(recorded, `node ${d.nodeId} is not assigned to a ${d.method} ensemble`);
      }
      if (node.aggregation !== null) throw corrupt(recorded, `node ${d.nodeId} already aggregated`);
      const members = ensembleMembers(node as QueryNode, assignee.members);
      if (members === undefined || !sameMembers(members, d.members)) {
        throw corrupt(recorded, `members do not match the completed jobs of node ${d.nodeId}`);
      }
      const vote = aggregateMajority(members);
      if (vote.answer !== d.answer || vote.confidence !== d.confidence) {
        throw corrupt(recorded, `aggregate does not follow from the members of node ${d.nodeId}`);
      }
      // `vote.answer` is a member's answer, already held: equal to `d.answer`, checked above.
      node.aggregation = { method: assignee.method, members, answer: vote.answer, confidence: d.confidence, by, at };
      if (d.confidence >= s.confidenceThreshold) {
        node.answer = new FoldedAnswer(vote.answer, d.confidence, 'ensemble', by, at, null, null);
      }
      break;
    }
    case 'EscalatedToHuman': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId) as OwnedNode;
      if (node.children.length > 0) throw corrupt(recorded, `node ${d.nodeId} is decomposed`);
      if (openEscalation(node) !== undefined) throw corrupt(recorded, `node ${d.nodeId} already escalated`);
      // From now on a human answers the node: results still outstanding would only compete with that answer.
      for (const job of node.jobs) {
        if (job.status === 'pending') {
          job.status = 'abandoned';
          job.abandonedAt = at;
        }
      }
      node.escalations = append(node.escalations, {
        reason: intern(d.reason, interner),
        confidence: d.confidence,
        threshold: d.threshold,
        jobId: d.jobId,
        note: d.note,
        by,
        at,
        resolvedAt: null,
        resolvedBy: null,
      });
      break;
    }
    default:
      return assertNever(recorded);
  }
  s.revision = recorded.revision;
  return state;
}

/**
 * An input that is exactly `{[key]: text}` — a query's `{task}` (what the service records when the task is all
 * there is), a job's `{question}` (the default, and every schema-1 upcast) — rebuilt on the state's own `text`
 * string: one copy of the text per query or node, not one more per input. Anything else is kept as it is, and so
 * is a frozen input: it is shared already (the projections' parser hands out one per recurring upcast question).
 */
function inputOnOwnText(input: JsonValue, key: 'task' | 'question', text: string): JsonValue {
  if (Object.isFrozen(input)) return input;
  if (input === null || typeof input !== 'object' || Array.isArray(input) || (input as Record<string, unknown>)[key] !== text) return input;
  // Exactly one member (no array allocated per input: this runs for every request a rebuild folds).
  let members = 0;
  for (const member in input) if (Object.hasOwn(input, member) && ++members > 1) return input;
  // Two literals, not a computed key: each keeps one stable shape.
  return key === 'task' ? { task: text } : { question: text };
}

// The records `foldInto` creates for every event are instances of these classes, not object literals. Their
// content is the same (own enumerable fields; readers and `decisionTree` copy fields, never prototypes), but
// V8 pretenures the object literals of a site whose objects survive, and in a fold where nearly all survive
// that made the first pass over a log (a rebuild's only one) cost about 1.5 times the later ones: on 300,000
// pre-parsed query events, 2.8–3.1 µs → 1.8–2.0 µs per event in that pass; a 100,000-entry rebuild runs 2.6%
// fewer instructions (docs/performance.md). Fields are `declare`d and assigned in the constructor (class
// fields proper would be defined one by one, as undefined first, on every instance).

/** A state `foldInto` built (and so only ever updated by it): the class is the mark `foldInto` checks. */
class FoldedState implements OwnedState {
  declare status: QueryStatus;
  declare queryId: string;
  declare tenant: string;
  declare task: string;
  declare input: JsonValue;
  declare maxDepth: number;
  declare confidenceThreshold: number;
  declare taskClass: string | null;
  declare limitSources: LimitSources;
  declare dataClassification: DataClassification;
  declare rootNodeId: string;
  declare nodes: Map<string, OwnedNode>;
  declare jobs: Map<string, string>;
  declare openedAt: string;
  declare openedBy: Actor;
  declare revision: number;
  declare completion: OwnedState['completion'];
  declare stop: OwnedState['stop'];
  constructor(
    queryId: string,
    tenant: string,
    task: string,
    input: JsonValue,
    maxDepth: number,
    confidenceThreshold: number,
    taskClass: string | null,
    limitSources: LimitSources,
    dataClassification: DataClassification,
    root: OwnedNode,
    at: string,
    by: Actor,
    revision: number,
  ) {
    this.status = 'open';
    this.queryId = queryId;
    this.tenant = tenant;
    this.task = task;
    this.input = input;
    this.maxDepth = maxDepth;
    this.confidenceThreshold = confidenceThreshold;
    this.taskClass = taskClass;
    this.limitSources = limitSources;
    this.dataClassification = dataClassification;
    this.rootNodeId = root.nodeId;
    this.nodes = new Map([[root.nodeId, root]]);
    this.jobs = new Map();
    this.openedAt = at;
    this.openedBy = by;
    this.revision = revision;
    this.completion = null;
    this.stop = null;
  }
}

class FoldedNode implements OwnedNode {
  declare nodeId: string;
  declare parentId: string | null;
  declare depth: number;
  declare question: string;
  declare children: readonly string[];
  declare answer: NodeAnswer | undefined;
  declare overrides: NodeOverride[];
  declare assignments: NodeAssignment[];
  declare jobs: OwnedJob[];
  declare escalations: OwnedEscalation[];
  declare aggregation: EnsembleAggregation | null;
  declare createdAt: string;
  declare createdBy: Actor;
  constructor(nodeId: string, parentId: string | null, depth: number, question: string, at: string, by: Actor) {
    this.nodeId = nodeId;
    this.parentId = parentId;
    this.depth = depth;
    this.question = question;
    this.children = EMPTY;
    this.overrides = EMPTY;
    this.assignments = EMPTY;
    this.jobs = EMPTY;
    this.escalations = EMPTY;
    this.aggregation = null;
    this.createdAt = at;
    this.createdBy = by;
    // Declared now, so that answering a node keeps its shape (no out-of-object property store per node); last,
    // as the object literal had it: declared sixth, the fold measured 2.5% more instructions (cachegrind).
    this.answer = undefined;
  }
}

class FoldedJob implements OwnedJob {
  declare jobId: string;
  declare proxyVersionId: string;
  declare artifactSha256: string;
  declare question: string;
  declare ensemble: boolean;
  declare requestedBy: Actor;
  declare requestedAt: string;
  declare status: JobStatus;
  declare result: JobResult | null;
  declare abandonedAt: string | null;
  declare input: JsonValue;
  declare inputDigest: string;
  declare gate: JobGate | null;
  constructor(
    jobId: string,
    proxyVersionId: string,
    artifactSha256: string,
    question: string,
    ensemble: boolean,
    requestedBy: Actor,
    requestedAt: string,
    input: JsonValue,
    inputDigest: string,
  ) {
    this.jobId = jobId;
    this.proxyVersionId = proxyVersionId;
    this.artifactSha256 = artifactSha256;
    this.question = question;
    this.ensemble = ensemble;
    this.requestedBy = requestedBy;
    this.requestedAt = requestedAt;
    this.status = 'pending';
    this.result = null;
    this.abandonedAt = null;
    this.input = input;
    this.inputDigest = inputDigest;
    this.gate = null;
  }
}

class FoldedJobResult implements JobResult {
  declare readonly answer: string;
  declare readonly confidence: number;
  declare readonly output: JsonValue | null;
  declare readonly by: Actor;
  declare readonly at: string;
  constructor(answer: string, confidence: number, output: JsonValue | null, by: Actor, at: string) {
    this.answer = answer;
    this.confidence = confidence;
    this.output = output;
    this.by = by;
    this.at = at;
  }
}

class FoldedAnswer implements NodeAnswer {
  declare readonly text: string;
  declare readonly confidence: number | null;
  declare readonly kind: AnswerKind;
  declare readonly by: Actor;
  declare readonly at: string;
  declare readonly proxyVersionId: string | null;
  declare readonly jobId: string | null;
  constructor(text: string, confidence: number | null, kind: AnswerKind, by: Actor, at: string, proxyVersionId: string | null, jobId: string | null) {
    this.text = text;
    this.confidence = confidence;
    this.kind = kind;
    this.by = by;
    this.at = at;
    this.proxyVersionId = proxyVersionId;
    this.jobId = jobId;
  }
}

class FoldedAssignment implements NodeAssignment {
  declare readonly assignee: Assignee;
  declare readonly by: Actor;
  declare readonly at: string;
  constructor(assignee: Assignee, by: Actor, at: string) {
    this.assignee = assignee;
    this.by = by;
    this.at = at;
  }
}

/** The interned instance of a string (its own instance without an interner). */
function intern<T extends string>(value: T, interner: FoldInterner | undefined): T {
  return interner === undefined ? value : (interner.string(value) as T);
}

/** `evolve`'s check, without building the lists: the first job id of the assignment already used, in the query or before it in the assignment. */
function reusedJobId(assignee: Assignee, jobs: ReadonlyMap<string, string>): string | undefined {
  switch (assignee.kind) {
    case 'human':
      return undefined;
    case 'proxy':
      return jobs.has(assignee.jobId) ? assignee.jobId : undefined;
    case 'ensemble': {
      const members = assignee.members;
      for (let i = 0; i < members.length; i++) {
        const id = members[i]!.jobId;
        if (jobs.has(id)) return id;
        for (let j = 0; j < i; j++) if (members[j]!.jobId === id) return id;
      }
      return undefined;
    }
    default:
      return assertNever(assignee);
  }
}

function hasPendingJob(node: OwnedNode): boolean {
  for (const job of node.jobs) if (job.status === 'pending') return true;
  return false;
}

/** `jobsOf(assignee).find(...)` without building the list. */
function plannedJob(assignee: Assignee, jobId: string, proxyVersionId: string): { proxyVersionId: string; jobId: string } | undefined {
  switch (assignee.kind) {
    case 'human':
      return undefined;
    case 'proxy':
      return assignee.jobId === jobId && assignee.proxyVersionId === proxyVersionId ? assignee : undefined;
    case 'ensemble':
      return assignee.members.find((m) => m.jobId === jobId && m.proxyVersionId === proxyVersionId);
    default:
      return assertNever(assignee);
  }
}

/** Which of `state`'s maps only the caller holds, so they may be updated in place. */
interface Owned {
  readonly nodes: boolean;
  readonly jobs: boolean;
}
const NOT_OWNED: Owned = Object.freeze({ nodes: false, jobs: false });

function step(state: QueryState, recorded: RecordedQueryEvent, owned: Owned): ExistingQueryState {
  const by = copyActor(recorded.meta.actor);
  const at = recorded.meta.recordedAt;

  if (recorded.type === 'AmplificationQueryOpened') {
    if (state.status !== 'none') throw corrupt(recorded, 'query opened twice');
    const d = recorded.data;
    const root = newNode(d.rootNodeId, null, 0, d.question, at, by);
    return {
      status: 'open',
      queryId: d.queryId,
      tenant: recorded.meta.tenant,
      task: d.task,
      input: d.input,
      maxDepth: d.maxDepth,
      confidenceThreshold: d.confidenceThreshold,
      taskClass: d.taskClass,
      limitSources: { ...d.limitSources },
      dataClassification: d.dataClassification,
      rootNodeId: d.rootNodeId,
      nodes: new Map([[root.nodeId, root]]),
      jobs: new Map(),
      openedAt: at,
      openedBy: by,
      revision: recorded.revision,
      completion: null,
      stop: null,
    };
  }

  if (state.status === 'none') throw corrupt(recorded, 'event before AmplificationQueryOpened');
  if (recorded.meta.tenant !== state.tenant) throw corrupt(recorded, 'event of another tenant');
  if (recorded.revision <= state.revision) throw corrupt(recorded, 'revision does not increase');
  const revision = recorded.revision;
  /** The state with one node replaced. */
  const withNode = (node: QueryNode): ExistingQueryState => ({
    ...state,
    nodes: writable(state.nodes, owned.nodes).set(node.nodeId, node),
    revision,
  });

  switch (recorded.type) {
    case 'SubqueriesDelegated': {
      const { nodeId, children } = recorded.data;
      const parent = nodeOf(state, recorded, nodeId);
      if (parent.children.length > 0) throw corrupt(recorded, `node ${nodeId} already decomposed`);
      if (parent.answer !== undefined) throw corrupt(recorded, `node ${nodeId} already answered`);
      if (parent.assignments.length > 0) throw corrupt(recorded, `node ${nodeId} is assigned`);
      if (openEscalation(parent) !== undefined) throw corrupt(recorded, `node ${nodeId} is escalated`);
      const childIds = children.map((c) => c.nodeId);
      const reused = childIds.find((id, i) => state.nodes.has(id) || childIds.indexOf(id) !== i);
      if (reused !== undefined) throw corrupt(recorded, `node id ${reused} already used`);
      const nodes = writable(state.nodes, owned.nodes);
      for (const child of children) {
        nodes.set(child.nodeId, newNode(child.nodeId, nodeId, parent.depth + 1, child.question, at, by));
      }
      nodes.set(nodeId, { ...parent, children: childIds });
      return { ...state, nodes, revision };
    }
    case 'HumanAnswerRecorded': {
      const { nodeId, answer: text, confidence } = recorded.data;
      const node = unansweredNodeOf(state, recorded, nodeId);
      if (node.children.length > 0) throw corrupt(recorded, `node ${nodeId} is decomposed`);
      if (pendingJobs(node).length > 0) throw corrupt(recorded, `node ${nodeId} has pending jobs`);
      const answer: NodeAnswer = { text, confidence, kind: 'human', by, at, proxyVersionId: null, jobId: null };
      // The human answer is what clears an escalation.
      const escalations = node.escalations.map((e) => (e.resolvedAt === null ? { ...e, resolvedAt: at, resolvedBy: by } : e));
      return withNode({ ...node, answer, escalations });
    }
    case 'AnswerComposed': {
      const { nodeId, answer: text } = recorded.data;
      const node = unansweredNodeOf(state, recorded, nodeId);
      const answer: NodeAnswer = { text, confidence: null, kind: 'composed', by, at, proxyVersionId: null, jobId: null };
      return withNode({ ...node, answer });
    }
    case 'HumanOverrideRecorded': {
      const { nodeId, answer, rationale, previousAnswer } = recorded.data;
      const node = nodeOf(state, recorded, nodeId);
      if (node.answer === undefined) throw corrupt(recorded, `override of unanswered node ${nodeId}`);
      return withNode({ ...node, overrides: [...node.overrides, { answer, rationale, previousAnswer, by, at }] });
    }
    case 'QueryCompleted':
      return { ...state, status: 'completed', completion: { answer: recorded.data.answer, at, by }, revision };
    case 'QueryStopped':
      return {
        ...state,
        status: 'stopped',
        stop: { reason: recorded.data.reason, previousStatus: recorded.data.previousStatus, at, by },
        revision,
      };
    case 'NodeAssigned': {
      const { nodeId, assignee } = recorded.data;
      const node = unansweredNodeOf(state, recorded, nodeId);
      if (node.children.length > 0) throw corrupt(recorded, `node ${nodeId} is decomposed`);
      if (pendingJobs(node).length > 0) throw corrupt(recorded, `node ${nodeId} has pending jobs`);
      if (openEscalation(node) !== undefined) {
        // The one reassignment there is: an escalated node handed to a human.
        if (assignee.kind !== 'human' || currentAssignee(node)?.kind === 'human') {
          throw corrupt(recorded, `escalated node ${nodeId} may only be reassigned to a human`);
        }
      } else if (node.assignments.length > 0) {
        throw corrupt(recorded, `node ${nodeId} already assigned`);
      }
      const jobIds = jobsOf(assignee).map((job) => job.jobId);
      const reused = jobIds.find((id, i) => state.jobs.has(id) || jobIds.indexOf(id) !== i);
      if (reused !== undefined) throw corrupt(recorded, `job id ${reused} already used`);
      return withNode({ ...node, assignments: [...node.assignments, { assignee: copyAssignee(assignee), by, at }] });
    }
    case 'InferenceRequested': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId);
      const assignee = currentAssignee(node);
      const planned =
        assignee === undefined ? undefined : jobsOf(assignee).find((job) => job.jobId === d.jobId && job.proxyVersionId === d.proxyVersionId);
      if (assignee === undefined || planned === undefined || (assignee.kind === 'ensemble') !== d.ensemble) {
        throw corrupt(recorded, `job ${d.jobId} is not one the node's assignment planned`);
      }
      if (state.jobs.has(d.jobId)) throw corrupt(recorded, `job ${d.jobId} requested twice`);
      const job: InferenceJob = {
        jobId: d.jobId,
        proxyVersionId: d.proxyVersionId,
        artifactSha256: d.artifactSha256,
        question: d.question,
        ensemble: d.ensemble,
        requestedBy: by,
        requestedAt: at,
        status: 'pending',
        result: null,
        abandonedAt: null,
        input: inputOnOwnText(d.input, 'question', node.question),
        inputDigest: d.inputDigest,
        gate: null,
      };
      const next = withNode({ ...node, jobs: [...node.jobs, job] });
      return { ...next, jobs: writable(state.jobs, owned.jobs).set(d.jobId, d.nodeId) };
    }
    case 'PolicyDecisionRecorded':
    case 'InferenceAuthorized':
    case 'InferenceDenied': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId);
      const index = node.jobs.findIndex((job) => job.jobId === d.jobId);
      const next = index < 0 ? `unknown job ${d.jobId} on node ${d.nodeId}` : applyGateEvent(node.jobs[index]!, recorded);
      if (typeof next === 'string') throw corrupt(recorded, next);
      return withNode({ ...node, jobs: node.jobs.map((job, i) => (i === index ? { ...job, ...next } : job)) });
    }
    case 'InferenceCompleted': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId);
      const index = node.jobs.findIndex((job) => job.jobId === d.jobId);
      const job = node.jobs[index];
      if (job === undefined) throw corrupt(recorded, `unknown job ${d.jobId} on node ${d.nodeId}`);
      if (job.status !== 'pending') throw corrupt(recorded, `job ${d.jobId} is ${job.status}, not pending`);
      if (job.proxyVersionId !== d.proxyVersionId) throw corrupt(recorded, `job ${d.jobId} runs another proxy version`);
      const result: JobResult = { answer: d.answer, confidence: d.confidence, output: d.output, by, at };
      const jobs = node.jobs.map((j, i) => (i === index ? { ...j, status: 'completed' as const, result } : j));
      // A single proxy answers the node when confident enough; an ensemble's members only vote.
      const answer: NodeAnswer | undefined =
        !job.ensemble && d.confidence >= state.confidenceThreshold
          ? { text: d.answer, confidence: d.confidence, kind: 'proxy', by, at, proxyVersionId: d.proxyVersionId, jobId: d.jobId }
          : undefined;
      return withNode(answer === undefined ? { ...node, jobs } : { ...node, jobs, answer });
    }
    case 'EnsembleAnswerAggregated': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId);
      const assignee = currentAssignee(node);
      if (assignee?.kind !== 'ensemble' || assignee.method !== d.method) {
        throw corrupt(recorded, `node ${d.nodeId} is not assigned to a ${d.method} ensemble`);
      }
      if (node.aggregation !== null) throw corrupt(recorded, `node ${d.nodeId} already aggregated`);
      const members = ensembleMembers(node, assignee.members);
      if (members === undefined || !sameMembers(members, d.members)) {
        throw corrupt(recorded, `members do not match the completed jobs of node ${d.nodeId}`);
      }
      const vote = aggregateMajority(members);
      if (vote.answer !== d.answer || vote.confidence !== d.confidence) {
        throw corrupt(recorded, `aggregate does not follow from the members of node ${d.nodeId}`);
      }
      const aggregation: EnsembleAggregation = { method: d.method, members, answer: d.answer, confidence: d.confidence, by, at };
      const answer: NodeAnswer | undefined =
        d.confidence >= state.confidenceThreshold
          ? { text: d.answer, confidence: d.confidence, kind: 'ensemble', by, at, proxyVersionId: null, jobId: null }
          : undefined;
      return withNode(answer === undefined ? { ...node, aggregation } : { ...node, aggregation, answer });
    }
    case 'EscalatedToHuman': {
      const d = recorded.data;
      const node = unansweredNodeOf(state, recorded, d.nodeId);
      if (node.children.length > 0) throw corrupt(recorded, `node ${d.nodeId} is decomposed`);
      if (openEscalation(node) !== undefined) throw corrupt(recorded, `node ${d.nodeId} already escalated`);
      const escalation: NodeEscalation = {
        reason: d.reason,
        confidence: d.confidence,
        threshold: d.threshold,
        jobId: d.jobId,
        note: d.note,
        by,
        at,
        resolvedAt: null,
        resolvedBy: null,
      };
      // From now on a human answers the node: results still outstanding would only compete with that answer.
      const jobs = node.jobs.map((job) => (job.status === 'pending' ? { ...job, status: 'abandoned' as const, abandonedAt: at } : job));
      return withNode({ ...node, jobs, escalations: [...node.escalations, escalation] });
    }
    default:
      return assertNever(recorded);
  }
}

/** The proxy jobs an assignee plans, in member order (none for a human). */
export function jobsOf(assignee: Assignee): { proxyVersionId: string; jobId: string }[] {
  switch (assignee.kind) {
    case 'human':
      return [];
    case 'proxy':
      return [{ proxyVersionId: assignee.proxyVersionId, jobId: assignee.jobId }];
    case 'ensemble':
      return assignee.members.map((m) => ({ proxyVersionId: m.proxyVersionId, jobId: m.jobId }));
    default:
      return assertNever(assignee);
  }
}

/**
 * The ensemble's votes in member order, once every member's job has completed; undefined while any is
 * missing, pending or abandoned. Members the policy gate denied do not vote (they never run).
 */
export function ensembleMembers(
  node: QueryNode,
  members: readonly { proxyVersionId: string; jobId: string }[],
): EnsembleMember[] | undefined {
  const out: EnsembleMember[] = [];
  for (const member of members) {
    const job = node.jobs.find((j) => j.jobId === member.jobId);
    // A member the policy gate denied never runs: the others vote without it.
    if (job?.status === 'denied') continue;
    if (job?.result == null || job.status !== 'completed') return undefined;
    out.push({ jobId: job.jobId, proxyVersionId: job.proxyVersionId, answer: job.result.answer, confidence: job.result.confidence });
  }
  return out;
}

function sameMembers(a: readonly EnsembleMember[], b: readonly EnsembleMember[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (m, i) =>
        m.jobId === b[i]!.jobId &&
        m.proxyVersionId === b[i]!.proxyVersionId &&
        m.answer === b[i]!.answer &&
        m.confidence === b[i]!.confidence,
    )
  );
}

function newNode(nodeId: string, parentId: string | null, depth: number, question: string, at: string, by: Actor): QueryNode {
  return {
    nodeId,
    parentId,
    depth,
    question,
    children: [],
    overrides: [],
    assignments: [],
    jobs: [],
    escalations: [],
    aggregation: null,
    createdAt: at,
    createdBy: by,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Decision-tree read model. Type aliases (not interfaces) so the whole tree is a `JsonValue`: it can be
// canonicalised and digested, and a rebuilt projection compared byte for byte with the live one.

export type ActorView = { sub: string; role: Role };

export type DecisionTreeOverride = {
  answer: string;
  rationale: string;
  previousAnswer: string;
  by: ActorView;
  at: string;
};

export type DecisionTreeAssignment = { assignee: Assignee; by: ActorView; at: string };

export type DecisionTreeJob = {
  jobId: string;
  proxyVersionId: string;
  artifactSha256: string;
  ensemble: boolean;
  status: JobStatus;
  requestedBy: ActorView;
  requestedAt: string;
  result: { answer: string; confidence: number; output: JsonValue; by: ActorView; at: string } | null;
  abandonedAt: string | null;
  input: JsonValue;
  inputDigest: string;
  /** The policy gate's decision on the job; null for a job requested before the gate existed. */
  policy: DecisionTreeJobPolicy | null;
};

export type DecisionTreeJobPolicy = {
  decision: 'allow' | 'deny';
  outcome: 'authorized' | 'denied' | null;
  determiningPolicies: string[];
  errors: string[];
  policySetDigest: string | null;
  cedarVersion: string;
  requestDigest: string;
  reason: string | null;
  revision: number;
  at: string;
};

export type DecisionTreeEscalation = {
  reason: EscalationReason;
  confidence: number | null;
  threshold: number | null;
  jobId: string | null;
  note: string | null;
  by: ActorView;
  at: string;
  resolvedAt: string | null;
  resolvedBy: ActorView | null;
};

export type DecisionTreeAggregation = {
  method: EnsembleMethod;
  members: EnsembleMember[];
  answer: string;
  confidence: number;
  by: ActorView;
  at: string;
};

export type DecisionTreeNode = {
  nodeId: string;
  parentId: string | null;
  question: string;
  depth: number;
  status: NodeStatus;
  createdAt: string;
  createdBy: ActorView;
  /** The answer that counts now (= `currentAnswer`); null while unanswered. */
  answer: string | null;
  /** The first answer, as recorded before any override. */
  originalAnswer: string | null;
  currentAnswer: string | null;
  /** Confidence of the original answer (the human's if stated, the proxy's, the ensemble's aggregate); null for composed answers. */
  confidence: number | null;
  answerKind: AnswerKind | null;
  /** Who recorded the original answer and when; each override names its own author and time. */
  answeredBy: ActorView | null;
  answeredAt: string | null;
  /** The proxy version whose result is the original answer (kind `proxy`). */
  answerProxyVersionId: string | null;
  answerJobId: string | null;
  overridden: boolean;
  overrides: DecisionTreeOverride[];
  /** The current assignee; `assignments` keeps every one, oldest first. */
  assignee: Assignee | null;
  assignments: DecisionTreeAssignment[];
  jobs: DecisionTreeJob[];
  escalations: DecisionTreeEscalation[];
  aggregation: DecisionTreeAggregation | null;
  children: DecisionTreeNode[];
};

export type DecisionTree = {
  queryId: string;
  tenant: string;
  task: string;
  input: JsonValue;
  maxDepth: number;
  confidenceThreshold: number;
  taskClass: string | null;
  limitSources: LimitSources;
  dataClassification: DataClassification;
  status: QueryStatus;
  revision: number;
  openedAt: string;
  openedBy: ActorView;
  completedAt: string | null;
  completedBy: ActorView | null;
  /** The root's answer when the query completed; an override after completion shows on the root, not here. */
  completedAnswer: string | null;
  stoppedAt: string | null;
  stoppedBy: ActorView | null;
  stopReason: string | null;
  nodeCount: number;
  root: DecisionTreeNode;
};

/** Renders the JSON decision tree. Throws `QUERY.NOT_FOUND` for a stream that holds no query. */
export function decisionTree(state: QueryState): DecisionTree {
  if (state.status === 'none') throw new LedgerError('QUERY.NOT_FOUND', 'not_found', 'Query not found');
  const render = (nodeId: string): DecisionTreeNode => {
    const node = state.nodes.get(nodeId);
    if (node === undefined) throw new LedgerError('QUERY.CORRUPT_STREAM', 'internal', `Dangling node ${nodeId}`);
    const current = currentAnswer(node) ?? null;
    const assignee = currentAssignee(node);
    return {
      nodeId: node.nodeId,
      parentId: node.parentId,
      question: node.question,
      depth: node.depth,
      status: nodeStatus(node),
      createdAt: node.createdAt,
      createdBy: actorView(node.createdBy),
      answer: current,
      originalAnswer: node.answer?.text ?? null,
      currentAnswer: current,
      confidence: node.answer?.confidence ?? null,
      answerKind: node.answer?.kind ?? null,
      answeredBy: node.answer ? actorView(node.answer.by) : null,
      answeredAt: node.answer?.at ?? null,
      answerProxyVersionId: node.answer?.proxyVersionId ?? null,
      answerJobId: node.answer?.jobId ?? null,
      overridden: node.overrides.length > 0,
      overrides: node.overrides.map((o) => ({
        answer: o.answer,
        rationale: o.rationale,
        previousAnswer: o.previousAnswer,
        by: actorView(o.by),
        at: o.at,
      })),
      assignee: assignee === undefined ? null : copyAssignee(assignee),
      assignments: node.assignments.map((a) => ({ assignee: copyAssignee(a.assignee), by: actorView(a.by), at: a.at })),
      jobs: node.jobs.map((job) => ({
        jobId: job.jobId,
        proxyVersionId: job.proxyVersionId,
        artifactSha256: job.artifactSha256,
        ensemble: job.ensemble,
        status: job.status,
        requestedBy: actorView(job.requestedBy),
        requestedAt: job.requestedAt,
        result:
          job.result === null
            ? null
            : {
                answer: job.result.answer,
                confidence: job.result.confidence,
                output: job.result.output,
                by: actorView(job.result.by),
                at: job.result.at,
              },
        abandonedAt: job.abandonedAt,
        input: job.input,
        inputDigest: job.inputDigest,
        policy:
          job.gate === null
            ? null
            : {
                decision: job.gate.decision,
                outcome: job.gate.outcome,
                determiningPolicies: [...job.gate.determiningPolicies],
                errors: [...job.gate.errors],
                policySetDigest: job.gate.policySetDigest,
                cedarVersion: job.gate.cedarVersion,
                requestDigest: job.gate.requestDigest,
                reason: job.gate.reason,
                revision: job.gate.revision,
                at: job.gate.at,
              },
      })),
      escalations: node.escalations.map((e) => ({
        reason: e.reason,
        confidence: e.confidence,
        threshold: e.threshold,
        jobId: e.jobId,
        note: e.note,
        by: actorView(e.by),
        at: e.at,
        resolvedAt: e.resolvedAt,
        resolvedBy: e.resolvedBy === null ? null : actorView(e.resolvedBy),
      })),
      aggregation:
        node.aggregation === null
          ? null
          : {
              method: node.aggregation.method,
              members: node.aggregation.members.map((m) => ({ ...m })),
              answer: node.aggregation.answer,
              confidence: node.aggregation.confidence,
              by: actorView(node.aggregation.by),
              at: node.aggregation.at,
            },
      // Depth is bounded by maxDepth, so recursion is safe.
      children: node.children.map(render),
    };
  };
  return {
    queryId: state.queryId,
    tenant: state.tenant,
    task: state.task,
    input: state.input,
    maxDepth: state.maxDepth,
    confidenceThreshold: state.confidenceThreshold,
    taskClass: state.taskClass,
    limitSources: { ...state.limitSources },
    dataClassification: state.dataClassification,
    status: state.status,
    revision: state.revision,
    openedAt: state.openedAt,
    openedBy: actorView(state.openedBy),
    completedAt: state.completion?.at ?? null,
    completedBy: state.completion ? actorView(state.completion.by) : null,
    completedAnswer: state.completion?.answer ?? null,
    stoppedAt: state.stop?.at ?? null,
    stoppedBy: state.stop ? actorView(state.stop.by) : null,
    stopReason: state.stop?.reason ?? null,
    nodeCount: state.nodes.size,
    root: render(state.rootNodeId),
  };
}

function actorView(actor: Actor): ActorView {
  return { sub: actor.sub, role: actor.role };
}

function copyActor(actor: Actor): Actor {
  return { sub: actor.sub, role: actor.role };
}

/** A deep copy, so neither the state nor a rendered tree aliases the recorded event. */
function copyAssignee(assignee: Assignee, proxy: (proxyVersionId: string) => string = same): Assignee {
  switch (assignee.kind) {
    case 'human':
      return { kind: 'human' };
    case 'proxy':
      return { kind: 'proxy', proxyVersionId: proxy(assignee.proxyVersionId), jobId: assignee.jobId };
    case 'ensemble':
      return {
        kind: 'ensemble',
        method: assignee.method,
        members: assignee.members.map((m) => ({ proxyVersionId: proxy(m.proxyVersionId), jobId: m.jobId })),
      };
    default:
      return assertNever(assignee);
  }
}

/** `copyAssignee` for an adopted event: the same content, in the event's own objects (strings passed through `proxy` in place). */
function adoptAssignee(assignee: Assignee, proxy: (proxyVersionId: string) => string): Assignee {
  switch (assignee.kind) {
    case 'human':
      return assignee;
    case 'proxy':
      (assignee as Writable<typeof assignee>).proxyVersionId = proxy(assignee.proxyVersionId);
      return assignee;
    case 'ensemble':
      for (const member of assignee.members) (member as Writable<typeof member>).proxyVersionId = proxy(member.proxyVersionId);
      return assignee;
    default:
      return assertNever(assignee);
  }
}

function same(value: string): string {
  return value;
}

function writable<K, V>(map: ReadonlyMap<K, V>, owned: boolean): Map<K, V> {
  return owned ? (map as Map<K, V>) : new Map(map);
}

function nodeOf(state: ExistingQueryState, recorded: RecordedQueryEvent, nodeId: string): QueryNode {
  const node = state.nodes.get(nodeId);
  if (node === undefined) throw corrupt(recorded, `unknown node ${nodeId}`);
  return node;
}

function unansweredNodeOf(state: ExistingQueryState, recorded: RecordedQueryEvent, nodeId: string): QueryNode {
  const node = nodeOf(state, recorded, nodeId);
  if (node.answer !== undefined) throw corrupt(recorded, `node ${nodeId} already answered`);
  return node;
}

function corrupt(recorded: RecordedQueryEvent, reason: string): LedgerError {
  return new LedgerError('QUERY.CORRUPT_STREAM', 'internal', `Cannot apply ${recorded.type}: ${reason}`, {
    eventType: recorded.type,
    revision: recorded.revision,
    reason,
  });
}
