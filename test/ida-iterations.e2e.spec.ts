/**
 * Two full IDA iterations through the HTTP API, as issue 3 asks: iteration 0 answered by humans, a distillation
 * run on it, proxy v1 promoted through its gates, iteration 1 answered by v1 with one low-confidence escalation
 * and one override, a recalibration, a second distillation to v2 — then v2's lineage walked back to iteration 0,
 * each run's dataset root recomputed from the transcripts it names, the live projections compared with a
 * rebuild from position 0, and the offline verifier run over the resulting ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { rootOfLeaves } from '../src/ledger/merkle.js';
import { checkDataset } from '../src/cli/dataset-check.js';
import { exportLedger, verifyOffline } from '../src/cli/offline-ledger.js';
import { exportPaths } from '../src/ledger/ledger-export.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { TestWorker } from './support/test-worker.js';

const TENANT = 'acme';
let t: TestApp;
const tokens: Record<string, string> = {};
const api = () => request(t.server);
/** The registered inference worker: v1's answers reach the ledger only through it (lease, grant, signed result). */
const worker = new TestWorker(() => t, 'gpu-acme-1');
function post(path: string, who: string, body: object = {}) {
  return api().post(path).set('Authorization', `Bearer ${tokens[who]}`).send(body);
}
function get(path: string, who: string) {
  return api().get(path).set('Authorization', `Bearer ${tokens[who]}`);
}

/** `a + b + c` split into one leaf per pair sum, like the algorithmic tasks of Christiano et al. 2018. */
const TASKS = [
  { task: 'sum 3 5 7 9', leaves: ['sum 3 5', 'sum 7 9'], answers: ['8', '16'], total: '24' },
  { task: 'sum 1 2 4 8', leaves: ['sum 1 2', 'sum 4 8'], answers: ['3', '12'], total: '15' },
];

