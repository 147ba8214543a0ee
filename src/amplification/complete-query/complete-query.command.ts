/** Complete an open query; the root's current answer becomes the delivered answer. */
import type { QueryCompleted } from '../query.events.js';
import { refuse, requireOpen } from '../query.guards.js';
import { currentAnswer, type QueryState } from '../query.state.js';

/** No fields: the answer is taken from the state, never from the caller. */
export type CompleteQueryCommand = Record<string, never>;

export function decideCompleteQuery(_command: CompleteQueryCommand, state: QueryState): [QueryCompleted] {
  const query = requireOpen(state);
  const root = query.nodes.get(query.rootNodeId);
  const answer = root === undefined ? undefined : currentAnswer(root);
  if (answer === undefined) {
    throw refuse('QUERY.ROOT_NOT_ANSWERED', `The root of query ${query.queryId} has no answer yet`, {
      rootNodeId: query.rootNodeId,
    });
  }
  return [{ type: 'QueryCompleted', schema: 1, data: { answer } }];
}
