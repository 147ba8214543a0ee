/**
 * A multi-layer perceptron in plain TypeScript (Float32Array math): dense layers with ReLU between them and
 * a softmax head, trained with mini-batch SGD (momentum) or Adam on the cross-entropy loss. Small and
 * deterministic (seeded init and shuffling): the students of the demo's distillation runs, exported to ONNX by
 * onnx-export.ts. No Nest, no I/O.
 */
import { SeededRng } from './rng.js';

/** A dense layer `y = W x + b`; `weights` is row-major `[outputs][inputs]` (ONNX Gemm with transB = 1). */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float32Array;
  bias: Float32Array;
}

/** Layers applied in order, ReLU after every layer but the last; the last layer's outputs are the logits. */
export interface Mlp {
  inputs: number;
  classes: number;
  layers: DenseLayer[];
}

export interface MlpSpec {
  inputs: number;
  /** Widths of the hidden layers, e.g. `[32]`; `[]` is a linear softmax classifier. */
  hidden: number[];
  classes: number;
}

export interface Example {
  features: ArrayLike<number>;
  /** Class index in `[0, classes)`. */
  label: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Default `adam`. */
  optimizer?: 'adam' | 'sgd';
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** L2 weight decay added to the gradient of the weights (not biases); default 0. */
  weightDecay?: number;
  /** Seed of the shuffling (default 1). */
  seed?: number;
  /** Called after each epoch with its mean loss and training accuracy. */
  onEpoch?: (epoch: number, loss: number, accuracy: number) => void;
}

export interface TrainReport {
  /** Mean cross-entropy of each epoch (over the examples, as seen during that epoch). */
  epochLosses: number[];
  /** Accuracy on the training set after the last epoch. */
  trainAccuracy: number;
  steps: number;
}

/** A short, stable name of the architecture, e.g. `mlp-20x32x10` (inputs, hidden widths, classes). */
export function architectureOf(mlp: Pick<Mlp, 'inputs' | 'classes' | 'layers'>): string {
  return `mlp-${[mlp.inputs, ...mlp.layers.slice(0, -1).map((l) => l.outputs), mlp.classes].join('x')}`;
}

/** He-initialised weights (normal, std √(2/fan-in)), zero biases. */
export function createMlp(spec: MlpSpec, seed: number): Mlp {
  for (const [name, value] of [['inputs', spec.inputs], ['classes', spec.classes], ...spec.hidden.map((h) => ['hidden', h] as const)] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (spec.classes < 2) throw new RangeError('a softmax head needs at least 2 classes');
  const rng = new SeededRng(seed);
  const widths = [spec.inputs, ...spec.hidden, spec.classes];
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const inputs = widths[i]!;
    const outputs = widths[i + 1]!;
    const weights = new Float32Array(inputs * outputs);
    const std = Math.sqrt(2 / inputs);
    for (let k = 0; k < weights.length; k++) weights[k] = rng.normal() * std;
    layers.push({ inputs, outputs, weights, bias: new Float32Array(outputs) });
  }
  return { inputs: spec.inputs, classes: spec.classes, layers };
}

/** A deep copy (training mutates the weights in place). */
export function cloneMlp(mlp: Mlp): Mlp {
  return {
    inputs: mlp.inputs,
    classes: mlp.classes,
    layers: mlp.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weights: l.weights.slice(), bias: l.bias.slice() })),
  };
}

