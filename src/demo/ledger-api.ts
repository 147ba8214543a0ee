/**
 * The demo's HTTP client for the ledger: the amplification, distillation and proxy-registry calls of
 * docs/ida-domain.md and the worker registration of docs/policy-gate.md, each as the role that may make it.
 * Tokens are development JWTs minted with the data folder's token key, as `ida-ledger token` does.
 */
import { createHash } from 'node:crypto';
import { mintDevelopmentToken } from '../auth/token-issuer.js';
import type { TokenRole } from '../auth/principal.js';
import { loadConfig } from '../common/config.js';
import { dataPaths } from '../ledger/embedded-ledger.js';
import { readPrivateKeyFile, type Ed25519PublicJwk } from '../ledger/signing-key.js';
import type { LineageGraph } from './kpis.js';
import type { QueryTree } from './training.js';

export class DemoHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly code: string | null,
    readonly body: unknown,
  ) {
    super(`${method} ${path}: HTTP ${status}${code ? ` ${code}` : ''}${body && typeof body === 'object' && 'detail' in body ? ` — ${String((body as { detail: unknown }).detail)}` : ''}`);
    this.name = 'DemoHttpError';
  }
}

/** Who the demo acts as: `sub` and role per actor. Humans are overseers with their own `sub`. */
export type Actor = { sub: string; role: TokenRole };

/**
 * Mints development tokens with the token key of `dataDir` (the ledger must run on that folder, in local auth
 * mode). The key must exist already (the ledger creates it at start): minting with a fresh key would give
 * tokens the ledger refuses.
 */
export function developmentTokenMinter(dataDir: string, tenant: string, env: NodeJS.ProcessEnv = process.env): (actor: Actor) => Promise<string> {
  const config = loadConfig({ ...env, LEDGER_DATA_DIR: dataDir });
  let key: ReturnType<typeof readPrivateKeyFile>;
  try {
    key = readPrivateKeyFile(dataPaths(config.dataDir).tokenKey);
  } catch (error) {
    throw new Error(`no token key in ${config.dataDir} (${(error as Error).message}): start the ledger on that folder first (LEDGER_DATA_DIR)`);
  }
  return (actor) =>
    mintDevelopmentToken({
      privateKey: key.privateKey,
      kid: key.kid,
      sub: actor.sub,
      role: actor.role,
      tenant,
      ttlSeconds: 3600,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });
}

export interface DistillationRun {
  runId: string;
  parentProxyVersionId: string | null;
  teacher: { proxyVersionIds: string[]; humanPool: string[] };
  dataset: { queryIds: string[]; transcripts: { queryId: string; entryCount: number }[]; leafCount: number; transcriptRoot: string };
  status?: string;
  [key: string]: unknown;
}

