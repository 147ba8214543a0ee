/** `GetRun` (CQRS query) and its handler: the run rebuilt from its stream, for the caller's tenant. */
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../auth/principal.js';
import type { EventStore } from '../../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../../ledger/ledger.tokens.js';
import { loadRun } from '../run-commands.js';
import { runNotFound } from '../run.guards.js';
import { runView, type RunView } from '../run.state.js';

export interface RunResult {
  run: RunView;
  /** Revision of the stream's last entry: the ETag, and what `If-Match` of the next command must name. */
  streamRevision: number;
}

export class GetRun extends Query<RunResult> {
  constructor(
    readonly principal: Principal,
    readonly runId: string,
  ) {
    super();
  }
}

@QueryHandler(GetRun)
export class GetRunHandler implements IQueryHandler<GetRun> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ principal, runId }: GetRun): Promise<RunResult> {
    // Tenant first (403), then existence (404).
    const { state, streamRevision } = await loadRun(this.store, principal, runId);
    if (state === null || streamRevision === null) throw runNotFound(runId);
    return { run: runView(state), streamRevision };
  }
}
