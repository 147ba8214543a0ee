/**
 * Builds well-formed IDA event sequences (docs/ida-domain.md) as appends — stream, tenant, actor, events —
 * without a store: the projections' specs integrate them into entries in memory (`toEntries`), the benchmark
 * appends them to a real store. Every sequence it writes is one the command side could have written (the
 * amplification fold accepts it), including ensemble aggregates computed with the amplification's own vote.
 */
import { aggregateMajority } from '../amplification/query.ensemble.js';
import type { Actor, EntryMeta, JsonObject, ProposedEvent, SignedEntry } from '../ledger/entry.js';
import type { ProjectionEntry } from './projection.js';

export interface ScriptAppend {
  stream: string;
  tenant: string;
  actor: Actor;
  events: ProposedEvent[];
}

export const PIPELINE: Actor = { sub: 'svc-orchestrator', role: 'pipeline' };
export const overseer = (sub = 'overseer-alice'): Actor => ({ sub, role: 'overseer' });

const ev = (type: string, data: JsonObject, schema = 1): ProposedEvent => ({ type, schema, data });
const ARTIFACT = `sha256:${'c0'.repeat(32)}`;

/** One query's appends, in order. Methods mirror the HTTP commands; each adds one append. */
export class QueryScript {
  readonly stream: string;
  private readonly completed = new Map<string, { jobId: string; proxyVersionId: string; answer: string; confidence: number }>();

  constructor(
    private readonly out: ScriptAppend[],
    readonly tenant: string,
    readonly queryId: string,
    readonly rootNodeId: string,
    readonly confidenceThreshold: number,
  ) {
    this.stream = `query-${queryId}`;
  }

  private add(actor: Actor, ...events: ProposedEvent[]): this {
    this.out.push({ stream: this.stream, tenant: this.tenant, actor, events });
    return this;
  }

  delegate(nodeId: string, children: { nodeId: string; question: string }[]): this {
    return this.add(PIPELINE, ev('SubqueriesDelegated', { nodeId, children }));
  }

  assignHuman(nodeId: string): this {
    return this.add(PIPELINE, ev('NodeAssigned', { nodeId, assignee: { kind: 'human' } }));
  }

  assignProxy(nodeId: string, proxyVersionId: string, jobId: string, question = 'q'): this {
    return this.add(
      PIPELINE,
      ev('NodeAssigned', { nodeId, assignee: { kind: 'proxy', proxyVersionId, jobId } }),
      ev('InferenceRequested', { jobId, nodeId, proxyVersionId, artifactSha256: ARTIFACT, question, ensemble: false }),
    );
  }

  assignEnsemble(nodeId: string, members: { proxyVersionId: string; jobId: string }[], question = 'q'): this {
    return this.add(
      PIPELINE,
      ev('NodeAssigned', { nodeId, assignee: { kind: 'ensemble', method: 'majority', members } }),
      ...members.map((m) =>
        ev('InferenceRequested', { jobId: m.jobId, nodeId, proxyVersionId: m.proxyVersionId, artifactSha256: ARTIFACT, question, ensemble: true }),
      ),
    );
  }

  /** A single proxy's result; below the threshold it escalates in the same append, as the command does. */
  result(nodeId: string, proxyVersionId: string, jobId: string, answer: string, confidence: number): this {
    const completed = ev('InferenceCompleted', { jobId, nodeId, proxyVersionId, answer, confidence, output: null });
    if (confidence >= this.confidenceThreshold) return this.add(PIPELINE, completed);
    return this.add(PIPELINE, completed, this.escalation(nodeId, 'low_confidence', confidence, jobId, null));
  }

  /**
   * An ensemble member's result. With `last`, the aggregate of `members` (in assignment order) is recorded in
   * the same append, and escalates below the threshold.
   */
  memberResult(nodeId: string, proxyVersionId: string, jobId: string, answer: string, confidence: number, members?: string[]): this {
    const completed = ev('InferenceCompleted', { jobId, nodeId, proxyVersionId, answer, confidence, output: null });
    this.completed.set(jobId, { jobId, proxyVersionId, answer, confidence });
    if (members === undefined) return this.add(PIPELINE, completed);
    const votes = members.map((id) => this.completed.get(id)!);
    const vote = aggregateMajority(votes);
    const aggregated = ev('EnsembleAnswerAggregated', {
      nodeId,
      method: 'majority',
      members: votes.map((m) => ({ ...m })),
      answer: vote.answer,
      confidence: vote.confidence,
    });
    if (vote.confidence >= this.confidenceThreshold) return this.add(PIPELINE, completed, aggregated);
    return this.add(PIPELINE, completed, aggregated, this.escalation(nodeId, 'low_confidence', vote.confidence, null, null));
  }

