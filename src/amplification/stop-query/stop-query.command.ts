/** Stop a query (open or completed). Terminal: a stopped query accepts no further command. */
import { assertNever, type QueryStopped } from '../query.events.js';
import { isBlank, refuse, requireQuery } from '../query.guards.js';
import type { QueryState } from '../query.state.js';

export interface StopQueryCommand {
  reason: string;
}

export function decideStopQuery(command: StopQueryCommand, state: QueryState): [QueryStopped] {
  if (isBlank(command.reason)) throw refuse('QUERY.REASON_REQUIRED', 'Stopping a query needs a reason');
  const reason = command.reason;

  const query = requireQuery(state);
  switch (query.status) {
    case 'open':
    case 'completed':
      return [{ type: 'QueryStopped', schema: 1, data: { reason, previousStatus: query.status } }];
    case 'stopped':
      throw refuse('QUERY.STOPPED', `Query ${query.queryId} is already stopped`);
    default:
      return assertNever(query.status);
  }
}
