/**
 * The worker process core (docs/policy-gate.md, "The worker process"):
 *
 *   lease (long poll) → verify the grant with the ledger's JWKS (signature, `aud`, `exp`, `sub` = itself, job
 *   claims) → fetch the model by digest and check its SHA-256 equals the grant's `model` → check SHA-256 of
 *   RFC 8785 `input` equals the grant's `input` → only then load and run the model (CUDA, else CPU; which one
 *   ran is recorded) → answer = `input.labels[argmax]` or the argmax index, confidence = top probability →
 *   post the result signed with the worker key.
 *
 * A grant or digest that does not verify: nothing is loaded or run, nothing is posted; the worker logs and
 * moves on. Fetch, clock and model runner are injected so that all of this is testable without a ledger.
 */
import type { JsonValue } from '../../ledger/entry.js';
import type { SigningKey } from '../../ledger/signing-key.js';
import { runOnnx, type ExecutionProvider, type OnnxRunner } from '../onnx/run-onnx.js';
import { argmax, softmax } from '../onnx/mlp.js';
import { verifyGrant, type GrantClaims, type GrantFailureCode, type LedgerJwks } from './grant.js';
import { LedgerHttpError, WorkerLedgerClient, type FetchLike, type LeaseResponse } from './ledger-client.js';
import { inputDigest, sha256Digest, signResult, type InferenceOutput, type InferenceResultBody } from './result-signature.js';
import { WorkerTokenSource } from './worker-token.js';

export interface WorkerClock {
  now(): Date;
}

export interface WorkerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line on stderr. */
export const jsonLineLogger: WorkerLogger = {
  info: (message, fields) => process.stderr.write(`${JSON.stringify({ level: 'info', at: new Date().toISOString(), message, ...fields })}\n`),
  warn: (message, fields) => process.stderr.write(`${JSON.stringify({ level: 'warn', at: new Date().toISOString(), message, ...fields })}\n`),
  error: (message, fields) => process.stderr.write(`${JSON.stringify({ level: 'error', at: new Date().toISOString(), message, ...fields })}\n`),
};

export const silentLogger: WorkerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface InferenceWorkerOptions {
  /** e.g. `http://localhost:3000` */
  ledgerUrl: string;
  /** The worker's Ed25519 key (registered with the ledger as `publicKeyJwk`). */
  key: SigningKey;
  workerId: string;
  fetch?: FetchLike;
  clock?: WorkerClock;
  /** Default {@link runOnnx}. */
  runner?: OnnxRunner;
  logger?: WorkerLogger;
  /** Long-poll wait per lease request (default 30 000, the contract's maximum). */
  waitMs?: number;
  /** Default `['cuda', 'cpu']`. */
  executionProviders?: ExecutionProvider[];
  tokenTtlSeconds?: number;
  /** Seconds of clock skew tolerated on the grant's `exp` (default 0). */
  clockToleranceSeconds?: number;
  /** Verified model bytes kept in memory, by digest (default 8). */
  modelCacheSize?: number;
  /** Delay after a failed lease request, doubled up to `maxBackoffMs` (default 1 000 / 30 000). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Why a job was dropped before anything was loaded or run. */
export type SkipCode =
  | GrantFailureCode
  | 'JWKS_UNAVAILABLE'
  | 'MODEL_FETCH_FAILED'
  | 'MODEL_DIGEST_MISMATCH'
  | 'INPUT_DIGEST_MISMATCH'
  | 'INPUT_INVALID';

export type JobOutcome =
  /** The ledger accepted the signed result. */
  | { status: 'completed'; jobId: string; result: InferenceResultBody; response: unknown }
  /** Verification failed: nothing loaded, run or posted. */
  | { status: 'skipped'; jobId: string; code: SkipCode; reason: string }
  /** The model was loaded but running it failed: nothing posted. */
  | { status: 'failed'; jobId: string; code: 'RUN_FAILED'; reason: string }
  /** The ledger refused the result (problem+json code) or could not be reached. */
  | { status: 'rejected'; jobId: string; httpStatus: number | null; code: string | null; reason: string; result: InferenceResultBody };

export interface WorkerRunSummary {
  leases: number;
  completed: number;
  skipped: number;
  failed: number;
  rejected: number;
  /** Lease requests that failed (network, 401/403, 5xx). */
  leaseErrors: number;
}

/** What a model input must look like: `{features: number[], labels?: string[], ...}`. */
export interface ModelInput {
  features: number[];
  labels?: string[];
}

/** Checks `input` is `{features: finite number[] (non-empty), labels?: string[]}`; returns why not, or null. */
export function modelInputProblem(input: JsonValue): string | null {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return 'input is not an object';
  const { features, labels } = input as Record<string, JsonValue>;
  if (!Array.isArray(features) || features.length === 0) return 'input.features is not a non-empty array';
  if (!features.every((x) => typeof x === 'number' && Number.isFinite(x))) return 'input.features holds a value that is not a finite number';
  if (labels !== undefined && (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))) return 'input.labels is not an array of strings';
  return null;
}

