/**
 * Benchmark of the policy gate for inference (issue 4; called by bench/bench.ts, nothing here runs by itself):
 * `measureGateOverhead({jobs, concurrency})` drives N jobs end to end through the REAL application services on a
 * temporary data folder and says what the gate costs per inference beyond the signed appends it must make and
 * beyond the model run itself.
 *
 * Per job, in order (docs/policy-gate.md), exactly as the service and the worker process do it:
 *
 *   1. assign — `AssignNode` through the CommandBus (body parsed with the route's zod schema): the prepared
 *      Cedar decision, then ONE append (NodeAssigned, InferenceRequested, PolicyDecisionRecorded,
 *      InferenceAuthorized);
 *   2. lease — the worker's own client (`InferenceWorker.client.lease`: its self-signed worker JWT, reused for
 *      half its lifetime), authenticated as the auth guard does (`workerKeyOf` + `verifyWorkerToken`), then
 *      `InferenceLeases.lease`: decideLease, ONE append (InferenceLeased), grant minted with the log key;
 *   3. worker — `InferenceWorker.processLease`, the worker process's own code: grant verified against the
 *      ledger's JWKS (signature, aud, exp, sub, job claims), model digest (on a cache miss: the first job of a
 *      lane, which is a warm-up job), input digest (RFC 8785 + SHA-256), input shape, the onnxruntime run
 *      (timed apart), softmax, result signed with the worker key;
 *   4. accept — the result posted (body parsed with the route's zod schema) to `InferenceResults.submit`: grant
 *      verified, signer looked up, result signature verified, decideResult, ONE append (InferenceCompleted and
 *      the node's answer).
 *
 * Transport: `in-process` (default) hands requests to the services through a `fetch` adapter (JSON
 * serialisation kept; sockets, Nest's pipeline and the fetch `Response`'s web stream skipped: the answer is a
 * text in memory that the worker's client parses) — that is the gate's own cost; `http` runs the very
 * same flow through the listening Nest/express server on loopback with the global `fetch` (what a worker
 * does), so `http − in-process` is the HTTP stack's share. The pipeline's own bearer-token check is not gate
 * work and is skipped in-process; the worker's token check is gate work (grants go to registered keys) and is
 * kept.
 *
 * What is measured per job: `total` (assign start → accept answered), `appends` (wall time spent inside
 * `EventStore.append` calls on the job's query stream — the store's appends are wrapped before the app
 * starts; this includes the group-commit wait, signing and fsync), `run` (wall time of the worker's model
 * runner call: `runOnnx` on a warm session, i.e. tensor + `session.run()`). Gate overhead = total − appends −
 * run. It also holds the worker's softmax and the pipeline's NodeAssigned bookkeeping, so it is an upper
 * bound of the gate's own work. Each of the `concurrency` lanes is its own tenant with its own registered
 * worker and proxy (so a lane's worker leases exactly its lane's job); at concurrency > 1 a job's time
 * includes waiting for the other lanes' work on the one event loop (and for their group commits), which is
 * what a job sees. The bare onnxruntime `run()` is timed on the same warm session, same model and input, at
 * concurrency 1 and at `concurrency`.
 *
 * At concurrency > 1 the per-job latency mostly measures that queueing (Little's law: 16 jobs in flight on a
 * saturated event loop), so two throughput figures come with it: `appends_alone_ms_per_job_*` (each level's
 * append requests, recorded during the level, replayed alone on fresh streams with the same lanes) and
 * `gate_overhead_amortized_ms_*` = (level wall time − the replay's wall time) / jobs − run / concurrency: what
 * the gate adds per job beyond its appends when the jobs share the process. In-process, the worker's side
 * (grant verification, digests, result signature, its tokens) runs on the same event loop as the ledger, as
 * it would not in production; its share is the `worker_overhead_*` phase plus the client's token mints.
 *
 * Every check stays on: a job whose decision is not `allow`, whose lease is not its own job, or whose result
 * is not accepted makes the benchmark throw, and so does an event-store subscriber (index, projection) that
 * stopped during the run.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { CommandBus } from '@nestjs/cqrs';
import ort from 'onnxruntime-node';
import { AssignNodeBodySchema } from '../../amplification/assign-node/assign-node.dto.js';
import { AssignNode } from '../../amplification/assign-node/assign-node.handler.js';
import type { AssignNodeResponse } from '../../amplification/query.responses.js';
import { createApp, openLedgerAndVerifier } from '../../app/create-app.js';
import type { Principal } from '../../auth/principal.js';
import { mintDevelopmentToken } from '../../auth/token-issuer.js';
import { WORKER_KEY_DIRECTORY, type WorkerKeyDirectory } from '../../auth/worker-keys.port.js';
import { verifyWorkerToken, workerKeyOf } from '../../auth/worker-token-verifier.js';
import { loadConfig } from '../../common/config.js';
import { isLedgerError } from '../../common/ledger-error.js';
import { dataPaths, type EmbeddedLedger } from '../../ledger/embedded-ledger.js';
import type { JsonObject, JsonValue } from '../../ledger/entry.js';
import type { AppendRequest, AppendResult } from '../../ledger/event-store.port.js';
import { generateSigningKey, loadOrCreateKeyFile, type SigningKey } from '../../ledger/signing-key.js';
import { measurePolicyDecisions } from '../../policy/policy-bench.js';
import { LeaseBodySchema, ResultBodySchema } from '../inference.dto.js';
import { InferenceLeases } from '../leases/leases.service.js';
import { buildTestModel } from '../onnx/test-model.js';
import { OnnxSessionCache, runOnnx, sha256Digest, type ExecutionProvider, type OnnxRunner } from '../onnx/run-onnx.js';
import { InferenceResults } from '../results/results.service.js';
import type { FetchLike } from '../worker/ledger-client.js';
import { InferenceWorker, silentLogger } from '../worker/worker.js';

export type GateTransport = 'in-process' | 'http';

export interface GateBenchOptions {
  /** Measured jobs per concurrency level (default 200). Warm-up jobs come on top. */
  jobs?: number;
  /** The high concurrency level (default 16): the `_c16` figures are measured at this many concurrent jobs. */
  concurrency?: number;
  /** Default `in-process` (the gate's own cost); `http` goes through the listening server on loopback. */
  transport?: GateTransport;
  /** Prepared Cedar decisions timed by {@link measurePolicyDecisions} (default 10 000; 0 skips). */
  policyDecisions?: number;
  /** Samples of the bare onnxruntime `run()` per concurrency level (default max(jobs, 500)). */
  onnxRuns?: number;
  /** The test model (default 16 features → hidden [32] → 4 classes). */
  model?: { inputs?: number; hidden?: number[]; classes?: number; seed?: number };
  /** Default `['cuda', 'cpu']`, as the worker asks. */
  executionProviders?: ExecutionProvider[];
  /**
   * Unset (default): the worker's own runner (`runOnnx`, onnxruntime's default thread pools). A number: the
   * worker gets a runner on a session created with that many intra-op threads (and one inter-op thread), CPU
   * only — onnxruntime's idle pool threads spin on the cores the ledger needs when both share a small machine.
   */
  onnxThreads?: number;
  /** Called once per measured job (for profiling or plots); not needed for the figures. */
  onJob?: (sample: GateJobSample) => void;
}

