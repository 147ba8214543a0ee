/**
 * Proxy impact (docs/ida-domain.md, "Projections"): every answer a proxy version gave — each
 * `InferenceCompleted` of a job on it, single or as an ensemble member — with what became of it, plus the
 * distillation runs whose dataset contains the queries it answered in.
 *
 * `escalated`: the node was escalated to a human after this answer (its low confidence, the ensemble's, or by
 * hand). `overridden`: the answer this job gave (alone, or as a member of the ensemble that answered) was the
 * node's answer, and a human overrode it later.
 *
 * Derived from the decision trees (`QueryDerivedProjection`): it keeps, per proxy version, only where each
 * answer is (query, node, job, position); the answer itself and what became of it are read from the query's
 * tree when asked. Both flags follow from the node's tree alone: a node takes no proxy result once escalated
 * (pending jobs are abandoned, only a human may take it over), and an override needs an answer first.
 */
import { jobOf, jobOnNode, type ExistingQueryState, type InferenceJob, type QueryNode } from '../../amplification/query.state.js';
import { CanonicalArrayDigest, compareStrings, sortedStrings } from '../canonical-digest.js';
import type { RunStatus } from '../lineage/lineage.projection.js';
import { parseProjectedEvent } from '../projected-events.js';
import { assertNever, type ProjectionEntry } from '../projection.js';
import { QueryDerivedProjection, type FoldedForDerived } from '../query-derived-projection.js';

export type ImpactAnswer = {
  queryId: string;
  nodeId: string;
  jobId: string;
  role: 'single' | 'ensemble';
  answer: string;
  confidence: number;
  escalated: boolean;
  overridden: boolean;
  answeredAt: string;
  /** Global position of the `InferenceCompleted` entry. */
  position: number;
};

export type ImpactRun = { runId: string; status: RunStatus; queryIds: string[] };

export type ProxyImpact = {
  proxyVersionId: string;
  answers: ImpactAnswer[];
  /** Runs whose dataset contains a query this proxy answered in; `queryIds`: those queries, sorted. */
  runs: ImpactRun[];
};

/**
 * Where the answers of one proxy version are, flat: `[queryId, nodeId, jobId, position, queryId, ...]` in
 * position order (no object per answer; the strings are the decision trees' own instances).
 */
type AnswerRefs = (string | number)[];
const REF = 4;

interface TenantImpact {
  registered: Set<string>;
  /** Answers per proxy version, in position order. */
  answers: Map<string, AnswerRefs>;
  runs: Map<string, { status: RunStatus; queryIds: Set<string> }>;
  runsByQuery: Map<string, string[]>;
}

const QUERY_STREAM = 'query-';

export class ProxyImpactProjection extends QueryDerivedProjection {
  readonly name = 'proxy-impact';
  private readonly tenants = new Map<string, TenantImpact>();

  /** The impact of a proxy version registered in `tenant`, or undefined. */
  impact(tenant: string, proxyVersionId: string): ProxyImpact | undefined {
    this.assertHealthy();
    const impact = this.tenants.get(tenant);
    if (impact === undefined || !impact.registered.has(proxyVersionId)) return undefined;
    return this.view(impact, proxyVersionId);
  }

  protected foldDerived(integrated: ProjectionEntry, query: FoldedForDerived | null): boolean {
    if (query !== null) {
      const { event, state } = query;
      switch (event.type) {
        case 'InferenceCompleted': {
          // The decision trees checked the job: requested on this node, pending until now, of this proxy version.
          const { node, job } = jobOnNode(state, event.data.nodeId, event.data.jobId)!;
          push(this.tenant(state.tenant).answers, job.proxyVersionId, state.queryId, node.nodeId, job.jobId, integrated.position);
          return true;
        }
        case 'AmplificationQueryOpened':
        case 'InferenceRequested':
        case 'EnsembleAnswerAggregated':
        case 'EscalatedToHuman':
        case 'HumanOverrideRecorded':
          return true;
        case 'SubqueriesDelegated':
        case 'HumanAnswerRecorded':
        case 'AnswerComposed':
        case 'QueryStopped':
          return false;
        default:
          return assertNever(event);
      }
    }
    const event = parseProjectedEvent(integrated.entry);
    if (event === null) return false;
    switch (event.type) {
      case 'DistillationRunStarted': {
        const tenant = this.tenant(event.meta.tenant);
        if (tenant.runs.has(event.runId)) throw new Error(`run ${event.runId} started twice`);
        const queryIds = new Set(event.queryIds);
        tenant.runs.set(event.runId, { status: 'started', queryIds });
        for (const queryId of queryIds) pushRun(tenant.runsByQuery, queryId, event.runId);
        return true;
      }
      case 'DistillationRunCompleted':
      case 'DistillationRunFailed': {
        const run = this.tenant(event.meta.tenant).runs.get(event.runId);
        if (run === undefined) throw new Error(`run ${event.runId} was never started`);
        if (run.status !== 'started') throw new Error(`run ${event.runId} already ${run.status}`);
        run.status = event.type === 'DistillationRunCompleted' ? 'completed' : 'failed';
        return true;
      }
      case 'ProxyRegistered': {
        const tenant = this.tenant(event.meta.tenant);
        if (tenant.registered.has(event.proxyVersionId)) throw new Error(`proxy ${event.proxyVersionId} registered twice`);
        tenant.registered.add(event.proxyVersionId);
        return true;
      }
      case 'ProxyPromoted':
      case 'ProxyDemoted':
      case 'ProxyRetired':
        return false;
      default:
        return assertNever(event);
    }
  }

