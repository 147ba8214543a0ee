/**
 * The policy-set API against the real application: the set in force (system until the tenant publishes its
 * own), an admin publish recorded on `policy-<tenant>` and used by the engine at once, idempotent retries,
 * roles, tenant isolation, and every refusal as problem+json with its code and nothing appended.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CEDAR_VERSION } from '../src/policy/cedar.js';
import { POLICY_ENGINE, type PolicyEngine } from '../src/policy/policy-engine.port.js';
import { runInferenceRequest } from '../src/policy/policy-requests.js';
import { loadPolicySetFromDir } from '../src/policy/policy-set.js';
import { callersOf } from './support/callers.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const PROBLEM = /^application\/problem\+json/u;

let t: TestApp;
const { get, mint, post } = callersOf(() => t);
const size = () => t.ledger.store.size();

/** The shipped policies with the drift limit lowered to 0.1 (schema omitted: the one in force applies). */
const stricter = () =>
  loadPolicySetFromDir(t.config.policyDir).policies.map(({ id, text }) => ({
    id,
    text: text.replace(/driftPermille > \d+/u, 'driftPermille > 100'),
  }));

const decideDrift = (tenant: string, drift: number) =>
  t.app.get<PolicyEngine>(POLICY_ENGINE).decide(
    tenant,
    runInferenceRequest({
      tenant,
      pipelineSub: 'orchestrator-1',
      proxy: { proxyVersionId: 'p-1', stage: 'production', fidelity: 0.9, drift, artifactSha256: `sha256:${'c'.repeat(64)}` },
      context: { taskClass: null, depth: 0, dataClassification: 'internal' },
    }),
  );

describe('policy sets (e2e)', () => {
  beforeAll(async () => {
    t = await createTestApp();
    await mint('admin', 'admin', 'acme');
    await mint('auditor', 'auditor', 'acme');
    await mint('pipeline', 'pipeline', 'acme');
    await mint('overseer', 'overseer', 'acme');
    await mint('pipelineG', 'pipeline', 'globex');
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /v1/policy-sets/current: the system set until the tenant has its own (admin, auditor, pipeline)', async () => {
    const shipped = loadPolicySetFromDir(t.config.policyDir);
    const [published] = await t.ledger.store.readStream('policy-system');
    for (const who of ['admin', 'auditor', 'pipeline']) {
      const res = await get('/v1/policy-sets/current', who).expect(200);
      expect(res.body).toEqual({
        digest: shipped.digest,
        source: 'startup',
        scope: 'system',
        schema: shipped.schema,
        policies: shipped.policies,
        cedarVersion: CEDAR_VERSION,
        position: published!.position,
        revision: 0,
        publishedAt: published!.entry.meta.recordedAt,
      });
    }
    const refused = await get('/v1/policy-sets/current', 'overseer').expect(403);
    expect(refused.body.code).toBe('AUTH.FORBIDDEN_ROLE');
  });

  it('refuses an invalid set with 422 POLICY.INVALID_SET naming the policy, and appends nothing', async () => {
    const before = await size();
    const bad = [
      ...stricter(),
      { id: 'unguarded', text: 'forbid (principal, action == IdaLedger::Action::"RunInference", resource) when { resource.driftPermille > 1 };' },
    ];
    const res = await post('/v1/policy-sets', 'admin', { policies: bad }).expect(422);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ status: 422, code: 'POLICY.INVALID_SET', policyId: 'unguarded' });
    expect(res.body.detail).toMatch(/^Policy "unguarded" is invalid: .*driftPermille/u);

    const mismatch = await post('/v1/policy-sets', 'admin', {
      policies: [{ id: 'a', text: '@id("b") permit (principal, action, resource);' }],
    }).expect(422);
    expect(mismatch.body).toMatchObject({ code: 'POLICY.INVALID_SET', policyId: 'a' });

    const badSchema = await post('/v1/policy-sets', 'admin', { schema: 'namespace IdaLedger {', policies: stricter() }).expect(422);
    expect(badSchema.body).toMatchObject({ code: 'POLICY.INVALID_SET', policyId: null });

    const shape = await post('/v1/policy-sets', 'admin', { policies: [] }).expect(400);
    expect(shape.body.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(await size()).toBe(before);
  });

  it('only an admin publishes (403 otherwise), appending nothing', async () => {
    const before = await size();
    for (const who of ['pipeline', 'auditor']) {
      const res = await post('/v1/policy-sets', who, { policies: stricter() }).expect(403);
      expect(res.body.code).toBe('AUTH.FORBIDDEN_ROLE');
    }
    expect(await size()).toBe(before);
  });

  it("POST /v1/policy-sets records the tenant's set on policy-<tenant>; it is in force for the tenant only, at once", async () => {
    expect(decideDrift('acme', 0.15).decision).toBe('allow');
    const res = await post('/v1/policy-sets', 'admin', { policies: stricter() }, { 'Idempotency-Key': 'policy-set-1' }).expect(201);
    const [entry] = await t.ledger.store.readStream('policy-acme');
    expect(res.body).toEqual({
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/u),
      source: 'admin',
      scope: 'tenant',
      schema: loadPolicySetFromDir(t.config.policyDir).schema,
      policies: [...stricter()].sort((a, b) => (a.id < b.id ? -1 : 1)),
      cedarVersion: CEDAR_VERSION,
      position: entry!.position,
      revision: 0,
      publishedAt: entry!.entry.meta.recordedAt,
    });
    expect(res.headers['etag']).toBe('"0"');
    expect(entry!.entry).toMatchObject({
      type: 'PolicySetPublished',
      schema: 1,
      data: { digest: res.body.digest, source: 'admin', policies: res.body.policies, schema: res.body.schema },
      meta: { tenant: 'acme', actor: { sub: 'admin-1', role: 'admin' } },
    });

    expect(decideDrift('acme', 0.15)).toMatchObject({
      decision: 'deny',
      policySetDigest: res.body.digest,
      determiningPolicies: ['run-inference.forbid-drift-above-limit'],
    });
    expect(decideDrift('globex', 0.15)).toMatchObject({ decision: 'allow', policySetDigest: loadPolicySetFromDir(t.config.policyDir).digest });

    const current = await get('/v1/policy-sets/current', 'pipeline').expect(200);
    expect(current.body).toEqual(res.body);
    const theirs = await get('/v1/policy-sets/current', 'pipelineG').expect(200);
    expect(theirs.body.scope).toBe('system');

    // A retry with the same key answers the first result and appends nothing.
    const before = await size();
    const retry = await post('/v1/policy-sets', 'admin', { policies: stricter() }, { 'Idempotency-Key': 'policy-set-1' }).expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(res.body);
    expect(await size()).toBe(before);
  });

  it('refuses the same set again with 422 POLICY.SET_UNCHANGED, and appends nothing', async () => {
    const before = await size();
    const res = await post('/v1/policy-sets', 'admin', { policies: [...stricter()].reverse() }).expect(422);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.code).toBe('POLICY.SET_UNCHANGED');
    expect(await size()).toBe(before);
  });
});
