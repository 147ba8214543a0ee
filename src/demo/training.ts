/**
 * Distillation for the demo: leaf transcripts (read back from the ledger's decision trees) → training examples
 * → an MLP student → ONNX artifact → evaluation of that artifact with onnxruntime:
 * - fidelity: agreement of the student with the teacher (the transcripts' current answers: a human's, a
 *   proxy's, or an overseer's override) on the held-out queries' leaves;
 * - groundTruthAgreement: agreement with the true answer on those leaves (the simulation knows it);
 * - drift: share of all leaf questions where the student and its parent disagree (null without a parent).
 * Pure functions over data; no HTTP.
 */
import { canonicalJson } from '../ledger/canonical-json.js';
import type { JsonValue } from '../ledger/entry.js';
import { architectureOf, createMlp, softmax, argmax, trainMlp, type Example, type Mlp, type TrainReport } from '../inference/onnx/mlp.js';
import { exportMlpToOnnx } from '../inference/onnx/onnx-export.js';
import { runOnnxBatch, sha256Digest, type ExecutionProvider } from '../inference/onnx/run-onnx.js';
import { SeededRng } from '../inference/onnx/rng.js';
import { allLeafQuestions, featureCount, featurise, FEATURISATION } from './features.js';
import { ANSWER_LABELS, groundTruth, MODULUS, parseQuestion } from './task.js';

/** The parts of `GET /v1/queries/:id` (a decision tree node) the demo reads. */
export interface TreeNode {
  nodeId: string;
  question: string;
  depth: number;
  status: string;
  answer: string | null;
  originalAnswer: string | null;
  answerKind: 'human' | 'proxy' | 'ensemble' | 'composed' | null;
  answeredBy: { sub: string; role: string } | null;
  answerProxyVersionId: string | null;
  confidence: number | null;
  overridden: boolean;
  overrides: { answer: string; previousAnswer: string; by: { sub: string } }[];
  escalations: { reason: string; confidence: number | null; resolvedAt: string | null }[];
  jobs: { jobId: string; proxyVersionId: string; status: string; result: { answer: string; confidence: number } | null }[];
  children: TreeNode[];
}

export interface QueryTree {
  queryId: string;
  task: string;
  status: string;
  root: TreeNode;
}

/** One leaf of a transcript: the question and the teacher's (current) answer. */
export interface TranscriptLeaf {
  queryId: string;
  nodeId: string;
  question: string;
  teacherAnswer: string;
  answerKind: TreeNode['answerKind'];
  /** The answer before any override (the human's or the proxy's). */
  originalAnswer: string;
  overridden: boolean;
  escalated: boolean;
  /** Whether a proxy job was requested for the leaf. */
  assignedToProxy: boolean;
  answeredBy: string | null;
}

export function transcriptLeaves(tree: QueryTree): TranscriptLeaf[] {
  const out: TranscriptLeaf[] = [];
  const walk = (node: TreeNode) => {
    if (node.children.length > 0) return node.children.forEach(walk);
    if (node.answer === null) return;
    out.push({
      queryId: tree.queryId,
      nodeId: node.nodeId,
      question: node.question,
      teacherAnswer: node.answer,
      answerKind: node.answerKind,
      originalAnswer: node.originalAnswer ?? node.answer,
      overridden: node.overridden,
      escalated: node.escalations.length > 0,
      assignedToProxy: node.jobs.length > 0,
      answeredBy: node.answerKind === 'proxy' ? node.answerProxyVersionId : (node.answeredBy?.sub ?? null),
    });
  };
  walk(tree.root);
  return out;
}

/** Teacher answers as examples; answers that are not a digit (e.g. "3 (checked by hand)") are skipped. */
export function examplesFrom(leaves: readonly TranscriptLeaf[], slots: number): Example[] {
  const out: Example[] = [];
  for (const leaf of leaves) {
    const label = ANSWER_LABELS.indexOf(leaf.teacherAnswer.trim());
    const digits = parseQuestion(leaf.question);
    if (label < 0 || digits === null || digits.length > slots) continue;
    out.push({ features: featurise(leaf.question, slots), label });
  }
  return out;
}

