/**
 * Escalate an unanswered leaf to a human by hand (the pipeline gives up on it, or an overseer takes it over).
 * Proxy jobs still out on it are abandoned: from now on only a human answer settles the node.
 */
import type { EscalatedToHuman } from '../query.events.js';
import { refuse, requireId, requireLeaf, requireNode, requireNotAnswered, requireOpen, requireText } from '../query.guards.js';
import { openEscalation, type QueryState } from '../query.state.js';

export interface EscalateNodeCommand {
  nodeId: string;
  /** Why, for the overseer who picks it up; omitted means none (recorded as null). */
  note?: string;
}

export const MAX_NOTE_LENGTH = 4000;

export function decideEscalateNode(command: EscalateNodeCommand, state: QueryState): [EscalatedToHuman] {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const note = command.note === undefined ? null : requireText(command.note, 'note', MAX_NOTE_LENGTH);

  const query = requireOpen(state);
  const node = requireNode(query, nodeId);
  requireNotAnswered(node);
  requireLeaf(node);
  const open = openEscalation(node);
  if (open !== undefined) {
    throw refuse('QUERY.NODE_ALREADY_ESCALATED', `Node ${nodeId} is already escalated`, { nodeId, escalatedAt: open.at });
  }

  return [
    {
      type: 'EscalatedToHuman',
      schema: 1,
      data: { nodeId, reason: 'requested', confidence: null, threshold: null, jobId: null, note },
    },
  ];
}
