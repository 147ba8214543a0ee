/**
 * Hand a leaf to a human, to one proxy version or to an ensemble of them. For proxies, the policy gate
 * (docs/policy-gate.md, "Decisions") decides each job before anything runs: per job `InferenceRequested`,
 * `PolicyDecisionRecorded`, then `InferenceAuthorized` or `InferenceDenied`, all in the assignment's append; when
 * the gate authorised no job of the node, the node escalates to a human (`EscalatedToHuman`, reason
 * `inference_denied`). The decisions are taken by the handler (the engine is synchronous) and passed in, so
 * this decider stays pure.
 */
import { isJsonValue } from '../../common/domain-values.js';
import { LedgerError } from '../../common/ledger-error.js';
import type { JsonValue } from '../../ledger/entry.js';
import { denyReason, policyDecisionRecorded } from '../../policy/policy-decision.js';
import type { PolicyDecision } from '../../policy/policy-engine.port.js';
import type { RunInferenceInput } from '../../policy/policy-requests.js';
import {
  INFERENCE_REQUESTED_SCHEMA,
  modelInputDigest,
  type Assignee,
  type EscalatedToHuman,
  type InferenceAuthorized,
  type InferenceDenied,
  type InferenceRequested,
  type NodeAssigned,
  type PolicyDecisionRecorded,
  type ProxyJobRef,
  type QueryEvent,
} from '../query.events.js';
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
import { currentAssignee, openEscalation, pendingJobs, type ExistingQueryState, type QueryNode, type QueryState } from '../query.state.js';
import { SERVING_STAGES, type ProxySnapshot } from '../proxy-snapshot.js';

export type AssignNodeCommand = (
  | { nodeId: string; to: 'human' }
  | { nodeId: string; to: 'proxy'; proxyVersionId: string }
  | { nodeId: string; to: 'ensemble'; proxyVersionIds: string[] }
) & {
  /** The model input for the proxy jobs (any JSON value); default `{question: <the node's question>}`. */
  input?: JsonValue;
};

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

/** The policy gate's answer per proxy version of the command (the handler asks the engine). */
export type GateDecisions = ReadonlyMap<string, PolicyDecision>;

/**
 * The `RunInference` inputs the handler must ask the policy engine about, by proxy version: one per named
 * version that exists in the caller's tenant, for the node as it stands. Empty when the query or node does
 * not exist (the decider then refuses) — asking costs nothing the decider would not refuse anyway.
 */
export function gateInputs(
  command: AssignNodeCommand,
  state: QueryState,
  proxies: ReadonlyMap<string, ProxySnapshot>,
  pipelineSub: string,
): Map<string, RunInferenceInput> {
  const inputs = new Map<string, RunInferenceInput>();
  if (state.status === 'none' || command.to === 'human') return inputs;
  const node = state.nodes.get(command.nodeId);
  if (node === undefined) return inputs;
  for (const id of proxyVersionIdsOf(command)) {
    const proxy = proxies.get(id);
    if (proxy === undefined || proxy.tenant !== state.tenant || proxy.proxyVersionId !== id) continue;
    inputs.set(id, runInferenceInputFor(state, node, proxy, pipelineSub));
  }
  return inputs;
}

/** The gate's question for one job: this pipeline, running `proxy` on `node` of `query`, in serving mode. */
export function runInferenceInputFor(query: ExistingQueryState, node: QueryNode, proxy: ProxySnapshot, pipelineSub: string): RunInferenceInput {
  return {
    tenant: query.tenant,
    pipelineSub,
    proxy: {
      proxyVersionId: proxy.proxyVersionId,
      stage: proxy.stage,
      fidelity: proxy.fidelity,
      drift: proxy.drift,
      artifactSha256: proxy.artifactSha256,
      tenant: proxy.tenant,
    },
    context: { taskClass: query.taskClass, depth: node.depth, dataClassification: query.dataClassification, mode: 'serving' },
  };
}

/**
 * Pure: `proxies` holds the snapshots the handler read for the named versions (any tenant's; a missing one
 * does not exist), `decisions` the policy engine's answer per named version (see `gateInputs`), `ctx` the
 * job ids.
 */
