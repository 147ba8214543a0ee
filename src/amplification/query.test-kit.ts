/**
 * Given/when/then helpers for the query specs. Not a spec itself (no `.spec` in the name) and free of Jest
 * imports, so it compiles with the rest of `src/` without pulling test globals in.
 */
import type { Actor, JsonValue } from '../ledger/entry.js';
import { policyDecisionRecorded, type PolicyDecisionRecordedData } from '../policy/policy-decision.js';
import type { PolicyDecision } from '../policy/policy-engine.port.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { aggregateMajority } from './query.ensemble.js';
import type {
  AmplificationQueryOpened,
  AmplificationQueryOpenedData,
  AnswerComposed,
  Assignee,
  EnsembleAnswerAggregated,
  EnsembleMember,
  EscalatedToHuman,
  EscalatedToHumanData,
  HumanAnswerRecorded,
  HumanOverrideRecorded,
  InferenceAuthorized,
  InferenceCompleted,
  InferenceCompletedData,
  InferenceDenied,
  InferenceRequested,
  PolicyDecisionRecorded,
  NodeAssigned,
  QueryCompleted,
  QueryEvent,
  QueryStopped,
  RecordedQueryEvent,
  SubqueriesDelegated,
} from './query.events.js';
import type { ProxySnapshot } from './proxy-snapshot.js';
import { modelInputDigest } from './query.events.js';
import { replay, type QueryState } from './query.state.js';

export { refusal } from '../common/ledger-error.test-kit.js';

export const TENANT = 'tenant-a';
export const QUERY_ID = 'q-1';
export const ROOT = 'n-root';
export const TASK = 'Is the proposed dosage safe for adults?';
export const pipeline: Actor = { sub: 'svc-orchestrator', role: 'pipeline' };
export const overseer: Actor = { sub: 'alice', role: 'overseer' };
export const otherOverseer: Actor = { sub: 'bob', role: 'overseer' };
/** recordedAt of revision r is T0 + r seconds, so a test can name the time of any event. */
export const T0 = Date.parse('2026-03-01T09:00:00.000Z');
export const at = (revision: number): string => new Date(T0 + revision * 1000).toISOString();

export const ev = {
  opened(data: Partial<AmplificationQueryOpenedData> = {}): AmplificationQueryOpened {
    const task = data.task ?? TASK;
    return {
      type: 'AmplificationQueryOpened',
      schema: 3,
      data: {
        queryId: QUERY_ID,
        rootNodeId: ROOT,
        task,
        input: { patient: 'adult' } as JsonValue,
        question: task,
        maxDepth: 3,
        confidenceThreshold: 0.7,
        taskClass: null,
        limitSources: { maxDepth: 'request', confidenceThreshold: 'request' },
        dataClassification: 'internal',
        ...data,
      },
    };
  },
  delegated(nodeId: string, children: Record<string, string>): SubqueriesDelegated {
    return {
      type: 'SubqueriesDelegated',
      schema: 1,
      data: { nodeId, children: Object.entries(children).map(([id, question]) => ({ nodeId: id, question })) },
    };
  },
  answered(nodeId: string, answer: string, confidence: number | null = null): HumanAnswerRecorded {
    return { type: 'HumanAnswerRecorded', schema: 1, data: { nodeId, answer, confidence } };
  },
  composed(nodeId: string, answer: string): AnswerComposed {
    return { type: 'AnswerComposed', schema: 1, data: { nodeId, answer } };
  },
  overridden(nodeId: string, answer: string, rationale: string, previousAnswer: string): HumanOverrideRecorded {
    return { type: 'HumanOverrideRecorded', schema: 1, data: { nodeId, answer, rationale, previousAnswer } };
  },
  completed(answer: string): QueryCompleted {
    return { type: 'QueryCompleted', schema: 1, data: { answer } };
  },
  stopped(reason: string, previousStatus: 'open' | 'completed'): QueryStopped {
    return { type: 'QueryStopped', schema: 1, data: { reason, previousStatus } };
  },
  assigned(nodeId: string, assignee: Assignee): NodeAssigned {
    return { type: 'NodeAssigned', schema: 1, data: { nodeId, assignee } };
  },
  requested(nodeId: string, jobId: string, proxyVersionId: string, ensemble = false, question = 'Q?', input: JsonValue = { question }): InferenceRequested {
    return {
      type: 'InferenceRequested',
      schema: 2,
      data: { jobId, nodeId, proxyVersionId, artifactSha256: sha(proxyVersionId), question, ensemble, input, inputDigest: modelInputDigest(input) },
    };
  },
  /** The gate's decision on a job (as `policyDecisionRecorded` writes it), allow by default. */
  decided(nodeId: string, jobId: string, decision: 'allow' | 'deny' = 'allow', over: Partial<PolicyDecisionRecordedData> = {}): PolicyDecisionRecorded {
    const recorded = policyDecisionRecorded(policyDecision(decision), { jobId, nodeId });
    return { ...recorded, data: { ...recorded.data, ...over } };
  },
  authorized(nodeId: string, jobId: string, proxyVersionId: string, question = 'Q?', input: JsonValue = { question }): InferenceAuthorized {
    return {
      type: 'InferenceAuthorized',
      schema: 1,
      data: { jobId, nodeId, proxyVersionId, artifactSha256: sha(proxyVersionId), inputDigest: modelInputDigest(input), policySetDigest: POLICY_SET },
    };
  },
  denied(nodeId: string, jobId: string, proxyVersionId: string, reason = 'forbidden by run-inference.forbid-low-fidelity'): InferenceDenied {
    return {
      type: 'InferenceDenied',
      schema: 1,
      data: { jobId, nodeId, proxyVersionId, determiningPolicies: ['run-inference.forbid-low-fidelity'], reason },
    };
  },
  /** A job's request, allowing decision and authorisation (what the gated assign records per allowed job). */
  granted(nodeId: string, jobId: string, proxyVersionId: string, ensemble = false, question = 'Q?'): QueryEvent[] {
    return [
      ev.requested(nodeId, jobId, proxyVersionId, ensemble, question),
      ev.decided(nodeId, jobId),
      ev.authorized(nodeId, jobId, proxyVersionId, question),
    ];
  },
  inferred(
    nodeId: string,
    jobId: string,
    proxyVersionId: string,
    answer: string,
    confidence: number,
    output: JsonValue = null,
    worker: Partial<WorkerFields> = {},
  ): InferenceCompleted {
    return {
      type: 'InferenceCompleted',
      schema: 2,
      data: { jobId, nodeId, proxyVersionId, answer, confidence, output, ...WORKER_FIELDS, ...worker },
    };
  },
  /** The aggregate as the decider computes it from `members`. */
  aggregated(nodeId: string, members: EnsembleMember[]): EnsembleAnswerAggregated {
    return { type: 'EnsembleAnswerAggregated', schema: 1, data: { nodeId, method: 'majority', members, ...aggregateMajority(members) } };
  },
  escalated(nodeId: string, over: Partial<EscalatedToHumanData> = {}): EscalatedToHuman {
    return {
      type: 'EscalatedToHuman',
      schema: 1,
      data: { nodeId, reason: 'requested', confidence: null, threshold: null, jobId: null, note: null, ...over },
    };
  },
};