/** One measured job, in milliseconds. */
export interface GateJobSample {
  concurrency: number;
  totalMs: number;
  /** Wall time inside the store's `append` calls for this job (its query stream). */
  appendsMs: number;
  appends: number;
  /** The worker's model runner call (tensor + `session.run()` on a warm session). */
  runMs: number;
  /** total − appends − run. */
  overheadMs: number;
  /** Per phase, its wall time less its appends (worker: less the run and the result post). */
  assignMs: number;
  leaseMs: number;
  workerMs: number;
  acceptMs: number;
}

/** Plain numbers (milliseconds unless the name says `_us`); `_c1` at one job at a time, `_c16` at `concurrency`. */
export interface GateFigures {
  transport: GateTransport;
  /** Measured jobs per concurrency level. */
  jobs: number;
  /** The concurrency the `_c16` figures were measured at (16 unless asked otherwise). */
  concurrency: number;
  model: string;
  provider: ExecutionProvider;

  gate_overhead_p50_ms_c1: number;
  gate_overhead_p99_ms_c1: number;
  gate_overhead_mean_ms_c1: number;
  gate_overhead_p50_ms_c16: number;
  gate_overhead_p99_ms_c16: number;
  gate_overhead_mean_ms_c16: number;
  /** Gate overhead p50 / bare onnxruntime run() p50, both at one job at a time. */
  gate_overhead_vs_onnx_run_c1: number;
  /** Gate overhead p50 / bare run() p50, both at `concurrency`. */
  gate_overhead_vs_onnx_run_c16: number;

