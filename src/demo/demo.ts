/**
 * `npm run demo`: Iterated Distillation and Amplification end to end against a running ledger, on the
 * "sum mod 10" task (src/demo/task.ts), with simulated humans.
 *
 *   iteration 0  humans answer every leaf, the pipeline composes and completes the queries
 *   distil v1    train an MLP on iteration 0's transcripts, export ONNX, upload, complete the run, register
 *                v1, promote it through the gates (shadow → recalibration → production)
 *   iteration 1  v1 answers the leaves through the policy gate (Cedar) and an inference worker (a registered
 *                key; grants verified, the ONNX artifact run with onnxruntime, signed results); low-confidence
 *                answers escalate to humans; the overseer spot-checks and overrides ({@link iterationWithWorkers})
 *   distil v2    on iteration 1's transcripts, parent v1 (drift measured against it), through its gates too
 *   report       KPIs per iteration, the lineage of the last proxy back to iteration 0, the offline verifier
 *                over the data folder and each run's dataset root recomputed from the log
 *
 * Environment: LEDGER_URL (default http://localhost:3000), LEDGER_DATA_DIR (default ./data: the token key to
 * mint development tokens with, and the folder the offline verifier reads), DEMO_TENANT (demo), DEMO_SEED (1),
 * DEMO_QUERIES (60 per iteration), DEMO_LIST_LENGTH (16: 8 leaves per query), DEMO_HUMAN_ERROR (0.05),
 * DEMO_THRESHOLD (0.7: proxy answers below it escalate), DEMO_REVIEW_BELOW (0.9: the overseer checks every proxy
 * answer below it), DEMO_REVIEW_RATE (0.1: and this share of the others), DEMO_DATA_CLASSIFICATION (internal),
 * DEMO_WORKER (`process`: the built `ida-ledger worker` CLI as a child process, the default when built;
 * `in-process`), DEMO_WORKER_LOG (a file for the worker process's JSON log lines), DEMO_STALL_MS (60000),
 * DEMO_VERIFY (0 skips the offline verifier).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { SeededRng } from '../inference/onnx/rng.js';
import { builtCliPath, startDemoWorker, type DemoWorker, type DemoWorkerMode, type DemoWorkerSummary } from './demo-worker.js';
import { modelInputFor } from './features.js';
import { formatKpiTable, formatLineage, iterationKpis, type IterationKpis } from './kpis.js';
import { DemoHttpError, DemoLedgerClient, developmentTokenMinter, type Actor, type DistillationRun } from './ledger-api.js';
import { HumanPool, SimulatedHuman } from './oracle.js';
import { compose, decompose, depthOf, randomDigits, type PlanNode } from './task.js';
import {
  DEFAULT_STUDENT,
  evaluateStudent,
  fitStudent,
  planStudent,
  plannedArchitecture,
  predictWithOnnx,
  transcriptLeaves,
  type Evaluation,
  type QueryTree,
  type StudentConfig,
  type TrainedStudent,
  type TranscriptLeaf,
  type TreeNode,
} from './training.js';

export interface DemoConfig {
  ledgerUrl: string;
  dataDir: string;
  tenant: string;
  seed: number;
  queriesPerIteration: number;
  listLength: number;
  humanErrorRate: number;
  /** Share of proxy answers an overseer spot-checks at random (iteration ≥ 1). */
  reviewRate: number;
  /** The overseer checks every proxy answer whose confidence is below this (iteration ≥ 1). */
  reviewBelowConfidence: number;
  confidenceThreshold: number;
  /** The queries' data classification (the policy gate's `context.dataClassification`). */
  dataClassification: DataClassification;
  /** How the inference worker runs: the built CLI as a child process, or the same class in this process. */
  worker: DemoWorkerMode;
  /** Where the worker process's log lines go (null: kept in memory, the last ones shown if it fails). */
  workerLogFile: string | null;
  /** A wait for the worker fails after this long without progress. */
  stallTimeoutMs: number;
  student: StudentConfig;
  /** Run the offline verifier over `dataDir` at the end (needs the ledger's data folder on this machine). */
  verifyOffline: boolean;
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

function envChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

export function demoConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  return {
    ledgerUrl: env.LEDGER_URL || 'http://localhost:3000',
    dataDir: env.LEDGER_DATA_DIR || './data',
    tenant: env.DEMO_TENANT || 'demo',
    seed: envNumber(env, 'DEMO_SEED', 1),
    queriesPerIteration: envNumber(env, 'DEMO_QUERIES', 60),
    listLength: envNumber(env, 'DEMO_LIST_LENGTH', 16),
    humanErrorRate: envNumber(env, 'DEMO_HUMAN_ERROR', 0.05),
    reviewRate: envNumber(env, 'DEMO_REVIEW_RATE', 0.1),
    reviewBelowConfidence: envNumber(env, 'DEMO_REVIEW_BELOW', 0.9),
    confidenceThreshold: envNumber(env, 'DEMO_THRESHOLD', 0.7),
    dataClassification: envChoice(env, 'DEMO_DATA_CLASSIFICATION', DATA_CLASSIFICATIONS, 'internal'),
    worker: envChoice<DemoWorkerMode>(env, 'DEMO_WORKER', ['process', 'in-process'], builtCliPath() === null ? 'in-process' : 'process'),
    workerLogFile: env.DEMO_WORKER_LOG || null,
    stallTimeoutMs: envNumber(env, 'DEMO_STALL_MS', 60_000),
    student: DEFAULT_STUDENT,
    verifyOffline: env.DEMO_VERIFY !== '0',
  };
}

export interface DemoContext {
  config: DemoConfig;
  api: DemoLedgerClient;
  actors: { pipeline: Actor; admin: Actor; auditor: Actor; overseer: Actor };
  humans: HumanPool;
  overseer: SimulatedHuman;
  rng: SeededRng;
  log: (line: string) => void;
}

export interface IterationResult {
  iteration: number;
  queryIds: string[];
  trees: QueryTree[];
  leaves: TranscriptLeaf[];
  kpis: IterationKpis;
  /** Iterations answered by a proxy: the gate, the worker, escalations and reviews. */
  amplification?: AmplificationStats;
}

export interface DistillResult {
  runId: string;
  proxyVersionId: string;
  run: DistillationRun;
  student: TrainedStudent;
  evaluation: Evaluation;
}

export function createDemoContext(config: DemoConfig, options: { log?: (line: string) => void; mint?: (actor: Actor) => Promise<string> } = {}): DemoContext {
  const mint = options.mint ?? developmentTokenMinter(config.dataDir, config.tenant);
  const humans = ['human-ann', 'human-bob', 'human-cho'].map((name, i) => new SimulatedHuman(name, config.humanErrorRate, config.seed * 100 + i));
  return {
    config,
    api: new DemoLedgerClient(config.ledgerUrl, mint),
    actors: {
      pipeline: { sub: 'demo-pipeline', role: 'pipeline' },
      admin: { sub: 'demo-admin', role: 'admin' },
      auditor: { sub: 'demo-auditor', role: 'auditor' },
      overseer: { sub: 'overseer-olu', role: 'overseer' },
    },
    humans: new HumanPool(humans),
    // The overseer is more careful than the pool (a fifth of its error rate).
    overseer: new SimulatedHuman('overseer-olu', config.humanErrorRate / 5, config.seed * 100 + 99),
    rng: new SeededRng(config.seed),
    log: options.log ?? ((line) => console.log(line)),
  };
}

/** Sets the tenant's limits and promotion gates. */
export async function configureTenant(ctx: DemoContext): Promise<void> {
  try {
    await ctx.api.putTenantSettings(ctx.actors.admin, {
      amplification: { defaultMaxDepth: 3, defaultConfidenceThreshold: ctx.config.confidenceThreshold, taskClasses: {} },
      promotionGates: { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 },
    });
  } catch (error) {
    // Already in force (the defaults, or an earlier run of the demo): nothing to record.
    if (!(error instanceof DemoHttpError && error.code === 'TENANT.SETTINGS_UNCHANGED')) throw error;
  }
}

