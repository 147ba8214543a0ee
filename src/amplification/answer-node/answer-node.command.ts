/** A human overseer answers an open leaf. Changing an answer later is an override, not a second answer. */
import type { HumanAnswerRecorded } from '../query.events.js';
import {
  refuse,
  requireId,
  requireNode,
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
  if (node.children.length > 0) {
    throw refuse('QUERY.NODE_DECOMPOSED', `Node ${nodeId} is decomposed; compose its answer from its children`, {
      nodeId,
    });
  }

  return [{ type: 'HumanAnswerRecorded', schema: 1, data: { nodeId, answer, confidence } }];
}