/**
 * Answer and confidence from a model's scores: softmax (unless they already are probabilities), answer =
 * `labels[argmax]` when that label exists, else the argmax index as a string; confidence = top probability.
 */
export function answerFromScores(scores: ArrayLike<number>, scoresKind: 'logits' | 'probabilities', labels?: readonly string[]): InferenceOutput {
  if (scores.length === 0) throw new RangeError('the model produced no scores');
  for (let i = 0; i < scores.length; i++) if (!Number.isFinite(scores[i]!)) throw new RangeError(`score ${i} is not a finite number`);
  const probabilities = scoresKind === 'probabilities' ? Array.from(scores) : softmax(scores);
  const index = argmax(probabilities);
  const label = labels?.[index];
  const confidence = Math.min(1, Math.max(0, probabilities[index]!));
  return { answer: label ?? String(index), confidence, scores: Array.from(scores, (x) => Number(x)) };
}

class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class InferenceWorker {
  readonly workerId: string;
  readonly client: WorkerLedgerClient;
  private readonly clock: WorkerClock;
  private readonly runner: OnnxRunner;
  private readonly log: WorkerLogger;
  private readonly waitMs: number;
  private readonly providers: ExecutionProvider[];
  private readonly models: Lru<Uint8Array>;
  private jwks: LedgerJwks | null = null;
  private jwksFetchedAt = -Infinity;
  private readonly stopController = new AbortController();