interface OpenedQuery {
  queryId: string;
  plan: PlanNode;
  /** Node id per plan node. */
  nodeIds: Map<PlanNode, string>;
  leaves: { nodeId: string; question: string }[];
}

/** Opens a query for `digits` and decomposes it recursively as the plan says (the amplification tree). */
export async function openAndDecompose(ctx: DemoContext, digits: number[]): Promise<OpenedQuery> {
  const plan = decompose(digits, ctx.config.student.slots);
  const opened = await ctx.api.openQuery(ctx.actors.pipeline, plan.question, { digits }, {
    maxDepth: Math.max(1, depthOf(plan)),
    dataClassification: ctx.config.dataClassification,
  });
  const nodeIds = new Map<PlanNode, string>([[plan, opened.rootNodeId]]);
  const pending = [plan];
  while (pending.length > 0) {
    const node = pending.shift()!;
    if (node.children.length === 0) continue;
    const split = await ctx.api.decompose(ctx.actors.pipeline, opened.queryId, nodeIds.get(node)!, node.children.map((c) => c.question));
    node.children.forEach((child, i) => nodeIds.set(child, split.childNodeIds[i]!));
    pending.push(...node.children);
  }
  const leaves: { nodeId: string; question: string }[] = [];
  const collect = (node: PlanNode) => (node.children.length === 0 ? leaves.push({ nodeId: nodeIds.get(node)!, question: node.question }) : node.children.forEach(collect));
  collect(plan);
  return { queryId: opened.queryId, plan, nodeIds, leaves };
}

function digitOf(answer: string | null | undefined): number {
  const match = /^\s*(\d)/u.exec(answer ?? '');
  if (!match) throw new Error(`not a digit answer: ${JSON.stringify(answer)}`);
  return Number(match[1]);
}

/** Composes every decomposed node bottom-up from its children's current answers, then completes the query. */
export async function composeAndComplete(ctx: DemoContext, query: OpenedQuery): Promise<void> {
  const tree = await ctx.api.tree(ctx.actors.pipeline, query.queryId);
  const byId = new Map<string, TreeNode>();
  const index = (node: TreeNode) => {
    byId.set(node.nodeId, node);
    node.children.forEach(index);
  };
  index(tree.root);
  const composeNode = async (plan: PlanNode): Promise<number> => {
    const nodeId = query.nodeIds.get(plan)!;
    if (plan.children.length === 0) return digitOf(byId.get(nodeId)?.answer);
    const childAnswers: number[] = [];
    for (const child of plan.children) childAnswers.push(await composeNode(child));
    const answer = compose(childAnswers);
    await ctx.api.compose(ctx.actors.pipeline, query.queryId, nodeId, String(answer));
    return answer;
  };
  await composeNode(query.plan);
  await ctx.api.complete(ctx.actors.pipeline, query.queryId);
}

async function readIteration(ctx: DemoContext, iteration: number, answeredBy: string, queryIds: string[]): Promise<IterationResult> {
  const trees: QueryTree[] = [];
  for (const queryId of queryIds) trees.push(await ctx.api.tree(ctx.actors.auditor, queryId));
  const leaves = trees.flatMap(transcriptLeaves);
  return { iteration, queryIds, trees, leaves, kpis: iterationKpis(iteration, answeredBy, queryIds.length, leaves) };
}

/** Iteration 0: the simulated human pool answers every leaf; nothing else answers anything. */
export async function iterationZero(ctx: DemoContext): Promise<IterationResult> {
  const queryIds: string[] = [];
  for (let q = 0; q < ctx.config.queriesPerIteration; q++) {
    const query = await openAndDecompose(ctx, randomDigits(ctx.rng, ctx.config.listLength));
    for (const leaf of query.leaves) {
      const human = ctx.humans.pick();
      await ctx.api.answer({ sub: human.name, role: 'overseer' }, query.queryId, leaf.nodeId, human.answer(leaf.question));
    }
    await composeAndComplete(ctx, query);
    queryIds.push(query.queryId);
  }
  return readIteration(ctx, 0, 'humans', queryIds);
}

