/**
 * Hand a leaf to a human, to one proxy version or to an ensemble of them. For proxies, records one
 * `InferenceRequested` per job: the seam where the inference policy gate comes in (DESIGN §6).
 */
import type { Assignee, InferenceRequested, NodeAssigned, ProxyJobRef } from '../query.events.js';
import {
  invalid,
  refuse,
  requireId,
  requireLeaf,
  requireNode,
  requireNotAnswered,
  requireOpen,
  type QueryDecideContext,
} from '../query.guards.js';
import { currentAssignee, openEscalation, pendingJobs, type ExistingQueryState, type QueryState } from '../query.state.js';
import { SERVING_STAGES, type ProxySnapshot } from '../proxy-snapshot.js';

export type AssignNodeCommand =
  | { nodeId: string; to: 'human' }
  | { nodeId: string; to: 'proxy'; proxyVersionId: string }
  | { nodeId: string; to: 'ensemble'; proxyVersionIds: string[] };

/** An ensemble of one is a single proxy; beyond nine, a vote costs more than it tells. */
export const MIN_ENSEMBLE_SIZE = 2;
export const MAX_ENSEMBLE_SIZE = 9;

/** The proxy versions a command names, in order (none for a human). */
export function proxyVersionIdsOf(command: AssignNodeCommand): string[] {
  switch (command.to) {
    case 'human':
      return [];
    case 'proxy':
      return [command.proxyVersionId];
    case 'ensemble':
      return [...command.proxyVersionIds];
    default:
      return assertUnknownTarget(command);
  }
}

/**
 * Pure: `proxies` holds the snapshots the handler read for the named versions (any tenant's; a missing one
 * does not exist), `ctx` the job ids.
 */
export function decideAssignNode(
  command: AssignNodeCommand,
  state: QueryState,
  proxies: ReadonlyMap<string, ProxySnapshot>,
  ctx: QueryDecideContext,
): [NodeAssigned, ...InferenceRequested[]] {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const versionIds = requireTargets(command);

  const query = requireOpen(state);
  const node = requireNode(query, nodeId);
  requireNotAnswered(node);
  requireLeaf(node);
  const assignee = currentAssignee(node);
  if (openEscalation(node) !== undefined) {
    // Escalated: a human answers it, so the only assignment left is to a human (once).
    if (command.to !== 'human') {
      throw refuse('QUERY.NODE_ESCALATED', `Node ${nodeId} is escalated; only a human may be assigned to it`, { nodeId });
    }
    if (assignee?.kind === 'human') throw alreadyAssigned(nodeId, assignee);
  } else if (assignee !== undefined) {
    throw alreadyAssigned(nodeId, assignee, pendingJobs(node).map((job) => job.jobId));
  }

  const snapshots = versionIds.map((id) => requireServingProxy(query, proxies, id));
  const jobs: ProxyJobRef[] = snapshots.map((proxy) => ({ proxyVersionId: proxy.proxyVersionId, jobId: newJobId(query, ctx) }));
  requireDistinct(jobs.map((job) => job.jobId));

  const target: Assignee =
    command.to === 'human'
      ? { kind: 'human' }
      : command.to === 'proxy'
        ? { kind: 'proxy', proxyVersionId: jobs[0]!.proxyVersionId, jobId: jobs[0]!.jobId }
        : { kind: 'ensemble', method: 'majority', members: jobs };
  const requested = jobs.map(
    (job, i): InferenceRequested => ({
      type: 'InferenceRequested',
      schema: 1,
      data: {
        jobId: job.jobId,
        nodeId,
        proxyVersionId: job.proxyVersionId,
        artifactSha256: snapshots[i]!.artifactSha256,
        question: node.question,
        ensemble: command.to === 'ensemble',
      },
    }),
  );
  return [{ type: 'NodeAssigned', schema: 1, data: { nodeId, assignee: target } }, ...requested];
}

function requireTargets(command: AssignNodeCommand): string[] {
  switch (command.to) {
    case 'human':
      return [];
    case 'proxy':
      return [requireId(command.proxyVersionId, 'proxyVersionId')];
    case 'ensemble': {
      const ids = command.proxyVersionIds;
      if (!Array.isArray(ids) || ids.length < MIN_ENSEMBLE_SIZE || ids.length > MAX_ENSEMBLE_SIZE) {
        throw invalid('proxyVersionIds', `must name ${MIN_ENSEMBLE_SIZE}..${MAX_ENSEMBLE_SIZE} proxy versions`);
      }
      ids.forEach((id, i) => requireId(id, `proxyVersionIds[${i}]`));
      // Distinct versions: the same model twice would count its vote twice.
      const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
      if (repeated !== undefined) throw invalid('proxyVersionIds', `must be distinct; ${repeated} is named twice`);
      return [...ids];
    }
    default:
      return assertUnknownTarget(command);
  }
}

/** A proxy of another tenant is refused exactly like one that does not exist: its existence is not ours to learn. */
function requireServingProxy(
  query: ExistingQueryState,
  proxies: ReadonlyMap<string, ProxySnapshot>,
  proxyVersionId: string,
): ProxySnapshot {
  const proxy = proxies.get(proxyVersionId);
  if (proxy === undefined || proxy.tenant !== query.tenant || proxy.proxyVersionId !== proxyVersionId) {
    throw refuse('QUERY.PROXY_NOT_FOUND', `Proxy version ${proxyVersionId} not found`, { proxyVersionId });
  }
  if (!SERVING_STAGES.includes(proxy.stage)) {
    throw refuse('QUERY.PROXY_NOT_SERVING', `Proxy version ${proxyVersionId} is ${proxy.stage}; only shadow or production proxies serve`, {
      proxyVersionId,
      stage: proxy.stage,
      servingStages: [...SERVING_STAGES],
    });
  }
  return proxy;
}

function newJobId(query: ExistingQueryState, ctx: QueryDecideContext): string {
  const jobId = requireId(ctx.newId(), 'generated job id');
  if (query.jobs.has(jobId)) throw refuse('QUERY.JOB_ID_CONFLICT', `Job id ${jobId} is already in use`, { jobId });
  return jobId;
}

function requireDistinct(jobIds: string[]): void {
  const repeated = jobIds.find((id, i) => jobIds.indexOf(id) !== i);
  if (repeated !== undefined) throw refuse('QUERY.JOB_ID_CONFLICT', `Job id ${repeated} is already in use`, { jobId: repeated });
}

function alreadyAssigned(nodeId: string, assignee: Assignee, pendingJobIds: string[] = []) {
  return refuse('QUERY.NODE_ALREADY_ASSIGNED', `Node ${nodeId} is already assigned to a ${assignee.kind}`, {
    nodeId,
    assignee: assignee.kind,
    pendingJobIds,
  });
}

/** `to` outside the union: only reachable from untyped input; refused as a bad command, not a crash. */
function assertUnknownTarget(command: never): never {
  throw invalid('to', `must be 'human', 'proxy' or 'ensemble', not ${JSON.stringify((command as { to?: unknown }).to)}`);
}