  constructor(private readonly options: InferenceWorkerOptions) {
    if (!options.workerId.trim()) throw new TypeError('workerId must not be blank');
    this.workerId = options.workerId;
    this.clock = options.clock ?? { now: () => new Date() };
    this.runner = options.runner ?? runOnnx;
    this.log = options.logger ?? jsonLineLogger;
    this.waitMs = options.waitMs ?? 30_000;
    this.providers = options.executionProviders ?? ['cuda', 'cpu'];
    this.models = new Lru(options.modelCacheSize ?? 8);
    const tokens = new WorkerTokenSource(
      { privateKey: options.key.privateKey, kid: options.key.kid, workerId: this.workerId, ttlSeconds: options.tokenTtlSeconds },
      this.clock,
    );
    this.client = new WorkerLedgerClient({
      baseUrl: options.ledgerUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      token: () => tokens.token(),
    });
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Ends `run()` after the job in hand (if any) is done; an open long poll is abandoned at once. */
  stop(): void {
    this.stopController.abort();
  }

  /**
   * Leases and processes jobs until {@link stop} (or after one lease request with `once`). Lease errors are
   * logged and retried with exponential backoff.
   */
  async run(options: { once?: boolean } = {}): Promise<WorkerRunSummary> {
    const summary: WorkerRunSummary = { leases: 0, completed: 0, skipped: 0, failed: 0, rejected: 0, leaseErrors: 0 };
    const baseBackoff = this.options.backoffMs ?? 1_000;
    const maxBackoff = this.options.maxBackoffMs ?? 30_000;
    let backoff = baseBackoff;
    this.log.info('worker started', { workerId: this.workerId, kid: this.options.key.kid, ledger: this.options.ledgerUrl });
    while (!this.stopping) {
      let lease: LeaseResponse | null;
      try {
        lease = await this.client.lease(this.waitMs, this.stopController.signal);
        backoff = baseBackoff;
      } catch (error) {
        if (this.stopping) break;
        summary.leaseErrors++;
        const fields = error instanceof LedgerHttpError ? { status: error.status, code: error.code } : {};
        this.log.error('lease failed', { error: error instanceof Error ? error.message : String(error), ...fields, retryInMs: backoff });
        if (options.once) break;
        await sleep(backoff, this.stopController.signal);
        backoff = Math.min(maxBackoff, backoff * 2);
        continue;
      }
      if (lease !== null) {
        summary.leases++;
        const outcome = await this.processLease(lease);
        summary[outcome.status]++;
      }
      if (options.once) break;
    }
    this.log.info('worker stopped', { workerId: this.workerId, ...summary });
    return summary;
  }

  /** One lease request; the job's outcome, or null when no job came. */
  async runOnce(): Promise<JobOutcome | null> {
    const lease = await this.client.lease(this.waitMs, this.stopController.signal);
    return lease === null ? null : this.processLease(lease);
  }

  /** Verifies, runs and reports one leased job (never throws). */
  async processLease(lease: LeaseResponse): Promise<JobOutcome> {
    try {
      return await this.process(lease);
    } catch (error) {
      // Anything unforeseen (e.g. a result that cannot be canonicalised): nothing was posted; keep the loop alive.
      const reason = error instanceof Error ? error.message : String(error);
      this.log.error('job failed', { jobId: lease.job.jobId, reason });
      return { status: 'failed', jobId: lease.job.jobId, code: 'RUN_FAILED', reason };
    }
  }

  private async process(lease: LeaseResponse): Promise<JobOutcome> {
    const { job, grant } = lease;
    const jobId = job.jobId;
    const skip = (code: SkipCode, reason: string): JobOutcome => {
      this.log.warn('job skipped: nothing loaded or run', { jobId, code, reason });
      return { status: 'skipped', jobId, code, reason };
    };

    // 1. The grant, before anything else.
    const check = await this.checkGrant(grant, lease);
    if (!check.ok) return skip(check.code, check.reason);
    const claims: GrantClaims = check.claims;

    // 2. The model, by digest; its bytes must hash to the grant's `model`.
    let modelBytes = this.models.get(claims.model);
    if (modelBytes === undefined) {
      let fetched: Uint8Array;
      try {
        fetched = await this.client.artifact(claims.model);
      } catch (error) {
        return skip('MODEL_FETCH_FAILED', error instanceof Error ? error.message : String(error));
      }
      const actual = sha256Digest(fetched);
      if (actual !== claims.model) return skip('MODEL_DIGEST_MISMATCH', `the artifact's SHA-256 is ${actual}, the grant names ${claims.model}`);
      modelBytes = fetched;
      this.models.set(claims.model, fetched);
    }

    // 3. The input: SHA-256 of its RFC 8785 JSON must be the grant's `input`.
    let actualInput: string;
    try {
      actualInput = inputDigest(job.input);
    } catch (error) {
      return skip('INPUT_INVALID', error instanceof Error ? error.message : String(error));
    }
    if (actualInput !== claims.input) return skip('INPUT_DIGEST_MISMATCH', `the input's digest is ${actualInput}, the grant names ${claims.input}`);
    const problem = modelInputProblem(job.input);
    if (problem !== null) return skip('INPUT_INVALID', problem);
    const input = job.input as unknown as ModelInput;

    // 4. Only now: load and run.
    let output: InferenceOutput;
    let run: Awaited<ReturnType<OnnxRunner>>;
    try {
      run = await this.runner(modelBytes, input.features, { executionProviders: this.providers, modelSha256: claims.model });
      output = answerFromScores(run.scores, run.scoresKind, input.labels);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.error('model run failed', { jobId, reason });
      return { status: 'failed', jobId, code: 'RUN_FAILED', reason };
    }

    // 5. The signed result.
    const result = signResult(
      {
        grant,
        jobId,
        output,
        provider: run.provider,
        timing: { loadMs: run.loadMs, runMs: run.runMs },
        modelSha256: claims.model,
        inputDigest: claims.input,
      },
      this.options.key,
    );
    try {
      const response = await this.client.postResult(result);
      this.log.info('result accepted', { jobId, answer: output.answer, confidence: output.confidence, provider: run.provider, ...result.timing });
      return { status: 'completed', jobId, result, response: response.body };
    } catch (error) {
      const http = error instanceof LedgerHttpError ? error : null;
      const reason = error instanceof Error ? error.message : String(error);
      this.log.warn('result not accepted', { jobId, status: http?.status ?? null, code: http?.code ?? null, reason });
      return { status: 'rejected', jobId, httpStatus: http?.status ?? null, code: http?.code ?? null, reason, result };
    }
  }

  /** Verifies with the cached JWKS; on an unknown kid, fetches the JWKS again once (key rotation). */
  private async checkGrant(grant: string, lease: LeaseResponse): Promise<ReturnType<typeof verifyGrant> | { ok: false; code: 'JWKS_UNAVAILABLE'; reason: string }> {
    const verify = (jwks: LedgerJwks) =>
      verifyGrant(grant, {
        jwks,
        workerId: this.workerId,
        job: lease.job,
        now: this.clock.now(),
        clockToleranceSeconds: this.options.clockToleranceSeconds ?? 0,
      });
    const fresh = async (): Promise<LedgerJwks | null> => {
      try {
        this.jwks = await this.client.jwks();
        this.jwksFetchedAt = this.clock.now().getTime();
        return this.jwks;
      } catch (error) {
        this.log.error('JWKS fetch failed', { error: error instanceof Error ? error.message : String(error) });
        return null;
      }
    };
    const cached = this.jwks ?? (await fresh());
    if (cached === null) return { ok: false, code: 'JWKS_UNAVAILABLE', reason: 'the ledger JWKS could not be fetched' };
    const first = verify(cached);
    // A key the worker does not know yet (rotation): ask again, at most every 10 s.
    if (!first.ok && first.code === 'GRANT_KEY_UNKNOWN' && this.clock.now().getTime() - this.jwksFetchedAt >= 10_000) {
      const again = await fresh();
      if (again !== null) return verify(again);
    }
    return first;
  }
}