export const POLICY_SET = `sha256:${'d'.repeat(64)}`;

/** An engine answer as the deciders receive it: allow by the production permit, deny by the fidelity forbid. */
export function policyDecision(decision: 'allow' | 'deny' = 'allow', over: Partial<PolicyDecision> = {}): PolicyDecision {
  return {
    decision,
    determiningPolicies: decision === 'allow' ? ['run-inference.permit-production'] : ['run-inference.forbid-low-fidelity'],
    errors: [],
    policySetDigest: POLICY_SET,
    cedarVersion: '4.0.0',
    request: {
      principal: { type: 'IdaLedger::Pipeline', id: 'svc-orchestrator' },
      action: { type: 'IdaLedger::Action', id: 'RunInference' },
      resource: { type: 'IdaLedger::ProxyVersion', id: 'p' },
      context: {},
      entities: [],
    },
    requestDigest: `sha256:${'e'.repeat(64)}`,
    ...over,
  };
}

/** The same engine answer for every named proxy version (what the assign handler passes to the decider). */
export function decisionsFor(proxyVersionIds: readonly string[], decision: 'allow' | 'deny' = 'allow'): Map<string, PolicyDecision> {
  return new Map(proxyVersionIds.map((id) => [id, policyDecision(decision)]));
}

/** Every proxy of `proxies` allowed. */
export const allowAll = (): Map<string, PolicyDecision> => decisionsFor([...proxies.keys()]);

/** The granted worker's fields of an `InferenceCompleted` (schema 2). */
export type WorkerFields = Pick<InferenceCompletedData, 'workerId' | 'jti' | 'decisionPosition' | 'provider' | 'timing' | 'resultSignature'>;
export const WORKER_FIELDS: WorkerFields = {
  workerId: 'worker-1',
  jti: 'jti-1',
  decisionPosition: 7,
  provider: 'cpu',
  timing: { loadMs: 3, runMs: 1 },
  resultSignature: 'eyJhbGciOiJFZERTQSJ9..sig',
};

/** A digest that names its proxy, so a test can tell which artifact a job was sent. */
export function sha(proxyVersionId: string): string {
  let hex = '';
  for (const ch of proxyVersionId) hex += ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `sha256:${hex.padEnd(64, '0').slice(0, 64)}`;
}

/** Proxy versions as the assign-node decider sees them: p-prod and p-shadow serve, the rest do not. */
export const proxies: ReadonlyMap<string, ProxySnapshot> = new Map(
  (
    [
      ['p-prod', TENANT, 'production'],
      ['p-prod2', TENANT, 'production'],
      ['p-shadow', TENANT, 'shadow'],
      ['p-cand', TENANT, 'candidate'],
      ['p-retired', TENANT, 'retired'],
      ['p-foreign', 'tenant-b', 'production'],
    ] as const
  ).map(([proxyVersionId, tenant, stage]) => [
    proxyVersionId,
    { proxyVersionId, tenant, stage, artifactSha256: sha(proxyVersionId), fidelity: 0.95, drift: 0.05 },
  ]),
);