/** Numerically stable softmax (in double precision). */
export function softmax(scores: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]!);
  const out = new Array<number>(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = Math.exp(scores[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Index of the largest value (the first one on ties); -1 for an empty input. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || values[i]! > values[best]!) best = i;
  return best;
}

/** `out[b][o] = b_o + Σ_i W[o][i] in[b][i]` for a batch stored row-major. */
function denseForward(layer: DenseLayer, input: Float32Array, batch: number, out: Float32Array): void {
  const { inputs, outputs, weights, bias } = layer;
  for (let b = 0; b < batch; b++) {
    const inOffset = b * inputs;
    const outOffset = b * outputs;
    for (let o = 0; o < outputs; o++) {
      let sum = bias[o]!;
      const wOffset = o * inputs;
      for (let i = 0; i < inputs; i++) sum += weights[wOffset + i]! * input[inOffset + i]!;
      out[outOffset + o] = sum;
    }
  }
}

function relu(values: Float32Array, length: number): void {
  for (let k = 0; k < length; k++) if (values[k]! < 0) values[k] = 0;
}

function toBatch(mlp: Mlp, rows: readonly ArrayLike<number>[]): Float32Array {
  const x = new Float32Array(rows.length * mlp.inputs);
  rows.forEach((row, b) => {
    if (row.length !== mlp.inputs) throw new RangeError(`expected ${mlp.inputs} features, got ${row.length}`);
    for (let i = 0; i < mlp.inputs; i++) x[b * mlp.inputs + i] = row[i]!;
  });
  return x;
}

/** Logits `[batch * classes]` for a row-major batch `x` of `batch` rows. */
export function forwardBatch(mlp: Mlp, x: Float32Array, batch: number): Float32Array {
  let current = x;
  for (const [index, layer] of mlp.layers.entries()) {
    const out = new Float32Array(batch * layer.outputs);
    denseForward(layer, current, batch, out);
    if (index < mlp.layers.length - 1) relu(out, out.length);
    current = out;
  }
  return current;
}

/** The logits of one example (what the exported ONNX model outputs as `scores`, without its optional Softmax). */
export function logits(mlp: Mlp, features: ArrayLike<number>): Float32Array {
  return forwardBatch(mlp, toBatch(mlp, [features]), 1);
}

export interface Prediction {
  index: number;
  probabilities: number[];
  confidence: number;
}

export function predict(mlp: Mlp, features: ArrayLike<number>): Prediction {
  const probabilities = softmax(logits(mlp, features));
  const index = argmax(probabilities);
  return { index, probabilities, confidence: probabilities[index]! };
}

/** Predicted class of each row. */
export function predictBatch(mlp: Mlp, rows: readonly ArrayLike<number>[]): number[] {
  const out = forwardBatch(mlp, toBatch(mlp, rows), rows.length);
  return rows.map((_, b) => argmax(out.subarray(b * mlp.classes, (b + 1) * mlp.classes)));
}

/** Share of examples whose predicted class is their label (0 for none). */
export function accuracy(mlp: Mlp, examples: readonly Example[]): number {
  if (examples.length === 0) return 0;
  const predicted = predictBatch(mlp, examples.map((e) => e.features));
  let correct = 0;
  predicted.forEach((p, i) => {
    if (p === examples[i]!.label) correct++;
  });
  return correct / examples.length;
}

/** Mean softmax cross-entropy of `examples` (natural log). */
export function crossEntropy(mlp: Mlp, examples: readonly Example[]): number {
  if (examples.length === 0) return 0;
  const out = forwardBatch(mlp, toBatch(mlp, examples.map((e) => e.features)), examples.length);
  let sum = 0;
  examples.forEach((e, b) => {
    const p = softmax(out.subarray(b * mlp.classes, (b + 1) * mlp.classes));
    sum += -Math.log(Math.max(p[e.label]!, 1e-12));
  });
  return sum / examples.length;
}

interface OptimizerState {
  step: number;
  /** First moments (Adam) / velocities (SGD), per layer: weights then bias. */
  m: { weights: Float32Array; bias: Float32Array }[];
  /** Second moments (Adam only). */
  v: { weights: Float32Array; bias: Float32Array }[];
}

/**
 * Trains `mlp` in place on `examples` (mini-batch, softmax cross-entropy). Deterministic for a given seed:
 * shuffling is seeded and the arithmetic is sequential.
 */
export function trainMlp(mlp: Mlp, examples: readonly Example[], options: TrainOptions): TrainReport {
  if (examples.length === 0) throw new RangeError('no training examples');
  if (!Number.isSafeInteger(options.epochs) || options.epochs < 0) throw new RangeError('epochs must be a non-negative integer');
  if (!Number.isSafeInteger(options.batchSize) || options.batchSize <= 0) throw new RangeError('batchSize must be a positive integer');
  if (!(options.learningRate > 0)) throw new RangeError('learningRate must be positive');
  for (const e of examples) {
    if (!Number.isInteger(e.label) || e.label < 0 || e.label >= mlp.classes) throw new RangeError(`label ${e.label} outside [0, ${mlp.classes})`);
    if (e.features.length !== mlp.inputs) throw new RangeError(`expected ${mlp.inputs} features, got ${e.features.length}`);
  }
  const optimizer = options.optimizer ?? 'adam';
  const momentum = options.momentum ?? 0.9;
  const weightDecay = options.weightDecay ?? 0;
  const rng = new SeededRng(options.seed ?? 1);
  const zeros = () => mlp.layers.map((l) => ({ weights: new Float32Array(l.weights.length), bias: new Float32Array(l.bias.length) }));
  const state: OptimizerState = { step: 0, m: zeros(), v: optimizer === 'adam' ? zeros() : [] };
  const grads = zeros();

  const maxBatch = Math.min(options.batchSize, examples.length);
  // Activations per layer boundary: acts[0] = input, acts[l+1] = output of layer l (post-ReLU for hidden layers).
  const acts = [new Float32Array(maxBatch * mlp.inputs), ...mlp.layers.map((l) => new Float32Array(maxBatch * l.outputs))];
  const deltas = mlp.layers.map((l) => new Float32Array(maxBatch * l.outputs));

  const order = examples.map((_, i) => i);
  const epochLosses: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < order.length; start += maxBatch) {
      const batch = Math.min(maxBatch, order.length - start);
      const x = acts[0]!;
      for (let b = 0; b < batch; b++) {
        const features = examples[order[start + b]!]!.features;
        for (let i = 0; i < mlp.inputs; i++) x[b * mlp.inputs + i] = features[i]!;
      }
      // Forward.
      mlp.layers.forEach((layer, l) => {
        denseForward(layer, acts[l]!, batch, acts[l + 1]!);
        if (l < mlp.layers.length - 1) relu(acts[l + 1]!, batch * layer.outputs);
      });
      // Softmax cross-entropy: delta of the logits = (p - onehot) / batch.
      const last = mlp.layers.length - 1;
      const out = acts[last + 1]!;
      const delta = deltas[last]!;
      const classes = mlp.classes;
      for (let b = 0; b < batch; b++) {
        const label = examples[order[start + b]!]!.label;
        const row = out.subarray(b * classes, (b + 1) * classes);
        const p = softmax(row);
        if (argmax(p) === label) correct++;
        lossSum += -Math.log(Math.max(p[label]!, 1e-12));
        for (let c = 0; c < classes; c++) delta[b * classes + c] = (p[c]! - (c === label ? 1 : 0)) / batch;
      }
      // Backward.
      for (let l = last; l >= 0; l--) {
        const layer = mlp.layers[l]!;
        const input = acts[l]!;
        const d = deltas[l]!;
        const g = grads[l]!;
        g.weights.fill(0);
        g.bias.fill(0);
        for (let b = 0; b < batch; b++) {
          for (let o = 0; o < layer.outputs; o++) {
            const dv = d[b * layer.outputs + o]!;
            if (dv === 0) continue;
            g.bias[o]! += dv;
            const wOffset = o * layer.inputs;
            const inOffset = b * layer.inputs;
            for (let i = 0; i < layer.inputs; i++) g.weights[wOffset + i]! += dv * input[inOffset + i]!;
          }
        }
        if (l > 0) {
          // Delta of the previous layer's (post-ReLU) output, masked by the ReLU.
          const prev = deltas[l - 1]!;
          for (let b = 0; b < batch; b++) {
            for (let i = 0; i < layer.inputs; i++) {
              if (input[b * layer.inputs + i]! <= 0) {
                prev[b * layer.inputs + i] = 0;
                continue;
              }
              let sum = 0;
              for (let o = 0; o < layer.outputs; o++) sum += d[b * layer.outputs + o]! * layer.weights[o * layer.inputs + i]!;
              prev[b * layer.inputs + i] = sum;
            }
          }
        }
        if (weightDecay > 0) for (let k = 0; k < g.weights.length; k++) g.weights[k]! += weightDecay * layer.weights[k]!;
      }
      applyUpdate(mlp, grads, state, optimizer, options.learningRate, momentum);
    }
    const loss = lossSum / order.length;
    epochLosses.push(loss);
    options.onEpoch?.(epoch, loss, correct / order.length);
  }
  return { epochLosses, trainAccuracy: accuracy(mlp, examples), steps: state.step };
}

function applyUpdate(
  mlp: Mlp,
  grads: { weights: Float32Array; bias: Float32Array }[],
  state: OptimizerState,
  optimizer: 'adam' | 'sgd',
  learningRate: number,
  momentum: number,
): void {
  state.step++;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const epsilon = 1e-8;
  const correction1 = 1 - beta1 ** state.step;
  const correction2 = 1 - beta2 ** state.step;
  mlp.layers.forEach((layer, l) => {
    for (const part of ['weights', 'bias'] as const) {
      const param = layer[part];
      const grad = grads[l]![part];
      const m = state.m[l]![part];
      if (optimizer === 'adam') {
        const v = state.v[l]![part];
        for (let k = 0; k < param.length; k++) {
          const gk = grad[k]!;
          m[k] = beta1 * m[k]! + (1 - beta1) * gk;
          v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk;
          param[k]! -= (learningRate * (m[k]! / correction1)) / (Math.sqrt(v[k]! / correction2) + epsilon);
        }
      } else {
        for (let k = 0; k < param.length; k++) {
          m[k] = momentum * m[k]! + grad[k]!;
          param[k]! -= learningRate * m[k]!;
        }
      }
    }
  });
}
