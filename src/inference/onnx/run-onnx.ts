/**
 * Runs an ONNX model with onnxruntime-node: CUDA first, CPU when a CUDA session cannot be created (the npm
 * package does not bundle the CUDA provider libraries), and says which provider ran. Sessions are cached by
 * the model's SHA-256, so a worker that sees the same model again skips the load.
 */
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { sha256Digest } from './digest.js';
import { onnxMetadata, SCORES_METADATA_KEY, type ScoresKind } from './onnx-export.js';

export type ExecutionProvider = 'cuda' | 'cpu';

export interface OnnxRunResult {
  /** The model's first output for the one input row, as float32. */
  scores: Float32Array;
  /** What `scores` holds, from the model's `ida.scores` metadata (default `logits`). */
  scoresKind: ScoresKind;
  /** The provider the session was created with. */
  provider: ExecutionProvider;
  /** Time to obtain the session in this call (≈ 0 when it was cached). */
  loadMs: number;
  /** Time of `session.run()`. */
  runMs: number;
  cached: boolean;
  /** `sha256:<hex>` of the model bytes (the cache key). */
  modelSha256: string;
}

export interface RunOnnxOptions {
  /** Providers to try, in order (default `['cuda', 'cpu']`). */
  executionProviders?: readonly ExecutionProvider[];
  /** The model's `sha256:<hex>` when the caller has already verified it (skips hashing the bytes again). */
  modelSha256?: string;
  /** The cache to use (default: the process-wide one). */
  cache?: OnnxSessionCache;
}

/** The function the worker runs models with (injected, so tests can spy on it or replace it). */
export type OnnxRunner = (modelBytes: Uint8Array, features: ArrayLike<number>, options?: RunOnnxOptions) => Promise<OnnxRunResult>;

export { sha256Digest };

interface LoadedSession {
  session: InferenceSession;
  provider: ExecutionProvider;
  scoresKind: ScoresKind;
  inputName: string;
  outputName: string;
}

/** Errors that mean "this provider cannot work in this process at all" (not "this model fails on it"). */
const PROVIDER_UNAVAILABLE = /shared library|cannot open shared object|not (?:available|supported|registered)|no cuda|cuda.*(?:driver|device)/iu;

/** LRU cache of sessions keyed by model digest and provider list; evicted sessions are released. */
export class OnnxSessionCache {
  private readonly sessions = new Map<string, Promise<LoadedSession>>();
  /** Providers that failed to start with a "not available here" error: not tried again in this process. */
  readonly unavailableProviders = new Map<ExecutionProvider, string>();

  constructor(readonly maxSessions = 8) {}

  get size(): number {
    return this.sessions.size;
  }

  has(modelSha256: string, providers: readonly ExecutionProvider[]): boolean {
    return this.sessions.has(`${modelSha256} ${providers.join(',')}`);
  }

  async get(modelBytes: Uint8Array, modelSha256: string, providers: readonly ExecutionProvider[]): Promise<{ loaded: LoadedSession; cached: boolean }> {
    const key = `${modelSha256} ${providers.join(',')}`;
    const existing = this.sessions.get(key);
    if (existing) {
      // Refresh its LRU position.
      this.sessions.delete(key);
      this.sessions.set(key, existing);
      return { loaded: await existing, cached: true };
    }
    const loading = this.load(modelBytes, providers);
    this.sessions.set(key, loading);
    loading.catch(() => this.sessions.get(key) === loading && this.sessions.delete(key));
    while (this.sessions.size > this.maxSessions) {
      const [oldestKey, oldest] = this.sessions.entries().next().value as [string, Promise<LoadedSession>];
      this.sessions.delete(oldestKey);
      oldest.then((s) => s.session.release()).catch(() => undefined);
    }
    return { loaded: await loading, cached: false };
  }

