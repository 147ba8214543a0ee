/**
 * Decompose an open leaf into subquestions; each becomes a child node one level deeper. A leaf handed to a
 * proxy or a human, or escalated, is being answered as it is: it is not split any more.
 */
import type { SubqueriesDelegated } from '../query.events.js';
import {
  invalid,
  refuse,
  requireId,
  requireNode,
  requireNotAnswered,
  requireOpen,
  requireText,
  type QueryDecideContext,
} from '../query.guards.js';
import { currentAssignee, openEscalation, type QueryState } from '../query.state.js';
import { MAX_TASK_LENGTH } from '../open-query/open-query.command.js';

export interface DecomposeNodeCommand {
  nodeId: string;
  /** 1..32 non-blank questions, in the order the children are created. */
  subquestions: string[];
}

export const MAX_SUBQUESTIONS = 32;
/** A subquestion is held to the same bound as the task it descends from. */
export const MAX_QUESTION_LENGTH = MAX_TASK_LENGTH;

export function decideDecomposeNode(
  command: DecomposeNodeCommand,
  state: QueryState,
  ctx: QueryDecideContext,
): [SubqueriesDelegated] {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const subquestions = command.subquestions;
  if (!Array.isArray(subquestions) || subquestions.length < 1 || subquestions.length > MAX_SUBQUESTIONS) {
    throw invalid('subquestions', `must hold 1..${MAX_SUBQUESTIONS} questions`);
  }
  subquestions.forEach((q, i) => requireText(q, `subquestions[${i}]`, MAX_QUESTION_LENGTH));

  const query = requireOpen(state);
  const node = requireNode(query, nodeId);
  requireNotAnswered(node);
  if (node.children.length > 0) {
    throw refuse('QUERY.NODE_ALREADY_DECOMPOSED', `Node ${nodeId} is already decomposed`, { nodeId });
  }
  if (openEscalation(node) !== undefined) {
    throw refuse('QUERY.NODE_ESCALATED', `Node ${nodeId} is escalated; a human answers it`, { nodeId });
  }
  const assignee = currentAssignee(node);
  if (assignee !== undefined) {
    throw refuse('QUERY.NODE_ALREADY_ASSIGNED', `Node ${nodeId} is assigned to a ${assignee.kind}`, {
      nodeId,
      assignee: assignee.kind,
    });
  }
  if (node.depth + 1 > query.maxDepth) {
    throw refuse('QUERY.MAX_DEPTH_EXCEEDED', `Children of node ${nodeId} would exceed maxDepth ${query.maxDepth}`, {
      nodeId,
      depth: node.depth,
      maxDepth: query.maxDepth,
    });
  }

  // Ids come from outside the pure core; a reused one would silently merge two nodes, so refuse it here.
  const seen = new Set<string>();
  const children = subquestions.map((question) => {
    const childId = requireId(ctx.newId(), 'generated node id');
    if (query.nodes.has(childId) || seen.has(childId)) {
      throw refuse('QUERY.NODE_ID_CONFLICT', `Node id ${childId} is already in use`, { nodeId: childId });
    }
    seen.add(childId);
    return { nodeId: childId, question };
  });

  return [{ type: 'SubqueriesDelegated', schema: 1, data: { nodeId, children } }];
}
