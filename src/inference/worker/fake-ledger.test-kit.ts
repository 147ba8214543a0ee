/**
 * A fake ledger for worker tests: an in-process node:http server that speaks the worker's side of
 * docs/policy-gate.md — `GET /.well-known/jwks.json`, `POST /v1/inference/leases` (long poll),
 * `GET /v1/artifacts/sha256:<hex>`, `POST /v1/inference/results` — mints grants with its own Ed25519 key,
 * authenticates every worker request by the self-signed worker JWT, and checks posted results the way the
 * ledger must (grant, digests, result signature). Tests queue leases and read back what the worker did.
 * No Jest inside: usable from any test.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';
import type { JsonValue } from '../../ledger/entry.js';
import { generateSigningKey, jwkThumbprint, type Ed25519PublicJwk, type SigningKey } from '../../ledger/signing-key.js';
import { GRANT_AUDIENCE, type GrantClaims, type LeasedJob, type LedgerJwk } from './grant.js';
import type { LeaseResponse } from './ledger-client.js';
import { inputDigest, sha256Digest, verifyResultSignature, type InferenceResultBody } from './result-signature.js';
import { WORKER_TOKEN_AUDIENCE, WORKER_TOKEN_MAX_TTL_SECONDS } from './worker-token.js';

export interface FakeLedgerRequest {
  method: string;
  path: string;
  /** The authenticated worker, or null (public route or refused token). */
  workerId: string | null;
  status: number;
}

export interface GrantOptions {
  workerId: string;
  /** Default: the fake's current ledger key. */
  key?: SigningKey;
  /** The header's kid (default: the signing key's; another one forges a "ledger" grant). */
  kid?: string;
  audience?: string;
  /** Issue time (default now). */
  now?: Date;
  /** Lifetime in seconds (default 120). */
  ttlSeconds?: number;
  /** Claims replacing the computed ones (e.g. another `model`). */
  claims?: Partial<GrantClaims>;
}

export const FAKE_LEDGER_ORIGIN = 'fake-ledger.test/log';

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { 'Content-Type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title: code, status, code, detail }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : {};
}

export class FakeLedger {
  readonly requests: FakeLedgerRequest[] = [];
  /** Results that passed every check (answered 200). */
  readonly acceptedResults: InferenceResultBody[] = [];
  /** Results refused, with the code answered. */
  readonly refusedResults: { body: unknown; code: string }[] = [];
  /** Ledger keys in the JWKS; the last one signs new grants. */
  readonly ledgerKeys: { key: SigningKey; revokedAt?: string }[] = [];
  readonly workers = new Map<string, Ed25519PublicJwk>();
  readonly artifacts = new Map<string, Uint8Array>();
  /** Bytes served instead of the stored ones (a tampered store / a man in the middle). */
  readonly servedArtifacts = new Map<string, Uint8Array>();
  /** Overrides the answer to a result that passed the checks (e.g. a 409 LEASE_SUPERSEDED). */
  resultResponder: ((body: InferenceResultBody) => { status: number; body: unknown }) | null = null;
  private readonly queue: LeaseResponse[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly maxWaitMs: number,
  ) {}

  /** Starts on an ephemeral localhost port. `maxWaitMs` caps the long poll (default 200 ms, for fast tests). */
  static async start(options: { maxWaitMs?: number } = {}): Promise<FakeLedger> {
    let fake: FakeLedger | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) problem(res, 500, 'FAKE.ERROR', error instanceof Error ? error.message : String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeLedger(server, `http://127.0.0.1:${port}`, options.maxWaitMs ?? 200);
    fake.ledgerKeys.push({ key: generateSigningKey() });
    return fake;
  }

  get ledgerKey(): SigningKey {
    return this.ledgerKeys[this.ledgerKeys.length - 1]!.key;
  }

  /** A new current ledger key (the old ones stay in the JWKS). */
  rotateKey(): SigningKey {
    const key = generateSigningKey();
    this.ledgerKeys.push({ key });
    return key;
  }

  registerWorker(workerId: string, publicJwk: Ed25519PublicJwk): void {
    this.workers.set(workerId, publicJwk);
  }

  addArtifact(bytes: Uint8Array): string {
    const digest = sha256Digest(bytes);
    this.artifacts.set(digest, bytes);
    return digest;
  }

  /** A job as the ledger would lease it (ids generated). */
  job(artifactSha256: string, input: JsonValue, overrides: Partial<LeasedJob> = {}): LeasedJob {
    return {
      jobId: randomUUID(),
      queryId: randomUUID(),
      nodeId: randomUUID(),
      proxyVersionId: randomUUID(),
      artifactSha256,
      input,
      inputDigest: inputDigest(input),
      ...overrides,
    };
  }

  async mintGrant(job: LeasedJob, options: GrantOptions): Promise<string> {
    const key = options.key ?? this.ledgerKey;
    const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const claims: Record<string, unknown> = {
      iss: FAKE_LEDGER_ORIGIN,
      aud: options.audience ?? GRANT_AUDIENCE,
      sub: options.workerId,
      jti: randomUUID(),
      iat,
      exp: iat + (options.ttlSeconds ?? 120),
      job: job.jobId,
      query: job.queryId,
      node: job.nodeId,
      tenant: 'acme',
      model: job.artifactSha256,
      input: job.inputDigest,
      policy: `sha256:${'0'.repeat(64)}`,
      decision: 42,
      ...options.claims,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: options.kid ?? key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  /** Queues a lease; the next lease request (of any worker) gets it. */
  offer(lease: LeaseResponse): void {
    this.queue.push(lease);
    for (const wake of [...this.waiters]) wake();
  }

  /** Mints a grant for `job` and queues the lease; returns it. */
  async offerJob(job: LeasedJob, grant: GrantOptions): Promise<LeaseResponse> {
    const lease = { job, grant: await this.mintGrant(job, grant), leasedUntil: new Date(Date.now() + 60_000).toISOString() };
    this.offer(lease);
    return lease;
  }

  requestsTo(pathPrefix: string): FakeLedgerRequest[] {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix));
  }

