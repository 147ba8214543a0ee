/**
 * The inference worker that answers the demo's proxy jobs (docs/policy-gate.md, "The worker process"): a key
 * registered by the tenant's admin, then either
 * - `process`: the real worker process, `node dist/src/cli/ida-ledger.js worker --url … --key FILE --worker-id ID`
 *   (what a deployment runs on a GPU machine), its JSON log lines read back for the summary; or
 * - `in-process`: the same {@link InferenceWorker} class in this process (used where there is no build, e.g.
 *   under jest).
 * Either way the worker leases jobs, verifies each grant against the ledger's JWKS, fetches the model by digest,
 * runs it with onnxruntime-node (CUDA when available, else CPU) and posts results signed with its key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKey, writePrivateKeyFile } from '../ledger/signing-key.js';
import { runOnnx, type OnnxRunner } from '../inference/onnx/run-onnx.js';
import { InferenceWorker, silentLogger, type WorkerRunSummary } from '../inference/worker/worker.js';
import type { Actor, DemoLedgerClient } from './ledger-api.js';

export type DemoWorkerMode = 'process' | 'in-process';

export interface DemoWorkerSummary extends WorkerRunSummary {
  /** Execution providers the model ran with (`cuda`, `cpu`). */
  providers: string[];
}

export interface DemoWorker {
  readonly workerId: string;
  readonly kid: string;
  readonly mode: DemoWorkerMode;
  /** Results the ledger accepted so far. */
  completed(): number;
  /** Null while the worker runs; why it stopped otherwise (a crashed process, with the end of its log). */
  failure(): string | null;
  /** Stops the worker (after the job in hand) and says what it did. */
  stop(): Promise<DemoWorkerSummary>;
}

/** The CLI next to this module once built (`dist/src/cli/ida-ledger.js`); null when it is not there (jest on the sources). */
export function builtCliPath(): string | null {
  const path = fileURLToPath(new URL('../cli/ida-ledger.js', import.meta.url));
  return existsSync(path) ? path : null;
}

const emptySummary = (): DemoWorkerSummary => ({ leases: 0, completed: 0, skipped: 0, failed: 0, rejected: 0, leaseErrors: 0, providers: [] });

/** Registers a fresh worker key with the admin and starts the worker. */
export async function startDemoWorker(options: {
  api: DemoLedgerClient;
  admin: Actor;
  ledgerUrl: string;
  mode: DemoWorkerMode;
  name: string;
  cliPath?: string | null;
  /** A file the worker process's log (JSON lines) is appended to. */
  logFile?: string | null;
}): Promise<DemoWorker> {
  const key = generateSigningKey();
  // Unique per run, so that the demo can run again against the same ledger.
  const workerId = `${options.name}-${randomUUID().slice(0, 8)}`;
  await options.api.registerWorker(options.admin, workerId, `ida-ledger demo worker (${options.mode})`, key.publicJwk);

  if (options.mode === 'in-process') {
    const summary = emptySummary();
    const providers = new Set<string>();
    const runner: OnnxRunner = async (bytes, features, runOptions) => {
      const result = await runOnnx(bytes, features, runOptions);
      providers.add(result.provider);
      return result;
    };
    let completed = 0;
    const worker = new InferenceWorker({
      ledgerUrl: options.ledgerUrl,
      key,
      workerId,
      runner,
      waitMs: 1_000,
      logger: {
        ...silentLogger,
        info: (message) => {
          if (message === 'result accepted') completed++;
        },
      },
    });
    let failure: string | null = null;
    const running = worker.run().then(
      (done) => Object.assign(summary, done),
      (error: unknown) => {
        failure = `the worker stopped: ${error instanceof Error ? error.message : String(error)}`;
        return summary;
      },
    );
    return {
      workerId,
      kid: key.kid,
      mode: 'in-process',
      completed: () => completed,
      failure: () => failure,
      stop: async () => {
        worker.stop();
        await running;
        return { ...summary, providers: [...providers].sort() };
      },
    };
  }

  const cliPath = options.cliPath ?? builtCliPath();
  if (cliPath === null) throw new Error('no built CLI to run the worker process with (npm run build), or set DEMO_WORKER=in-process');
  const folder = mkdtempSync(join(tmpdir(), 'ida-ledger-demo-worker-'));
  const keyFile = join(folder, 'worker.jwk');
  writePrivateKeyFile(keyFile, key);
  const child: ChildProcess = spawn(process.execPath, [cliPath, 'worker', '--url', options.ledgerUrl, '--key', keyFile, '--worker-id', workerId], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const summary = emptySummary();
  const providers = new Set<string>();
  const tail: string[] = [];
  let completed = 0;
  let stopped = false;
  let failure: string | null = null;
  let pending = '';
  const onLine = (line: string) => {
    if (!line.trim()) return;
    if (options.logFile) appendFileSync(options.logFile, `${line}\n`);
    tail.push(line);
    if (tail.length > 20) tail.shift();
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // the banner and onnxruntime's own lines
    }
    if (record.message === 'result accepted') {
      completed++;
      if (typeof record.provider === 'string') providers.add(record.provider);
    } else if (record.message === 'worker stopped') {
      for (const field of ['leases', 'completed', 'skipped', 'failed', 'rejected', 'leaseErrors'] as const) {
        if (typeof record[field] === 'number') summary[field] = record[field] as number;
      }
    }
  };
  const onData = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(onLine);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (pending) onLine(pending);
      if (!stopped) failure = `the worker process ${workerId} exited (${signal ?? `code ${code}`}):\n  ${tail.join('\n  ')}`;
      resolve();
    });
    child.once('error', (error) => {
      failure = `the worker process could not start: ${error.message}`;
      resolve();
    });
  });
  return {
    workerId,
    kid: key.kid,
    mode: 'process',
    completed: () => completed,
    failure: () => failure,
    stop: async () => {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(folder, { recursive: true, force: true });
      if (summary.completed === 0) summary.completed = completed;
      return { ...summary, providers: [...providers].sort() };
    },
  };
}