export function decideAssignNode(
  command: AssignNodeCommand,
  state: QueryState,
  proxies: ReadonlyMap<string, ProxySnapshot>,
  decisions: GateDecisions,
  ctx: QueryDecideContext,
): [NodeAssigned, ...QueryEvent[]] {
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
  const input = command.to === 'human' ? null : requireModelInput(command.input, node.question);
  const jobs: ProxyJobRef[] = snapshots.map((proxy) => ({ proxyVersionId: proxy.proxyVersionId, jobId: newJobId(query, ctx) }));
  requireDistinct(jobs.map((job) => job.jobId));

  const target: Assignee =
    command.to === 'human'
      ? { kind: 'human' }
      : command.to === 'proxy'
        ? { kind: 'proxy', proxyVersionId: jobs[0]!.proxyVersionId, jobId: jobs[0]!.jobId }
        : { kind: 'ensemble', method: 'majority', members: jobs };
  const assigned: NodeAssigned = { type: 'NodeAssigned', schema: 1, data: { nodeId, assignee: target } };
  if (input === null) return [assigned];

  const events: QueryEvent[] = [];
  const denials: string[] = [];
  jobs.forEach((job, i) => {
    const proxy = snapshots[i]!;
    const decision = decisions.get(job.proxyVersionId);
    if (decision === undefined) {
      // The handler asks for every version it read; a gap is a defect, never an implicit allow or deny.
      throw new LedgerError('QUERY.POLICY_DECISION_MISSING', 'internal', `No policy decision for proxy version ${job.proxyVersionId}`);
    }
    const requested: InferenceRequested = {
      type: 'InferenceRequested',
      schema: INFERENCE_REQUESTED_SCHEMA,
      data: {
        jobId: job.jobId,
        nodeId,
        proxyVersionId: job.proxyVersionId,
        artifactSha256: proxy.artifactSha256,
        question: node.question,
        ensemble: command.to === 'ensemble',
        input: input.value,
        inputDigest: input.digest,
      },
    };
    const recorded: PolicyDecisionRecorded = policyDecisionRecorded(decision, { jobId: job.jobId, nodeId });
    events.push(requested, recorded);
    const reason = denyReason(decision);
    if (reason === null && decision.policySetDigest !== null) {
      const authorized: InferenceAuthorized = {
        type: 'InferenceAuthorized',
        schema: 1,
        data: {
          jobId: job.jobId,
          nodeId,
          proxyVersionId: job.proxyVersionId,
          artifactSha256: proxy.artifactSha256,
          inputDigest: input.digest,
          policySetDigest: decision.policySetDigest,
        },
      };
      events.push(authorized);
    } else {
      const why = reason ?? 'no policy set in force';
      const denied: InferenceDenied = {
        type: 'InferenceDenied',
        schema: 1,
        data: { jobId: job.jobId, nodeId, proxyVersionId: job.proxyVersionId, determiningPolicies: [...decision.determiningPolicies], reason: why },
      };
      events.push(denied);
      denials.push(jobs.length > 1 ? `${job.proxyVersionId}: ${why}` : why);
    }
  });
  if (denials.length === jobs.length) {
    // Nothing will run: a human answers the node.
    const escalated: EscalatedToHuman = {
      type: 'EscalatedToHuman',
      schema: 1,
      data: {
        nodeId,
        reason: 'inference_denied',
        confidence: null,
        threshold: null,
        jobId: command.to === 'proxy' ? jobs[0]!.jobId : null,
        note: truncate(`policy gate denied: ${denials.join('; ')}`, MAX_NOTE_LENGTH),
      },
    };
    events.push(escalated);
  }
  return [assigned, ...events];
}

/** An escalation note stays readable in the oversight queue. */
const MAX_NOTE_LENGTH = 2000;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The model input and its digest: the command's, else `{question}`; it must be JSON that RFC 8785 can carry. */
function requireModelInput(input: JsonValue | undefined, question: string): { value: JsonValue; digest: string } {
  const value = input === undefined ? { question } : input;
  if (!isJsonValue(value)) throw invalid('input', 'must be a JSON value');
  try {
    return { value, digest: modelInputDigest(value) };
  } catch {
    throw invalid('input', 'must be JSON that canonicalises (RFC 8785): finite numbers only');
  }
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
