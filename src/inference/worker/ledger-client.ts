/**
 * The worker's HTTP client for the ledger (docs/policy-gate.md, "Workers"), with an injected `fetch`. Every
 * request but the public JWKS carries a fresh self-signed worker JWT (`Authorization: Bearer`).
 */
import type { LeasedJob, LedgerJwks } from './grant.js';
import type { InferenceResultBody } from './result-signature.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** 200 of `POST /v1/inference/leases`. */
export interface LeaseResponse {
  job: LeasedJob;
  grant: string;
  leasedUntil: string;
}

/** A non-2xx answer (or an unusable 2xx body); `code` is the problem+json `code` when there is one. */
export class LedgerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'LedgerHttpError';
  }
}

/** The longest long poll the contract allows. */
export const MAX_LEASE_WAIT_MS = 30_000;

export interface WorkerLedgerClientOptions {
  /** e.g. `http://localhost:3000` */
  baseUrl: string;
  /** A fresh worker JWT per request. */
  token: () => Promise<string>;
  fetch?: FetchLike;
  /** Largest model accepted (default 256 MiB, the ledger's default artifact limit). */
  maxArtifactBytes?: number;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function httpError(response: Response, what: string): Promise<LedgerHttpError> {
  const body = await readBody(response).catch(() => null);
  const problem = body !== null && typeof body === 'object' ? (body as { code?: unknown; detail?: unknown; title?: unknown }) : {};
  const code = typeof problem.code === 'string' ? problem.code : null;
  const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : '';
  return new LedgerHttpError(response.status, code, `${what}: HTTP ${response.status}${code ? ` ${code}` : ''}${detail ? ` — ${detail}` : ''}`, body);
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Checks the shape of a lease response; throws a LedgerHttpError (status 200) naming what is wrong. */
export function parseLeaseResponse(body: unknown): LeaseResponse {
  const bad = (what: string) => new LedgerHttpError(200, null, `malformed lease response: ${what}`, body);
  if (body === null || typeof body !== 'object') throw bad('not an object');
  const { job, grant, leasedUntil } = body as Record<string, unknown>;
  if (!isString(grant)) throw bad('grant');
  if (!isString(leasedUntil)) throw bad('leasedUntil');
  if (job === null || typeof job !== 'object') throw bad('job');
  const j = job as Record<string, unknown>;
  for (const field of ['jobId', 'queryId', 'nodeId', 'proxyVersionId', 'artifactSha256', 'inputDigest'] as const) {
    if (!isString(j[field])) throw bad(`job.${field}`);
  }
  if (!('input' in j)) throw bad('job.input');
  return { job: j as unknown as LeasedJob, grant, leasedUntil };
}

export class WorkerLedgerClient {
  private readonly baseUrl: string;
  private readonly fetch: FetchLike;
  private readonly maxArtifactBytes: number;

  constructor(private readonly options: WorkerLedgerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/u, '');
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.maxArtifactBytes = options.maxArtifactBytes ?? 256 * 1024 * 1024;
  }

  private async authorized(headers: Record<string, string> = {}): Promise<Record<string, string>> {
    return { ...headers, Authorization: `Bearer ${await this.options.token()}` };
  }

  /** Long poll for a job: the lease, or null when none came within `waitMs` (204). */
  async lease(waitMs: number, signal?: AbortSignal): Promise<LeaseResponse | null> {
    const wait = Math.max(0, Math.min(MAX_LEASE_WAIT_MS, Math.floor(waitMs)));
    // The server answers within `wait`; give up a while after that (a dead connection must not hang the worker).
    const timeout = AbortSignal.timeout(wait + 15_000);
    const response = await this.fetch(`${this.baseUrl}/v1/inference/leases`, {
      method: 'POST',
      headers: await this.authorized({ 'Content-Type': 'application/json', Accept: 'application/json' }),
      body: JSON.stringify({ waitMs: wait }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (response.status === 204) {
      await response.body?.cancel();
      return null;
    }
    if (response.status !== 200) throw await httpError(response, 'lease');
    return parseLeaseResponse(await readBody(response));
  }

  /** The ledger's public keys (`/.well-known/jwks.json`, public). */
  async jwks(): Promise<LedgerJwks> {
    const response = await this.fetch(`${this.baseUrl}/.well-known/jwks.json`, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw await httpError(response, 'jwks');
    const body = await readBody(response);
    if (body === null || typeof body !== 'object' || !Array.isArray((body as LedgerJwks).keys)) {
      throw new LedgerHttpError(response.status, null, 'malformed JWKS', body);
    }
    return body as LedgerJwks;
  }

  /** The model bytes of `GET /v1/artifacts/sha256:<hex>` (the caller checks their digest). */
  async artifact(sha256: string, signal?: AbortSignal): Promise<Uint8Array> {
    const digest = sha256.startsWith('sha256:') ? sha256 : `sha256:${sha256}`;
    if (!/^sha256:[0-9a-f]{64}$/u.test(digest)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(sha256)}`);
    const response = await this.fetch(`${this.baseUrl}/v1/artifacts/${digest}`, {
      headers: await this.authorized({ Accept: 'application/octet-stream' }),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw await httpError(response, `artifact ${digest}`);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > this.maxArtifactBytes) {
      await response.body?.cancel();
      throw new LedgerHttpError(response.status, null, `artifact ${digest} is ${declared} bytes, over ${this.maxArtifactBytes}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > this.maxArtifactBytes) throw new LedgerHttpError(response.status, null, `artifact ${digest} is over ${this.maxArtifactBytes} bytes`);
    return bytes;
  }

  /** Posts a signed result; returns the ledger's answer on 2xx, throws LedgerHttpError otherwise. */
  async postResult(body: InferenceResultBody): Promise<{ status: number; body: unknown }> {
    const response = await this.fetch(`${this.baseUrl}/v1/inference/results`, {
      method: 'POST',
      headers: await this.authorized({ 'Content-Type': 'application/json', Accept: 'application/json' }),
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await httpError(response, 'result');
    return { status: response.status, body: await readBody(response) };
  }
}