async function openAndDecompose(task: (typeof TASKS)[number]) {
  const opened = await post('/v1/queries', 'pipeline', { task: task.task, input: { task: task.task } }).expect(201);
  const { queryId, rootNodeId } = opened.body as { queryId: string; rootNodeId: string };
  const split = await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/decompose`, 'pipeline', { subquestions: task.leaves }).expect(200);
  return { queryId, rootNodeId, leaves: split.body.childNodeIds as string[] };
}

async function composeAndComplete(queryId: string, rootNodeId: string, answer: string) {
  await post(`/v1/queries/${queryId}/nodes/${rootNodeId}/compose`, 'pipeline', { answer }).expect(200);
  await post(`/v1/queries/${queryId}/complete`, 'pipeline').expect(200);
}

/** The run's dataset root recomputed from the log alone: each named query's first `entryCount` leaf hashes. */
async function recomputeDatasetRoot(dataset: { transcripts: { queryId: string; entryCount: number }[] }): Promise<string> {
  const leaves: Buffer[] = [];
  for (const { queryId, entryCount } of dataset.transcripts) {
    const entries = await t.ledger.store.readStream(`query-${queryId}`);
    expect(entries.length).toBeGreaterThanOrEqual(entryCount);
    for (const e of entries.slice(0, entryCount)) leaves.push(Buffer.from(e.leafHash, 'hex'));
  }
  return rootOfLeaves(leaves).toString('hex');
}

async function distil(queryIds: string[], parentProxyVersionId: string | null, name: string, metrics: object) {
  const started = await post('/v1/distillation-runs', 'pipeline', {
    queryIds,
    ...(parentProxyVersionId === null ? {} : { parentProxyVersionId }),
    student: { name, architecture: 'mlp-2x16', hyperparameters: { epochs: 20, learningRate: 0.05 } },
    trainingDigest: `sha256:${'ab'.repeat(32)}`,
  }).expect(201);
  const runId = started.body.runId as string;
  const artifact = await api()
    .post('/v1/artifacts')
    .set('Authorization', `Bearer ${tokens['pipeline']}`)
    .set('Content-Type', 'application/octet-stream')
    .send(Buffer.from(`onnx-bytes-of-${name}`))
    .expect(201);
  await post(`/v1/distillation-runs/${runId}/complete`, 'pipeline', { artifactSha256: artifact.body.sha256, metrics }).expect(200);
  const run = await get(`/v1/distillation-runs/${runId}`, 'auditor').expect(200);
  return { runId, run: run.body };
}

beforeAll(async () => {
  t = await createTestApp();
  const roles = { pipeline: 'pipeline', overseer: 'overseer', auditor: 'auditor', admin: 'admin' } as const;
  for (const [name, role] of Object.entries(roles)) tokens[name] = await t.token(role, TENANT, `${name}-alice`);
  await worker.register(tokens['admin']!).expect(201);
});

afterAll(async () => {
  await t?.close();
});

describe('two IDA iterations over HTTP', () => {
  const state: Record<string, any> = {};

  it('the admin sets the promotion gates and the limits', async () => {
    await api()
      .put('/v1/tenant/settings')
      .set('Authorization', `Bearer ${tokens['admin']}`)
      .send({
        settings: {
          amplification: { defaultMaxDepth: 3, defaultConfidenceThreshold: 0.7, taskClasses: { arithmetic: { maxDepth: 2 } } },
          promotionGates: { minFidelity: 0.8, maxDrift: 0.2, minAgreement: 0.75, maxRecalibrationAgeDays: 30 },
        },
      })
      .expect(200);
  });

  it('iteration 0: humans answer every leaf, the pipeline composes, queries complete', async () => {
    state.iteration0 = [];
    state.leaves0 = [];
    for (const task of TASKS) {
      const q = await openAndDecompose(task);
      state.leaves0.push(q.leaves);
      for (const [i, leaf] of q.leaves.entries()) {
        await post(`/v1/queries/${q.queryId}/nodes/${leaf}/answer`, 'overseer', { answer: task.answers[i], confidence: 0.99 }).expect(200);
      }
      await composeAndComplete(q.queryId, q.rootNodeId, task.total);
      state.iteration0.push(q.queryId);
    }
  });

  it('distillation run 1 on iteration 0: teacher is the human pool only; v1 registered and promoted through its gates', async () => {
    const { runId, run } = await distil(state.iteration0, null, 'proxy-v1', {
      fidelity: 0.91,
      groundTruthAgreement: 0.9,
      drift: null,
      heldOutQueryIds: [],
    });
    expect(run.teacher).toEqual({ proxyVersionIds: [], humanPool: ['overseer-alice'] });
    expect(run.dataset.queryIds).toEqual(state.iteration0);
    state.run1 = run;

    const registered = await post('/v1/proxies', 'pipeline', { runId, name: 'summer', version: '1' }).expect(201);
    const v1 = registered.body.proxyVersionId as string;
    expect(v1).toBe(runId);
    state.v1 = v1;

    // Production before shadow, or without a recalibration: refused, nothing appended.
    const before = await t.ledger.store.size();
    await post(`/v1/proxies/${v1}/promote`, 'pipeline', { to: 'production' }).expect(409);
    await post(`/v1/proxies/${v1}/promote`, 'pipeline', { to: 'shadow' }).expect(200);
    const early = await post(`/v1/proxies/${v1}/promote`, 'pipeline', { to: 'production' }).expect(409);
    expect(early.body.code).toBe('PROXY.GATES_NOT_MET');
    expect(await t.ledger.store.size()).toBe(before + 1);

    await post(`/v1/proxies/${v1}/recalibrations`, 'pipeline', {
      samples: TASKS.flatMap((task, qi) =>
        task.leaves.map((_, li) => ({ queryId: state.iteration0[qi], nodeId: state.leaves0[qi][li], humanAnswer: task.answers[li], proxyAnswer: task.answers[li] })),
      ),
    }).expect(200);
    const promoted = await post(`/v1/proxies/${v1}/promote`, 'pipeline', { to: 'production' }).expect(200);
    expect(promoted.body).toMatchObject({ proxyVersionId: v1, stage: 'production' });
  });

  it('iteration 1: v1 answers the leaves; one low-confidence answer escalates to the overseer; one answer is overridden', async () => {
    state.iteration1 = [];
    state.leaves1 = [];
    for (const [qi, task] of TASKS.entries()) {
      const q = await openAndDecompose(task);
      state.leaves1.push(q.leaves);
      for (const [li, leaf] of q.leaves.entries()) {
        const assigned = await post(`/v1/queries/${q.queryId}/nodes/${leaf}/assign`, 'pipeline', { to: 'proxy', proxyVersionId: state.v1 }).expect(200);
        // The policy gate allowed v1 (production, fidelity 0.91, no drift: it has no parent).
        expect(assigned.body.jobs[0]).toMatchObject({ decision: 'allow' });
        const jobId = assigned.body.jobs[0].jobId as string;
        const lowConfidence = qi === 0 && li === 1;
        const result = await worker.infer(jobId, { answer: lowConfidence ? '17' : task.answers[li]!, confidence: lowConfidence ? 0.42 : 0.93 });
        expect(result.status).toBe(200);
        if (lowConfidence) {
          // The composed answer waits for the human.
          await post(`/v1/queries/${q.queryId}/nodes/${q.rootNodeId}/compose`, 'pipeline', { answer: task.total }).expect(409);
          const queue = await get('/v1/oversight/queue', 'overseer').expect(200);
          expect(queue.body.items).toEqual([expect.objectContaining({ queryId: q.queryId, nodeId: leaf, reason: 'low_confidence' })]);
          await post(`/v1/queries/${q.queryId}/nodes/${leaf}/answer`, 'overseer', { answer: task.answers[li] }).expect(200);
          const after = await get('/v1/oversight/queue', 'overseer').expect(200);
          expect(after.body.items).toEqual([]);
        }
      }
      if (qi === 1) {
        // The overseer disagrees with v1's answer to the first leaf.
        await post(`/v1/queries/${q.queryId}/nodes/${q.leaves[0]}/override`, 'overseer', {
          answer: '3 (checked by hand)',
          rationale: 'Spot check: restate with provenance',
        }).expect(200);
      }
      await composeAndComplete(q.queryId, q.rootNodeId, task.total);
      state.iteration1.push(q.queryId);
    }

    const tree = await get(`/v1/queries/${state.iteration1[0]}`, 'auditor').expect(200);
    const leaves = tree.body.root.children;
    expect(leaves.map((n: any) => n.answerKind)).toEqual(['proxy', 'human']);
    expect(leaves[0].answerProxyVersionId).toBe(state.v1);
    // The escalated leaf keeps v1's rejected result and the escalation, resolved by the overseer.
    expect(leaves[1].jobs[0].result).toMatchObject({ answer: '17', confidence: 0.42 });
    expect(leaves[1].escalations).toEqual([
      expect.objectContaining({ reason: 'low_confidence', confidence: 0.42, threshold: 0.7, resolvedBy: expect.objectContaining({ role: 'overseer' }) }),
    ]);
  });

  it('recalibration of v1 against the human answers of iteration 1', async () => {
    const res = await post(`/v1/proxies/${state.v1}/recalibrations`, 'pipeline', {
      samples: [
        { queryId: state.iteration1[0], nodeId: state.leaves1[0][1], humanAnswer: '16', proxyAnswer: '17' },
        { queryId: state.iteration1[0], nodeId: state.leaves1[0][0], humanAnswer: '8', proxyAnswer: '8' },
        { queryId: state.iteration1[1], nodeId: state.leaves1[1][0], humanAnswer: '3', proxyAnswer: '3' },
        { queryId: state.iteration1[1], nodeId: state.leaves1[1][1], humanAnswer: '12', proxyAnswer: '12' },
      ],
    }).expect(200);
    expect(res.body).toMatchObject({ agreement: 0.75, stage: 'production' });
  });

  it('distillation run 2 on iteration 1 with v1 as parent and teacher; v2 registered', async () => {
    const { runId, run } = await distil(state.iteration1, state.v1, 'proxy-v2', {
      fidelity: 0.94,
      groundTruthAgreement: 0.92,
      drift: 0.04,
      heldOutQueryIds: [],
    });
    expect(run.teacher).toEqual({ proxyVersionIds: [state.v1], humanPool: ['overseer-alice'] });
    expect(run.parentProxyVersionId).toBe(state.v1);
    state.run2 = run;
    const registered = await post('/v1/proxies', 'pipeline', { runId, name: 'summer', version: '2' }).expect(201);
    state.v2 = registered.body.proxyVersionId;
  });

  it("v2's lineage walks back to the purely human iteration 0", async () => {
    const lineage = await get(`/v1/lineage/${state.v2}?direction=ancestors`, 'auditor').expect(200);
    const ids = (kind: string) => lineage.body.nodes.filter((n: any) => n.kind === kind).map((n: any) => n.id).sort();
    expect(ids('proxy')).toEqual([state.v1, state.v2].sort());
    expect(ids('run')).toEqual([state.run1.runId, state.run2.runId].sort());
    expect(ids('query')).toEqual([...state.iteration0, ...state.iteration1].sort());
    expect(ids('human')).toContain('overseer-alice');
    // Iteration 0's queries were answered by humans only.
    const answeredBy = (queryId: string) =>
      lineage.body.edges.filter((e: any) => e.kind === 'answeredBy' && e.from === queryId).map((e: any) => e.to);
    for (const queryId of state.iteration0) expect(answeredBy(queryId)).toEqual(['overseer-alice']);
    for (const queryId of state.iteration1) expect(answeredBy(queryId)).toEqual(expect.arrayContaining([state.v1]));

    const descendants = await get(`/v1/lineage/${state.v1}?direction=descendants`, 'auditor').expect(200);
    expect(descendants.body.nodes.map((n: any) => n.id)).toContain(state.v2);

    const impact = await get(`/v1/proxies/${state.v1}/impact`, 'auditor').expect(200);
    expect(impact.body.answers).toHaveLength(4);
    expect(impact.body.answers.filter((a: any) => a.escalated)).toHaveLength(1);
    expect(impact.body.answers.filter((a: any) => a.overridden)).toHaveLength(1);
  });

  it("each run's dataset root matches the transcripts it names", async () => {
    for (const run of [state.run1, state.run2]) {
      expect(await recomputeDatasetRoot(run.dataset)).toBe(run.dataset.transcriptRoot);
    }
  });

  it('the live projections equal a rebuild from position 0, and the offline verifier passes', async () => {
    const live = await get('/v1/projections', 'auditor').expect(200);
    const { rebuildProjectionsFromDataDir } = await import('../src/projections/projection-rebuild.js');
    const rebuilt = await rebuildProjectionsFromDataDir(t.dataDir);
    const digests = (list: { name: string; digest: string }[]) => Object.fromEntries(list.map((p) => [p.name, p.digest]));
    expect(Object.keys(digests(live.body.projections)).sort()).toEqual(['decision-trees', 'lineage', 'oversight-queue', 'proxy-impact']);
    expect(digests(rebuilt)).toEqual(digests(live.body.projections));

    // As an auditor would: export, then verify the export alone (signatures, chains, Merkle root, checkpoints).
    const exportDir = join(t.dataDir, 'export');
    const exported = await exportLedger(t.dataDir, exportDir);
    expect(exported.entries).toBe(await t.ledger.store.size());
    const report = await verifyOffline({ exportDir });
    expect(report.ok).toBe(true);

    // Which answers trained each student, proved from the export alone.
    for (const run of [state.run1, state.run2]) {
      expect(await checkDataset({ exportDir }, run.runId)).toMatchObject({ ok: true, transcriptRoot: run.dataset.transcriptRoot });
    }
    expect(await checkDataset({ exportDir }, 'no-such-run')).toMatchObject({ ok: false });
    // An answer changed in a transcript no longer gives the recorded root.
    const lines = readFileSync(exportPaths(exportDir).entries, 'utf8').split('\n');
    const answered = lines.findIndex((line) => line.includes('"HumanAnswerRecorded"') && line.includes(state.iteration0[0]));
    lines[answered] = lines[answered]!.replace('"answer":"8"', '"answer":"9"');
    writeFileSync(exportPaths(exportDir).entries, lines.join('\n'));
    expect(await checkDataset({ exportDir }, state.run1.runId)).toMatchObject({ ok: false, reason: expect.stringContaining('transcriptRoot') });
  });
});
