/**
 * Start-up of the policy gate on the real application and SQLite store: the shipped set is validated before
 * anything starts (an invalid one stops the service naming the policy), published on `policy-system` only
 * when its digest differs from the last one there, and the sets in force are rebuilt from the log on restart.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createApp, openLedgerAndVerifier } from '../src/app/create-app.js';
import { mintDevelopmentToken } from '../src/auth/token-issuer.js';
import { defaultPolicyDir, loadConfig } from '../src/common/config.js';
import { dataPaths, type EmbeddedLedger } from '../src/ledger/embedded-ledger.js';
import { loadOrCreateKeyFile } from '../src/ledger/signing-key.js';
import { CEDAR_VERSION } from '../src/policy/cedar.js';
import { POLICY_ENGINE, type PolicyEngine } from '../src/policy/policy-engine.port.js';
import { runInferenceRequest } from '../src/policy/policy-requests.js';
import { loadPolicySetFromDir } from '../src/policy/policy-set.js';

const DRIFT_FILE = 'run-inference.forbid-drift-above-limit.cedar';

describe('policy gate start-up (int)', () => {
  let dataDir: string;
  let policyDir: string;
  let running: { app: NestExpressApplication; ledger: EmbeddedLedger } | null = null;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ida-policy-int-'));
    policyDir = mkdtempSync(join(tmpdir(), 'ida-policy-dir-'));
    cpSync(defaultPolicyDir(), policyDir, { recursive: true });
  });
  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policyDir, { recursive: true, force: true });
  });

  async function start(): Promise<{ app: NestExpressApplication; ledger: EmbeddedLedger }> {
    const config = loadConfig({ LEDGER_DATA_DIR: dataDir, POLICY_DIR: policyDir });
    const { ledger, tokenVerifier } = await openLedgerAndVerifier(config);
    try {
      running = { app: await createApp({ config, ledger, tokenVerifier, logger: false }), ledger };
    } catch (error) {
      await ledger.close();
      throw error;
    }
    return running;
  }
  async function stop(): Promise<void> {
    if (!running) return;
    await running.app.close();
    await running.ledger.close();
    running = null;
  }
  const systemStream = async (ledger: EmbeddedLedger) => (await ledger.store.readStream('policy-system')).map((e) => e.entry);
  const editDriftLimit = (limit: number) => {
    const path = join(policyDir, DRIFT_FILE);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/driftPermille > \d+/u, `driftPermille > ${limit}`));
  };
  const decideDrift = (app: NestExpressApplication, drift: number) =>
    app.get<PolicyEngine>(POLICY_ENGINE).decide(
      'acme',
      runInferenceRequest({
        tenant: 'acme',
        pipelineSub: 'orchestrator-1',
        proxy: { proxyVersionId: 'p-1', stage: 'production', fidelity: 0.9, drift, artifactSha256: `sha256:${'b'.repeat(64)}` },
        context: { taskClass: null, depth: 0, dataClassification: 'public' },
      }),
    );

  it('the first start publishes the shipped set on policy-system (tenant system) before serving', async () => {
    const { app, ledger } = await start();
    const shipped = loadPolicySetFromDir(policyDir);
    const entries = await systemStream(ledger);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      type: 'PolicySetPublished',
      schema: 1,
      revision: 0,
      data: { digest: shipped.digest, schema: shipped.schema, policies: shipped.policies, cedarVersion: CEDAR_VERSION, source: 'startup' },
      meta: { tenant: 'system', actor: { sub: 'ida-ledger', role: 'system' } },
    });
    expect(decideDrift(app, 0.1)).toMatchObject({ decision: 'allow', policySetDigest: shipped.digest });
    await stop();
  });

  it('a second start with the same set appends nothing', async () => {
    const { ledger } = await start();
    const size = await ledger.store.size();
    await stop();
    const again = await start();
    expect(await again.ledger.store.size()).toBe(size);
    expect(await systemStream(again.ledger)).toHaveLength(1);
    await stop();
  });

  it('a changed set is published anew and is in force at once; going back to an earlier set publishes again', async () => {
    editDriftLimit(150);
    const changed = await start();
    const entries = await systemStream(changed.ledger);
    expect(entries.map((e) => e.revision)).toEqual([0, 1]);
    expect(entries[1]!.data['digest']).toBe(loadPolicySetFromDir(policyDir).digest);
    expect(decideDrift(changed.app, 0.18)).toMatchObject({ decision: 'deny', determiningPolicies: ['run-inference.forbid-drift-above-limit'] });
    await stop();

    // "New" means: differs from the LAST set published, so the log always says which set is in force.
    editDriftLimit(200);
    const reverted = await start();
    const after = await systemStream(reverted.ledger);
    expect(after).toHaveLength(3);
    expect(after[2]!.data['digest']).toBe(after[0]!.data['digest']);
    expect(decideDrift(reverted.app, 0.18).decision).toBe('allow');
    await stop();
  });

  it("a tenant's own set is rebuilt from the log on restart", async () => {
    const { app, ledger } = await start();
    const key = loadOrCreateKeyFile(dataPaths(dataDir).tokenKey).key;
    const token = (role: 'admin' | 'pipeline') => mintDevelopmentToken({ privateKey: key.privateKey, kid: key.kid, sub: `${role}-1`, role, tenant: 'acme' });
    const policies = loadPolicySetFromDir(policyDir).policies.map((p) => ({
      id: p.id,
      text: p.text.replace(/driftPermille > \d+/u, 'driftPermille > 100'),
    }));
    const published = await request(app.getHttpServer()).post('/v1/policy-sets').auth(await token('admin'), { type: 'bearer' }).send({ policies }).expect(201);
    expect(decideDrift(app, 0.15).decision).toBe('deny');
    const size = await ledger.store.size();
    await stop();

    const restarted = await start();
    expect(await restarted.ledger.store.size()).toBe(size);
    const current = await request(restarted.app.getHttpServer())
      .get('/v1/policy-sets/current')
      .auth(await token('pipeline'), { type: 'bearer' })
      .expect(200);
    expect(current.body).toMatchObject({ digest: published.body.digest, scope: 'tenant', source: 'admin', position: published.body.position });
    expect(decideDrift(restarted.app, 0.15)).toMatchObject({ decision: 'deny', policySetDigest: published.body.digest });
    await stop();
  });

  it('an invalid set stops start-up with an error naming the file and the policy, and appends nothing', async () => {
    const { ledger } = await start();
    const size = await ledger.store.size();
    await stop();
    writeFileSync(
      join(policyDir, 'zz-unguarded.cedar'),
      '@id("zz-unguarded")\nforbid (principal, action == IdaLedger::Action::"RunInference", resource)\nwhen { resource.fidelityPermille < 500 };\n',
    );
    try {
      await expect(start()).rejects.toThrow(/Policy set in .* is invalid: zz-unguarded\.cedar: Policy "zz-unguarded" is invalid: .*fidelityPermille/u);
    } finally {
      rmSync(join(policyDir, 'zz-unguarded.cedar'));
    }
    const { ledger: reopened } = await start();
    expect(await reopened.store.size()).toBe(size);
    await stop();
  });
});