/** Deterministic split of query ids: `fraction` of them (at least one when there are two or more) held out. */
export function splitHeldOut(queryIds: readonly string[], fraction: number, seed: number): { train: string[]; heldOut: string[] } {
  const count = queryIds.length < 2 ? 0 : Math.max(1, Math.round(queryIds.length * fraction));
  const shuffled = new SeededRng(seed).shuffle([...queryIds]);
  const heldOut = new Set(shuffled.slice(0, count));
  return { train: queryIds.filter((q) => !heldOut.has(q)), heldOut: queryIds.filter((q) => heldOut.has(q)) };
}

export interface StudentConfig {
  slots: number;
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  heldOutFraction: number;
}

export const DEFAULT_STUDENT: StudentConfig = { slots: 2, hidden: [48], epochs: 60, batchSize: 16, learningRate: 0.01, seed: 7, heldOutFraction: 0.2 };

export interface TrainedStudent {
  mlp: Mlp;
  architecture: string;
  hyperparameters: { [key: string]: JsonValue };
  report: TrainReport;
  onnx: Uint8Array;
  artifactSha256: string;
  /** `sha256:` of RFC 8785 JSON of everything that determines the model: featurisation, config, examples. */
  trainingDigest: string;
  trainQueryIds: string[];
  heldOutQueryIds: string[];
  examples: number;
}

/** What a run trains on and how, fixed before training: the split, the examples and their digest. */
export interface StudentPlan {
  config: StudentConfig;
  hyperparameters: { [key: string]: JsonValue };
  trainQueryIds: string[];
  heldOutQueryIds: string[];
  examples: Example[];
  /** `sha256:` of RFC 8785 JSON of the featurisation, the hyperparameters, the split and every training answer. */
  trainingDigest: string;
}

export function planStudent(leaves: readonly TranscriptLeaf[], queryIds: readonly string[], config: StudentConfig = DEFAULT_STUDENT): StudentPlan {
  const { train, heldOut } = splitHeldOut(queryIds, config.heldOutFraction, config.seed);
  const trainSet = new Set(train);
  const trainingLeaves = leaves.filter((l) => trainSet.has(l.queryId));
  const examples = examplesFrom(trainingLeaves, config.slots);
  const hyperparameters = {
    featurisation: FEATURISATION,
    slots: config.slots,
    hidden: config.hidden,
    optimizer: 'adam',
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    seed: config.seed,
    heldOutFraction: config.heldOutFraction,
  };
  const trainingDigest = sha256Digest(
    canonicalJson({
      hyperparameters,
      trainQueryIds: train,
      heldOutQueryIds: heldOut,
      examples: trainingLeaves.map((l) => ({ queryId: l.queryId, nodeId: l.nodeId, question: l.question, answer: l.teacherAnswer })),
    }),
  );
  return { config, hyperparameters, trainQueryIds: train, heldOutQueryIds: heldOut, examples, trainingDigest };
}

/** Trains the planned student (deterministic) and exports it to ONNX. */
export function fitStudent(plan: StudentPlan): TrainedStudent {
  const { config, examples } = plan;
  if (examples.length === 0) throw new Error('no usable training examples in the transcripts');
  const mlp = createMlp({ inputs: featureCount(config.slots), hidden: config.hidden, classes: MODULUS }, config.seed);
  const report = trainMlp(mlp, examples, { epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, seed: config.seed });
  const onnx = exportMlpToOnnx(mlp, { docString: `ida-ledger demo student ${plan.trainingDigest}`, metadata: { 'ida.trainingDigest': plan.trainingDigest } });
  return {
    mlp,
    architecture: architectureOf(mlp),
    hyperparameters: plan.hyperparameters,
    report,
    onnx,
    artifactSha256: sha256Digest(onnx),
    trainingDigest: plan.trainingDigest,
    trainQueryIds: plan.trainQueryIds,
    heldOutQueryIds: plan.heldOutQueryIds,
    examples: examples.length,
  };
}