  protected *digestSteps(): Generator<void, string, void> {
    // `[{tenant, proxyVersionId, answers, runs}]` by tenant, then proxy version: registered ones and any that answered.
    const digest = new CanonicalArrayDigest();
    for (const tenantId of sortedStrings(this.tenants.keys())) {
      const tenant = this.tenants.get(tenantId)!;
      for (const proxyVersionId of sortedStrings(new Set([...tenant.registered, ...tenant.answers.keys()]))) {
        digest.add({ tenant: tenantId, ...this.view(tenant, proxyVersionId) });
        yield;
      }
    }
    return digest.finish();
  }

  private tenant(id: string): TenantImpact {
    let tenant = this.tenants.get(id);
    if (tenant === undefined) {
      tenant = { registered: new Set(), answers: new Map(), runs: new Map(), runsByQuery: new Map() };
      this.tenants.set(id, tenant);
    }
    return tenant;
  }

  /** The proxy version's answers, each read from its query's tree, and the runs trained on those queries. */
  private view(tenant: TenantImpact, proxyVersionId: string): ProxyImpact {
    const refs = tenant.answers.get(proxyVersionId) ?? [];
    const answers: ImpactAnswer[] = [];
    for (let i = 0; i < refs.length; i += REF) {
      const queryId = refs[i] as string;
      const nodeId = refs[i + 1] as string;
      const jobId = refs[i + 2] as string;
      const state = this.trees.stateOf(QUERY_STREAM + queryId)!;
      answers.push(answerView(state, jobOf(state, jobId)!, refs[i + 3] as number));
    }
    const answeredIn = new Set(answers.map((answer) => answer.queryId));
    const runQueries = new Map<string, string[]>();
    for (const queryId of answeredIn) for (const runId of tenant.runsByQuery.get(queryId) ?? []) pushRun(runQueries, runId, queryId);
    const runs = sortedStrings(runQueries.keys()).map((runId) => ({
      runId,
      status: tenant.runs.get(runId)!.status,
      queryIds: runQueries.get(runId)!.sort(compareStrings),
    }));
    return { proxyVersionId, answers, runs };
  }
}

function answerView(state: ExistingQueryState, { node, job }: { node: QueryNode; job: InferenceJob }, position: number): ImpactAnswer {
  const jobId = job.jobId;
  const result = job.result!;
  // The node's answer is this job's (a single proxy), or its ensemble's vote with this job among the members.
  const accepted =
    node.answer !== undefined &&
    ((node.answer.kind === 'proxy' && node.answer.jobId === jobId) ||
      (node.answer.kind === 'ensemble' && node.aggregation !== null && node.aggregation.members.some((member) => member.jobId === jobId)));
  return {
    queryId: state.queryId,
    nodeId: node.nodeId,
    jobId: job.jobId,
    role: job.ensemble ? 'ensemble' : 'single',
    answer: result.answer,
    confidence: result.confidence,
    escalated: node.escalations.length > 0,
    overridden: accepted && node.overrides.length > 0,
    answeredAt: result.at,
    position,
  };
}

function push(map: Map<string, AnswerRefs>, key: string, queryId: string, nodeId: string, jobId: string, position: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [queryId, nodeId, jobId, position]);
  else list.push(queryId, nodeId, jobId, position);
}

function pushRun(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
