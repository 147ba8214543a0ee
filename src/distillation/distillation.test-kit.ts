/**
 * Given/when/then helpers for the distillation specs. Not a spec itself (no `.spec` in the name) and free of
 * Jest imports, so it compiles with the rest of `src/` without pulling test globals in.
 */
import type { Actor, IntegratedEntry, JsonObject, SignedEntry } from '../ledger/entry.js';
import { entryLeafHash } from '../ledger/hashing.js';
import type { PromotionGates } from '../tenants/tenant-settings.js';
import type { ProxyEvent, ProxyRegisteredData } from './proxies/proxy.events.js';
import { rehydrateProxy, type ProxyState } from './proxies/proxy.state.js';
import type { DistillationRunStartedData, RunEvent, RunMetricsData } from './runs/run.events.js';
import { rehydrateRun, type RunState } from './runs/run.state.js';

export { refusal } from '../common/ledger-error.test-kit.js';

export const TENANT = 'tenant-a';
export const RUN_ID = 'run-1';
export const PROXY_ID = 'run-1';
export const PARENT_ID = 'proxy-parent';
export const pipeline: Actor = { sub: 'svc-orchestrator', role: 'pipeline' };
export const admin: Actor = { sub: 'root', role: 'admin' };
export const alice: Actor = { sub: 'alice', role: 'overseer' };
export const bob: Actor = { sub: 'bob', role: 'overseer' };
export const digest = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;
export const ARTIFACT = digest('a');
export const TRAINING = digest('b');
export const GATES: PromotionGates = { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 };

/** recordedAt of revision r is T0 + r days unless a given says otherwise. */
export const T0 = Date.parse('2026-03-01T09:00:00.000Z');
export const DAY = 24 * 60 * 60 * 1000;
export const at = (revision: number): string => new Date(T0 + revision * DAY).toISOString();

/** An event as a test states it: bare (pipeline, at(revision)), or with an explicit actor and time. */
export type Given<E> = E | { event: E; by?: Actor; at?: string; tenant?: string };

type Entry = { type: string; schema: number; data: JsonObject; meta: { tenant: string; actor: Actor; recordedAt: string }; revision: number };

export function record<E extends { type: string; schema: number; data: JsonObject }>(givens: readonly Given<E>[], tenant = TENANT): Entry[] {
  return givens.map((given, revision) => {
    const g = 'event' in given ? given : { event: given };
    return {
      type: g.event.type,
      schema: g.event.schema,
      data: g.event.data,
      meta: { tenant: g.tenant ?? tenant, actor: g.by ?? pipeline, recordedAt: g.at ?? at(revision) },
      revision,
    };
  });
}

export function givenRun(...givens: Given<RunEvent>[]): RunState | null {
  return rehydrateRun(record(givens));
}

export function givenProxy(...givens: Given<ProxyEvent>[]): ProxyState | null {
  return rehydrateProxy(record(givens));
}

export const runEv = {
  started(over: Partial<DistillationRunStartedData> = {}): Extract<RunEvent, { type: 'DistillationRunStarted' }> {
    return {
      type: 'DistillationRunStarted',
      schema: 1,
      data: {
        runId: RUN_ID,
        parentProxyVersionId: null,
        teacher: { proxyVersionIds: [], humanPool: ['alice'] },
        dataset: { queryIds: ['q-1', 'q-2'], transcripts: [{ queryId: 'q-1', entryCount: 3 }, { queryId: 'q-2', entryCount: 2 }], leafCount: 5, transcriptRoot: 'ab'.repeat(32) },
        student: { name: 'student-s', architecture: 'tiny-transformer', hyperparameters: { lr: 0.001 } },
        trainingDigest: TRAINING,
        ...over,
      },
    };
  },
  completed(metrics: Partial<RunMetricsData> = {}, sizeBytes = 1234): Extract<RunEvent, { type: 'DistillationRunCompleted' }> {
    return {
      type: 'DistillationRunCompleted',
      schema: 1,
      data: {
        runId: RUN_ID,
        artifact: { sha256: ARTIFACT, sizeBytes, mediaType: 'application/onnx' },
        metrics: { fidelity: 0.9, groundTruthAgreement: 0.85, drift: null, heldOutQueryIds: [], ...metrics },
      },
    };
  },
  failed(reason = 'GPU out of memory'): Extract<RunEvent, { type: 'DistillationRunFailed' }> {
    return { type: 'DistillationRunFailed', schema: 1, data: { runId: RUN_ID, reason } };
  },
};

