/**
 * `ida-ledger worker --url URL --key FILE [--worker-id ID] [--once]`: the worker process. Creates the key file
 * (Ed25519 private JWK, mode 0600) when missing and prints the public JWK with the admin's registration call;
 * then leases and runs jobs until SIGINT/SIGTERM (or one lease request with --once).
 */
import { loadOrCreateKeyFile, type Ed25519PublicJwk } from '../../ledger/signing-key.js';
import { MAX_LEASE_WAIT_MS } from './ledger-client.js';
import { InferenceWorker, jsonLineLogger, type InferenceWorkerOptions, type WorkerRunSummary } from './worker.js';

export interface WorkerCommandOptions {
  url: string;
  key: string;
  workerId?: string;
  once?: boolean;
  /** Long-poll wait (default 30 000 ms). */
  waitMs?: number;
}

export interface WorkerCommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where SIGINT/SIGTERM come from (default `process`). */
  signals?: Pick<NodeJS.Process, 'once' | 'off'>;
  /** Extra worker options (tests: fetch, runner, logger). */
  worker?: Partial<InferenceWorkerOptions>;
}

/** A worker id derived from the key, so that one key file always means one worker: `worker-<12 chars of kid>`. */
export function defaultWorkerId(kid: string): string {
  return `worker-${kid.slice(0, 12)}`;
}

/** The admin's call that registers the worker (`POST /v1/workers`). */
export function registrationHint(url: string, workerId: string, publicJwk: Ed25519PublicJwk): string {
  const body = JSON.stringify({ workerId, name: workerId, publicKeyJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x } });
  return [
    'Register this worker (admin of its tenant):',
    `  curl -sS -X POST ${url.replace(/\/+$/u, '')}/v1/workers \\`,
    '    -H "Authorization: Bearer $(npx ida-ledger token --role admin --tenant <tenant> --sub <admin>)" \\',
    "    -H 'Content-Type: application/json' \\",
    `    -d '${body}'`,
  ].join('\n');
}

/** Runs the worker command; resolves with the exit code (0 ok, 1 a job or lease failed with --once). */
export async function runWorkerCommand(options: WorkerCommandOptions, io: WorkerCommandIo): Promise<number> {
  let url: URL | null = null;
  try {
    url = new URL(options.url);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(`--url must be an absolute http(s) URL, got ${JSON.stringify(options.url)}`);
  }
  const { key, created } = loadOrCreateKeyFile(options.key);
  const workerId = options.workerId ?? defaultWorkerId(key.kid);
  if (created) {
    io.out(`Created worker key ${options.key} (mode 0600), kid ${key.kid}\n`);
    io.out(`Public key (JWK): ${JSON.stringify(key.publicJwk)}\n`);
    io.out(`${registrationHint(url.origin + url.pathname, workerId, key.publicJwk)}\n`);
  }
  io.err(`ida-ledger worker ${workerId} (kid ${key.kid}) → ${url.origin}${options.once ? ' (once)' : ''}\n`);
  const worker = new InferenceWorker({
    ledgerUrl: url.toString(),
    key,
    workerId,
    waitMs: Math.min(options.waitMs ?? MAX_LEASE_WAIT_MS, MAX_LEASE_WAIT_MS),
    logger: jsonLineLogger,
    ...io.worker,
  });
  const signals = io.signals ?? process;
  const onSignal = () => {
    io.err('stopping after the job in hand…\n');
    worker.stop();
  };
  signals.once('SIGINT', onSignal);
  signals.once('SIGTERM', onSignal);
  let summary: WorkerRunSummary;
  try {
    summary = await worker.run({ once: options.once ?? false });
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
  }
  const failures = summary.leaseErrors + summary.skipped + summary.failed + summary.rejected;
  return options.once && failures > 0 ? 1 : 0;
}