/**
 * One distillation run on `source`'s transcripts: start the run (the ledger commits to the dataset), train
 * the student, export ONNX, evaluate it with onnxruntime, upload it, complete the run with the metrics and
 * register the proxy version. A training failure is recorded as `DistillationRunFailed`.
 */
export async function distil(
  ctx: DemoContext,
  source: IterationResult,
  parent: { proxyVersionId: string; onnx: Uint8Array } | null,
  version: string,
): Promise<DistillResult> {
  const config = ctx.config.student;
  // The split, the examples and their digest are fixed before the run starts; training follows.
  const plan = planStudent(source.leaves, source.queryIds, config);
  const run = await ctx.api.startRun(ctx.actors.pipeline, {
    queryIds: source.queryIds,
    ...(parent ? { parentProxyVersionId: parent.proxyVersionId } : {}),
    student: { name: `sum-mod-10-v${version}`, architecture: plannedArchitecture(config), hyperparameters: plan.hyperparameters },
    trainingDigest: plan.trainingDigest,
  });
  let evaluation: Evaluation;
  let student: TrainedStudent;
  try {
    student = fitStudent(plan);
    evaluation = await evaluateStudent(student, source.leaves, config.slots, parent?.onnx ?? null);
    const uploaded = await ctx.api.uploadArtifact(ctx.actors.pipeline, student.onnx);
    if (uploaded.sha256 !== student.artifactSha256) throw new Error(`the store says ${uploaded.sha256}, the export is ${student.artifactSha256}`);
    await ctx.api.completeRun(ctx.actors.pipeline, run.runId, student.artifactSha256, {
      fidelity: evaluation.fidelity,
      groundTruthAgreement: evaluation.groundTruthAgreement,
      drift: evaluation.drift,
      heldOutQueryIds: student.heldOutQueryIds,
    });
  } catch (error) {
    await ctx.api.request('POST', `/v1/distillation-runs/${run.runId}/fail`, ctx.actors.pipeline, { reason: String((error as Error).message ?? error) }).catch(() => undefined);
    throw error;
  }
  const registered = await ctx.api.registerProxy(ctx.actors.pipeline, run.runId, 'sum-mod-10', version);
  ctx.log(
    `distilled v${version}: run ${run.runId}, ${student.examples} examples, ${student.architecture}, train acc ${(student.report.trainAccuracy * 100).toFixed(1)}%, ` +
      `fidelity ${evaluation.fidelity}, truth ${evaluation.groundTruthAgreement}, drift ${evaluation.drift ?? 'n/a'} ` +
      `(${evaluation.evaluatedLeaves} ${evaluation.evaluatedOn} leaves, onnxruntime ${evaluation.provider}); artifact ${student.artifactSha256}`,
  );
  return { runId: run.runId, proxyVersionId: registered.proxyVersionId, run, student, evaluation };
}

/**
 * Promotes a proxy through the gates: shadow, then a recalibration (the proxy's answers, run with onnxruntime
 * from its artifact, against the humans' answers on `samplesFrom`'s held-out leaves), then production.
 * Returns the final stage; a gate that fails is printed with its checks.
 */