export const proxyEv = {
  registered(over: Partial<ProxyRegisteredData> = {}): Extract<ProxyEvent, { type: 'ProxyRegistered' }> {
    return {
      type: 'ProxyRegistered',
      schema: 1,
      data: {
        proxyVersionId: PROXY_ID,
        name: 'triage-proxy',
        version: '1.0.0',
        source: { kind: 'distillation', runId: RUN_ID },
        parentProxyVersionId: null,
        artifact: { sha256: ARTIFACT, sizeBytes: 1234 },
        metrics: { fidelity: 0.9, groundTruthAgreement: 0.85, drift: null },
        stage: 'candidate',
        ...over,
      },
    };
  },
  promoted(from: 'candidate' | 'shadow', to: 'shadow' | 'production'): Extract<ProxyEvent, { type: 'ProxyPromoted' }> {
    return { type: 'ProxyPromoted', schema: 1, data: { from, to, gates: { ...GATES }, checks: [] } };
  },
  recalibrated(agreement: number, id = 'recal-1', minAgreement = GATES.minAgreement): Extract<ProxyEvent, { type: 'ProxyRecalibrated' }> {
    return {
      type: 'ProxyRecalibrated',
      schema: 1,
      data: {
        recalibrationId: id,
        samples: [{ queryId: 'q-1', nodeId: 'n-1', humanAnswer: 'yes', proxyAnswer: 'yes', agrees: true }],
        agreement,
        minAgreement,
      },
    };
  },
  demoted(from: 'shadow' | 'production', agreement: number): Extract<ProxyEvent, { type: 'ProxyDemoted' }> {
    return {
      type: 'ProxyDemoted',
      schema: 1,
      data: { from, to: 'candidate', reason: 'recalibration_below_min_agreement', agreement, minAgreement: GATES.minAgreement },
    };
  },
  retired(from: 'candidate' | 'shadow' | 'production', reason = 'superseded'): Extract<ProxyEvent, { type: 'ProxyRetired' }> {
    return { type: 'ProxyRetired', schema: 1, data: { from, reason } };
  },
};

/** A transcript event as a test states it. */
export type TranscriptGiven = { type: string; data: JsonObject; by?: Actor };

/**
 * The stream `query-<queryId>` as the store would return it: signed-entry shapes (fake kid/sig, which no
 * derivation here checks) with their real leaf hashes.
 */
export function transcript(queryId: string, events: readonly TranscriptGiven[], tenant = TENANT, firstPosition = 0): IntegratedEntry[] {
  let prev: string | null = null;
  return events.map((event, revision) => {
    const entry: SignedEntry = {
      stream: `query-${queryId}`,
      revision,
      id: `${queryId}-e${revision}`,
      type: event.type,
      schema: 1,
      data: event.data,
      meta: {
        tenant,
        actor: event.by ?? pipeline,
        correlationId: 'c',
        causationId: null,
        commandId: `${queryId}-cmd-${revision}`,
        recordedAt: at(revision),
      },
      prev,
      kid: 'kid-1',
      sig: 'sig',
    };
    const leafHash = entryLeafHash(entry).toString('hex');
    prev = leafHash;
    return { position: firstPosition + revision, entry, leafHash };
  });
}

/** A small completed query: opened (threshold 0.7), decomposed, leaves answered by alice and a proxy, completed. */
export function completedQuery(queryId: string, proxyVersionId = 'proxy-old'): TranscriptGiven[] {
  return [
    { type: 'AmplificationQueryOpened', data: { queryId, rootNodeId: 'root', task: 't', input: null, question: 't', maxDepth: 3, confidenceThreshold: 0.7 } },
    { type: 'SubqueriesDelegated', data: { nodeId: 'root', children: [{ nodeId: 'n-1', question: 'a' }, { nodeId: 'n-2', question: 'b' }] } },
    { type: 'HumanAnswerRecorded', data: { nodeId: 'n-1', answer: 'yes', confidence: 0.9 }, by: alice },
    { type: 'InferenceRequested', data: { jobId: 'j-1', nodeId: 'n-2', proxyVersionId, artifactSha256: ARTIFACT, question: 'b', ensemble: false } },
    { type: 'InferenceCompleted', data: { jobId: 'j-1', nodeId: 'n-2', proxyVersionId, answer: 'no', confidence: 0.8, output: null } },
    { type: 'AnswerComposed', data: { nodeId: 'root', answer: 'yes and no' } },
    { type: 'QueryCompleted', data: { answer: 'yes and no' } },
  ];
}

/** Deterministic `newId` for deciders. */
export function sequentialIds(prefix = 'id'): { newId: () => string } {
  let next = 1;
  return { newId: () => `${prefix}-${next++}` };
}
