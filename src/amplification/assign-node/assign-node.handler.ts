/**
 * `AssignNode` (CQRS command) and its thin handler: reads the named proxy versions' streams, then the shared
 * runner decides with those snapshots and job ids from the IdGenerator.
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { readProxySnapshots } from '../proxy-snapshot.js';
import type { Assignee } from '../query.events.js';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import type { AssignNodeResponse } from '../query.responses.js';
import { jobsOf } from '../query.state.js';
import { decideAssignNode, proxyVersionIdsOf } from './assign-node.command.js';
import type { AssignNodeBody } from './assign-node.dto.js';

export class AssignNode extends NodeCommand<AssignNodeBody, AssignNodeResponse> {}

@CommandHandler(AssignNode)
export class AssignNodeHandler implements ICommandHandler<AssignNode> {
  constructor(
    private readonly runner: QueryCommandRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ envelope, queryId, nodeId, body }: AssignNode): Promise<CommandOutcome<AssignNodeResponse>> {
    const command = { nodeId, ...body };
    const versionIds = proxyVersionIdsOf(command);
    // Read before deciding. A stage change between this read and the append is a race the registry's own
    // stream orders; the job records the artifact digest it was given, so a later audit sees exactly what ran.
    const proxies = await readProxySnapshots(this.store, versionIds);
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'NodeAssigned',
      sameRequest: (data) => data.nodeId === nodeId && sameTarget(data.assignee, body),
      decide: (state, ctx) => decideAssignNode(command, state, proxies, ctx),
      respond: ({ queryId, data, revision }) => ({
        queryId,
        nodeId: data.nodeId,
        assignee: data.assignee,
        jobs: jobsOf(data.assignee),
        revision,
      }),
    });
  }
}

function sameTarget(assignee: Assignee, body: AssignNodeBody): boolean {
  const recorded = jobsOf(assignee).map((job) => job.proxyVersionId);
  const asked = proxyVersionIdsOf({ nodeId: '', ...body });
  return assignee.kind === body.to && recorded.length === asked.length && recorded.every((id, i) => id === asked[i]);
}