/** Tenant settings for open-query specs: defaults 5 / 0.6 and two task classes. */
export const settings: TenantSettings = {
  amplification: {
    defaultMaxDepth: 5,
    defaultConfidenceThreshold: 0.6,
    taskClasses: { triage: { maxDepth: 2, confidenceThreshold: 0.9 }, shallow: { maxDepth: 1 } },
  },
  promotionGates: { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 },
};

/** An event as a test states it: bare (default actor), or with an explicit actor. */
export type Given = QueryEvent | { event: QueryEvent; by: Actor };

/** Humans answer, override and stop; the pipeline does the rest. */
function defaultActor(event: QueryEvent): Actor {
  switch (event.type) {
    case 'HumanAnswerRecorded':
    case 'HumanOverrideRecorded':
    case 'QueryStopped':
      return overseer;
    case 'AmplificationQueryOpened':
    case 'SubqueriesDelegated':
    case 'AnswerComposed':
    case 'QueryCompleted':
    case 'NodeAssigned':
    case 'InferenceRequested':
    case 'PolicyDecisionRecorded':
    case 'InferenceAuthorized':
    case 'InferenceDenied':
    case 'InferenceCompleted':
    case 'EnsembleAnswerAggregated':
    case 'EscalatedToHuman':
      return pipeline;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** Records events as the store would: revision 0, 1, ..., recordedAt = at(revision), tenant TENANT. */
export function record(givens: readonly Given[], tenant = TENANT): RecordedQueryEvent[] {
  return givens.map((given, revision) => {
    const { event, by } = 'event' in given ? given : { event: given, by: defaultActor(given) };
    return { ...event, meta: { tenant, actor: by, recordedAt: at(revision) }, revision } as RecordedQueryEvent;
  });
}

export function given(...givens: Given[]): QueryState {
  return replay(record(givens));
}

/** Deterministic `newId` for deciders. */
export function sequentialIds(prefix = 'n'): { newId: () => string } {
  let next = 1;
  return { newId: () => `${prefix}-${next++}` };
}

/** Common histories. */
export const history = {
  /** Root opened, not yet decomposed. */
  opened: (): Given[] => [ev.opened()],
  /** Root decomposed into n-1, n-2. */
  decomposed: (): Given[] => [ev.opened(), ev.delegated(ROOT, { 'n-1': 'Dose within label?', 'n-2': 'Interactions?' })],
  /** Both children answered by the overseer, root composed. */
  composed: (): Given[] => [
    ...history.decomposed(),
    ev.answered('n-1', 'yes', 0.9),
    ev.answered('n-2', 'none known', 0.6),
    ev.composed(ROOT, 'safe'),
  ],
  completed: (): Given[] => [...history.composed(), ev.completed('safe')],
  stoppedWhileOpen: (): Given[] => [...history.decomposed(), ev.stopped('budget exhausted', 'open')],
  stoppedAfterCompletion: (): Given[] => [...history.completed(), ev.stopped('withdrawn', 'completed')],
  /** n-1 assigned to p-prod (job j-1, pending; requested without a gate decision, as before the gate); n-2 open. Threshold 0.7. */
  proxyPending: (): Given[] => [
    ...history.decomposed(),
    ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
    ev.requested('n-1', 'j-1', 'p-prod', false, 'Dose within label?'),
  ],
  /** As `proxyPending`, through the policy gate: j-1 decided allow and authorised (what assign records today). */
  proxyGranted: (): Given[] => [
    ...history.decomposed(),
    ev.assigned('n-1', { kind: 'proxy', proxyVersionId: 'p-prod', jobId: 'j-1' }),
    ...ev.granted('n-1', 'j-1', 'p-prod', false, 'Dose within label?'),
  ],
  /** n-1 answered by p-prod with confidence 0.9. */
  proxyAnswered: (): Given[] => [...history.proxyPending(), ev.inferred('n-1', 'j-1', 'p-prod', 'yes', 0.9)],
  /** p-prod answered n-1 with confidence 0.4: escalated for low confidence. */
  lowConfidence: (): Given[] => [
    ...history.proxyPending(),
    ev.inferred('n-1', 'j-1', 'p-prod', 'maybe', 0.4),
    ev.escalated('n-1', { reason: 'low_confidence', confidence: 0.4, threshold: 0.7, jobId: 'j-1' }),
  ],
  /** n-1 assigned to an ensemble of p-prod (j-1), p-prod2 (j-2), p-shadow (j-3); all pending. */
  ensemblePending: (): Given[] => [
    ...history.decomposed(),
    ev.assigned('n-1', { kind: 'ensemble', method: 'majority', members: ENSEMBLE }),
    ...ENSEMBLE.map((m) => ev.requested('n-1', m.jobId, m.proxyVersionId, true, 'Dose within label?')),
  ],
};

export const ENSEMBLE = [
  { proxyVersionId: 'p-prod', jobId: 'j-1' },
  { proxyVersionId: 'p-prod2', jobId: 'j-2' },
  { proxyVersionId: 'p-shadow', jobId: 'j-3' },
];
