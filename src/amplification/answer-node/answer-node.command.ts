/**
 * A human overseer answers a leaf: an open one, one assigned to a human, or an escalated one (which only a
 * human may answer; the answer clears the escalation). A leaf whose proxy jobs are still out waits for them.
 * Changing an answer later is an override, not a second answer.
 */
import type { HumanAnswerRecorded } from '../query.events.js';
import {
  requireId,
  requireLeaf,
  requireNode,
  requireNoPendingJobs,
  requireNotAnswered,
  requireOpen,
  requireText,
  requireUnitInterval,
} from '../query.guards.js';
import type { QueryState } from '../query.state.js';

export interface AnswerNodeCommand {
  nodeId: string;
  answer: string;
  /** 0..1; omitted means the overseer stated none (recorded as null). */
  confidence?: number;
}

export function decideAnswerNode(command: AnswerNodeCommand, state: QueryState): [HumanAnswerRecorded] {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const answer = requireText(command.answer, 'answer');
  const confidence = command.confidence === undefined ? null : requireUnitInterval(command.confidence, 'confidence');

  const query = requireOpen(state);
  const node = requireNode(query, nodeId);
  requireNotAnswered(node);
  requireLeaf(node);
  requireNoPendingJobs(node);

  return [{ type: 'HumanAnswerRecorded', schema: 1, data: { nodeId, answer, confidence } }];
}