  private async load(modelBytes: Uint8Array, providers: readonly ExecutionProvider[]): Promise<LoadedSession> {
    const metadata = onnxMetadata(modelBytes);
    const scoresKind: ScoresKind = metadata[SCORES_METADATA_KEY] === 'probabilities' ? 'probabilities' : 'logits';
    const candidates = providers.filter((p) => !this.unavailableProviders.has(p));
    if (candidates.length === 0) throw new Error(`no execution provider available (${[...this.unavailableProviders.values()].join('; ')})`);
    let lastError: unknown;
    // Ask for the whole remaining list (e.g. ['cuda', 'cpu']) first; if that cannot be created, drop the
    // first provider and try again. The provider that "ran" is the first of the list the session was created with.
    for (let i = 0; i < candidates.length; i++) {
      const list = candidates.slice(i);
      try {
        const session = await ort.InferenceSession.create(modelBytes, { executionProviders: [...list] });
        const inputName = session.inputNames[0];
        const outputName = session.outputNames[0];
        if (inputName === undefined || outputName === undefined) throw new Error('the model has no input or no output');
        return { session, provider: list[0]!, scoresKind, inputName, outputName };
      } catch (error) {
        lastError = error;
        const message = error instanceof Error ? error.message : String(error);
        if (PROVIDER_UNAVAILABLE.test(message) && list[0] !== 'cpu') this.unavailableProviders.set(list[0]!, message);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** Releases every cached session. */
  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.session.release()).catch(() => undefined)));
  }
}

export const defaultSessionCache = new OnnxSessionCache();

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Runs `modelBytes` on one row of features (a float32 tensor `[1, n]` on the model's first input). */
export async function runOnnx(modelBytes: Uint8Array, features: ArrayLike<number>, options: RunOnnxOptions = {}): Promise<OnnxRunResult> {
  const [result] = await runOnnxBatchInternal(modelBytes, [features], options);
  return result!;
}

/** Runs a batch `[rows, n]` in one `run()` (the model must accept a dynamic batch); one result per row. */
export async function runOnnxBatch(modelBytes: Uint8Array, rows: readonly ArrayLike<number>[], options: RunOnnxOptions = {}): Promise<OnnxRunResult[]> {
  return runOnnxBatchInternal(modelBytes, rows, options);
}

async function runOnnxBatchInternal(modelBytes: Uint8Array, rows: readonly ArrayLike<number>[], options: RunOnnxOptions): Promise<OnnxRunResult[]> {
  if (rows.length === 0) throw new RangeError('no input rows');
  const width = rows[0]!.length;
  if (width === 0) throw new RangeError('empty feature vector');
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new RangeError('rows of different lengths');
    for (let i = 0; i < width; i++) {
      const value = Number(row[i]);
      if (!Number.isFinite(value)) throw new RangeError(`feature ${i} is not a finite number`);
      data[r * width + i] = value;
    }
  });
  const providers = options.executionProviders ?? ['cuda', 'cpu'];
  const cache = options.cache ?? defaultSessionCache;
  const modelSha256 = options.modelSha256 ?? sha256Digest(modelBytes);
  const loadStart = performance.now();
  const { loaded, cached } = await cache.get(modelBytes, modelSha256, providers);
  const loadMs = round3(performance.now() - loadStart);
  const tensor = new ort.Tensor('float32', data, [rows.length, width]);
  const runStart = performance.now();
  const outputs = await loaded.session.run({ [loaded.inputName]: tensor });
  const runMs = round3(performance.now() - runStart);
  const output = outputs[loaded.outputName];
  if (!output || !(output.data instanceof Float32Array)) throw new TypeError(`output ${loaded.outputName} is not a float32 tensor`);
  const perRow = output.data.length / rows.length;
  return rows.map((_, r) => ({
    scores: output.data.slice(r * perRow, (r + 1) * perRow) as Float32Array,
    scoresKind: loaded.scoresKind,
    provider: loaded.provider,
    loadMs,
    runMs,
    cached,
    modelSha256,
  }));
}
