/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 */
import { describe, expect, it } from '@jest/globals';
import { SeededRng } from '../inference/onnx/rng.js';
import { allLeafQuestions, featureCount, featurise, modelInputFor } from './features.js';
import { formatKpiTable, formatLineage, iterationKpis } from './kpis.js';
import { HumanPool, SimulatedHuman } from './oracle.js';
import { compose, decompose, depthOf, groundTruth, leavesOf, parseQuestion, questionFor, randomDigits } from './task.js';
import { evaluateStudent, planStudent, splitHeldOut, trainStudent, transcriptLeaves, type QueryTree, type TranscriptLeaf, type TreeNode } from './training.js';
import { inputDigest } from '../inference/worker/result-signature.js';

describe('the task: sum mod 10 with recursive decomposition', () => {
  it('asks, parses and answers questions', () => {
    expect(questionFor([3, 5, 7, 9])).toBe('sum mod 10 of [3,5,7,9]');
    expect(parseQuestion('sum mod 10 of [3,5,7,9]')).toEqual([3, 5, 7, 9]);
    expect(parseQuestion('what is 2+2')).toBeNull();
    expect(groundTruth([3, 5, 7, 9])).toBe(4);
    expect(() => questionFor([10])).toThrow(RangeError);
  });

  it('decomposes into halves down to leaves of at most 2 digits, and composing the leaves gives the truth', () => {
    const rng = new SeededRng(3);
    for (const length of [1, 2, 3, 5, 8, 13]) {
      const digits = randomDigits(rng, length);
      const plan = decompose(digits, 2);
      const leaves = leavesOf(plan);
      expect(leaves.flatMap((l) => l.digits)).toEqual(digits);
      expect(leaves.every((l) => l.digits.length >= 1 && l.digits.length <= 2)).toBe(true);
      const solve = (node: typeof plan): number => (node.children.length === 0 ? groundTruth(node.digits) : compose(node.children.map(solve)));
      expect(solve(plan)).toBe(groundTruth(digits));
    }
    expect(depthOf(decompose([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(2);
    expect(leavesOf(decompose([1, 2, 3, 4, 5, 6, 7, 8])).map((l) => l.question)).toEqual([
      'sum mod 10 of [1,2]',
      'sum mod 10 of [3,4]',
      'sum mod 10 of [5,6]',
      'sum mod 10 of [7,8]',
    ]);
  });
});

describe('simulated humans', () => {
  it('err at about their error rate, always with a wrong digit, reproducibly', () => {
    const human = new SimulatedHuman('h', 0.2, 5);
    const rng = new SeededRng(1);
    let wrong = 0;
    for (let i = 0; i < 2000; i++) {
      const digits = randomDigits(rng, 2);
      const answer = human.answer(questionFor(digits));
      expect(answer).toMatch(/^\d$/u);
      if (answer !== String(groundTruth(digits))) wrong++;
    }
    expect(wrong).toBe(human.mistakes);
    expect(wrong / 2000).toBeGreaterThan(0.17);
    expect(wrong / 2000).toBeLessThan(0.23);
    const again = new SimulatedHuman('h', 0.2, 5);
    expect(again.answer('sum mod 10 of [1,2]')).toBe(new SimulatedHuman('h', 0.2, 5).answer('sum mod 10 of [1,2]'));
    expect(new SimulatedHuman('perfect', 0, 1).answer('sum mod 10 of [9,9]')).toBe('8');
  });

  it('answer in turn in a pool', () => {
    const pool = new HumanPool([new SimulatedHuman('a', 0, 1), new SimulatedHuman('b', 0, 2)]);
    expect([pool.pick(), pool.pick(), pool.pick()].map((h) => h.name)).toEqual(['a', 'b', 'a']);
  });
});

describe('featurisation', () => {
  it('one-hot per slot with an empty marker; the model input digest is stable', () => {
    expect(featureCount(2)).toBe(22);
    const f = featurise('sum mod 10 of [3,7]');
    expect(f.length).toBe(22);
    expect(f.map((x, i) => (x ? i : -1)).filter((i) => i >= 0)).toEqual([3, 11 + 7]);
    expect(featurise('sum mod 10 of [4]').map((x, i) => (x ? i : -1)).filter((i) => i >= 0)).toEqual([4, 11 + 10]);
    expect(() => featurise('sum mod 10 of [1,2,3]')).toThrow(RangeError);
    const input = modelInputFor('sum mod 10 of [3,7]');
    expect(input.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(inputDigest(input)).toBe(inputDigest(modelInputFor('sum mod 10 of [3,7]')));
    expect(allLeafQuestions(2)).toHaveLength(110);
  });
});

/** Synthetic transcripts of `count` queries answered by humans with `errorRate`, shaped like GET /v1/queries/:id. */
function syntheticTrees(count: number, errorRate: number, seed: number): QueryTree[] {
  const rng = new SeededRng(seed);
  const human = new SimulatedHuman('human-ann', errorRate, seed);
  let id = 0;
  const node = (question: string, answer: string | null, children: TreeNode[]): TreeNode => ({
    nodeId: `n${id++}`,
    question,
    depth: 0,
    status: 'answered',
    answer,
    originalAnswer: answer,
    answerKind: children.length ? 'composed' : 'human',
    answeredBy: { sub: 'human-ann', role: 'overseer' },
    answerProxyVersionId: null,
    confidence: null,
    overridden: false,
    overrides: [],
    escalations: [],
    jobs: [],
    children,
  });
  return Array.from({ length: count }, (_, q) => {
    const plan = decompose(randomDigits(rng, 16));
    const build = (p: typeof plan): TreeNode => (p.children.length ? node(p.question, null, p.children.map(build)) : node(p.question, human.answer(p.question), []));
    return { queryId: `q${q}`, task: plan.question, status: 'completed', root: build(plan) };
  });
}

describe('distillation of the demo student', () => {
  const trees = syntheticTrees(60, 0.05, 11);
  const leaves = trees.flatMap(transcriptLeaves);
  const queryIds = trees.map((t) => t.queryId);

  it('reads the leaves of a transcript with their teacher answers', () => {
    expect(leaves).toHaveLength(480);
    expect(leaves[0]).toMatchObject({ queryId: 'q0', answerKind: 'human', answeredBy: 'human-ann', overridden: false, escalated: false, assignedToProxy: false });
  });

  it('holds out a deterministic share of the queries; the plan digest commits to split, config and answers', () => {
    const split = splitHeldOut(queryIds, 0.2, 7);
    expect(split.heldOut).toHaveLength(12);
    expect(split).toEqual(splitHeldOut(queryIds, 0.2, 7));
    expect(splitHeldOut(['only'], 0.2, 7)).toEqual({ train: ['only'], heldOut: [] });
    const plan = planStudent(leaves, queryIds);
    expect(plan.trainingDigest).toMatch(/^sha256:[0-9a-f]{64}$/u);
    expect(planStudent(leaves, queryIds).trainingDigest).toBe(plan.trainingDigest);
    const changed = leaves.map((l, i) => (i === 0 ? { ...l, teacherAnswer: String((Number(l.teacherAnswer) + 1) % 10) } : l));
    expect(planStudent(changed, queryIds).trainingDigest).not.toBe(plan.trainingDigest);
  });

  it('learns from noisy human transcripts: high fidelity and truth agreement on held-out queries; drift 0 against itself', async () => {
    const student = trainStudent(leaves, queryIds);
    expect(student.architecture).toBe('mlp-22x48x10');
    expect(student.report.trainAccuracy).toBeGreaterThan(0.9);
    const evaluation = await evaluateStudent(student, leaves, 2, student.onnx);
    expect(evaluation.evaluatedOn).toBe('held-out');
    expect(evaluation.evaluatedLeaves).toBe(96);
    console.log(`student on held-out leaves: fidelity ${evaluation.fidelity}, truth ${evaluation.groundTruthAgreement}`);
    expect(evaluation.groundTruthAgreement).toBeGreaterThanOrEqual(0.85);
    expect(evaluation.fidelity).toBeGreaterThanOrEqual(0.8);
    expect(evaluation.drift).toBe(0);
    expect(['cpu', 'cuda']).toContain(evaluation.provider);
    const noParent = await evaluateStudent(student, leaves, 2, null);
    expect(noParent.drift).toBeNull();
  });
});

describe('printouts', () => {
  const leaf = (over: Partial<TranscriptLeaf>): TranscriptLeaf => ({
    queryId: 'q',
    nodeId: 'n',
    question: 'sum mod 10 of [1,2]',
    teacherAnswer: '3',
    answerKind: 'proxy',
    originalAnswer: '3',
    overridden: false,
    escalated: false,
    assignedToProxy: true,
    answeredBy: 'p1',
    ...over,
  });

  it('KPIs: override rate over proxy answers, escalation rate over proxy assignments, transcript accuracy', () => {
    const kpis = iterationKpis(1, 'proxy v1', 1, [
      leaf({}),
      leaf({ overridden: true, teacherAnswer: '3', originalAnswer: '4' }),
      leaf({ answerKind: 'human', escalated: true, answeredBy: 'human-ann' }),
      leaf({ teacherAnswer: '5' }),
    ]);
    expect(kpis).toMatchObject({ leaves: 4, humanAnswers: 1, proxyAnswers: 3, escalations: 1, overrides: 1, escalationRate: 0.25, transcriptAccuracy: 0.75 });
    expect(kpis.overrideRate).toBeCloseTo(1 / 3, 10);
    const human = iterationKpis(0, 'humans', 1, [leaf({ answerKind: 'human', assignedToProxy: false })]);
    expect(human.overrideRate).toBeNull();
    expect(human.escalationRate).toBeNull();
    const table = formatKpiTable([human, { ...kpis, student: { proxyVersionId: 'p2', fidelity: 0.9, groundTruthAgreement: 0.95, drift: 0.04 } }]);
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toContain('33.3%');
    expect(table).toContain('4.0%');
  });

  it('lineage: one block per proxy generation, back to the human iteration 0', () => {
    const text = formatLineage({
      root: 'v2',
      direction: 'ancestors',
      truncated: false,
      nodes: [
        { kind: 'proxy', id: 'v2', generation: 0, proxy: { name: 'sum-mod-10', version: '2', stage: 'candidate' } },
        { kind: 'run', id: 'v2', generation: 0, run: { status: 'completed' } },
        { kind: 'proxy', id: 'v1', generation: 1, proxy: { name: 'sum-mod-10', version: '1', stage: 'production' } },
        { kind: 'run', id: 'v1', generation: 1, run: { status: 'completed' } },
        { kind: 'query', id: 'q1', generation: 0 },
        { kind: 'query', id: 'q0', generation: 1 },
        { kind: 'human', id: 'human-ann', generation: 1 },
      ],
      edges: [
        { kind: 'registeredFrom', from: 'v2', fromKind: 'proxy', to: 'v2', toKind: 'run' },
        { kind: 'parent', from: 'v2', fromKind: 'run', to: 'v1', toKind: 'proxy' },
        { kind: 'teacher', from: 'v2', fromKind: 'run', to: 'v1', toKind: 'proxy' },
        { kind: 'trainedOn', from: 'v2', fromKind: 'run', to: 'q1', toKind: 'query' },
        { kind: 'answeredBy', from: 'q1', fromKind: 'query', to: 'v1', toKind: 'proxy' },
        { kind: 'answeredBy', from: 'q1', fromKind: 'query', to: 'human-ann', toKind: 'human' },
        { kind: 'registeredFrom', from: 'v1', fromKind: 'proxy', to: 'v1', toKind: 'run' },
        { kind: 'trainedOn', from: 'v1', fromKind: 'run', to: 'q0', toKind: 'query' },
        { kind: 'answeredBy', from: 'q0', fromKind: 'query', to: 'human-ann', toKind: 'human' },
      ],
    });
    expect(text).toBe(
      [
        'lineage of v2 (ancestors)',
        'gen 0: proxy v2 sum-mod-10@2 [candidate]',
        '  ← run v2 [completed]',
        '     parent: v1; teacher proxies: v1',
        '     trained on 1 queries answered by: human human-ann (1 queries), proxy v1 (1 queries)',
        'gen 1: proxy v1 sum-mod-10@1 [production]',
        '  ← run v1 [completed]',
        '     parent: none (iteration 0); teacher proxies: none (humans only)',
        '     trained on 1 queries answered by: human human-ann (1 queries)',
      ].join('\n'),
    );
  });
});