  async close(): Promise<void> {
    for (const wake of [...this.waiters]) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private jwks(): { keys: LedgerJwk[] } {
    return {
      keys: this.ledgerKeys.map(({ key, revokedAt }) => ({
        ...key.publicJwk,
        kid: key.kid,
        alg: 'EdDSA',
        use: 'sig',
        validFrom: '2025-01-01T00:00:00.000Z',
        ...(revokedAt ? { revokedAt } : {}),
      })),
    };
  }

  /** The worker a Bearer worker JWT authenticates, or null. */
  private async authenticate(req: IncomingMessage): Promise<string | null> {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token) return null;
    try {
      const { kid, alg } = decodeProtectedHeader(token);
      if (alg !== 'EdDSA') return null;
      const entry = [...this.workers.entries()].find(([, jwk]) => jwkThumbprint(jwk) === kid);
      if (!entry) return null;
      const [workerId, jwk] = entry;
      const { payload } = await jwtVerify(token, await importJWK({ ...jwk }, 'EdDSA'), {
        algorithms: ['EdDSA'],
        audience: WORKER_TOKEN_AUDIENCE,
        subject: workerId,
        requiredClaims: ['exp', 'iat'],
      });
      if (payload.exp! - payload.iat! > WORKER_TOKEN_MAX_TTL_SECONDS) return null;
      return workerId;
    } catch {
      return null;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const record = (workerId: string | null) => {
      const entry: FakeLedgerRequest = { method, path, workerId, status: 0 };
      this.requests.push(entry);
      res.on('finish', () => (entry.status = res.statusCode));
    };
    if (method === 'GET' && path === '/.well-known/jwks.json') {
      record(null);
      return json(res, 200, this.jwks());
    }
    const workerId = await this.authenticate(req);
    record(workerId);
    if (workerId === null) return problem(res, 401, 'AUTH.INVALID_TOKEN', 'worker token missing or invalid');

    if (method === 'POST' && path === '/v1/inference/leases') {
      const body = (await readJson(req)) as { waitMs?: number };
      const wait = Math.min(this.maxWaitMs, Math.max(0, Number(body.waitMs ?? 0)));
      if (this.queue.length === 0 && wait > 0) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, wait);
          this.waiters.add(wake);
          res.on('close', wake);
        });
      }
      const lease = this.queue.shift();
      if (!lease) {
        res.writeHead(204);
        res.end();
        return;
      }
      return json(res, 200, lease);
    }

    const artifact = /^\/v1\/artifacts\/(sha256:[0-9a-f]{64})$/u.exec(path);
    if (method === 'GET' && artifact) {
      const digest = artifact[1]!;
      const bytes = this.servedArtifacts.get(digest) ?? this.artifacts.get(digest);
      if (!bytes) return problem(res, 404, 'ARTIFACT.NOT_FOUND', digest);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.byteLength, ETag: `"${digest}"` });
      res.end(Buffer.from(bytes));
      return;
    }

    if (method === 'POST' && path === '/v1/inference/results') {
      const body = (await readJson(req)) as InferenceResultBody;
      const code = await this.checkResult(body, workerId);
      if (code !== null) {
        this.refusedResults.push({ body, code });
        return problem(res, code === 'INFERENCE.SIGNATURE_INVALID' ? 403 : 422, code, 'result refused');
      }
      const answer = this.resultResponder?.(body) ?? { status: 200, body: { jobId: body.jobId, outcome: 'answered' } };
      if (answer.status >= 200 && answer.status < 300) this.acceptedResults.push(body);
      return json(res, answer.status, answer.body);
    }
    return problem(res, 404, 'FAKE.NOT_FOUND', `${method} ${path}`);
  }

  /** The acceptance checks of the contract that a fake can make; null when the result passes. */
  private async checkResult(body: InferenceResultBody, workerId: string): Promise<string | null> {
    let claims: GrantClaims;
    try {
      const kid = decodeProtectedHeader(body.grant).kid;
      const signer = this.ledgerKeys.find((k) => k.key.kid === kid && !k.revokedAt);
      if (!signer) return 'INFERENCE.GRANT_INVALID';
      ({ payload: claims } = (await jwtVerify(body.grant, signer.key.publicKey, { algorithms: ['EdDSA'], audience: GRANT_AUDIENCE })) as unknown as {
        payload: GrantClaims;
      });
    } catch {
      return 'INFERENCE.GRANT_INVALID';
    }
    if (claims.sub !== workerId) return 'INFERENCE.GRANT_MISMATCH';
    if (claims.job !== body.jobId || claims.model !== body.modelSha256 || claims.input !== body.inputDigest) return 'INFERENCE.GRANT_MISMATCH';
    const jwk = this.workers.get(workerId);
    if (!jwk || !(await verifyResultSignature(body, jwk))) return 'INFERENCE.SIGNATURE_INVALID';
    return null;
  }
}