export async function promoteThroughGates(ctx: DemoContext, proxy: DistillResult, samplesFrom: IterationResult): Promise<string> {
  const heldOut = new Set(proxy.student.heldOutQueryIds);
  let sampleLeaves = samplesFrom.leaves.filter((l) => heldOut.has(l.queryId) && l.answerKind === 'human');
  if (sampleLeaves.length === 0) sampleLeaves = samplesFrom.leaves.filter((l) => l.answerKind === 'human');
  sampleLeaves = sampleLeaves.slice(0, 10_000);
  try {
    await ctx.api.promote(ctx.actors.pipeline, proxy.proxyVersionId, 'shadow');
    const { predictions } = await predictWithOnnx(proxy.student.onnx, sampleLeaves.map((l) => l.question), ctx.config.student.slots);
    const recalibration = await ctx.api.recalibrate(
      ctx.actors.pipeline,
      proxy.proxyVersionId,
      sampleLeaves.map((l, i) => ({ queryId: l.queryId, nodeId: l.nodeId, humanAnswer: l.teacherAnswer, proxyAnswer: predictions[i]!.answer })),
    );
    ctx.log(`recalibrated ${proxy.proxyVersionId}: agreement ${recalibration.agreement} on ${sampleLeaves.length} human answers`);
    const promoted = await ctx.api.promote(ctx.actors.pipeline, proxy.proxyVersionId, 'production');
    return promoted.stage;
  } catch (error) {
    if (error instanceof DemoHttpError && error.code === 'PROXY.GATES_NOT_MET') {
      const body = error.body as { to?: string; checks?: { gate: string; required: unknown; observed: unknown; passed: boolean }[] };
      const failed = (body.checks ?? []).filter((c) => !c.passed).map((c) => `${c.gate} observed ${JSON.stringify(c.observed)}, required ${JSON.stringify(c.required)}`);
      ctx.log(`gates not met for ${proxy.proxyVersionId} (to ${body.to ?? '?'}): ${failed.join('; ') || JSON.stringify(error.body)}`);
      return 'gates-not-met';
    }
    throw error;
  }
}

/** What happened to the leaves of an iteration answered by a proxy (counted as the demo goes). */
export interface AmplificationStats {
  workerId: string;
  workerMode: DemoWorkerMode;
  worker: DemoWorkerSummary;
  policySetDigest: string;
  /** Jobs the policy gate allowed / denied at assignment. */
  allowed: number;
  denied: number;
  /** Escalations by reason (`low_confidence`, `inference_denied`), each answered by a simulated human. */
  escalations: Record<string, number>;
  /** Proxy answers the overseer checked: below the review confidence, or drawn at random. */
  reviewed: number;
  reviewedLowConfidence: number;
  overridden: number;
}

/**
 * Iteration ≥ 1: the proxy answers the leaves through the policy gate and a worker.
 *
 * The admin registers a fresh worker key and the worker starts (the real worker process, or the same class in
 * process); the pipeline opens and decomposes the queries and assigns every leaf to the proxy with the model
 * input `{question, features, labels}` — the gate (Cedar, `policies/`) decides per job, in the same append; the
 * worker leases the allowed jobs, verifies each grant, runs the ONNX artifact and posts signed results; a
 * result below the query's confidence threshold escalates its leaf, which a simulated human then answers (as
 * does any leaf the gate denied). The overseer spot-checks proxy answers — every one below
 * `reviewBelowConfidence`, and `reviewRate` of the others — and overrides those it disagrees with. Then the
 * pipeline composes and completes each query, and the worker's key is revoked.
 * Every answer comes from the worker's ONNX run, a simulated human or the overseer, all recorded by the ledger.
 */
