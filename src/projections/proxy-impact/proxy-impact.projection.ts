/**
 * Proxy impact (docs/ida-domain.md, "Projections"): every answer a proxy version gave — each
 * `InferenceCompleted` of a job on it, single or as an ensemble member — with what became of it, plus the
 * distillation runs whose dataset contains the queries it answered in.
 *
 * `escalated`: the node was escalated to a human after this answer (its low confidence, the ensemble's, or by
 * hand). `overridden`: the answer this job gave (alone, or as a member of the ensemble that answered) was the
 * node's answer, and a human overrode it later.
 */
import { CanonicalArrayDigest, compareStrings, sortedStrings } from '../canonical-digest.js';
import { parseProjectedEvent } from '../projected-events.js';
import { assertNever, FoldProjection, type ProjectionEntry } from '../projection.js';
import { QueryJobsTracker } from '../query-jobs.tracker.js';
import { SmallMap } from '../small-map.js';
import type { RunStatus } from '../lineage/lineage.projection.js';

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

/** What proxies answered on one node of a query. */
interface NodeAnswers {
  /** In order. */
  answers: ImpactAnswer[];
  /** The answers that became the node's answer (one single job, or the members of an ensemble); null: none yet. */
  accepted: ImpactAnswer[] | null;
}

interface TenantImpact {
  registered: Set<string>;
  /** Answers per proxy version, in position order. */
  answers: Map<string, ImpactAnswer[]>;
  runs: Map<string, { status: RunStatus; queryIds: Set<string> }>;
  runsByQuery: Map<string, string[]>;
}

export class ProxyImpactProjection extends FoldProjection {
  readonly name = 'proxy-impact';
  private readonly tenants = new Map<string, TenantImpact>();
  private readonly queries = new QueryJobsTracker();
  /** Per query stream, by node id: only nodes a proxy answered (null: none yet). */
  private readonly nodes = new Map<string, SmallMap<NodeAnswers> | null>();

  /** The impact of a proxy version registered in `tenant`, or undefined. */
  impact(tenant: string, proxyVersionId: string): ProxyImpact | undefined {
    this.assertHealthy();
    const impact = this.tenants.get(tenant);
    if (impact === undefined || !impact.registered.has(proxyVersionId)) return undefined;
    return view(impact, proxyVersionId);
  }

  protected fold(integrated: ProjectionEntry): boolean {
    const event = parseProjectedEvent(integrated.entry);
    if (event === null) return false;
    switch (event.type) {
      case 'AmplificationQueryOpened':
        this.queries.opened(event);
        this.nodes.set(event.stream, null);
        return true;
      case 'InferenceRequested':
        this.queries.requested(event);
        return true;
      case 'InferenceCompleted': {
        const { query, job } = this.queries.completed(event);
        // Ids as the tracker holds them (equal to the event's, checked): one string each, not one per event.
        const answer: ImpactAnswer = {
          queryId: query.queryId,
          nodeId: job.nodeId,
          jobId: job.jobId,
          role: job.ensemble ? 'ensemble' : 'single',
          answer: event.answer,
          confidence: event.confidence,
          escalated: false,
          overridden: false,
          answeredAt: event.meta.recordedAt,
          position: integrated.position,
        };
        let nodes = this.nodes.get(event.stream);
        if (nodes == null) this.nodes.set(event.stream, (nodes = new SmallMap()));
        let node = nodes.get(job.nodeId);
        if (node === undefined) nodes.set(job.nodeId, (node = { answers: [answer], accepted: null }));
        else node.answers.push(answer);
        if (!job.ensemble && event.confidence >= query.confidenceThreshold) node.accepted = [answer];
        push(this.tenant(query.tenant).answers, job.proxyVersionId, answer);
        return true;
      }
      case 'EnsembleAnswerAggregated': {
        const { query, jobs } = this.queries.aggregated(event);
        if (event.confidence >= query.confidenceThreshold) {
          // Every member is a completed job of this node (the tracker checked): its answer is on the node.
          const node = this.nodes.get(event.stream)!.get(event.nodeId)!;
          node.accepted = jobs.map((job) => node.answers.find((answer) => answer.jobId === job.jobId)!);
        }
        return true;
      }
      case 'EscalatedToHuman': {
        this.queries.of(event);
        for (const answer of this.nodes.get(event.stream)?.get(event.nodeId)?.answers ?? []) answer.escalated = true;
        return true;
      }
      case 'HumanOverrideRecorded': {
        this.queries.of(event);
        for (const answer of this.nodes.get(event.stream)?.get(event.nodeId)?.accepted ?? []) answer.overridden = true;
        return true;
      }
      case 'DistillationRunStarted': {
        const tenant = this.tenant(event.meta.tenant);
        if (tenant.runs.has(event.runId)) throw new Error(`run ${event.runId} started twice`);
        const queryIds = new Set(event.queryIds);
        tenant.runs.set(event.runId, { status: 'started', queryIds });
        for (const queryId of queryIds) push(tenant.runsByQuery, queryId, event.runId);
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
      case 'SubqueriesDelegated':
      case 'HumanAnswerRecorded':
      case 'AnswerComposed':
      case 'QueryStopped':
      case 'ProxyPromoted':
      case 'ProxyDemoted':
      case 'ProxyRetired':
        return false;
      default:
        return assertNever(event);
    }
  }

  protected computeDigest(): string {
    // `[{tenant, proxyVersionId, answers, runs}]` by tenant, then proxy version: registered ones and any that answered.
    const digest = new CanonicalArrayDigest();
    for (const tenantId of sortedStrings(this.tenants.keys())) {
      const tenant = this.tenants.get(tenantId)!;
      for (const proxyVersionId of sortedStrings(new Set([...tenant.registered, ...tenant.answers.keys()])))
        digest.add({ tenant: tenantId, ...view(tenant, proxyVersionId) });
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
}

function view(tenant: TenantImpact, proxyVersionId: string): ProxyImpact {
  const answers = (tenant.answers.get(proxyVersionId) ?? []).map((answer) => ({ ...answer }));
  const answeredIn = new Set(answers.map((answer) => answer.queryId));
  const runQueries = new Map<string, string[]>();
  for (const queryId of answeredIn) for (const runId of tenant.runsByQuery.get(queryId) ?? []) push(runQueries, runId, queryId);
  const runs = sortedStrings(runQueries.keys()).map((runId) => ({
    runId,
    status: tenant.runs.get(runId)!.status,
    queryIds: runQueries.get(runId)!.sort(compareStrings),
  }));
  return { proxyVersionId, answers, runs };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
