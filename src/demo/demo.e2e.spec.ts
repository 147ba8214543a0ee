/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 *
 * `npm run demo` against the real ledger (in process, listening on an ephemeral port), end to end: iteration 0
 * by simulated humans; v1 distilled (trained, exported to ONNX, evaluated with onnxruntime, uploaded) and
 * promoted through its gates; iteration 1 answered by v1 through the policy gate and an inference worker (the
 * real `InferenceWorker`, in this process: there is no build under jest), with escalations answered by humans
 * and overrides by the overseer; v2 distilled from iteration 1 (parent v1); KPIs, lineage, and the offline
 * verifier over the data folder.
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

const short = (id: string) => `${id.slice(0, 8)}…${id.slice(-4)}`;

describe('npm run demo: the IDA loop end to end', () => {
  const lines: string[] = [];
  let report: DemoReport;
  let auditor: string;
  const get = (path: string) => fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${auditor}` } }).then((r) => r.json() as Promise<any>);

  beforeAll(async () => {
    auditor = await t.token('auditor', 'demo', 'check');
  });

  it('runs iteration 0, distils v1, serves iteration 1 through the gate and a worker, distils v2 and verifies the ledger offline', async () => {
    const config = { ...demoConfigFromEnv({ LEDGER_URL: url, LEDGER_DATA_DIR: t.dataDir, DEMO_WORKER: 'in-process' }), student: DEFAULT_STUDENT };
    const ctx = createDemoContext(config, { log: (line) => lines.push(line) });
    report = await runDemo(ctx);
    if (process.env.DEMO_PRINT) console.log(lines.join('\n'));

    expect(report.iterations).toHaveLength(2);
    const [zero, one] = report.iterations as [DemoReport['iterations'][number], DemoReport['iterations'][number]];
    expect(zero.kpis).toMatchObject({ iteration: 0, queries: 60, leaves: 480, humanAnswers: 480, proxyAnswers: 0, escalations: 0, overrides: 0 });
    expect(zero.kpis.transcriptAccuracy).toBeGreaterThan(0.9);
    expect(zero.kpis.transcriptAccuracy).toBeLessThan(1);

    // Iteration 1: every leaf went through the gate to the worker; what it was unsure of went to humans.
    expect(one.kpis).toMatchObject({ iteration: 1, queries: 60, leaves: 480 });
    expect(one.kpis.proxyAnswers + one.kpis.humanAnswers).toBe(480);
    expect(one.kpis.proxyAnswers).toBeGreaterThan(400);
    expect(one.kpis.escalations).toBe(one.kpis.humanAnswers);
    expect(one.kpis.escalationRate).toBeGreaterThan(0);
    expect(one.kpis.overrides).toBeGreaterThan(0);
    expect(one.kpis.overrideRate).toBeGreaterThan(0);
    const amp = one.amplification!;
    expect(amp).toMatchObject({ workerMode: 'in-process', allowed: 480, denied: 0, escalations: { low_confidence: one.kpis.escalations } });
    expect(amp.worker).toMatchObject({ completed: 480, skipped: 0, failed: 0, rejected: 0, providers: ['cpu'] });
    expect(amp.overridden).toBe(one.kpis.overrides);
    // Oversight where the proxy is unsure: the transcripts end up better than the humans' alone.
    expect(one.kpis.transcriptAccuracy).toBeGreaterThan(zero.kpis.transcriptAccuracy);

    const [v1, v2] = report.proxies;
    expect(v1!.run.teacher).toEqual({ proxyVersionIds: [], humanPool: ['human-ann', 'human-bob', 'human-cho'] });
    expect(v1!.run.dataset.queryIds).toEqual(zero.queryIds);
    expect(v1!.evaluation.fidelity).toBeGreaterThanOrEqual(0.8);
    expect(v1!.evaluation.drift).toBeNull();
    expect(v2!.run.parentProxyVersionId).toBe(v1!.proxyVersionId);
    expect(v2!.run.teacher.proxyVersionIds).toEqual([v1!.proxyVersionId]);
    expect(v2!.run.dataset.queryIds).toEqual(one.queryIds);
    expect(v2!.evaluation.drift).not.toBeNull();
    expect(v2!.evaluation.drift!).toBeLessThanOrEqual(0.2);
    expect(report.stages).toEqual(['production', 'production']);

    expect(report.verification).toMatchObject({
      ok: true,
      datasetRoots: [
        { runId: v1!.runId, ok: true },
        { runId: v2!.runId, ok: true },
      ],
    });
  }, 300_000);

  it('recorded what it claims: the runs, the artifacts the exports produced, both proxies in production', async () => {
    for (const proxy of report.proxies) {
      const run = await get(`/v1/distillation-runs/${proxy.runId}`);
      expect(run.artifact.sha256).toBe(proxy.student.artifactSha256);
      expect(run.metrics).toMatchObject({ fidelity: proxy.evaluation.fidelity, groundTruthAgreement: proxy.evaluation.groundTruthAgreement, drift: proxy.evaluation.drift });
      expect((await get(`/v1/proxies/${proxy.proxyVersionId}`)).stage).toBe('production');
    }
  });

  it('iteration 1 was answered by the registered worker running v1, each job allowed by a recorded policy decision', async () => {
    const one = report.iterations[1]!;
    const v1 = report.proxies[0]!;
    const stream = (await t.ledger.store.readStream(`query-${one.queryIds[0]}`)).map((e) => e.entry);
    const decisions = stream.filter((e) => e.type === 'PolicyDecisionRecorded');
    const completed = stream.filter((e) => e.type === 'InferenceCompleted');
    expect(decisions.length).toBe(8);
    expect(decisions.every((e) => (e.data as any).decision === 'allow')).toBe(true);
    expect(completed.length).toBe(8);
    for (const entry of completed) {
      expect(entry.data).toMatchObject({ workerId: one.amplification!.workerId, proxyVersionId: v1.proxyVersionId, provider: 'cpu' });
      expect(entry.meta.actor).toEqual({ sub: one.amplification!.workerId, role: 'worker' });
    }
    const requested = stream.find((e) => e.type === 'InferenceRequested')!;
    expect((requested.data as any).input).toMatchObject({ question: expect.stringMatching(/^sum mod 10 of \[/u), labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    // The demo's worker key is revoked once its iteration is done.
    const admin = await t.token('admin', 'demo', 'root');
    const workers = await fetch(`${url}/v1/workers`, { headers: { Authorization: `Bearer ${admin}` } }).then((r) => r.json() as Promise<any>);
    expect(workers.workers).toEqual([expect.objectContaining({ workerId: one.amplification!.workerId, status: 'revoked' })]);
  });

  it('prints the KPI table and the lineage of v2 back to iteration 0', () => {
    const text = lines.join('\n');
    const [v1, v2] = report.proxies as [DemoReport['proxies'][number], DemoReport['proxies'][number]];
    expect(text).toContain('KPIs per iteration');
    expect(text).toMatch(/\n0 +humans +60 +480 +480 +0 +0 +0 /u);
    expect(text).toMatch(/\n1 +proxy v1 +60 +480 +\d+ +\d+ +\d+ +\d+ +\d+\.\d% +\d+\.\d% /u);
    expect(text).toContain(`lineage of ${short(v2.proxyVersionId)} (ancestors)`);
    expect(text).toContain(`parent: ${short(v1.proxyVersionId)}; teacher proxies: ${short(v1.proxyVersionId)}`);
    expect(text).toMatch(new RegExp(`trained on 60 queries answered by: .*proxy ${short(v1.proxyVersionId)} \\(60 queries\\)`, 'u'));
    expect(text).toContain('parent: none (iteration 0); teacher proxies: none (humans only)');
    expect(text).toMatch(/trained on 60 queries answered by: human human-ann \(60 queries\)/u);
    expect(text).toContain('offline verification: OK');
  });
});