  escalate(nodeId: string, note: string | null = null, actor: Actor = PIPELINE): this {
    return this.add(actor, this.escalation(nodeId, 'requested', null, null, note));
  }

  answer(nodeId: string, answer: string, actor: Actor = overseer(), confidence: number | null = null): this {
    return this.add(actor, ev('HumanAnswerRecorded', { nodeId, answer, confidence }));
  }

  compose(nodeId: string, answer: string): this {
    return this.add(PIPELINE, ev('AnswerComposed', { nodeId, answer }));
  }

  override(nodeId: string, answer: string, previousAnswer: string, actor: Actor = overseer()): this {
    return this.add(actor, ev('HumanOverrideRecorded', { nodeId, answer, rationale: 'checked by hand', previousAnswer }));
  }

  complete(answer: string): this {
    return this.add(PIPELINE, ev('QueryCompleted', { answer }));
  }

  stop(reason: string, previousStatus: 'open' | 'completed' = 'open', actor: Actor = overseer()): this {
    return this.add(actor, ev('QueryStopped', { reason, previousStatus }));
  }

  private escalation(nodeId: string, reason: 'low_confidence' | 'requested', confidence: number | null, jobId: string | null, note: string | null) {
    const threshold = reason === 'low_confidence' ? this.confidenceThreshold : null;
    return ev('EscalatedToHuman', { nodeId, reason, confidence, threshold, jobId, note });
  }
}

/** A whole log's appends, across streams, in the order they are to be integrated. */
export class IdaScript {
  readonly appends: ScriptAppend[] = [];

  openQuery(options: { tenant: string; queryId: string; rootNodeId?: string; question?: string; threshold?: number; schema?: 1 | 2 }): QueryScript {
    const rootNodeId = options.rootNodeId ?? `${options.queryId}-root`;
    const question = options.question ?? `task of ${options.queryId}`;
    const threshold = options.threshold ?? 0.7;
    const v1 = { queryId: options.queryId, rootNodeId, task: question, input: { task: question }, question, maxDepth: 8, confidenceThreshold: threshold };
    const data: JsonObject =
      options.schema === 1 ? v1 : { ...v1, taskClass: null, limitSources: { maxDepth: 'tenantDefault', confidenceThreshold: 'tenantDefault' } };
    const query = new QueryScript(this.appends, options.tenant, options.queryId, rootNodeId, threshold);
    this.appends.push({ stream: query.stream, tenant: options.tenant, actor: PIPELINE, events: [ev('AmplificationQueryOpened', data, options.schema ?? 2)] });
    return query;
  }

  runStarted(options: {
    tenant: string;
    runId: string;
    parentProxyVersionId?: string | null;
    queryIds: string[];
    teacherProxyVersionIds?: string[];
    humanPool?: string[];
  }): this {
    const { tenant, runId, queryIds } = options;
    return this.add(`distillation-${runId}`, tenant, PIPELINE, 'DistillationRunStarted', {
      runId,
      parentProxyVersionId: options.parentProxyVersionId ?? null,
      teacher: { proxyVersionIds: options.teacherProxyVersionIds ?? [], humanPool: options.humanPool ?? ['overseer-alice'] },
      dataset: {
        queryIds,
        transcripts: queryIds.map((queryId) => ({ queryId, entryCount: 10 })),
        leafCount: queryIds.length * 10,
        transcriptRoot: 'ab'.repeat(32),
      },
      student: { name: 'student', architecture: 'mlp-2x16', hyperparameters: { epochs: 20 } },
      trainingDigest: `sha256:${'ab'.repeat(32)}`,
    });
  }

  runCompleted(tenant: string, runId: string, drift: number | null = 0.05): this {
    return this.add(`distillation-${runId}`, tenant, PIPELINE, 'DistillationRunCompleted', {
      runId,
      artifact: { sha256: ARTIFACT, sizeBytes: 1024, mediaType: 'application/onnx' },
      metrics: { fidelity: 0.91, groundTruthAgreement: 0.9, drift, heldOutQueryIds: [] },
    });
  }

  runFailed(tenant: string, runId: string, reason = 'diverged'): this {
    return this.add(`distillation-${runId}`, tenant, PIPELINE, 'DistillationRunFailed', { runId, reason });
  }

