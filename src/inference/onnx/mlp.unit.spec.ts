import { describe, expect, it } from '@jest/globals';
import {
  accuracy,
  architectureOf,
  argmax,
  cloneMlp,
  createMlp,
  crossEntropy,
  logits,
  predict,
  softmax,
  trainMlp,
  type Example,
} from './mlp.js';
import { SeededRng } from './rng.js';

function oneHot(index: number, size: number): number[] {
  return Array.from({ length: size }, (_, i) => (i === index ? 1 : 0));
}

/** (a + b) mod 10 with one-hot digits: 100 examples, 20 features, 10 classes. */
const modularSum: Example[] = [];
for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) modularSum.push({ features: [...oneHot(a, 10), ...oneHot(b, 10)], label: (a + b) % 10 });

describe('SeededRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const c = new SeededRng(43);
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('gives uniform-looking floats, bounded ints and roughly standard normals', () => {
    const rng = new SeededRng(7);
    const floats = Array.from({ length: 10_000 }, () => rng.next());
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect(floats.reduce((s, x) => s + x, 0) / floats.length).toBeCloseTo(0.5, 1);
    const ints = new Set(Array.from({ length: 1000 }, () => rng.int(6)));
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const normals = Array.from({ length: 10_000 }, () => rng.normal());
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length;
    expect(mean).toBeCloseTo(0, 1);
    expect(variance).toBeGreaterThan(0.9);
    expect(variance).toBeLessThan(1.1);
  });
});

describe('softmax and argmax', () => {
  it('is stable for large scores and sums to 1', () => {
    const p = softmax([1000, 1001, 1002]);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(argmax(p)).toBe(2);
    expect(p[2]).toBeCloseTo(Math.exp(2) / (1 + Math.exp(1) + Math.exp(2)), 12);
  });

  it('argmax takes the first of equal values; -1 for nothing', () => {
    expect(argmax([1, 3, 3])).toBe(1);
    expect(argmax([])).toBe(-1);
  });
});

describe('MLP', () => {
  it('initialises deterministically and names its architecture', () => {
    const a = createMlp({ inputs: 20, hidden: [32, 16], classes: 10 }, 5);
    const b = createMlp({ inputs: 20, hidden: [32, 16], classes: 10 }, 5);
    expect(a.layers.map((l) => Array.from(l.weights))).toEqual(b.layers.map((l) => Array.from(l.weights)));
    expect(architectureOf(a)).toBe('mlp-20x32x16x10');
    expect(a.layers.map((l) => [l.inputs, l.outputs])).toEqual([[20, 32], [32, 16], [16, 10]]);
    expect(() => createMlp({ inputs: 0, hidden: [], classes: 3 }, 1)).toThrow(RangeError);
    expect(() => createMlp({ inputs: 3, hidden: [], classes: 1 }, 1)).toThrow(/2 classes/u);
  });

  it('computes the forward pass by hand for a 2-layer net', () => {
    const mlp = createMlp({ inputs: 2, hidden: [2], classes: 2 }, 1);
    mlp.layers[0]!.weights.set([1, -1, -1, 1]);
    mlp.layers[0]!.bias.set([0, 0.5]);
    mlp.layers[1]!.weights.set([2, 0, 0, 3]);
    mlp.layers[1]!.bias.set([0.1, -0.1]);
    // h = relu([1*3 - 1*1, -3 + 1 + 0.5]) = [2, 0]; out = [2*2 + 0.1, 0 - 0.1]
    expect(Array.from(logits(mlp, [3, 1]))).toEqual([Math.fround(4.1), Math.fround(-0.1)]);
    expect(predict(mlp, [3, 1]).index).toBe(0);
  });

  it('backpropagation matches finite differences of the loss', () => {
    const mlp = createMlp({ inputs: 20, hidden: [6], classes: 10 }, 3);
    const batch = modularSum.slice(0, 12);
    const learningRate = 1e-3;
    const after = cloneMlp(mlp);
    trainMlp(after, batch, { epochs: 1, batchSize: batch.length, learningRate, optimizer: 'sgd', momentum: 0 });
    const rng = new SeededRng(9);
    for (let trial = 0; trial < 12; trial++) {
      const l = rng.int(mlp.layers.length);
      const part = rng.int(4) === 0 ? 'bias' : 'weights';
      const k = rng.int(mlp.layers[l]![part].length);
      const analytic = (mlp.layers[l]![part][k]! - after.layers[l]![part][k]!) / learningRate;
      const eps = 1e-2;
      const plus = cloneMlp(mlp);
      plus.layers[l]![part][k]! += eps;
      const minus = cloneMlp(mlp);
      minus.layers[l]![part][k]! -= eps;
      const numeric = (crossEntropy(plus, batch) - crossEntropy(minus, batch)) / (2 * eps);
      expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
    }
  });

  it('learns (a + b) mod 10 from one-hot digits to 100% with Adam, deterministically', () => {
    const run = () => {
      const mlp = createMlp({ inputs: 20, hidden: [32], classes: 10 }, 11);
      const report = trainMlp(mlp, modularSum, { epochs: 150, batchSize: 16, learningRate: 0.01, seed: 2 });
      return { mlp, report };
    };
    const first = run();
    expect(first.report.trainAccuracy).toBe(1);
    expect(accuracy(first.mlp, modularSum)).toBe(1);
    expect(first.report.epochLosses.at(-1)!).toBeLessThan(first.report.epochLosses[0]! / 10);
    expect(first.report.steps).toBe(150 * Math.ceil(100 / 16));
    const second = run();
    expect(Array.from(second.mlp.layers[1]!.weights)).toEqual(Array.from(first.mlp.layers[1]!.weights));
  });

  it('learns a noisy-label task with SGD + momentum and generalises past the noise', () => {
    // Labels flipped on 10% of the training examples; the clean labels are learned anyway (majority wins).
    const rng = new SeededRng(4);
    const train: Example[] = [];
    for (let copy = 0; copy < 5; copy++) {
      for (const e of modularSum) train.push({ features: e.features, label: rng.next() < 0.1 ? (e.label + 1 + rng.int(9)) % 10 : e.label });
    }
    const mlp = createMlp({ inputs: 20, hidden: [48], classes: 10 }, 12);
    trainMlp(mlp, train, { epochs: 40, batchSize: 20, learningRate: 0.05, optimizer: 'sgd', momentum: 0.9, seed: 3 });
    expect(accuracy(mlp, modularSum)).toBeGreaterThanOrEqual(0.95);
  });

  it('refuses bad training input', () => {
    const mlp = createMlp({ inputs: 2, hidden: [], classes: 2 }, 1);
    expect(() => trainMlp(mlp, [], { epochs: 1, batchSize: 1, learningRate: 0.1 })).toThrow(/no training examples/u);
    expect(() => trainMlp(mlp, [{ features: [1, 2], label: 2 }], { epochs: 1, batchSize: 1, learningRate: 0.1 })).toThrow(/label 2/u);
    expect(() => trainMlp(mlp, [{ features: [1], label: 0 }], { epochs: 1, batchSize: 1, learningRate: 0.1 })).toThrow(/expected 2 features/u);
  });
});
