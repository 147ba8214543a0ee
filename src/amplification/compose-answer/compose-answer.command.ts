/**
 * Compose a decomposed node's answer once every child has one (the amplification step). A child escalated to a
 * human is named as such: the parent waits for the overseer, not for the pipeline.
 */
import type { AnswerComposed } from '../query.events.js';
import { refuse, requireId, requireNode, requireNotAnswered, requireOpen, requireText } from '../query.guards.js';
import { isEscalated, type QueryState } from '../query.state.js';

export interface ComposeAnswerCommand {
  nodeId: string;
  answer: string;
}

export function decideComposeAnswer(command: ComposeAnswerCommand, state: QueryState): [AnswerComposed] {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const answer = requireText(command.answer, 'answer');

  const query = requireOpen(state);
  const node = requireNode(query, nodeId);
  if (node.children.length === 0) {
    throw refuse('QUERY.NODE_NOT_DECOMPOSED', `Node ${nodeId} has no children to compose from; answer it instead`, {
      nodeId,
    });
  }
  requireNotAnswered(node);
  const escalatedChildIds = node.children.filter((id) => {
    const child = query.nodes.get(id);
    return child !== undefined && isEscalated(child);
  });
  if (escalatedChildIds.length > 0) {
    throw refuse('QUERY.CHILD_ESCALATED', `Node ${nodeId} has children escalated to a human and not yet answered`, {
      nodeId,
      escalatedChildIds,
    });
  }
  const unansweredChildIds = node.children.filter((id) => query.nodes.get(id)?.answer === undefined);
  if (unansweredChildIds.length > 0) {
    throw refuse('QUERY.CHILDREN_UNANSWERED', `Node ${nodeId} has unanswered children`, { nodeId, unansweredChildIds });
  }

  return [{ type: 'AnswerComposed', schema: 1, data: { nodeId, answer } }];
}
