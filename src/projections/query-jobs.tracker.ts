/**
 * What several projections need to know of a query to read its inference events: its tenant and confidence
 * threshold, and its proxy jobs (which node, which proxy version, single or ensemble). Each projection owns its
 * own tracker (projections share no state). Throws a plain `Error` for an event that contradicts the query
 * so far; the projection reports it at the entry's position.
 */
import type { ProjectedEvent } from './projected-events.js';
import { SmallMap } from './small-map.js';

export interface TrackedJob {
  jobId: string;
  nodeId: string;
  proxyVersionId: string;
  ensemble: boolean;
  completed: boolean;
}

export interface TrackedQuery {
  queryId: string;
  tenant: string;
  confidenceThreshold: number;
  /** By job id; null until the first job (a query answered by humans alone never has one). */
  jobs: SmallMap<TrackedJob> | null;
}

type QueryEvent<T extends ProjectedEvent['type']> = Extract<ProjectedEvent, { type: T }>;

export class QueryJobsTracker {
  private readonly queries = new Map<string, TrackedQuery>();

  opened(event: QueryEvent<'AmplificationQueryOpened'>): TrackedQuery {
    if (this.queries.has(event.stream)) throw new Error('query opened twice');
    const query: TrackedQuery = {
      queryId: event.queryId,
      tenant: event.meta.tenant,
      confidenceThreshold: event.confidenceThreshold,
      jobs: null,
    };
    this.queries.set(event.stream, query);
    return query;
  }

  /** The query an event of its stream belongs to (it must be open already, and of the same tenant). */
  of(event: ProjectedEvent): TrackedQuery {
    const query = this.queries.get(event.stream);
    if (query === undefined) throw new Error('event before AmplificationQueryOpened');
    if (query.tenant !== event.meta.tenant) throw new Error('event of another tenant');
    return query;
  }

  requested(event: QueryEvent<'InferenceRequested'>): TrackedJob {
    const query = this.of(event);
    query.jobs ??= new SmallMap();
    if (query.jobs.has(event.jobId)) throw new Error(`job ${event.jobId} requested twice`);
    const job: TrackedJob = {
      jobId: event.jobId,
      nodeId: event.nodeId,
      proxyVersionId: event.proxyVersionId,
      ensemble: event.ensemble,
      completed: false,
    };
    query.jobs.set(event.jobId, job);
    return job;
  }

  completed(event: QueryEvent<'InferenceCompleted'>): { query: TrackedQuery; job: TrackedJob } {
    const query = this.of(event);
    const job = query.jobs?.get(event.jobId);
    if (job === undefined) throw new Error(`result of job ${event.jobId}, which was never requested`);
    if (job.completed) throw new Error(`job ${event.jobId} completed twice`);
    if (job.nodeId !== event.nodeId || job.proxyVersionId !== event.proxyVersionId)
      throw new Error(`job ${event.jobId} was requested for node ${job.nodeId} with proxy ${job.proxyVersionId}`);
    job.completed = true;
    return { query, job };
  }

  /** The member jobs of an ensemble aggregate (each must be a completed ensemble job of that node). */
  aggregated(event: QueryEvent<'EnsembleAnswerAggregated'>): { query: TrackedQuery; jobs: TrackedJob[] } {
    const query = this.of(event);
    const jobs = event.members.map((member) => {
      const job = query.jobs?.get(member.jobId);
      if (job === undefined || !job.completed || !job.ensemble || job.nodeId !== event.nodeId || job.proxyVersionId !== member.proxyVersionId)
        throw new Error(`member job ${member.jobId} is not a completed ensemble job of node ${event.nodeId} with proxy ${member.proxyVersionId}`);
      return job;
    });
    return { query, jobs };
  }
}
