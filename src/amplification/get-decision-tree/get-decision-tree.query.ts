/** `GetDecisionTree` (CQRS query) and its handler: the tree rebuilt from the stream, for the caller's tenant. */
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../../auth/principal.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { decisionTree, type DecisionTree } from '../query.state.js';
import { loadQuery, queryNotFound } from '../query-command.runner.js';

export interface DecisionTreeResult {
  tree: DecisionTree;
  /** Revision of the stream's last entry: the ETag, and what `If-Match` of the next command must name. */
  streamRevision: number;
}

export class GetDecisionTree extends Query<DecisionTreeResult> {
  constructor(
    readonly principal: Principal,
    readonly queryId: string,
  ) {
    super();
  }
}

@QueryHandler(GetDecisionTree)
export class GetDecisionTreeHandler implements IQueryHandler<GetDecisionTree> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ principal, queryId }: GetDecisionTree): Promise<DecisionTreeResult> {
    if (queryId.length === 0 || queryId.length > 200) throw queryNotFound(queryId);
    // Tenant first (403), then existence (404).
    const { state, streamRevision } = await loadQuery(this.store, principal, queryId);
    if (state.status === 'none' || streamRevision === null) throw queryNotFound(queryId);
    return { tree: decisionTree(state), streamRevision };
  }
}