/** {@link planStudent} then {@link fitStudent}. */
export function trainStudent(leaves: readonly TranscriptLeaf[], queryIds: readonly string[], config: StudentConfig = DEFAULT_STUDENT): TrainedStudent {
  return fitStudent(planStudent(leaves, queryIds, config));
}

/** The architecture name a plan will produce (for the run's `student` before training). */
export function plannedArchitecture(config: StudentConfig): string {
  return `mlp-${[featureCount(config.slots), ...config.hidden, MODULUS].join('x')}`;
}

export interface Prediction {
  answer: string;
  confidence: number;
}

/** Answers of an ONNX model to leaf questions, run with onnxruntime (what a worker would answer). */
export async function predictWithOnnx(
  onnx: Uint8Array,
  questions: readonly string[],
  slots: number,
  executionProviders?: ExecutionProvider[],
): Promise<{ predictions: Prediction[]; provider: ExecutionProvider }> {
  if (questions.length === 0) return { predictions: [], provider: 'cpu' };
  const results = await runOnnxBatch(onnx, questions.map((q) => featurise(q, slots)), executionProviders ? { executionProviders } : {});
  return {
    predictions: results.map((r) => {
      const p = r.scoresKind === 'probabilities' ? Array.from(r.scores) : softmax(r.scores);
      const index = argmax(p);
      return { answer: ANSWER_LABELS[index] ?? String(index), confidence: p[index]! };
    }),
    provider: results[0]!.provider,
  };
}

export interface Evaluation {
  fidelity: number;
  groundTruthAgreement: number;
  drift: number | null;
  /** Leaves the fidelity and agreement were measured on. */
  evaluatedLeaves: number;
  /** Which leaves: the held-out queries' (or, with none held out, all of them). */
  evaluatedOn: 'held-out' | 'training';
  provider: ExecutionProvider;
}

function share(agreeing: number, total: number): number {
  return total === 0 ? 0 : Math.round((agreeing / total) * 1e6) / 1e6;
}

/** Evaluates the exported student (ONNX, as workers will run it) against teacher, truth and parent. */
export async function evaluateStudent(
  student: Pick<TrainedStudent, 'onnx' | 'heldOutQueryIds'>,
  leaves: readonly TranscriptLeaf[],
  slots: number,
  parentOnnx: Uint8Array | null,
): Promise<Evaluation> {
  const heldOut = new Set(student.heldOutQueryIds);
  const usable = (l: TranscriptLeaf) => {
    const digits = parseQuestion(l.question);
    return digits !== null && digits.length <= slots;
  };
  let evaluated = leaves.filter((l) => heldOut.has(l.queryId) && usable(l));
  const evaluatedOn = evaluated.length > 0 ? 'held-out' : 'training';
  if (evaluated.length === 0) evaluated = leaves.filter(usable);
  const { predictions, provider } = await predictWithOnnx(student.onnx, evaluated.map((l) => l.question), slots);
  let teacherAgrees = 0;
  let truthAgrees = 0;
  predictions.forEach((p, i) => {
    const leaf = evaluated[i]!;
    if (p.answer === leaf.teacherAnswer.trim()) teacherAgrees++;
    if (p.answer === String(groundTruth(parseQuestion(leaf.question)!))) truthAgrees++;
  });
  let drift: number | null = null;
  if (parentOnnx !== null) {
    const space = allLeafQuestions(slots);
    const mine = await predictWithOnnx(student.onnx, space, slots);
    const parents = await predictWithOnnx(parentOnnx, space, slots);
    const differ = mine.predictions.filter((p, i) => p.answer !== parents.predictions[i]!.answer).length;
    drift = share(differ, space.length);
  }
  return {
    fidelity: share(teacherAgrees, evaluated.length),
    groundTruthAgreement: share(truthAgrees, evaluated.length),
    drift,
    evaluatedLeaves: evaluated.length,
    evaluatedOn,
    provider,
  };
}
