/**
 * Refusals shared by the query deciders: one place for the stable error codes and the order in which a
 * command is checked (its own values first, since they need no state; then query, then node).
 */
import { LedgerError, type ErrorCategory } from '../common/ledger-error.js';
import type { QueryEvent } from './query.events.js';
import { pendingJobs, type ExistingQueryState, type QueryNode, type QueryState } from './query.state.js';

/** Every refusal code of the query deciders with its HTTP category, for the HTTP layer and OpenAPI docs. */
export const QUERY_REFUSALS = {
  'QUERY.INVALID_COMMAND': 'unprocessable',
  'QUERY.ALREADY_EXISTS': 'conflict',
  'QUERY.NOT_FOUND': 'not_found',
  'QUERY.COMPLETED': 'conflict',
  'QUERY.STOPPED': 'conflict',
  'QUERY.NODE_NOT_FOUND': 'not_found',
  'QUERY.NODE_ID_CONFLICT': 'conflict',
  'QUERY.NODE_ALREADY_ANSWERED': 'conflict',
  'QUERY.NODE_ALREADY_DECOMPOSED': 'conflict',
  'QUERY.NODE_DECOMPOSED': 'conflict',
  'QUERY.NODE_NOT_DECOMPOSED': 'conflict',
  'QUERY.NODE_NOT_ANSWERED': 'conflict',
  'QUERY.CHILDREN_UNANSWERED': 'conflict',
  'QUERY.MAX_DEPTH_EXCEEDED': 'unprocessable',
  'QUERY.RATIONALE_REQUIRED': 'unprocessable',
  'QUERY.REASON_REQUIRED': 'unprocessable',
  'QUERY.OVERRIDE_UNCHANGED': 'unprocessable',
  'QUERY.ROOT_NOT_ANSWERED': 'conflict',
  'QUERY.UNKNOWN_TASK_CLASS': 'unprocessable',
  'QUERY.NODE_ALREADY_ASSIGNED': 'conflict',
  'QUERY.NODE_ESCALATED': 'conflict',
  'QUERY.NODE_ALREADY_ESCALATED': 'conflict',
  'QUERY.NODE_AWAITING_INFERENCE': 'conflict',
  'QUERY.CHILD_ESCALATED': 'conflict',
  'QUERY.PROXY_NOT_FOUND': 'unprocessable',
  'QUERY.PROXY_NOT_SERVING': 'conflict',
  'QUERY.JOB_ID_CONFLICT': 'conflict',
  'QUERY.JOB_NOT_FOUND': 'unprocessable',
  'QUERY.JOB_PROXY_MISMATCH': 'unprocessable',
  'QUERY.JOB_NOT_PENDING': 'conflict',
} as const satisfies Record<string, ErrorCategory>;

export type QueryRefusalCode = keyof typeof QUERY_REFUSALS;

/** What a decider may need besides the command and state. Time is not here: `recordedAt` is the store's. */
export interface QueryDecideContext {
  /** Fresh, unique node id (a UUID v7 in the service, a counter in tests). */
  newId(): string;
}

/**
 * Every decider fits this; those that need no context simply declare fewer parameters. `X`: what a decider
 * needs besides the command and state (the id source by default; tenant settings or proxy snapshots for
 * some), always passed in by the handler so the decider stays pure.
 */
export type QueryDecider<C, X extends unknown[] = [ctx: QueryDecideContext]> = (
  command: C,
  state: QueryState,
  ...extra: X
) => QueryEvent[];

export function refuse(code: QueryRefusalCode, message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError(code, QUERY_REFUSALS[code], message, details);
}

export function invalid(field: string, message: string): LedgerError {
  return refuse('QUERY.INVALID_COMMAND', `${field}: ${message}`, { field });
}

export function requireQuery(state: QueryState): ExistingQueryState {
  if (state.status === 'none') throw refuse('QUERY.NOT_FOUND', 'Query not found');
  return state;
}

/** A stopped query accepts no change at all. */
export function requireNotStopped(query: ExistingQueryState): ExistingQueryState {
  if (query.status === 'stopped') throw refuse('QUERY.STOPPED', `Query ${query.queryId} is stopped`);
  return query;
}

/** Work on the tree (decompose, answer, compose, complete) needs an open query. */
export function requireOpen(state: QueryState): ExistingQueryState {
  const query = requireNotStopped(requireQuery(state));
  if (query.status === 'completed') throw refuse('QUERY.COMPLETED', `Query ${query.queryId} is completed`);
  return query;
}

export function requireNode(query: ExistingQueryState, nodeId: string): QueryNode {
  const node = query.nodes.get(nodeId);
  if (node === undefined) throw refuse('QUERY.NODE_NOT_FOUND', `Node ${nodeId} not found`, { nodeId });
  return node;
}

/** Answering, assigning, escalating: only a leaf (a decomposed node is composed from its children). */
export function requireLeaf(node: QueryNode): void {
  if (node.children.length > 0) {
    throw refuse('QUERY.NODE_DECOMPOSED', `Node ${node.nodeId} is decomposed; compose its answer from its children`, {
      nodeId: node.nodeId,
    });
  }
}

/** A node whose proxy jobs are still out is settled by their results (or by escalating it), not by hand. */
export function requireNoPendingJobs(node: QueryNode): void {
  const jobIds = pendingJobs(node).map((job) => job.jobId);
  if (jobIds.length > 0) {
    throw refuse('QUERY.NODE_AWAITING_INFERENCE', `Node ${node.nodeId} is waiting for inference results`, {
      nodeId: node.nodeId,
      pendingJobIds: jobIds,
    });
  }
}

export function requireNotAnswered(node: QueryNode): void {
  if (node.answer !== undefined) {
    throw refuse('QUERY.NODE_ALREADY_ANSWERED', `Node ${node.nodeId} is already answered; change it with an override`, {
      nodeId: node.nodeId,
    });
  }
}

/** Ids are opaque but bounded, so they fit stream names, URLs and logs. */
export const MAX_ID_LENGTH = 200;

export function requireId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw invalid(field, `must be a string of 1..${MAX_ID_LENGTH} characters`);
  }
  return value;
}

export function isBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim().length === 0;
}

/** Answers, questions and the like: a string with something other than whitespace. Stored as given. */
export function requireText(value: unknown, field: string, maxLength = Number.POSITIVE_INFINITY): string {
  if (isBlank(value)) throw invalid(field, 'must be a non-blank string');
  const text = value as string;
  if (text.length > maxLength) throw invalid(field, `must be at most ${maxLength} characters`);
  return text;
}

/** A confidence or threshold: a finite number in [0, 1]. */
export function requireUnitInterval(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(field, 'must be a number between 0 and 1');
  }
  return value;
}
