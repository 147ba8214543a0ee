/**
 * A proxy's result for one pending job, once the inference gate accepted it (src/inference/results: grant,
 * lease, worker, signature). The ledger records no result it did not authorise: this decider is reached only
 * through that acceptance, never from a pipeline's post. A single proxy's result answers the node when its confidence reaches
 * the query's threshold; an ensemble's results are votes, aggregated (majority) with the last one. Short of
 * the threshold, the node is escalated to a human in the same append.
 */
import { isJsonValue } from '../../common/domain-values.js';
import type { JsonValue } from '../../ledger/entry.js';
import { aggregateMajority } from '../query.ensemble.js';
import {
  INFERENCE_COMPLETED_SCHEMA,
  type EnsembleAnswerAggregated,
  type EnsembleMember,
  type EscalatedToHuman,
  type ExecutionProvider,
  type InferenceCompleted,
  type InferenceTiming,
} from '../query.events.js';
import { invalid, refuse, requireId, requireNode, requireOpen, requireText, requireUnitInterval } from '../query.guards.js';
import { currentAssignee, type QueryNode, type QueryState } from '../query.state.js';

export interface RecordInferenceResultCommand {
  nodeId: string;
  jobId: string;
  proxyVersionId: string;
  answer: string;
  confidence: number;
  /** The model's raw output, kept for audit; null (or omitted) when there is none worth keeping. */
  output?: JsonValue | null;
  /** Who ran it under which grant (already verified by the acceptance checks), recorded with the result. */
  worker: {
    workerId: string;
    jti: string;
    decisionPosition: number;
    provider: ExecutionProvider;
    timing: InferenceTiming;
    resultSignature: string;
  };
}

export type RecordInferenceResultEvents = [InferenceCompleted, ...(EnsembleAnswerAggregated | EscalatedToHuman)[]];

export function decideRecordInferenceResult(command: RecordInferenceResultCommand, state: QueryState): RecordInferenceResultEvents {
  const nodeId = requireId(command.nodeId, 'nodeId');
  const jobId = requireId(command.jobId, 'jobId');
  const proxyVersionId = requireId(command.proxyVersionId, 'proxyVersionId');
  const answer = requireText(command.answer, 'answer');
  const confidence = requireUnitInterval(command.confidence, 'confidence');
  const output = command.output ?? null;
  if (!isJsonValue(output)) throw invalid('output', 'must be a JSON value');

  const query = requireOpen(state);
  const node = requireNode(query, nodeId);
  const job = node.jobs.find((j) => j.jobId === jobId);
  if (job === undefined) throw refuse('QUERY.JOB_NOT_FOUND', `Node ${nodeId} has no job ${jobId}`, { nodeId, jobId });
  if (job.proxyVersionId !== proxyVersionId) {
    throw refuse('QUERY.JOB_PROXY_MISMATCH', `Job ${jobId} was assigned to another proxy version`, {
      nodeId,
      jobId,
      proxyVersionId,
      assignedProxyVersionId: job.proxyVersionId,
    });
  }
  if (job.status !== 'pending') {
    throw refuse('QUERY.JOB_NOT_PENDING', `Job ${jobId} is ${job.status}; it takes no result`, { nodeId, jobId, jobStatus: job.status });
  }

  const w = command.worker;
  const completed: InferenceCompleted = {
    type: 'InferenceCompleted',
    schema: INFERENCE_COMPLETED_SCHEMA,
    data: {
      jobId,
      nodeId,
      proxyVersionId,
      answer,
      confidence,
      output,
      workerId: w.workerId,
      jti: w.jti,
      decisionPosition: w.decisionPosition,
      provider: w.provider,
      timing: { loadMs: w.timing.loadMs, runMs: w.timing.runMs },
      resultSignature: w.resultSignature,
    },
  };
  const threshold = query.confidenceThreshold;
  if (!job.ensemble) {
    return confidence >= threshold ? [completed] : [completed, lowConfidence(nodeId, confidence, threshold, jobId)];
  }

  const members = votesWith(node, { jobId, proxyVersionId, answer, confidence });
  if (members === undefined) return [completed];
  const vote = aggregateMajority(members);
  const aggregated: EnsembleAnswerAggregated = {
    type: 'EnsembleAnswerAggregated',
    schema: 1,
    data: { nodeId, method: 'majority', members, answer: vote.answer, confidence: vote.confidence },
  };
  return vote.confidence >= threshold
    ? [completed, aggregated]
    : [completed, aggregated, lowConfidence(nodeId, vote.confidence, threshold, null)];
}

/** The ensemble's votes in member order with `latest` counted; undefined while another member is still out. */
function votesWith(node: QueryNode, latest: EnsembleMember): EnsembleMember[] | undefined {
  const assignee = currentAssignee(node);
  if (assignee?.kind !== 'ensemble') return undefined;
  const votes: EnsembleMember[] = [];
  for (const member of assignee.members) {
    if (member.jobId === latest.jobId) {
      votes.push(latest);
      continue;
    }
    const job = node.jobs.find((j) => j.jobId === member.jobId);
    // A member the policy gate denied never runs: the others vote without it (as `ensembleMembers`).
    if (job?.status === 'denied') continue;
    const result = job?.result;
    if (result == null) return undefined;
    votes.push({ jobId: member.jobId, proxyVersionId: member.proxyVersionId, answer: result.answer, confidence: result.confidence });
  }
  return votes;
}

function lowConfidence(nodeId: string, confidence: number, threshold: number, jobId: string | null): EscalatedToHuman {
  return {
    type: 'EscalatedToHuman',
    schema: 1,
    data: { nodeId, reason: 'low_confidence', confidence, threshold, jobId, note: null },
  };
}

/**
 * What a command's recorded events mean for the node (the HTTP response's `outcome`). `ensemble`: whether the
 * job belonged to an ensemble; a lone `InferenceCompleted` answers the node only for a single proxy.
 */
export function inferenceOutcome(events: readonly { type: string }[], ensemble: boolean): 'answered' | 'escalated' | 'awaiting_members' {
  if (events.some((e) => e.type === 'EscalatedToHuman')) return 'escalated';
  if (!ensemble || events.some((e) => e.type === 'EnsembleAnswerAggregated')) return 'answered';
  return 'awaiting_members';
}
