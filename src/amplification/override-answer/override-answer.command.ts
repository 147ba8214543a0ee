/**
 * A human replaces a node's current answer, with a rationale. The original answer stays in the history.
 * Allowed after completion (a regulator must be able to correct a delivered answer), never after a stop.
 */
import type { HumanOverrideRecorded } from '../query.events.js';
import { isBlank, refuse, requireId, requireNode, requireNotStopped, requireQuery, requireText } from '../query.guards.js';
import { currentAnswer, type QueryState } from '../query.state.js';

export interface OverrideAnswerCommand {
  nodeId: string;
  answer: string;
  rationale: string;
}

export function decideOverrideAnswer(command: OverrideAnswerCommand, state: QueryState): [HumanOverrideRecorded] {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const answer = requireText(command.answer, 'answer');
  if (isBlank(command.rationale)) throw refuse('QUERY.RATIONALE_REQUIRED', 'An override needs a rationale');
  const rationale = command.rationale;

  const query = requireNotStopped(requireQuery(state));
  const node = requireNode(query, nodeId);
  const previousAnswer = currentAnswer(node);
  if (previousAnswer === undefined) {
    throw refuse('QUERY.NODE_NOT_ANSWERED', `Node ${nodeId} has no answer to override`, { nodeId });
  }
  // Exact comparison: an override that changes nothing would only inflate the override KPI.
  if (answer === previousAnswer) {
    throw refuse('QUERY.OVERRIDE_UNCHANGED', `The override equals the current answer of node ${nodeId}`, { nodeId });
  }

  return [{ type: 'HumanOverrideRecorded', schema: 1, data: { nodeId, answer, rationale, previousAnswer } }];
}