export async function iterationWithWorkers(ctx: DemoContext, iteration: number, proxy: DistillResult): Promise<IterationResult> {
  const { config, api, actors } = ctx;
  const policy = await api.currentPolicySet(actors.auditor);
  const worker = await startDemoWorker({
    api,
    admin: actors.admin,
    ledgerUrl: config.ledgerUrl,
    mode: config.worker,
    name: `demo-worker-i${iteration}`,
    logFile: config.workerLogFile,
  });
  ctx.log(
    `iteration ${iteration}: ${config.queriesPerIteration} queries (${config.dataClassification} data), leaves assigned to proxy v${iteration} ${proxy.proxyVersionId} ` +
      `through the policy gate (${policy.policies.length} Cedar policies, set ${shortDigest(policy.digest)}); ` +
      `worker ${worker.workerId} (${worker.mode === 'process' ? 'worker process' : 'in process'}, kid ${worker.kid.slice(0, 12)}…) registered by ${actors.admin.sub}`,
  );
  const stats: Omit<AmplificationStats, 'worker'> = {
    workerId: worker.workerId,
    workerMode: worker.mode,
    policySetDigest: policy.digest,
    allowed: 0,
    denied: 0,
    escalations: {},
    reviewed: 0,
    reviewedLowConfidence: 0,
    overridden: 0,
  };
  const queries: OpenedQuery[] = [];
  let summary: DemoWorkerSummary;
  try {
    for (let q = 0; q < config.queriesPerIteration; q++) {
      const query = await openAndDecompose(ctx, randomDigits(ctx.rng, config.listLength));
      for (const leaf of query.leaves) {
        const assigned = await api.assignToProxy(actors.pipeline, query.queryId, leaf.nodeId, proxy.proxyVersionId, modelInputFor(leaf.question, config.student.slots));
        for (const job of assigned.jobs) {
          if (job.decision === 'allow') stats.allowed++;
          else stats.denied++;
        }
      }
      queries.push(query);
    }
    for (const query of queries) {
      const leafIds = new Set(query.leaves.map((l) => l.nodeId));
      const tree = await waitForLeaves(ctx, worker, query.queryId, leafIds);
      for (const leaf of leavesById(tree, leafIds)) {
        if (leaf.status === 'escalated') {
          const reason = leaf.escalations.find((e) => e.resolvedAt === null)?.reason ?? 'unknown';
          stats.escalations[reason] = (stats.escalations[reason] ?? 0) + 1;
          const human = ctx.humans.pick();
          await api.answer({ sub: human.name, role: 'overseer' }, query.queryId, leaf.nodeId, human.answer(leaf.question));
          continue;
        }
        if (leaf.answerKind !== 'proxy') throw new Error(`query ${query.queryId}: leaf ${leaf.nodeId} is ${leaf.status} with a ${leaf.answerKind ?? 'missing'} answer`);
        // Drawn for every proxy answer, so that the run stays reproducible whatever the confidences.
        const drawn = ctx.overseer.decides(config.reviewRate);
        const low = (leaf.confidence ?? 0) < config.reviewBelowConfidence;
        if (!low && !drawn) continue;
        stats.reviewed++;
        if (low) stats.reviewedLowConfidence++;
        const checked = ctx.overseer.answer(leaf.question);
        if (checked !== leaf.answer) {
          await api.override(actors.overseer, query.queryId, leaf.nodeId, checked, `spot check (confidence ${(leaf.confidence ?? 0).toFixed(2)}): the overseer recomputed the sum`);
          stats.overridden++;
        }
      }
      await composeAndComplete(ctx, query);
    }
  } finally {
    summary = await worker.stop();
  }
  await api.revokeWorker(actors.admin, worker.workerId, `demo iteration ${iteration} is done`);
  const escalated = Object.entries(stats.escalations).map(([reason, n]) => `${n} ${reason}`).join(', ') || 'none';
  ctx.log(
    `  gate: ${stats.allowed} jobs allowed, ${stats.denied} denied; worker: ${summary.completed} signed results accepted ` +
      `(${summary.leases} leases, ${summary.skipped} skipped, ${summary.rejected} rejected; onnxruntime ${summary.providers.join('/') || 'n/a'}), key revoked`,
  );
  ctx.log(
    `  escalated to humans: ${escalated}; overseer reviewed ${stats.reviewed} proxy answers (${stats.reviewedLowConfidence} below confidence ` +
      `${config.reviewBelowConfidence}, the rest at random) and overrode ${stats.overridden}`,
  );
  const result = await readIteration(ctx, iteration, `proxy v${iteration}`, queries.map((q) => q.queryId));
  result.amplification = { ...stats, worker: summary };
  return result;
}

const shortDigest = (digest: string) => (digest.length > 20 ? `${digest.slice(0, 19)}…` : digest);

