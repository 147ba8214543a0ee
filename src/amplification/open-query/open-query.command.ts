/** Open an amplification query: the task becomes the root node's question. */
import type { JsonValue } from '../../ledger/entry.js';
import { isJsonValue, type AmplificationQueryOpened } from '../query.events.js';
import { invalid, refuse, requireId, requireText, requireUnitInterval } from '../query.guards.js';
import type { QueryState } from '../query.state.js';

export interface OpenQueryCommand {
  queryId: string;
  rootNodeId: string;
  task: string;
  input: JsonValue;
  /** Integer 1..16; default 3. Bounds the recursion so one query cannot fan out without limit. */
  maxDepth?: number;
  /** 0..1; default 0.7. Answers below it are the ones to escalate to a human. */
  confidenceThreshold?: number;
}

export const MAX_TASK_LENGTH = 4000;
export const DEFAULT_MAX_DEPTH = 3;
export const MAX_MAX_DEPTH = 16;
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.7;

export function decideOpenQuery(command: OpenQueryCommand, state: QueryState): [AmplificationQueryOpened] {
  const queryId = requireId(command.queryId, 'queryId');
  const rootNodeId = requireId(command.rootNodeId, 'rootNodeId');
  const task = requireText(command.task, 'task', MAX_TASK_LENGTH);
  // `undefined` is not JSON: the input must be stated, even if only as null.
  if (command.input === undefined || !isJsonValue(command.input)) throw invalid('input', 'must be a JSON value');
  const maxDepth = command.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_MAX_DEPTH) {
    throw invalid('maxDepth', `must be an integer between 1 and ${MAX_MAX_DEPTH}`);
  }
  const confidenceThreshold = requireUnitInterval(
    command.confidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD,
    'confidenceThreshold',
  );

  // Even a stopped query keeps its stream: ids are never reused, so the history stays unambiguous.
  if (state.status !== 'none') throw refuse('QUERY.ALREADY_EXISTS', `Query ${queryId} already exists`, { queryId });

  return [
    {
      type: 'AmplificationQueryOpened',
      schema: 1,
      data: { queryId, rootNodeId, task, input: command.input, question: task, maxDepth, confidenceThreshold },
    },
  ];
}
