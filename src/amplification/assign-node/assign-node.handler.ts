/**
 * `AssignNode` (CQRS command) and its thin handler: reads the named proxy versions' streams, then the shared
 * runner decides with those snapshots, the policy engine's decisions (asked inside `decide`, against the very
 * state decided on: the engine is synchronous) and job ids from the IdGenerator.
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { canonicalJson } from '../../ledger/canonical-json.js';
import type { JsonValue } from '../../ledger/entry.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { EVENT_STORE } from '../../ledger/ledger.tokens.js';
import { POLICY_ENGINE, type PolicyDecision, type PolicyEngine } from '../../policy/policy-engine.port.js';
import { runInferenceRequest } from '../../policy/policy-requests.js';
import { ProxySnapshotReader } from '../proxy-snapshot.js';
import type { Assignee, InferenceRequestedData, QueryEvent } from '../query.events.js';
import { NodeCommand, QueryCommandRunner, type CommandOutcome } from '../query-command.runner.js';
import type { AssignNodeResponse } from '../query.responses.js';
import { jobsOf } from '../query.state.js';
import { decideAssignNode, gateInputs, proxyVersionIdsOf, type AssignNodeCommand } from './assign-node.command.js';
import type { AssignNodeBody } from './assign-node.dto.js';

export class AssignNode extends NodeCommand<AssignNodeBody, AssignNodeResponse> {}

@CommandHandler(AssignNode)
export class AssignNodeHandler implements ICommandHandler<AssignNode> {
  /** The proxy streams this handler folded, continued with what was appended since on each assignment. */
  private readonly proxies: ProxySnapshotReader;

  constructor(
    private readonly runner: QueryCommandRunner,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(POLICY_ENGINE) private readonly engine: PolicyEngine,
  ) {
    this.proxies = new ProxySnapshotReader(store);
  }

  async execute({ envelope, queryId, nodeId, body }: AssignNode): Promise<CommandOutcome<AssignNodeResponse>> {
    const command = { nodeId, ...body } as AssignNodeCommand;
    const versionIds = proxyVersionIdsOf(command);
    // Read before deciding. A stage change between this read and the append is a race the registry's own
    // stream orders; the job records the artifact digest it was given, so a later audit sees exactly what ran.
    const proxies = await this.proxies.read(versionIds);
    const { tenant, sub } = envelope.principal;
    return this.runner.run(envelope, {
      queryId,
      mode: 'update',
      eventType: 'NodeAssigned',
      sameRequest: (data, events) => data.nodeId === nodeId && sameTarget(data.assignee, body) && sameModelInput(events, 'input' in body ? (body.input as JsonValue | undefined) : undefined),
      decide: (state, ctx) => {
        const decisions = new Map<string, PolicyDecision>();
        for (const [id, input] of gateInputs(command, state, proxies, sub)) decisions.set(id, this.engine.decide(tenant, runInferenceRequest(input)));
        return decideAssignNode(command, state, proxies, decisions, ctx);
      },
      respond: ({ queryId, data, events, revision }) => assignResponse(queryId, data.nodeId, data.assignee, events, revision),
    });
  }
}

/** The response, from the recorded events alone (a replay rebuilds it exactly). */
export function assignResponse(queryId: string, nodeId: string, assignee: Assignee, events: readonly QueryEvent[], revision: number): AssignNodeResponse {
  const requested = new Map<string, InferenceRequestedData>();
  const decided = new Map<string, 'allow' | 'deny'>();
  let escalated = false;
  for (const event of events) {
    if (event.type === 'InferenceRequested') requested.set(event.data.jobId, event.data);
    else if (event.type === 'PolicyDecisionRecorded') decided.set(event.data.jobId, event.data.decision);
    else if (event.type === 'EscalatedToHuman') escalated = true;
  }
  return {
    queryId,
    nodeId,
    assignee,
    jobs: jobsOf(assignee).map((job) => ({
      ...job,
      inputDigest: requested.get(job.jobId)?.inputDigest ?? '',
      decision: decided.get(job.jobId) ?? null,
    })),
    escalated,
    revision,
  };
}

function sameTarget(assignee: Assignee, body: AssignNodeBody): boolean {
  const recorded = jobsOf(assignee).map((job) => job.proxyVersionId);
  const asked = proxyVersionIdsOf({ nodeId: '', ...body } as AssignNodeCommand);
  return assignee.kind === body.to && recorded.length === asked.length && recorded.every((id, i) => id === asked[i]);
}

/**
 * A reused Idempotency-Key must also have named the same model input: the jobs' recorded `input` equals the
 * request's, or, when the request gives none, the default `{question}` was recorded.
 */
function sameModelInput(events: readonly QueryEvent[], input: JsonValue | undefined): boolean {
  return events.every((event) => {
    if (event.type !== 'InferenceRequested') return true;
    const recorded = event.data.input;
    if (input !== undefined) return canonicalJson(recorded) === canonicalJson(input);
    return recorded !== null && typeof recorded === 'object' && !Array.isArray(recorded) && Object.keys(recorded).join() === 'question';
  });
}
