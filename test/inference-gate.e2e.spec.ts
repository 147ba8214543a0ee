/**
 * The policy gate's ledger side over HTTP, against the real application (docs/policy-gate.md): decisions at
 * assignment, the worker registry and worker tokens, leases with single-use grants, result acceptance and
 * every refusal — each refused result recorded as InferenceRejected and never an InferenceCompleted. The
 * worker here is the in-process test worker (test/support/test-worker.ts); the real worker process and a real
 * ONNX model run in test/inference-worker.e2e.spec.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import type { JsonObject } from '../src/ledger/entry.js';
import { generateSigningKey } from '../src/ledger/signing-key.js';
import { inputDigest } from '../src/inference/worker/result-signature.js';
import { callersOf } from './support/callers.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { TestWorker, type Lease } from './support/test-worker.js';

const TENANT = 'tenant-g';
const OTHER = 'tenant-h';
const LEASE_MS = 3000;
const PROBLEM = /^application\/problem\+json/u;
const GATES = { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.8, maxRecalibrationAgeDays: 30 };
const INPUT = { features: [0.25, -1, 2], labels: ['no', 'yes'] };

let t: TestApp;
const { mint, post, get, tokens } = callersOf(() => t);
const workerA = new TestWorker(() => t, 'gpu-a');
const workerB = new TestWorker(() => t, 'gpu-b');

const digestOf = (id: string) => `sha256:${Buffer.from(id).toString('hex').padEnd(64, '0').slice(0, 64)}`;

async function appendAs(tenant: string, stream: string, events: { type: string; data: JsonObject }[]) {
  await t.ledger.events.append({
    stream,
    expectedRevision: 'any',
    events: events.map(({ type, data }) => ({ type, schema: 1, data })),
    meta: {
      tenant,
      actor: { sub: 'svc-registry', role: 'pipeline' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: randomUUID(),
      recordedAt: new Date().toISOString(),
    },
  });
}

async function createProxy(id: string, stage: 'shadow' | 'production', tenant = TENANT) {
  const promote = (from: string, to: string) => ({ type: 'ProxyPromoted', data: { from, to, gates: GATES, checks: [] } });
  await appendAs(tenant, `proxy-${id}`, [
    {
      type: 'ProxyRegistered',
      data: {
        proxyVersionId: id,
        name: id,
        version: '1',
        source: { kind: 'imported', provenance: { origin: 'test', description: 'fixture', declaredBy: 'qa' } },
        parentProxyVersionId: null,
        artifact: { sha256: digestOf(id), sizeBytes: 10 },
        metrics: { fidelity: 0.95, groundTruthAgreement: 0.9, drift: 0.05 },
        stage: 'candidate',
      },
    },
    promote('candidate', 'shadow'),
    ...(stage === 'production' ? [promote('shadow', 'production')] : []),
  ]);
}

/** A fresh query with one open leaf assigned as `body` says; its assign response. */
async function assigned(body: object, who = 'pipeline') {
  const opened = await post('/v1/queries', who, { task: 'Classify the case', input: null }).expect(201);
  const { queryId, rootNodeId } = opened.body as { queryId: string; rootNodeId: string };
  const res = await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/assign`, who, body).expect(200);
  return res.body as { queryId: string; nodeId: string; jobs: { jobId: string; proxyVersionId: string; decision: string; inputDigest: string }[]; escalated: boolean };
}

async function streamOf(queryId: string) {
  return (await t.ledger.store.readStream(`query-${queryId}`)).map((e) => e.entry);
}

async function typesOf(queryId: string) {
  return (await streamOf(queryId)).map((e) => e.type);
}

/**
 * Leases until it gets the given job, within `timeoutMs` (other jobs of the tenant, left pending by earlier
 * tests, may come first: they are simply held).
 */
async function leaseJob(worker: TestWorker, jobId: string, timeoutMs = 0): Promise<Lease> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lease = await worker.lease(Math.max(0, Math.min(1000, deadline - Date.now())));
    if (lease?.job.jobId === jobId) return lease;
    if (lease === null && Date.now() >= deadline) throw new Error(`job ${jobId} was not leased`);
  }
}

beforeAll(async () => {
  t = await createTestApp({ INFERENCE_LEASE_MS: String(LEASE_MS) });
  await Promise.all([
    mint('pipeline', 'pipeline', TENANT, 'svc-orchestrator'),
    mint('admin', 'admin', TENANT, 'root'),
    mint('auditor', 'auditor', TENANT, 'audrey'),
    mint('adminB', 'admin', OTHER, 'root-b'),
    mint('devWorker', 'worker', TENANT, 'gpu-a'),
  ]);
  await createProxy('g-prod', 'production');
  await createProxy('g-prod2', 'production');
  await createProxy('g-shadow', 'shadow');
  await workerA.register(tokens['admin']!).expect(201);
  await workerB.register(tokens['admin']!).expect(201);
});

afterAll(async () => {
  await t?.close();
});

describe('workers: registration, tokens, revocation', () => {
  it('an admin registers a key: WorkerRegistered with the RFC 7638 kid; listed for the tenant only', async () => {
    const w = new TestWorker(() => t, 'gpu-list');
    const res = await w.register(tokens['admin']!).expect(201);
    expect(res.body).toMatchObject({ workerId: 'gpu-list', kid: w.key.kid, status: 'registered', publicKeyJwk: w.key.publicJwk });
    const [entry] = await t.ledger.store.readStream('worker-gpu-list');
    expect(entry!.entry).toMatchObject({ type: 'WorkerRegistered', data: { workerId: 'gpu-list', kid: w.key.kid }, meta: { tenant: TENANT } });
    const list = await get('/v1/workers', 'auditor').expect(200);
    expect(list.body.workers.map((x: { workerId: string }) => x.workerId)).toEqual(expect.arrayContaining(['gpu-a', 'gpu-b', 'gpu-list']));
    expect((await get('/v1/workers', 'adminB').expect(200)).body.workers).toEqual([]);
  });

  it.each([
    ['the same worker id again', () => ({ workerId: 'gpu-a', name: 'x', publicKeyJwk: generateSigningKey().publicJwk }), 409, 'WORKER.ALREADY_REGISTERED'],
    ['a key already registered to another worker', () => ({ workerId: 'gpu-copy', name: 'x', publicKeyJwk: workerA.key.publicJwk }), 409, 'WORKER.KEY_IN_USE'],
    ['a key that is not an Ed25519 point', () => ({ workerId: 'gpu-bad', name: 'x', publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: 'abc' } }), 422, 'WORKER.INVALID_KEY'],
    ['a non-OKP key', () => ({ workerId: 'gpu-rsa', name: 'x', publicKeyJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }), 400, 'REQUEST.VALIDATION_FAILED'],
  ])('registering %s: %s', async (_, body, status, code) => {
    const res = await post('/v1/workers', 'admin', body());
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  });

  it('only an admin registers; another tenant cannot take or revoke a worker id', async () => {
    expect((await post('/v1/workers', 'pipeline', { workerId: 'gpu-p', name: 'p', publicKeyJwk: generateSigningKey().publicJwk })).status).toBe(403);
    const foreign = await post('/v1/workers', 'adminB', { workerId: 'gpu-a', name: 'x', publicKeyJwk: generateSigningKey().publicJwk });
    expect(foreign.body.code).toBe('AUTH.TENANT_FORBIDDEN');
    expect((await post('/v1/workers/gpu-a/revoke', 'adminB', { reason: 'mine' })).body.code).toBe('AUTH.TENANT_FORBIDDEN');
  });

  it('a registered worker authenticates with its self-signed token (role worker, its tenant); nothing to do: 204', async () => {
    const res = await workerA.leaseRequest(0);
    expect(res.status).toBe(204);
  });

  it('a token signed by an unregistered key is 401; a dev-minted worker token is no registered worker (403)', async () => {
    const stranger = new TestWorker(() => t, 'gpu-a', generateSigningKey());
    const res = await stranger.leaseRequest(0);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    const dev = await post('/v1/inference/leases', 'devWorker', { waitMs: 0 });
    expect(dev.status).toBe(403);
    expect(dev.body.code).toBe('INFERENCE.NOT_A_WORKER');
  });

  it('a revoked worker: WorkerRevoked, its tokens are refused from then on; revoking again is 409', async () => {
    const w = new TestWorker(() => t, 'gpu-revoked');
    await w.register(tokens['admin']!).expect(201);
    expect((await w.leaseRequest(0)).status).toBe(204);
    const res = await post('/v1/workers/gpu-revoked/revoke', 'admin', { reason: 'key leaked' }).expect(200);
    expect(res.body).toMatchObject({ status: 'revoked', revokeReason: 'key leaked' });
    expect((await w.leaseRequest(0)).status).toBe(401);
    expect((await post('/v1/workers/gpu-revoked/revoke', 'admin', { reason: 'again' })).body.code).toBe('WORKER.ALREADY_REVOKED');
    expect((await post('/v1/workers/nobody/revoke', 'admin', { reason: 'x' })).status).toBe(404);
  });
});

describe('assignment through the gate', () => {
  it('an allowed job: PolicyDecisionRecorded + InferenceAuthorized in the assign append; the tree shows the decision', async () => {
    const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
    expect(a.jobs[0]).toMatchObject({ proxyVersionId: 'g-prod', decision: 'allow', inputDigest: inputDigest(INPUT) });
    expect(await typesOf(a.queryId)).toEqual(['AmplificationQueryOpened', 'NodeAssigned', 'InferenceRequested', 'PolicyDecisionRecorded', 'InferenceAuthorized']);
    const stream = await streamOf(a.queryId);
    expect(stream[2]).toMatchObject({ schema: 2, data: { input: INPUT, inputDigest: inputDigest(INPUT) } });
    expect(stream[3]!.data).toMatchObject({ decision: 'allow', determiningPolicies: ['run-inference.permit-production'], action: 'RunInference' });
    const tree = (await get(`/v1/queries/${a.queryId}`, 'auditor').expect(200)).body;
    expect(tree.dataClassification).toBe('internal');
    expect(tree.root.jobs[0]).toMatchObject({ status: 'pending', inputDigest: inputDigest(INPUT), policy: { decision: 'allow', outcome: 'authorized' } });
  });

  it('a denied job (a shadow proxy while serving): InferenceDenied, the node escalated (inference_denied); no worker ever gets it', async () => {
    const a = await assigned({ to: 'proxy', proxyVersionId: 'g-shadow', input: INPUT });
    expect(a).toMatchObject({ escalated: true, jobs: [{ decision: 'deny' }] });
    expect((await typesOf(a.queryId)).slice(-3)).toEqual(['PolicyDecisionRecorded', 'InferenceDenied', 'EscalatedToHuman']);
    const tree = (await get(`/v1/queries/${a.queryId}`, 'auditor').expect(200)).body;
    expect(tree.root).toMatchObject({ status: 'escalated', escalations: [{ reason: 'inference_denied' }], jobs: [{ status: 'denied' }] });
    for (let lease = await workerA.lease(0); lease !== null; lease = await workerA.lease(0)) expect(lease.job.jobId).not.toBe(a.jobs[0]!.jobId);
  });

  it('restricted data is recorded in the decision request; an unknown classification is 400', async () => {
    const opened = await post('/v1/queries', 'pipeline', { task: 'Secret?', input: null, dataClassification: 'restricted' }).expect(201);
    expect((await streamOf(opened.body.queryId))[0]).toMatchObject({ schema: 3, data: { dataClassification: 'restricted' } });
    expect((await post('/v1/queries', 'pipeline', { task: 'x', input: null, dataClassification: 'secret' })).status).toBe(400);
  });
});

describe('leases, grants and results', () => {
  it('lease → grant (ledger key, JWKS-verifiable, bound to the job) → signed result: InferenceCompleted schema 2, node answered', async () => {
    const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
    const jobId = a.jobs[0]!.jobId;
    const lease = await leaseJob(workerA, jobId);
    expect(lease.job).toMatchObject({ jobId, queryId: a.queryId, nodeId: a.nodeId, proxyVersionId: 'g-prod', artifactSha256: digestOf('g-prod'), input: INPUT });
    const jwks = (await request(t.server).get('/.well-known/jwks.json').expect(200)).body;
    const { payload, protectedHeader } = await jwtVerify(lease.grant, createLocalJWKSet(jwks), { audience: 'ida-ledger-worker', issuer: t.config.origin });
    const stream = await t.ledger.store.readStream(`query-${a.queryId}`);
    const decision = stream.find((e) => e.entry.type === 'PolicyDecisionRecorded')!;
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: t.ledger.keyRing.currentKid() });
    expect(payload).toMatchObject({
      sub: 'gpu-a',
      job: jobId,
      query: a.queryId,
      node: a.nodeId,
      tenant: TENANT,
      model: digestOf('g-prod'),
      input: inputDigest(INPUT),
      policy: decision.entry.data['policySetDigest'],
      decision: decision.position,
    });
    expect(payload.exp! * 1000).toBeLessThanOrEqual(Date.parse(lease.leasedUntil));
    const leased = stream.at(-1)!.entry;
    expect(leased).toMatchObject({ type: 'InferenceLeased', data: { jobId, workerId: 'gpu-a', jti: payload.jti }, meta: { actor: { sub: 'gpu-a', role: 'worker' } } });

    // Nobody else gets it while the lease runs.
    expect(await workerB.lease(0)).toBeNull();

    const res = await workerA.complete(lease, { answer: 'yes', confidence: 0.93, scores: [0.1, 2.2] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ queryId: a.queryId, nodeId: a.nodeId, jobId, outcome: 'answered' });
    const completed = (await streamOf(a.queryId)).at(-1)!;
    expect(completed).toMatchObject({
      type: 'InferenceCompleted',
      schema: 2,
      data: { jobId, answer: 'yes', confidence: 0.93, workerId: 'gpu-a', jti: payload.jti, decisionPosition: decision.position, provider: 'cpu', output: { scores: [0.1, 2.2] } },
      meta: { actor: { sub: 'gpu-a', role: 'worker' } },
    });
    const tree = (await get(`/v1/queries/${a.queryId}`, 'auditor').expect(200)).body;
    expect(tree.root).toMatchObject({ status: 'answered', answerKind: 'proxy', answer: 'yes' });
  });

  it('a low-confidence result escalates the node in the same append', async () => {
    const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
    const lease = await leaseJob(workerA, a.jobs[0]!.jobId);
    const res = await workerA.complete(lease, { answer: 'no', confidence: 0.51 });
    expect(res.body.outcome).toBe('escalated');
    expect((await typesOf(a.queryId)).slice(-2)).toEqual(['InferenceCompleted', 'EscalatedToHuman']);
  });

  it('an ensemble: each member leased and posted by a worker; the vote is recorded with the last result', async () => {
    const a = await assigned({ to: 'ensemble', proxyVersionIds: ['g-prod', 'g-prod2'], input: INPUT });
    const [j1, j2] = a.jobs;
    const l1 = await leaseJob(workerA, j1!.jobId);
    const l2 = await leaseJob(workerB, j2!.jobId);
    expect((await workerA.complete(l1, { answer: 'yes', confidence: 0.9 })).body.outcome).toBe('awaiting_members');
    expect((await workerB.complete(l2, { answer: 'Yes', confidence: 0.8 })).body.outcome).toBe('answered');
    expect((await typesOf(a.queryId)).slice(-2)).toEqual(['InferenceCompleted', 'EnsembleAnswerAggregated']);
  });

  describe('every refusal is recorded (InferenceRejected, with why) and yields no InferenceCompleted', () => {
    /** A job leased to worker A; the refusal `attempt` makes; then what the stream holds. */
    async function refused(attempt: (lease: Lease, a: Awaited<ReturnType<typeof assigned>>) => Promise<request.Response>, status: number, code: string) {
      const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
      const lease = await leaseJob(workerA, a.jobs[0]!.jobId);
      const res = await attempt(lease, a);
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const stream = await streamOf(a.queryId);
      expect(stream.at(-1)).toMatchObject({ type: 'InferenceRejected', data: { jobId: a.jobs[0]!.jobId, code } });
      expect(stream.map((e) => e.type)).not.toContain('InferenceCompleted');
      return { a, lease, stream };
    }
    const out = { answer: 'yes', confidence: 0.9 };

    it('without a grant: GRANT_INVALID (403)', async () => {
      await refused(async (lease) => {
        const { grant: _none, ...withoutGrant } = workerA.unsigned(lease, out);
        return TestWorker.post(t, await workerA.sign(withoutGrant as never));
      }, 403, 'INFERENCE.GRANT_INVALID');
    });

    it('with a grant not signed by the ledger (a forged one): GRANT_INVALID', async () => {
      const forged = (lease: Lease) => lease.grant.replace(/\.[^.]+$/u, '.' + Buffer.alloc(64, 1).toString('base64url'));
      await refused(async (lease) => workerA.complete(lease, out, { grant: forged(lease) }), 403, 'INFERENCE.GRANT_INVALID');
    });

    it('with a grant for another job (another input): GRANT_MISMATCH (422)', async () => {
      const other = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: { features: [9, 9, 9], labels: ['no', 'yes'] } });
      const otherLease = await leaseJob(workerA, other.jobs[0]!.jobId);
      const { stream } = await refused(
        async (lease) => workerA.complete(lease, out, { grant: otherLease.grant, modelSha256: otherLease.job.artifactSha256, inputDigest: otherLease.job.inputDigest }),
        422,
        'INFERENCE.GRANT_MISMATCH',
      );
      expect(stream.at(-1)!.data['reason']).toMatch(/job/u);
    });

    it('for another model than the grant names (a tampered model): GRANT_MISMATCH', async () => {
      await refused(async (lease) => workerA.complete(lease, out, { modelSha256: `sha256:${'f'.repeat(64)}` }), 422, 'INFERENCE.GRANT_MISMATCH');
    });

    it('for another input than the grant names: GRANT_MISMATCH', async () => {
      await refused(async (lease) => workerA.complete(lease, out, { inputDigest: inputDigest({ features: [0] }) }), 422, 'INFERENCE.GRANT_MISMATCH');
    });

    it('signed by an unregistered key: WORKER_UNKNOWN (403)', async () => {
      const stranger = generateSigningKey();
      await refused(async (lease) => TestWorker.post(t, await workerA.sign(workerA.unsigned(lease, out), stranger)), 403, 'INFERENCE.WORKER_UNKNOWN');
    });

    it('signed by another registered worker than the one leased to: GRANT_MISMATCH', async () => {
      await refused(async (lease) => TestWorker.post(t, await workerB.sign(workerB.unsigned(lease, out))), 422, 'INFERENCE.GRANT_MISMATCH');
    });

    it('a body changed after signing: SIGNATURE_INVALID (403)', async () => {
      await refused(async (lease) => {
        const signed = await workerA.sign(workerA.unsigned(lease, out));
        return TestWorker.post(t, { ...signed, output: { ...signed.output, answer: 'no' } });
      }, 403, 'INFERENCE.SIGNATURE_INVALID');
    });

    it('the grant used a second time: GRANT_CONSUMED (409); one InferenceCompleted only', async () => {
      const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
      const lease = await leaseJob(workerA, a.jobs[0]!.jobId);
      expect((await workerA.complete(lease, out)).status).toBe(200);
      const again = await workerA.complete(lease, { answer: 'no', confidence: 0.99 });
      expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'INFERENCE.GRANT_CONSUMED' });
      const stream = await streamOf(a.queryId);
      expect(stream.filter((e) => e.type === 'InferenceCompleted')).toHaveLength(1);
      expect(stream.at(-1)).toMatchObject({ type: 'InferenceRejected', data: { code: 'INFERENCE.GRANT_CONSUMED', workerId: 'gpu-a' } });
    });

    it('from a worker revoked after it leased: WORKER_REVOKED (403)', async () => {
      const w = new TestWorker(() => t, 'gpu-soon-revoked');
      await w.register(tokens['admin']!).expect(201);
      const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
      const lease = await leaseJob(w, a.jobs[0]!.jobId);
      await post('/v1/workers/gpu-soon-revoked/revoke', 'admin', { reason: 'compromised' }).expect(200);
      const res = await w.complete(lease, out);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'INFERENCE.WORKER_REVOKED' });
      expect((await streamOf(a.queryId)).at(-1)).toMatchObject({ type: 'InferenceRejected', data: { code: 'INFERENCE.WORKER_REVOKED', workerId: 'gpu-soon-revoked' } });
    });

    it('after a deny: JOB_NOT_AUTHORIZED (403), whatever grant it carries', async () => {
      const denied = await assigned({ to: 'proxy', proxyVersionId: 'g-shadow', input: INPUT });
      const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
      const lease = await leaseJob(workerA, a.jobs[0]!.jobId);
      const res = await workerA.complete(lease, out, { jobId: denied.jobs[0]!.jobId });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'INFERENCE.JOB_NOT_AUTHORIZED' });
      const stream = await streamOf(denied.queryId);
      expect(stream.at(-1)).toMatchObject({ type: 'InferenceRejected', data: { code: 'INFERENCE.JOB_NOT_AUTHORIZED' } });
      expect(stream.map((e) => e.type)).not.toContain('InferenceCompleted');
    });

    it('a result for a job the log never requested: 404, recorded nowhere', async () => {
      const before = await t.ledger.store.size();
      const res = await TestWorker.post(t, { jobId: randomUUID(), output: out, provider: 'cpu', timing: { loadMs: 0, runMs: 0 }, modelSha256: 'x', inputDigest: 'y' });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('INFERENCE.JOB_NOT_FOUND');
      expect(await t.ledger.store.size()).toBe(before);
    });
  });

  it('a lease that runs out: the job is leased to another worker (InferenceLeaseExpired + InferenceLeased); the late result is GRANT_EXPIRED; exactly one result accepted', async () => {
    const a = await assigned({ to: 'proxy', proxyVersionId: 'g-prod', input: INPUT });
    const jobId = a.jobs[0]!.jobId;
    const first = await leaseJob(workerA, jobId);
    const started = Date.now();
    // Worker B long-polls: it gets the job once A's lease has run out.
    const second = await leaseJob(workerB, jobId, LEASE_MS + 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS - 1100);
    const types = await typesOf(a.queryId);
    expect(types.slice(-2)).toEqual(['InferenceLeaseExpired', 'InferenceLeased']);
    const late = await workerA.complete(first, { answer: 'no', confidence: 0.99 });
    expect(late.body.code).toBe('INFERENCE.GRANT_EXPIRED');
    expect((await workerB.complete(second, { answer: 'yes', confidence: 0.9 })).status).toBe(200);
    const stream = await streamOf(a.queryId);
    expect(stream.filter((e) => e.type === 'InferenceCompleted')).toEqual([expect.objectContaining({ data: expect.objectContaining({ workerId: 'gpu-b' }) })]);
  }, 20_000);
});
