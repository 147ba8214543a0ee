/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 *
 * The demo against the real ledger (in process, listening on an ephemeral port): iteration 0 by simulated
 * humans, distillation of v1 (trained, exported to ONNX, evaluated with onnxruntime, uploaded), v1 through its
 * gates, iteration 1 reported as pending until the ledger has the worker endpoints, KPIs, lineage, and the
 * offline verifier over the data folder.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../../test/support/test-app.js';
import { DEFAULT_STUDENT } from './training.js';
import { createDemoContext, demoConfigFromEnv, runDemo, type DemoReport } from './demo.js';

let t: TestApp;
let url: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('npm run demo (the parts that do not need the worker endpoints)', () => {
  const lines: string[] = [];
  let report: DemoReport;

  it('runs iteration 0, distils v1, promotes it through its gates and verifies the ledger offline', async () => {
    const config = { ...demoConfigFromEnv({ LEDGER_URL: url, LEDGER_DATA_DIR: t.dataDir }), student: DEFAULT_STUDENT };
    const ctx = createDemoContext(config, { log: (line) => lines.push(line) });
    report = await runDemo(ctx);
    if (process.env.DEMO_PRINT) console.log(lines.join('\n'));

    expect(report.iterations).toHaveLength(1);
    const zero = report.iterations[0]!;
    expect(zero.kpis).toMatchObject({ iteration: 0, queries: 60, leaves: 480, humanAnswers: 480, proxyAnswers: 0, escalations: 0, overrides: 0 });
    expect(zero.kpis.transcriptAccuracy).toBeGreaterThan(0.9);
    expect(zero.kpis.transcriptAccuracy).toBeLessThan(1);

    const [v1] = report.proxies;
    expect(v1!.run.teacher).toEqual({ proxyVersionIds: [], humanPool: ['human-ann', 'human-bob', 'human-cho'] });
    expect(v1!.run.dataset.queryIds).toEqual(zero.queryIds);
    expect(v1!.evaluation.fidelity).toBeGreaterThanOrEqual(0.8);
    expect(v1!.evaluation.drift).toBeNull();
    expect(report.stages).toEqual(['production']);
    expect(report.pending).toMatch(/^iteration 1: the ledger has no POST \/v1\/inference\/leases yet/u);

    expect(report.verification).toMatchObject({ ok: true, datasetRoots: [{ runId: v1!.runId, ok: true }] });
  }, 180_000);

  it('recorded what it claims: the run, the artifact the export produced, the proxy in production', async () => {
    const v1 = report.proxies[0]!;
    const auditor = await t.token('auditor', 'demo', 'check');
    const run = await fetch(`${url}/v1/distillation-runs/${v1.runId}`, { headers: { Authorization: `Bearer ${auditor}` } }).then((r) => r.json() as Promise<any>);
    expect(run.artifact.sha256).toBe(v1.student.artifactSha256);
    expect(run.metrics).toMatchObject({ fidelity: v1.evaluation.fidelity, groundTruthAgreement: v1.evaluation.groundTruthAgreement, drift: null });
    const proxy = await fetch(`${url}/v1/proxies/${v1.proxyVersionId}`, { headers: { Authorization: `Bearer ${auditor}` } }).then((r) => r.json() as Promise<any>);
    expect(proxy.stage).toBe('production');
  });

  it('prints the KPI table and the lineage back to iteration 0', () => {
    const text = lines.join('\n');
    expect(text).toContain('KPIs per iteration');
    expect(text).toMatch(/\n0 +humans +60 +480 +480 +0 /u);
    expect(text).toContain('parent: none (iteration 0); teacher proxies: none (humans only)');
    expect(text).toMatch(/trained on 60 queries answered by: human human-ann \(\d+ queries\)/u);
    expect(text).toContain('offline verification: OK');
  });
});