  job_total_p50_ms_c1: number;
  job_total_p99_ms_c1: number;
  job_total_p50_ms_c16: number;
  job_total_p99_ms_c16: number;
  appends_p50_ms_c1: number;
  appends_p99_ms_c1: number;
  appends_p50_ms_c16: number;
  appends_p99_ms_c16: number;
  /** Signed appends per job (assign, lease, accept: 3). */
  appends_per_job: number;
  /** Appends during the measured jobs that were not on a measured job's stream (should be 0). */
  appends_unattributed: number;
  /** Completed jobs per second of wall time. */
  jobs_per_second_c1: number;
  jobs_per_second_c16: number;
  /**
   * The same signed appends alone (each job's three append requests replayed, same events and sizes, on fresh
   * streams, with the same lanes and concurrency): wall time per job.
   */
  appends_alone_ms_per_job_c1: number;
  appends_alone_ms_per_job_c16: number;
  /**
   * Throughput view of the overhead: (wall time of the level − wall time of its appends replayed alone) per job,
   * less the mean model run / concurrency. At c1 it estimates the mean overhead; at c16 it is what the gate adds
   * per job beyond the appends when 16 jobs share the process (the per-job figures at c16 also hold the time a
   * job waits for the other 15 on the one event loop).
   */
  gate_overhead_amortized_ms_c1: number;
  gate_overhead_amortized_ms_c16: number;
  /** Share of the level's wall time the main thread was busy (0..1; near 1: the event loop is the bottleneck). */
  event_loop_utilization_c1: number;
  event_loop_utilization_c16: number;

  /** Per phase p50 at c1, less its appends (the worker phase also less the run and the result post). */
  assign_overhead_p50_ms_c1: number;
  lease_overhead_p50_ms_c1: number;
  worker_overhead_p50_ms_c1: number;
  accept_overhead_p50_ms_c1: number;

  /** The worker's runner call inside the jobs (what was subtracted), p50 at c1. */
  job_run_p50_ms_c1: number;
  /** Bare onnxruntime `session.run()` of the same model and input on the same warm session. */
  onnx_run_p50_ms: number;
  onnx_run_p99_ms: number;
  onnx_run_p50_ms_c16: number;
  onnx_run_p99_ms_c16: number;

  /** Prepared Cedar decision (`CedarPolicyEngine.decide`, shipped policy set), µs; NaN when skipped. */
  policy_decision_p50_us: number;
  policy_decision_p99_us: number;
}

const INPUT_LABELS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/**
 * The in-process transport's answer to the worker's client: a body already in memory, with what the client
 * reads of a fetch `Response` (status, ok, headers, body, text, json). Building a real `Response` would send the
 * text through a web stream and back: transport work, like the sockets and the HTTP parsing this transport
 * skips, and not the gate's (the JSON serialisation is kept: the text is written here and parsed by the client).
 */
function memoryResponse(status: number, text: string | null, contentType: string | null): Response {
  const headers = new Map<string, string>();
  if (contentType !== null) headers.set('content-type', contentType);
  if (text !== null) headers.set('content-length', String(Buffer.byteLength(text)));
  const response = {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
    body: null,
    text: async () => text ?? '',
    json: async () => JSON.parse(text ?? '') as unknown,
  };
  return response as unknown as Response;
}
const GATES = { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 };
const LEASE_WAIT_MS = 10_000;

interface JobRecord {
  phase: 'assign' | 'lease' | 'worker' | 'accept';
  appendsMs: Record<JobRecord['phase'], number>;
  appends: number;
  /** The job's append requests, in order (replayed alone for the amortized figures). */
  requests: AppendRequest[];
  runMs: number;
  acceptMs: number;
}

interface PreparedJob {
  queryId: string;
  nodeId: string;
}

interface Lane {
  tenant: string;
  principal: Principal;
  pipelineBearer: string;
  proxyVersionId: string;
  worker: InferenceWorker;
  current: JobRecord | null;
  queue: PreparedJob[];
}

