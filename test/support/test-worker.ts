/**
 * An in-process inference worker for e2e specs (docs/policy-gate.md "Workers"), speaking HTTP to a test app
 * exactly as the worker process does, but with the model run left to the test: an admin registers its key,
 * it leases with its own self-signed token, and posts results signed with its key (or tampered with, to
 * see them refused). The real worker process is exercised by test/inference-worker.e2e.spec.ts.
 */
import request from 'supertest';
import type { JsonValue } from '../../src/ledger/entry.js';
import { generateSigningKey, type SigningKey } from '../../src/ledger/signing-key.js';
import { signResult, type InferenceResultBody, type UnsignedResultBody } from '../../src/inference/worker/result-signature.js';
import { mintWorkerToken } from '../../src/inference/worker/worker-token.js';
import type { TestApp } from './test-app.js';

export interface LeasedJobView {
  jobId: string;
  queryId: string;
  nodeId: string;
  proxyVersionId: string;
  artifactSha256: string;
  input: JsonValue;
  inputDigest: string;
}

export interface Lease {
  job: LeasedJobView;
  grant: string;
  leasedUntil: string;
}

export class TestWorker {
  readonly key: SigningKey;

  constructor(
    private readonly app: () => TestApp,
    readonly workerId: string,
    key: SigningKey = generateSigningKey(),
  ) {
    this.key = key;
  }

  /** `POST /v1/workers` as the given admin bearer; resolves with the response. */
  register(adminBearer: string, name = this.workerId): request.Test {
    return request(this.app().server)
      .post('/v1/workers')
      .set({ Authorization: `Bearer ${adminBearer}` })
      .send({ workerId: this.workerId, name, publicKeyJwk: this.key.publicJwk });
  }

  token(): Promise<string> {
    return mintWorkerToken({ privateKey: this.key.privateKey, kid: this.key.kid, workerId: this.workerId, now: new Date() });
  }

  /** `POST /v1/inference/leases` with the worker's own token. */
  async leaseRequest(waitMs = 0): Promise<request.Response> {
    return request(this.app().server)
      .post('/v1/inference/leases')
      .set({ Authorization: `Bearer ${await this.token()}` })
      .send({ waitMs });
  }

  /** A lease (200), or null on 204; throws on anything else. */
  async lease(waitMs = 0): Promise<Lease | null> {
    const res = await this.leaseRequest(waitMs);
    if (res.status === 204) return null;
    if (res.status !== 200) throw new Error(`lease: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Lease;
  }

  /**
   * Leases until it gets `jobId`, within `timeoutMs` (other jobs of the tenant may come first: they are simply
   * held until their lease runs out).
   */
  async leaseJob(jobId: string, timeoutMs = 0): Promise<Lease> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lease = await this.lease(Math.max(0, Math.min(1000, deadline - Date.now())));
      if (lease?.job.jobId === jobId) return lease;
      if (lease === null && Date.now() >= deadline) throw new Error(`job ${jobId} was not leased to ${this.workerId}`);
    }
  }

  /** Leases `jobId` and posts this worker's signed result for it. */
  async infer(jobId: string, output: { answer: string; confidence: number; scores?: number[] }): Promise<request.Response> {
    return this.complete(await this.leaseJob(jobId), output);
  }

  /** The result body for a lease, as the worker would post it (unsigned; override any field). */
  unsigned(lease: Lease, output: { answer: string; confidence: number; scores?: number[] }, over: Partial<UnsignedResultBody> = {}): UnsignedResultBody {
    return {
      grant: lease.grant,
      jobId: lease.job.jobId,
      output,
      provider: 'cpu',
      timing: { loadMs: 2, runMs: 0.5 },
      modelSha256: lease.job.artifactSha256,
      inputDigest: lease.job.inputDigest,
      ...over,
    };
  }

  sign(body: UnsignedResultBody, key: SigningKey = this.key): InferenceResultBody {
    return signResult(body, { privateKey: key.privateKey, kid: key.kid });
  }

  /** `POST /v1/inference/results` (any body: tests post malformed ones too). */
  static post(app: TestApp, body: object): request.Test {
    return request(app.server).post('/v1/inference/results').send(body);
  }

  /** Signs and posts the result of a lease. */
  async complete(lease: Lease, output: { answer: string; confidence: number; scores?: number[] }, over: Partial<UnsignedResultBody> = {}): Promise<request.Response> {
    return TestWorker.post(this.app(), await this.sign(this.unsigned(lease, output, over)));
  }
}
