/**
 * State of one amplification query (stream `query-<id>`) and its pure fold, `evolve`, plus the decision-tree
 * read model. Deterministic: everything comes from the recorded events (actor and time from their meta).
 */
import { LedgerError } from '../common/ledger-error.js';
import type { Actor, JsonValue, Role } from '../ledger/entry.js';
import {
  assertNever,
  isQueryEventType,
  parseRecordedQueryEvent,
  type RecordableEntry,
  type RecordedQueryEvent,
} from './query.events.js';

export type QueryStatus = 'open' | 'completed' | 'stopped';
export type AnswerKind = 'human' | 'composed';
export type NodeStatus = 'open' | 'decomposed' | 'answered';

export interface NodeAnswer {
  readonly text: string;
  readonly confidence: number | null;
  readonly kind: AnswerKind;
  readonly by: Actor;
  readonly at: string;
}

export interface NodeOverride {
  readonly answer: string;
  readonly rationale: string;
  readonly previousAnswer: string;
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
  readonly rootNodeId: string;
  /** A Map, not a record: node ids come from outside and must not collide with `__proto__` and friends. */
  readonly nodes: ReadonlyMap<string, QueryNode>;
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

/** The answer that counts now: the last override's, else the original; undefined while unanswered. */
export function currentAnswer(node: QueryNode): string | undefined {
  const last = node.overrides[node.overrides.length - 1];
  return last !== undefined ? last.answer : node.answer?.text;
}

export function nodeStatus(node: QueryNode): NodeStatus {
  if (node.answer !== undefined) return 'answered';
  return node.children.length > 0 ? 'decomposed' : 'open';
}

/**
 * Applies one recorded event. Never mutates `state`: changed nodes and the node map are new objects, unchanged
 * nodes are shared. Business rules live in the deciders; here we only refuse what cannot be applied without
 * losing or inventing history (unknown node, answer over an answer, another tenant's event...) with
 * `QUERY.CORRUPT_STREAM`.
 */
export function evolve(state: QueryState, recorded: RecordedQueryEvent): ExistingQueryState {
  return step(state, recorded, false);
}

/**
 * Folds already-parsed events. Same result as reducing with `evolve`, but the node map is copied once instead
 * of once per event (a ~1000-node query is loaded for every command): the intermediate states are never seen,
 * so the map this fold created may be updated in place. `from` itself is never mutated.
 */
export function replay(events: Iterable<RecordedQueryEvent>, from: QueryState = initialQueryState): QueryState {
  const foreign = from.status === 'none' ? null : from.nodes;
  let state = from;
  for (const event of events) state = step(state, event, state.status !== 'none' && state.nodes !== foreign);
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

function* parsedQueryEvents(entries: Iterable<RecordableEntry>): Generator<RecordedQueryEvent> {
  for (const entry of entries) if (isQueryEventType(entry.type)) yield parseRecordedQueryEvent(entry);
}

/** `ownsNodes`: `state.nodes` is a map only the caller holds, so it may be updated in place. */
function step(state: QueryState, recorded: RecordedQueryEvent, ownsNodes: boolean): ExistingQueryState {
  const by = copyActor(recorded.meta.actor);
  const at = recorded.meta.recordedAt;

  if (recorded.type === 'AmplificationQueryOpened') {
    if (state.status !== 'none') throw corrupt(recorded, 'query opened twice');
    const d = recorded.data;
    const root: QueryNode = {
      nodeId: d.rootNodeId,
      parentId: null,
      depth: 0,
      question: d.question,
      children: [],
      overrides: [],
      createdAt: at,
      createdBy: by,
    };
    return {
      status: 'open',
      queryId: d.queryId,
      tenant: recorded.meta.tenant,
      task: d.task,
      input: d.input,
      maxDepth: d.maxDepth,
      confidenceThreshold: d.confidenceThreshold,
      rootNodeId: d.rootNodeId,
      nodes: new Map([[root.nodeId, root]]),
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

  switch (recorded.type) {
    case 'SubqueriesDelegated': {
      const { nodeId, children } = recorded.data;
      const parent = nodeOf(state, recorded, nodeId);
      if (parent.children.length > 0) throw corrupt(recorded, `node ${nodeId} already decomposed`);
      const childIds = children.map((c) => c.nodeId);
      const reused = childIds.find((id, i) => state.nodes.has(id) || childIds.indexOf(id) !== i);
      if (reused !== undefined) throw corrupt(recorded, `node id ${reused} already used`);
      const nodes = writableNodes(state, ownsNodes);
      for (const child of children) {
        nodes.set(child.nodeId, {
          nodeId: child.nodeId,
          parentId: nodeId,
          depth: parent.depth + 1,
          question: child.question,
          children: [],
          overrides: [],
          createdAt: at,
          createdBy: by,
        });
      }
      nodes.set(nodeId, { ...parent, children: childIds });
      return { ...state, nodes, revision };
    }
    case 'HumanAnswerRecorded':
    case 'AnswerComposed': {
      const { nodeId, answer: text } = recorded.data;
      const node = nodeOf(state, recorded, nodeId);
      if (node.answer !== undefined) throw corrupt(recorded, `node ${nodeId} already answered`);
      const answer: NodeAnswer =
        recorded.type === 'HumanAnswerRecorded'
          ? { text, confidence: recorded.data.confidence, kind: 'human', by, at }
          : { text, confidence: null, kind: 'composed', by, at };
      const answered: QueryNode = { ...node, answer };
      return { ...state, nodes: writableNodes(state, ownsNodes).set(nodeId, answered), revision };
    }
    case 'HumanOverrideRecorded': {
      const { nodeId, answer, rationale, previousAnswer } = recorded.data;
      const node = nodeOf(state, recorded, nodeId);
      if (node.answer === undefined) throw corrupt(recorded, `override of unanswered node ${nodeId}`);
      const overridden: QueryNode = {
        ...node,
        overrides: [...node.overrides, { answer, rationale, previousAnswer, by, at }],
      };
      return { ...state, nodes: writableNodes(state, ownsNodes).set(nodeId, overridden), revision };
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
    default:
      return assertNever(recorded);
  }
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
  /** Confidence given with the original human answer; null for composed answers or when none was given. */
  confidence: number | null;
  answerKind: AnswerKind | null;
  /** Who gave the original answer and when; each override names its own author and time. */
  answeredBy: ActorView | null;
  answeredAt: string | null;
  overridden: boolean;
  overrides: DecisionTreeOverride[];
  children: DecisionTreeNode[];
};

export type DecisionTree = {
  queryId: string;
  tenant: string;
  task: string;
  input: JsonValue;
  maxDepth: number;
  confidenceThreshold: number;
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
      overridden: node.overrides.length > 0,
      overrides: node.overrides.map((o) => ({
        answer: o.answer,
        rationale: o.rationale,
        previousAnswer: o.previousAnswer,
        by: actorView(o.by),
        at: o.at,
      })),
      // Depth is bounded by maxDepth (≤ 16), so recursion is safe.
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

function writableNodes(state: ExistingQueryState, ownsNodes: boolean): Map<string, QueryNode> {
  return ownsNodes ? (state.nodes as Map<string, QueryNode>) : new Map(state.nodes);
}

function nodeOf(state: ExistingQueryState, recorded: RecordedQueryEvent, nodeId: string): QueryNode {
  const node = state.nodes.get(nodeId);
  if (node === undefined) throw corrupt(recorded, `unknown node ${nodeId}`);
  return node;
}

function corrupt(recorded: RecordedQueryEvent, reason: string): LedgerError {
  return new LedgerError('QUERY.CORRUPT_STREAM', 'internal', `Cannot apply ${recorded.type}: ${reason}`, {
    eventType: recorded.type,
    revision: recorded.revision,
    reason,
  });
}