/** Runs the benchmark on a fresh temporary data folder (removed afterwards). */
export async function measureGateOverhead(options: GateBenchOptions = {}): Promise<GateFigures> {
  const jobs = options.jobs ?? 200;
  const concurrency = options.concurrency ?? 16;
  const transport = options.transport ?? 'in-process';
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new RangeError('jobs must be a positive integer');
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const onnxRuns = options.onnxRuns ?? Math.max(jobs, 500);
  const providers = options.executionProviders ?? ['cuda', 'cpu'];
  const shape = { inputs: 16, hidden: [32], classes: 4, seed: 7, ...options.model };
  const modelBytes = buildTestModel(shape.seed, shape.inputs, shape.classes, { hidden: shape.hidden });
  const modelSha256 = sha256Digest(modelBytes);
  const features = Array.from({ length: shape.inputs }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000);
  const input: JsonObject = { features, labels: INPUT_LABELS.slice(0, shape.classes) };
  const sessions = new OnnxSessionCache(2);
  let ownSession: ort.InferenceSession | null = null;
  /** The worker's model runner: its own `runOnnx`, or one on `ownSession` (the bytes were checked by the worker). */
  const run: OnnxRunner = async (bytes, feats, runOptions) => {
    if (ownSession === null) return runOnnx(bytes, feats, { ...runOptions, cache: sessions });
    if (runOptions?.modelSha256 !== modelSha256) throw new Error(`the worker asked to run ${String(runOptions?.modelSha256)}, not the bench model`);
    const tensor = new ort.Tensor('float32', Float32Array.from(feats), [1, feats.length]);
    const started = performance.now();
    const outputs = await ownSession.run({ [ownSession.inputNames[0]!]: tensor });
    const runMs = performance.now() - started;
    const scores = outputs[ownSession.outputNames[0]!]!.data as Float32Array;
    return { scores, scoresKind: 'logits', provider: 'cpu', loadMs: 0, runMs, cached: true, modelSha256 };
  };

  // A subscriber (index, projection) that stopped would make every later figure a lie: watch for it.
  const stopped: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'LEDGER_SUBSCRIPTION_STOPPED') stopped.push(warning.message);
  };
  process.on('warning', onWarning);
  const bench = await startBench().catch((error: unknown) => {
    process.off('warning', onWarning);
    throw error;
  });
  try {
    if (options.onnxThreads !== undefined) {
      ownSession = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'], intraOpNumThreads: options.onnxThreads, interOpNumThreads: 1 });
    }
    const { app, ledger, baseUrl } = bench;
    const commandBus = app.get(CommandBus);
    const leases = app.get(InferenceLeases);
    const results = app.get(InferenceResults);
    const directory = app.get<WorkerKeyDirectory>(WORKER_KEY_DIRECTORY);

    // The store's appends, timed and attributed to the job whose query stream they write.
    const active = new Map<string, JobRecord>();
    let unattributed = 0;
    let counting = false;
    const events = ledger.events;
    const append = events.append.bind(events);
    events.append = async (request: AppendRequest): Promise<AppendResult> => {
      const record = active.get(request.stream);
      if (record === undefined) {
        if (counting) unattributed++;
        return append(request);
      }
      const phase = record.phase;
      record.requests.push(request);
      const started = performance.now();
      try {
        return await append(request);
      } finally {
        record.appendsMs[phase] += performance.now() - started;
        record.appends++;
      }
    };

    const http = async (method: string, path: string, bearer: string, body?: unknown, contentType = 'application/json') => {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': contentType, Accept: 'application/json' },
        ...(body === undefined ? {} : { body: contentType === 'application/json' ? JSON.stringify(body) : (body as Uint8Array) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    };

    // The worker's requests, handed to the services as the routes do (in-process), or to the server (http).
    const inProcessFetch: FetchLike = async (url, init = {}) => {
      const path = new URL(url).pathname;
      const json = (status: number, body: unknown) =>
        memoryResponse(status, JSON.stringify(body), status < 300 ? 'application/json' : 'application/problem+json');
      try {
        if (path === '/.well-known/jwks.json') return json(200, ledger.jwks());
        if (path === '/v1/inference/results') return json(200, await results.submit(ResultBodySchema.parse(JSON.parse(String(init.body)))));
        const principal = await authenticateWorker(init, directory);
        if (path === '/v1/inference/leases') {
          const body = LeaseBodySchema.parse(JSON.parse(String(init.body)));
          const leased = await leases.lease(principal, body.waitMs ?? LEASE_WAIT_MS, init.signal ?? undefined);
          return leased === null ? memoryResponse(204, null, null) : json(200, leased);
        }
        if (path === `/v1/artifacts/${modelSha256}`) return new Response(modelBytes, { status: 200, headers: { 'Content-Type': 'application/octet-stream' } });
        return json(404, { code: 'BENCH.NO_ROUTE' });
      } catch (error) {
        if (isLedgerError(error)) return json(error.status, { code: error.code, detail: error.message });
        throw error;
      }
    };
    const baseFetch: FetchLike = transport === 'http' ? (u, init) => globalThis.fetch(u, init) : inProcessFetch;

    // Setup (not timed): the model in the artifact store, and per lane a tenant, a serving proxy, a worker.
    const bootstrap = await bench.token('pipeline', 'bench-setup', 'bench-uploader');
    const uploaded = await http('POST', '/v1/artifacts', bootstrap, modelBytes, 'application/octet-stream');
    if (uploaded['sha256'] !== modelSha256) throw new Error(`the artifact store answered ${String(uploaded['sha256'])}, expected ${modelSha256}`);

    const lanes: Lane[] = [];
    for (let l = 0; l < concurrency; l++) {
      const tenant = `bench-${l}`;
      const admin = await bench.token('admin', tenant, 'bench-admin');
      const pipelineBearer = await bench.token('pipeline', tenant, 'bench-orchestrator');
      const proxyVersionId = await registerProxy(ledger, tenant, modelSha256);
      const key: SigningKey = generateSigningKey();
      const workerId = `bench-worker-${l}`;
      await http('POST', '/v1/workers', admin, { workerId, name: workerId, publicKeyJwk: key.publicJwk });
      const lane: Lane = {
        tenant,
        principal: { sub: 'bench-orchestrator', role: 'pipeline', tenant },
        pipelineBearer,
        proxyVersionId,
        current: null,
        queue: [],
        worker: undefined as unknown as InferenceWorker,
      };
      const runner: OnnxRunner = async (bytes, feats, runOptions) => {
        const started = performance.now();
        try {
          return await run(bytes, feats, runOptions);
        } finally {
          if (lane.current) lane.current.runMs += performance.now() - started;
        }
      };
      const laneFetch: FetchLike = async (url, init) => {
        const record = lane.current;
        if (record === null || !url.endsWith('/v1/inference/results')) return baseFetch(url, init);
        record.phase = 'accept';
        const started = performance.now();
        try {
          return await baseFetch(url, init);
        } finally {
          record.acceptMs += performance.now() - started;
          record.phase = 'worker';
        }
      };
      lane.worker = new InferenceWorker({
        ledgerUrl: baseUrl,
        key,
        workerId,
        fetch: laneFetch,
        runner,
        logger: silentLogger,
        waitMs: LEASE_WAIT_MS,
        executionProviders: providers,
      });
      lanes.push(lane);
    }

    // Queries with an open root, opened ahead (opening a query is the pipeline's business, not the gate's).
    const warmupC1 = Math.min(50, Math.max(5, Math.ceil(jobs / 4)));
    const perLaneHigh = Math.ceil(jobs / concurrency);
    await openQueries(lanes[0]!, warmupC1 + jobs, http);
    for (const lane of lanes) await openQueries(lane, 2 + perLaneHigh, http);

    const runJob = async (lane: Lane, level: number, measured: boolean): Promise<{ sample: GateJobSample; requests: AppendRequest[] }> => {
      const prepared = lane.queue.shift();
      if (prepared === undefined) throw new Error('no prepared query left');
      const record: JobRecord = { phase: 'assign', appendsMs: { assign: 0, lease: 0, worker: 0, accept: 0 }, appends: 0, requests: [], runMs: 0, acceptMs: 0 };
      const stream = `query-${prepared.queryId}`;
      active.set(stream, record);
      lane.current = record;
      try {
        const t0 = performance.now();
        const assignBody = { to: 'proxy', proxyVersionId: lane.proxyVersionId, input };
        let assigned: AssignNodeResponse;
        if (transport === 'http') {
          assigned = (await http('POST', `/v1/queries/${prepared.queryId}/nodes/${prepared.nodeId}/assign`, lane.pipelineBearer, assignBody)) as unknown as AssignNodeResponse;
        } else {
          const outcome = await commandBus.execute(new AssignNode({ principal: lane.principal }, prepared.queryId, prepared.nodeId, AssignNodeBodySchema.parse(assignBody)));
          assigned = outcome.body;
        }
        const job = assigned.jobs[0];
        if (job === undefined || job.decision !== 'allow') throw new Error(`the gate did not allow the job: ${JSON.stringify(assigned)}`);
        const t1 = performance.now();
        record.phase = 'lease';
        const lease = await lane.worker.client.lease(LEASE_WAIT_MS);
        if (lease === null || lease.job.jobId !== job.jobId) throw new Error(`lane ${lane.tenant} leased ${lease?.job.jobId ?? 'nothing'}, expected ${job.jobId}`);
        const t2 = performance.now();
        record.phase = 'worker';
        const outcome = await lane.worker.processLease(lease);
        const t3 = performance.now();
        if (outcome.status !== 'completed') throw new Error(`job ${job.jobId} was not completed: ${JSON.stringify(outcome)}`);
        const appendsMs = record.appendsMs.assign + record.appendsMs.lease + record.appendsMs.worker + record.appendsMs.accept;
        const totalMs = t3 - t0;
        const sample: GateJobSample = {
          concurrency: level,
          totalMs,
          appendsMs,
          appends: record.appends,
          runMs: record.runMs,
          overheadMs: totalMs - appendsMs - record.runMs,
          assignMs: t1 - t0 - record.appendsMs.assign,
          leaseMs: t2 - t1 - record.appendsMs.lease,
          workerMs: t3 - t2 - record.acceptMs - record.runMs - record.appendsMs.worker,
          acceptMs: record.acceptMs - record.appendsMs.accept,
        };
        if (measured) options.onJob?.(sample);
        return { sample, requests: record.requests };
      } finally {
        active.delete(stream);
        lane.current = null;
      }
    };

    const runLevel = async (running: Lane[], perLane: number[], level: number, measured: boolean) => {
      const samples: GateJobSample[] = [];
      /** lane → job → its append requests. */
      const requests: AppendRequest[][][] = running.map(() => []);
      counting = measured;
      const elu = performance.eventLoopUtilization();
      const started = performance.now();
      await Promise.all(
        running.map(async (lane, i) => {
          for (let j = 0; j < perLane[i]!; j++) {
            const done = await runJob(lane, level, measured);
            samples.push(done.sample);
            requests[i]!.push(done.requests);
          }
        }),
      );
      const wallMs = performance.now() - started;
      const utilization = performance.eventLoopUtilization(elu).utilization;
      counting = false;
      return { samples, wallMs, utilization, requests };
    };

    /**
     * The level's appends alone: each lane appends its jobs' requests again, in order, on fresh streams — same
     * data, so the same signing, hashing and storage cost, under a type nothing folds (a query event off its
     * query stream would stop the projections).
     */
    const replayAppends = async (requests: AppendRequest[][][]): Promise<number> => {
      const started = performance.now();
      await Promise.all(
        requests.map(async (ofLane) => {
          for (const ofJob of ofLane) {
            const stream = `bench-replay-${randomUUID()}`;
            for (const request of ofJob) {
              await append({
                stream,
                expectedRevision: 'any',
                events: request.events.map(({ schema, data }) => ({ type: 'BenchAppendReplayed', schema, data })),
                meta: { ...request.meta, commandId: randomUUID(), recordedAt: new Date().toISOString() },
              });
            }
          }
        }),
      );
      return performance.now() - started;
    };

    // One job at a time.
    await runLevel([lanes[0]!], [warmupC1], 1, false);
    const c1 = await runLevel([lanes[0]!], [jobs], 1, true);

    // `concurrency` jobs at a time: two warm-up jobs per lane (the first fetches and checks the model).
    await runLevel(lanes, lanes.map(() => 2), concurrency, false);
    const highPerLane = lanes.map((_, i) => Math.floor(jobs / concurrency) + (i < jobs % concurrency ? 1 : 0));
    const high = await runLevel(lanes, highPerLane, concurrency, true);
    const replayC1Ms = await replayAppends(c1.requests);
    const replayHighMs = await replayAppends(high.requests);

    // The bare onnxruntime run() of the same model and input, on the same warm session.
    const own: ort.InferenceSession | null = ownSession;
    const loaded =
      own === null
        ? (await sessions.get(modelBytes, modelSha256, providers)).loaded
        : { session: own, inputName: own.inputNames[0]!, provider: 'cpu' as const };
    const bareC1 = await bareRuns(loaded.session, loaded.inputName, features, onnxRuns, 1);
    const bareHigh = await bareRuns(loaded.session, loaded.inputName, features, onnxRuns, concurrency);

    if (stopped.length > 0) throw new Error(`an event store subscriber stopped during the benchmark: ${stopped.join('; ')}`);
    const policy = (options.policyDecisions ?? 10_000) > 0 ? measurePolicyDecisions(options.policyDecisions ?? 10_000) : null;

    const pick = (samples: GateJobSample[], field: keyof GateJobSample) => sorted(samples.map((s) => s[field] as number));
    const overheadC1 = pick(c1.samples, 'overheadMs');
    const overheadHigh = pick(high.samples, 'overheadMs');
    const all = [...c1.samples, ...high.samples];
    return {
      transport,
      jobs,
      concurrency,
      model: `mlp ${shape.inputs}→${shape.hidden.join('→')}→${shape.classes} (${modelBytes.byteLength} bytes)`,
      provider: loaded.provider,
      gate_overhead_p50_ms_c1: round(quantile(overheadC1, 0.5)),
      gate_overhead_p99_ms_c1: round(quantile(overheadC1, 0.99)),
      gate_overhead_mean_ms_c1: round(mean(overheadC1)),
      gate_overhead_p50_ms_c16: round(quantile(overheadHigh, 0.5)),
      gate_overhead_p99_ms_c16: round(quantile(overheadHigh, 0.99)),
      gate_overhead_mean_ms_c16: round(mean(overheadHigh)),
      gate_overhead_vs_onnx_run_c1: round(quantile(overheadC1, 0.5) / quantile(bareC1, 0.5), 1),
      gate_overhead_vs_onnx_run_c16: round(quantile(overheadHigh, 0.5) / quantile(bareHigh, 0.5), 1),
      job_total_p50_ms_c1: round(quantile(pick(c1.samples, 'totalMs'), 0.5)),
      job_total_p99_ms_c1: round(quantile(pick(c1.samples, 'totalMs'), 0.99)),
      job_total_p50_ms_c16: round(quantile(pick(high.samples, 'totalMs'), 0.5)),
      job_total_p99_ms_c16: round(quantile(pick(high.samples, 'totalMs'), 0.99)),
      appends_p50_ms_c1: round(quantile(pick(c1.samples, 'appendsMs'), 0.5)),
      appends_p99_ms_c1: round(quantile(pick(c1.samples, 'appendsMs'), 0.99)),
      appends_p50_ms_c16: round(quantile(pick(high.samples, 'appendsMs'), 0.5)),
      appends_p99_ms_c16: round(quantile(pick(high.samples, 'appendsMs'), 0.99)),
      appends_per_job: round(mean(all.map((s) => s.appends)), 2),
      appends_unattributed: unattributed,
      jobs_per_second_c1: round((c1.samples.length / c1.wallMs) * 1000, 1),
      jobs_per_second_c16: round((high.samples.length / high.wallMs) * 1000, 1),
      appends_alone_ms_per_job_c1: round(replayC1Ms / c1.samples.length),
      appends_alone_ms_per_job_c16: round(replayHighMs / high.samples.length),
      gate_overhead_amortized_ms_c1: round((c1.wallMs - replayC1Ms) / c1.samples.length - mean(pick(c1.samples, 'runMs'))),
      gate_overhead_amortized_ms_c16: round((high.wallMs - replayHighMs) / high.samples.length - mean(pick(high.samples, 'runMs')) / concurrency),
      event_loop_utilization_c1: round(c1.utilization),
      event_loop_utilization_c16: round(high.utilization),
      assign_overhead_p50_ms_c1: round(quantile(pick(c1.samples, 'assignMs'), 0.5)),
      lease_overhead_p50_ms_c1: round(quantile(pick(c1.samples, 'leaseMs'), 0.5)),
      worker_overhead_p50_ms_c1: round(quantile(pick(c1.samples, 'workerMs'), 0.5)),
      accept_overhead_p50_ms_c1: round(quantile(pick(c1.samples, 'acceptMs'), 0.5)),
      job_run_p50_ms_c1: round(quantile(pick(c1.samples, 'runMs'), 0.5)),
      onnx_run_p50_ms: round(quantile(bareC1, 0.5)),
      onnx_run_p99_ms: round(quantile(bareC1, 0.99)),
      onnx_run_p50_ms_c16: round(quantile(bareHigh, 0.5)),
      onnx_run_p99_ms_c16: round(quantile(bareHigh, 0.99)),
      policy_decision_p50_us: policy?.p50Us ?? Number.NaN,
      policy_decision_p99_us: policy?.p99Us ?? Number.NaN,
    };
  } finally {
    await sessions.clear();
    await (ownSession as ort.InferenceSession | null)?.release();
    await bench.close();
    process.off('warning', onWarning);
  }
}

/** As the auth guard does for a worker's self-signed token (the lease route's only authentication). */
/** A request header by its lower-case name, from what `fetch` accepts as headers (the client sends a plain object). */
function headerOf(headers: RequestInit['headers'], name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [key, value] of pairs) if (key!.toLowerCase() === name) return typeof value === 'string' ? value : value?.join(', ');
  return undefined;
}

