import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Service configuration, read once from the environment (README "Configuration" lists every variable). */
export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Checkpoint origin line (C2SP key name): no spaces, no '+'. */
  origin: string;
  checkpointEveryEntries: number;
  checkpointEveryMs: number;
  /** Largest accepted JSON body. */
  bodyLimit: string;
  /** Largest artifact upload (`POST /v1/artifacts`), in bytes. */
  artifactMaxBytes: number;
  /** Cedar schema and policies published at start (`POLICY_DIR`, default: the package's `policies/`). */
  policyDir: string;
  /** How long an inference lease (and its grant) lasts (`INFERENCE_LEASE_MS`, default 60 000). */
  inferenceLeaseMs: number;
  auth:
    | { mode: 'local'; issuer: string; audience: string }
    | { mode: 'jwks'; jwksUrl: string; issuer: string; audience: string };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const issuer = env.AUTH_ISSUER || 'ida-ledger-dev';
  const audience = env.AUTH_AUDIENCE || 'ida-ledger';
  const origin = env.LEDGER_ORIGIN || 'ida-ledger.local/log';
  if (/[\s+]/u.test(origin)) throw new Error('LEDGER_ORIGIN must not contain spaces or "+"');
  return {
    port: integer(env, 'PORT', 3000, 0),
    host: env.HOST || '0.0.0.0',
    dataDir: resolve(env.LEDGER_DATA_DIR || './data'),
    origin,
    checkpointEveryEntries: integer(env, 'CHECKPOINT_EVERY_ENTRIES', 1000, 1),
    checkpointEveryMs: integer(env, 'CHECKPOINT_EVERY_MS', 10_000, 100),
    bodyLimit: env.BODY_LIMIT || '256kb',
    artifactMaxBytes: integer(env, 'ARTIFACT_MAX_BYTES', 256 * 1024 * 1024, 1),
    policyDir: env.POLICY_DIR ? resolve(env.POLICY_DIR) : defaultPolicyDir(),
    inferenceLeaseMs: integer(env, 'INFERENCE_LEASE_MS', 60_000, 1000),
    auth: env.AUTH_JWKS_URL
      ? { mode: 'jwks', jwksUrl: env.AUTH_JWKS_URL, issuer, audience }
      : { mode: 'local', issuer, audience },
  };
}

/**
 * The `policies/` folder of this package, whatever the cwd: the first ancestor of this module holding both
 * `package.json` and `policies/` (works from `src/common` under Jest and from `dist/src/common` alike). Falls
 * back to `./policies`, which start-up then reports as missing.
 */
export function defaultPolicyDir(from: string = import.meta.url): string {
  const start = from.startsWith('file:') ? dirname(fileURLToPath(from)) : from;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'policies');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (dirname(dir) === dir) return resolve('policies');
  }
}