  /** A proxy registered from a run (its id is the run id), or imported (`runId` null). */
  registerProxy(options: { tenant: string; proxyVersionId: string; runId?: string | null; parentProxyVersionId?: string | null; name?: string; version?: string }): this {
    const runId = options.runId === undefined ? options.proxyVersionId : options.runId;
    const source: JsonObject =
      runId === null ? { kind: 'imported', provenance: { origin: 'hub', description: 'imported', declaredBy: 'admin' } } : { kind: 'distillation', runId };
    return this.add(`proxy-${options.proxyVersionId}`, options.tenant, PIPELINE, 'ProxyRegistered', {
      proxyVersionId: options.proxyVersionId,
      name: options.name ?? 'summer',
      version: options.version ?? options.proxyVersionId,
      source,
      parentProxyVersionId: options.parentProxyVersionId ?? null,
      artifact: { sha256: ARTIFACT, sizeBytes: 1024 },
      metrics: { fidelity: 0.91, groundTruthAgreement: 0.9, drift: 0.05 },
      stage: 'candidate',
    });
  }

  promote(tenant: string, proxyVersionId: string, from: string, to: 'shadow' | 'production'): this {
    const gates = { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 };
    return this.add(`proxy-${proxyVersionId}`, tenant, PIPELINE, 'ProxyPromoted', {
      from,
      to,
      gates,
      checks: [{ gate: 'minFidelity', required: 0.8, observed: 0.91, passed: true }],
    });
  }

  recalibrate(tenant: string, proxyVersionId: string, recalibrationId: string, agreement: number, demoteFrom?: 'shadow' | 'production'): this {
    const recalibrated = ev('ProxyRecalibrated', {
      recalibrationId,
      samples: [{ queryId: 'q', nodeId: 'n', humanAnswer: 'a', proxyAnswer: 'a', agrees: true }],
      agreement,
      minAgreement: 0.8,
    });
    const events = [recalibrated];
    if (demoteFrom !== undefined)
      events.push(ev('ProxyDemoted', { from: demoteFrom, to: 'candidate', reason: 'recalibration below minAgreement', agreement, minAgreement: 0.8 }));
    this.appends.push({ stream: `proxy-${proxyVersionId}`, tenant, actor: PIPELINE, events });
    return this;
  }

  retire(tenant: string, proxyVersionId: string, from: string): this {
    return this.add(`proxy-${proxyVersionId}`, tenant, PIPELINE, 'ProxyRetired', { from, reason: 'superseded' });
  }

  /** Any event, as is (unknown types, malformed data...). */
  raw(stream: string, tenant: string, type: string, data: JsonObject, schema = 1, actor: Actor = PIPELINE): this {
    this.appends.push({ stream, tenant, actor, events: [ev(type, data, schema)] });
    return this;
  }

  private add(stream: string, tenant: string, actor: Actor, type: string, data: JsonObject): this {
    this.appends.push({ stream, tenant, actor, events: [ev(type, data)] });
    return this;
  }
}

/** Deterministic meta of the n-th append (recordedAt advances one second per append). */
export function scriptMeta(append: ScriptAppend, n: number, epochMs = Date.UTC(2025, 0, 1)): EntryMeta {
  return {
    tenant: append.tenant,
    actor: { ...append.actor },
    correlationId: `corr-${n}`,
    causationId: null,
    commandId: `cmd-${n}`,
    recordedAt: new Date(epochMs + n * 1000).toISOString(),
  };
}

/**
 * The appends integrated in memory, as the store would: global positions from 0, per-stream revisions. The
 * signature members are placeholders (projections never read them).
 */
export function toEntries(appends: readonly ScriptAppend[]): ProjectionEntry[] {
  const revisions = new Map<string, number>();
  const entries: ProjectionEntry[] = [];
  appends.forEach((append, n) => {
    const meta = scriptMeta(append, n);
    for (const event of append.events) {
      const revision = (revisions.get(append.stream) ?? -1) + 1;
      revisions.set(append.stream, revision);
      const entry: SignedEntry = {
        stream: append.stream,
        revision,
        id: `entry-${entries.length}`,
        type: event.type,
        schema: event.schema,
        // A deep copy per entry, as the store's readers hand out: nothing is shared between entries.
        data: JSON.parse(JSON.stringify(event.data)) as JsonObject,
        meta: { ...meta, actor: { ...meta.actor } },
        prev: null,
        kid: 'test-kid',
        sig: 'test..sig',
      };
      entries.push({ position: entries.length, entry });
    }
  });
  return entries;
}