async function authenticateWorker(init: RequestInit, directory: WorkerKeyDirectory): Promise<Principal> {
  const header = headerOf(init.headers, 'authorization') ?? '';
  const bearer = header.startsWith('Bearer ') ? header.slice(7) : '';
  const key = workerKeyOf(bearer, directory);
  if (key === undefined) throw new Error('the worker token names no registered worker key');
  return verifyWorkerToken(bearer, key);
}

interface Bench {
  app: NestExpressApplication;
  ledger: EmbeddedLedger;
  baseUrl: string;
  token(role: 'admin' | 'pipeline', tenant: string, sub: string): Promise<string>;
  close(): Promise<void>;
}

/** The real application on a fresh temporary data folder, listening on loopback. */
async function startBench(): Promise<Bench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ida-ledger-gate-bench-'));
  let ledger: EmbeddedLedger | undefined;
  let app: NestExpressApplication | undefined;
  try {
    const config = loadConfig({ LEDGER_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' });
    const opened = await openLedgerAndVerifier(config);
    ledger = opened.ledger;
    app = await createApp({ config, ledger, tokenVerifier: opened.tokenVerifier, logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const tokenKey = loadOrCreateKeyFile(dataPaths(dataDir).tokenKey).key;
    const openedApp = app;
    const openedLedger = ledger;
    return {
      app,
      ledger,
      baseUrl: `http://127.0.0.1:${port}`,
      token: (role, tenant, sub) => mintDevelopmentToken({ privateKey: tokenKey.privateKey, kid: tokenKey.kid, sub, role, tenant }),
      close: async () => {
        try {
          await openedApp.close();
          await openedLedger.close();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await ledger?.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A production proxy version of `tenant` serving the model (the registry's events, as the e2e specs write them). */
async function registerProxy(ledger: EmbeddedLedger, tenant: string, artifactSha256: string): Promise<string> {
  const id = `bench-proxy-${randomUUID()}`;
  const promote = (from: string, to: string) => ({ type: 'ProxyPromoted', schema: 1, data: { from, to, gates: GATES, checks: [] } });
  await ledger.events.append({
    stream: `proxy-${id}`,
    expectedRevision: 'no_stream',
    events: [
      {
        type: 'ProxyRegistered',
        schema: 1,
        data: {
          proxyVersionId: id,
          name: 'bench-mlp',
          version: '1',
          source: { kind: 'imported', provenance: { origin: 'bench', description: 'buildTestModel', declaredBy: 'bench' } },
          parentProxyVersionId: null,
          artifact: { sha256: artifactSha256, sizeBytes: 1 },
          metrics: { fidelity: 0.95, groundTruthAgreement: 0.9, drift: 0.05 },
          stage: 'candidate',
        },
      },
      promote('candidate', 'shadow'),
      promote('shadow', 'production'),
    ],
    meta: {
      tenant,
      actor: { sub: 'bench-registry', role: 'pipeline' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: randomUUID(),
      recordedAt: new Date().toISOString(),
    },
  });
  return id;
}

/** Opens `count` queries for the lane (eight at a time); their roots are the leaves the jobs assign. */
async function openQueries(
  lane: Lane,
  count: number,
  http: (method: string, path: string, bearer: string, body?: unknown) => Promise<Record<string, unknown>>,
): Promise<void> {
  const body = { task: 'Classify the bench input', input: null, confidenceThreshold: 0 } satisfies Record<string, JsonValue>;
  for (let done = 0; done < count; ) {
    const batch = Math.min(8, count - done);
    const opened = await Promise.all(Array.from({ length: batch }, () => http('POST', '/v1/queries', lane.pipelineBearer, body)));
    for (const q of opened) lane.queue.push({ queryId: String(q['queryId']), nodeId: String(q['rootNodeId']) });
    done += batch;
  }
}

/** `samples` bare `session.run()` calls, `concurrency` at a time; each call's wall time in ms, sorted. */
async function bareRuns(session: ort.InferenceSession, inputName: string, features: number[], samples: number, concurrency: number): Promise<Float64Array> {
  const times: number[] = [];
  const data = Float32Array.from(features);
  const one = async (record: boolean) => {
    const tensor = new ort.Tensor('float32', data.slice(), [1, data.length]);
    const started = performance.now();
    await session.run({ [inputName]: tensor });
    if (record) times.push(performance.now() - started);
  };
  for (let i = 0; i < 50; i++) await one(false);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < samples) {
        next++;
        await one(true);
      }
    }),
  );
  return sorted(times);
}

function sorted(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return Number.NaN;
  return values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