function leavesById(tree: QueryTree, ids: Set<string>): TreeNode[] {
  const out: TreeNode[] = [];
  const walk = (node: TreeNode) => {
    if (ids.has(node.nodeId)) out.push(node);
    node.children.forEach(walk);
  };
  walk(tree.root);
  return out;
}

/** Leaves neither answered nor escalated yet (their jobs are still out). */
function pendingLeaves(tree: QueryTree, ids: Set<string>): TreeNode[] {
  return leavesById(tree, ids).filter((n) => n.answer === null && n.status !== 'escalated');
}

/**
 * Polls the query's decision tree until every leaf is answered by the proxy or escalated. Fails when the worker
 * died, or when nothing moved for `config.stallTimeoutMs` (a job no worker completes), saying which jobs wait.
 */
async function waitForLeaves(ctx: DemoContext, worker: DemoWorker, queryId: string, leafIds: Set<string>): Promise<QueryTree> {
  let lastProgress = Date.now();
  let lastCount = -1;
  let lastCompleted = worker.completed();
  for (;;) {
    const tree = await ctx.api.tree(ctx.actors.pipeline, queryId);
    const pending = pendingLeaves(tree, leafIds);
    if (pending.length === 0) return tree;
    const failure = worker.failure();
    if (failure !== null) throw new Error(failure);
    if (pending.length !== lastCount || worker.completed() !== lastCompleted) {
      lastProgress = Date.now();
      lastCount = pending.length;
      lastCompleted = worker.completed();
    } else if (Date.now() - lastProgress > ctx.config.stallTimeoutMs) {
      const jobs = pending.flatMap((n) => n.jobs.map((j) => `${j.jobId} ${j.status}`));
      throw new Error(`query ${queryId}: ${pending.length} leaves still wait for the worker after ${ctx.config.stallTimeoutMs} ms without progress (jobs: ${jobs.join(', ')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface DemoReport {
  iterations: IterationResult[];
  proxies: DistillResult[];
  stages: string[];
  verification: { ok: boolean; entries: number; rootHash: string; datasetRoots: { runId: string; ok: boolean }[] } | null;
  elapsedMs: number;
}

/** The demo could not go on (e.g. a proxy that must serve the next iteration failed its promotion gates). */
export class DemoFailure extends Error {
  override name = 'DemoFailure';
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/**
 * Runs the whole demo; prints as it goes and returns what happened. `iterations` = proxies distilled (2: v1
 * from the humans' iteration 0, v2 from v1's iteration 1).
 */
export async function runDemo(ctx: DemoContext, options: { iterations?: number } = {}): Promise<DemoReport> {
  const started = performance.now();
  const report: DemoReport = { iterations: [], proxies: [], stages: [], verification: null, elapsedMs: 0 };
  const health = await ctx.api.health().catch((error: unknown) => {
    const why = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new DemoFailure(`cannot reach the ledger at ${ctx.config.ledgerUrl} (${why}): start it with \`npm start\` or set LEDGER_URL`);
  });
  ctx.log(`ledger ${ctx.config.ledgerUrl}: ${health.status}, ${health.size} entries; tenant ${ctx.config.tenant}, seed ${ctx.config.seed}`);
  await configureTenant(ctx);

  let phase = performance.now();
  ctx.log(
    `iteration 0: ${ctx.config.queriesPerIteration} queries (${ctx.config.dataClassification} data) of ${ctx.config.listLength} digits, ` +
      `answered by ${ctx.humans.humans.map((h) => h.name).join(', ')} (error rate ${ctx.config.humanErrorRate})`,
  );
  let current = await iterationZero(ctx);
  report.iterations.push(current);
  ctx.log(`  ${current.kpis.leaves} leaves answered by humans, ${current.queryIds.length} queries completed (${seconds(phase)})`);
  let parent: DistillResult | null = null;
  const iterations = options.iterations ?? 2;
  for (let n = 1; n <= iterations; n++) {
    phase = performance.now();
    const proxy: DistillResult = await distil(ctx, current, parent ? { proxyVersionId: parent.proxyVersionId, onnx: parent.student.onnx } : null, String(n));
    current.kpis.student = { proxyVersionId: proxy.proxyVersionId, ...proxy.evaluation };
    report.proxies.push(proxy);
    const stage = await promoteThroughGates(ctx, proxy, current);
    report.stages.push(stage);
    ctx.log(`v${n} (${proxy.proxyVersionId}) is ${stage} (${seconds(phase)})`);
    if (n === iterations) break;
    if (stage !== 'production') {
      throw new DemoFailure(`v${n} did not pass its promotion gates (${stage}): the policy gate lets only production proxies serve, so iteration ${n} cannot run`);
    }
    phase = performance.now();
    current = await iterationWithWorkers(ctx, n, proxy);
    report.iterations.push(current);
    ctx.log(`  ${current.queryIds.length} queries completed (${seconds(phase)})`);
    parent = proxy;
  }

  ctx.log('\nKPIs per iteration (escalation rate: of the leaves assigned to a proxy; override rate: of the proxy answers; student: the proxy distilled from the iteration)');
  ctx.log(formatKpiTable(report.iterations.map((i) => i.kpis)));
  const last = report.proxies[report.proxies.length - 1];
  if (last) {
    ctx.log('');
    ctx.log(formatLineage(await ctx.api.lineage(ctx.actors.auditor, last.proxyVersionId)));
  }
  if (ctx.config.verifyOffline) report.verification = await verifyDataFolder(ctx, report.proxies.map((p) => p.runId));
  report.elapsedMs = performance.now() - started;
  return report;
}

