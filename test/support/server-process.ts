/**
 * The real `ida-ledger` service as a child process (the built CLI in dist/), for tests that must kill it:
 * start on a free loopback port, wait for /health, plain HTTP calls with their own connection each, run CLI
 * commands with a timeout. Every wait is bounded.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'src', 'cli', 'ida-ledger.js');
const LOOPBACK = '127.0.0.1';

/** Fails with a clear message when `npm run build` has not been run. */
export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does).`);
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('no port'))));
    });
  });
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: any;
}

export interface HttpOptions {
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

/** One HTTP request on its own connection (no keep-alive pool to outlive a killed server). Rejects on any socket error. */
export function http(port: number, method: string, path: string, options: HttpOptions = {}): Promise<HttpResponse> {
  return new Promise((resolveResponse, reject) => {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string | number> = { ...options.headers };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const req = httpRequest({ host: LOOPBACK, port, method, path, headers, agent: false, timeout: options.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('end', () => {
        if (!res.complete) return reject(new Error('response incomplete'));
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolveResponse({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface ServerProcess {
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves when the process has exited (at once if it already has). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits (bounded) for the exit; SIGKILL after the bound. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `ida-ledger serve` on `dataDir`, listening on loopback only; resolves once /health answers 200. */
export async function startServer(options: { dataDir: string; port?: number; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number }): Promise<ServerProcess> {
  assertBuilt();
  const port = options.port ?? (await freePort());
  let output = '';
  const child = spawn(process.execPath, [CLI_PATH, 'serve'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ...options.env,
      HOST: LOOPBACK,
      PORT: String(port),
      LEDGER_DATA_DIR: options.dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  const server: ServerProcess = {
    port,
    dataDir: options.dataDir,
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      try {
        return await withTimeout(exited, timeoutMs, () => `server did not exit on ${signal}`);
      } catch {
        child.kill('SIGKILL');
        return withTimeout(exited, 5000, () => 'server did not exit on SIGKILL');
      }
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((result) => (exit = result));
  for (;;) {
    if (exit) throw new Error(`ida-ledger serve exited early (${JSON.stringify(exit)}):\n${output}`);
    try {
      const res = await http(port, 'GET', '/health', { timeoutMs: 1000 });
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop('SIGKILL');
      throw new Error(`ida-ledger serve did not answer /health within the timeout:\n${output}`);
    }
    await sleep(50);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ida-ledger <args>` to completion (killed after `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 15_000): Promise<CliResult> {
  assertBuilt();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', env: { PATH: process.env.PATH } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