export class DemoLedgerClient {
  private readonly tokens = new Map<string, Promise<string>>();
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly mint: (actor: Actor) => Promise<string>,
    private readonly fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/u, '');
  }

  private token(actor: Actor): Promise<string> {
    const key = `${actor.role} ${actor.sub}`;
    let token = this.tokens.get(key);
    if (!token) {
      token = this.mint(actor);
      this.tokens.set(key, token);
    }
    return token;
  }

  async request<T>(method: string, path: string, actor: Actor | null, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: 'application/json', ...headers } };
    if (actor) (init.headers as Record<string, string>).Authorization = `Bearer ${await this.token(actor)}`;
    if (body instanceof Uint8Array) {
      init.body = body;
    } else if (body !== undefined) {
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      const code = parsed && typeof parsed === 'object' && typeof (parsed as { code?: unknown }).code === 'string' ? (parsed as { code: string }).code : null;
      throw new DemoHttpError(method, path, response.status, code, parsed);
    }
    return parsed as T;
  }

  health(): Promise<{ status: string; size: number }> {
    return this.request('GET', '/health', null);
  }

  putTenantSettings(admin: Actor, settings: unknown): Promise<unknown> {
    return this.request('PUT', '/v1/tenant/settings', admin, { settings });
  }

  openQuery(
    pipeline: Actor,
    task: string,
    input: unknown,
    options: { maxDepth?: number; confidenceThreshold?: number; dataClassification?: 'public' | 'internal' | 'confidential' | 'restricted' } = {},
  ) {
    return this.request<{ queryId: string; rootNodeId: string }>('POST', '/v1/queries', pipeline, { task, input, ...options });
  }

  decompose(pipeline: Actor, queryId: string, nodeId: string, subquestions: string[]) {
    return this.request<{ childNodeIds: string[] }>('POST', `/v1/queries/${queryId}/nodes/${nodeId}/decompose`, pipeline, { subquestions });
  }

  answer(human: Actor, queryId: string, nodeId: string, answer: string, confidence?: number) {
    return this.request('POST', `/v1/queries/${queryId}/nodes/${nodeId}/answer`, human, { answer, ...(confidence === undefined ? {} : { confidence }) });
  }

  compose(pipeline: Actor, queryId: string, nodeId: string, answer: string) {
    return this.request('POST', `/v1/queries/${queryId}/nodes/${nodeId}/compose`, pipeline, { answer });
  }

  override(overseer: Actor, queryId: string, nodeId: string, answer: string, rationale: string) {
    return this.request('POST', `/v1/queries/${queryId}/nodes/${nodeId}/override`, overseer, { answer, rationale });
  }

  /**
   * Assigns a node to one proxy version; `input` is the model input the grant binds (docs/policy-gate.md,
   * InferenceRequested v2; default `{question}`). The response says what the policy gate decided per job, and
   * whether the node went straight to a human (no job authorised).
   */
  assignToProxy(pipeline: Actor, queryId: string, nodeId: string, proxyVersionId: string, input?: unknown) {
    return this.request<{ jobs: { proxyVersionId: string; jobId: string; inputDigest: string; decision: 'allow' | 'deny' | null }[]; escalated: boolean }>('POST', `/v1/queries/${queryId}/nodes/${nodeId}/assign`, pipeline, {
      to: 'proxy',
      proxyVersionId,
      ...(input === undefined ? {} : { input }),
    });
  }

  complete(pipeline: Actor, queryId: string) {
    return this.request<{ answer: string }>('POST', `/v1/queries/${queryId}/complete`, pipeline);
  }

  tree(reader: Actor, queryId: string): Promise<QueryTree> {
    return this.request('GET', `/v1/queries/${queryId}`, reader);
  }

  startRun(pipeline: Actor, body: { queryIds: string[]; parentProxyVersionId?: string; student: { name: string; architecture: string; hyperparameters: object }; trainingDigest: string }) {
    return this.request<DistillationRun>('POST', '/v1/distillation-runs', pipeline, body);
  }

  /** Uploads model bytes with an RFC 9530 Content-Digest; returns the store's digest and size. */
  uploadArtifact(pipeline: Actor, bytes: Uint8Array) {
    const digest = createHash('sha256').update(bytes).digest('base64');
    return this.request<{ sha256: string; sizeBytes: number }>('POST', '/v1/artifacts', pipeline, bytes, {
      'Content-Type': 'application/octet-stream',
      'Content-Digest': `sha-256=:${digest}:`,
    });
  }

  async artifact(reader: Actor, sha256: string): Promise<Uint8Array> {
    const response = await this.fetchImpl(`${this.baseUrl}/v1/artifacts/${sha256}`, { headers: { Authorization: `Bearer ${await this.token(reader)}` } });
    if (!response.ok) throw new DemoHttpError('GET', `/v1/artifacts/${sha256}`, response.status, null, await response.text());
    return new Uint8Array(await response.arrayBuffer());
  }

  completeRun(pipeline: Actor, runId: string, artifactSha256: string, metrics: { fidelity: number; groundTruthAgreement: number; drift: number | null; heldOutQueryIds: string[] }) {
    return this.request('POST', `/v1/distillation-runs/${runId}/complete`, pipeline, { artifactSha256, metrics });
  }

  run(reader: Actor, runId: string): Promise<DistillationRun> {
    return this.request('GET', `/v1/distillation-runs/${runId}`, reader);
  }

  registerProxy(pipeline: Actor, runId: string, name: string, version: string) {
    return this.request<{ proxyVersionId: string; stage: string }>('POST', '/v1/proxies', pipeline, { runId, name, version });
  }

  promote(pipeline: Actor, proxyVersionId: string, to: 'shadow' | 'production') {
    return this.request<{ stage: string; checks: { gate: string; required: unknown; observed: unknown; passed: boolean }[] }>(
      'POST',
      `/v1/proxies/${proxyVersionId}/promote`,
      pipeline,
      { to },
    );
  }

  recalibrate(pipeline: Actor, proxyVersionId: string, samples: { queryId: string; nodeId: string; humanAnswer: string; proxyAnswer: string }[]) {
    return this.request<{ agreement: number; stage: string; demoted: unknown }>('POST', `/v1/proxies/${proxyVersionId}/recalibrations`, pipeline, { samples });
  }

  lineage(reader: Actor, proxyVersionId: string, direction: 'ancestors' | 'descendants' = 'ancestors'): Promise<LineageGraph> {
    return this.request('GET', `/v1/lineage/${proxyVersionId}?direction=${direction}`, reader);
  }

  /** `POST /v1/workers` (admin), docs/policy-gate.md. */
  registerWorker(admin: Actor, workerId: string, name: string, publicKeyJwk: Ed25519PublicJwk) {
    return this.request<{ workerId: string; kid: string; status: string }>('POST', '/v1/workers', admin, { workerId, name, publicKeyJwk });
  }

  /** `POST /v1/workers/:id/revoke` (admin): the worker's key is refused from then on. */
  revokeWorker(admin: Actor, workerId: string, reason: string) {
    return this.request<{ workerId: string; status: string }>('POST', `/v1/workers/${encodeURIComponent(workerId)}/revoke`, admin, { reason });
  }

  /** `GET /v1/policy-sets/current`: the Cedar policy set the gate decides with. */
  currentPolicySet(reader: Actor) {
    return this.request<{ digest: string; scope: string; policies: { id: string }[]; cedarVersion: string }>('GET', '/v1/policy-sets/current', reader);
  }
}