/** The offline verifier over the ledger's data folder, and each run's dataset root recomputed from the log. */
export async function verifyDataFolder(ctx: DemoContext, runIds: string[]): Promise<DemoReport['verification']> {
  const { verifyOffline } = await import('../cli/offline-ledger.js');
  const { checkDataset } = await import('../cli/dataset-check.js');
  const result = await verifyOffline({ dataDir: ctx.config.dataDir });
  ctx.log(
    result.ok
      ? `\noffline verification: OK, ${result.entries} entries, ${result.checkpointsVerified} checkpoints, root ${result.rootHash}`
      : `\noffline verification: FAILED at ${result.failure?.position}: ${result.failure?.reason}`,
  );
  const datasetRoots: { runId: string; ok: boolean }[] = [];
  for (const runId of runIds) {
    const dataset = await checkDataset({ dataDir: ctx.config.dataDir }, runId);
    datasetRoots.push({ runId, ok: dataset.ok });
    ctx.log(`dataset of run ${runId}: ${dataset.ok ? `OK, ${dataset.leafCount} entries, root ${dataset.transcriptRoot}` : `FAILED: ${dataset.reason}`}`);
  }
  return { ok: result.ok, entries: result.entries, rootHash: result.rootHash, datasetRoots };
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // onnxruntime logs a native error when it looks for the CUDA provider on a machine without one; the demo
  // says which provider ran, so only fatal native messages are shown.
  const { default: ort } = await import('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  const config = demoConfigFromEnv(env);
  const ctx = createDemoContext(config);
  const report = await runDemo(ctx);
  const problems: string[] = [];
  if (report.verification !== null) {
    if (!report.verification.ok) problems.push('the offline verifier failed');
    for (const d of report.verification.datasetRoots) if (!d.ok) problems.push(`the dataset root of run ${d.runId} does not match the log`);
  }
  const seconds = (report.elapsedMs / 1000).toFixed(1);
  if (problems.length > 0) {
    console.error(`\ndemo failed after ${seconds} s: ${problems.join('; ')}`);
    return 1;
  }
  const stages = report.stages.map((stage, i) => `v${i + 1} ${stage}`).join(', ');
  console.log(`\nIDA loop done in ${seconds} s: ${report.iterations.length} iterations, ${report.proxies.length} distillations (${stages})${report.verification ? ', ledger verified offline' : ''}`);
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
