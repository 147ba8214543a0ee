/**
 * @jest-environment ./src/inference/onnx/ort-jest-environment.cjs
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import onnxProto from 'onnx-proto';
import { createMlp, logits, softmax, trainMlp, type Example } from './mlp.js';
import { exportMlpToOnnx, importMlpFromOnnx, onnxMetadata, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-export.js';
import { OnnxSessionCache, runOnnx, runOnnxBatch, sha256Digest } from './run-onnx.js';
import { buildTestMlp, buildTestModel } from './test-model.js';
import { SeededRng } from './rng.js';

const { onnx } = onnxProto;
const cache = new OnnxSessionCache();
afterAll(() => cache.clear());

function randomRows(count: number, width: number, seed: number): number[][] {
  const rng = new SeededRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: width }, () => rng.normal()));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(expected[i]!)));
}

describe('ONNX export of an MLP', () => {
  it('writes a valid ModelProto: opset 13, Gemm/Relu, float32 initializers, features → scores with a dynamic batch', () => {
    const mlp = createMlp({ inputs: 6, hidden: [5, 4], classes: 3 }, 1);
    const model = onnx.ModelProto.decode(exportMlpToOnnx(mlp));
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    const graph = model.graph!;
    expect(graph.node!.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(graph.input!.map((i) => i.name)).toEqual([ONNX_INPUT_NAME]);
    expect(graph.output!.map((o) => o.name)).toEqual([ONNX_OUTPUT_NAME]);
    const dims = graph.input![0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 6]);
    expect(graph.initializer!.map((t) => [t.name, t.dims!.map(Number), t.dataType])).toEqual([
      ['layer0.weight', [5, 6], 1],
      ['layer0.bias', [5], 1],
      ['layer1.weight', [4, 5], 1],
      ['layer1.bias', [4], 1],
      ['layer2.weight', [3, 4], 1],
      ['layer2.bias', [3], 1],
    ]);
    expect(onnxMetadata(exportMlpToOnnx(mlp, { metadata: { run: 'r1' } }))).toEqual({
      'ida.architecture': 'mlp-6x5x4x3',
      'ida.scores': 'logits',
      run: 'r1',
    });
  });

  it('is deterministic: same weights, same bytes (so the same artifact digest)', () => {
    expect(sha256Digest(buildTestModel(3, 10, 4))).toBe(sha256Digest(buildTestModel(3, 10, 4)));
    expect(sha256Digest(buildTestModel(3, 10, 4))).not.toBe(sha256Digest(buildTestModel(4, 10, 4)));
  });

  it('round-trips through importMlpFromOnnx bit for bit', () => {
    const mlp = buildTestMlp(8, 7, 3, { hidden: [9, 5] });
    const back = importMlpFromOnnx(exportMlpToOnnx(mlp, { softmax: true }));
    expect(back.scores).toBe('probabilities');
    expect(back.mlp.layers.map((l) => [l.inputs, l.outputs])).toEqual(mlp.layers.map((l) => [l.inputs, l.outputs]));
    back.mlp.layers.forEach((l, i) => {
      expect(Array.from(l.weights)).toEqual(Array.from(mlp.layers[i]!.weights));
      expect(Array.from(l.bias)).toEqual(Array.from(mlp.layers[i]!.bias));
    });
  });

  it('onnxruntime gives the TypeScript forward pass (logits), one row and a batch', async () => {
    const mlp = buildTestMlp(21, 12, 5, { hidden: [16, 8] });
    const bytes = exportMlpToOnnx(mlp);
    const rows = randomRows(32, 12, 5);
    const single = await runOnnx(bytes, rows[0]!, { cache, executionProviders: ['cpu'] });
    expect(single.scoresKind).toBe('logits');
    expectClose(single.scores, logits(mlp, rows[0]!));
    const batch = await runOnnxBatch(bytes, rows, { cache, executionProviders: ['cpu'] });
    batch.forEach((result, r) => expectClose(result.scores, logits(mlp, rows[r]!)));
  });

  it('with a Softmax head onnxruntime gives the probabilities', async () => {
    const mlp = buildTestMlp(22, 4, 3);
    const bytes = exportMlpToOnnx(mlp, { softmax: true, dynamicBatch: false });
    const row = [0.5, -1, 2, 0.25];
    const result = await runOnnx(bytes, row, { cache, executionProviders: ['cpu'] });
    expect(result.scoresKind).toBe('probabilities');
    expectClose(result.scores, softmax(logits(mlp, row)));
  });

  it('a trained student exported to ONNX predicts like the TypeScript model on all inputs', async () => {
    const examples: Example[] = [];
    for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) {
      const features = new Array<number>(20).fill(0);
      features[a] = 1;
      features[10 + b] = 1;
      examples.push({ features, label: (a + b) % 10 });
    }
    const mlp = createMlp({ inputs: 20, hidden: [32], classes: 10 }, 4);
    trainMlp(mlp, examples, { epochs: 120, batchSize: 20, learningRate: 0.01, seed: 1 });
    const results = await runOnnxBatch(exportMlpToOnnx(mlp), examples.map((e) => e.features), { cache, executionProviders: ['cpu'] });
    results.forEach((r, i) => expectClose(r.scores, logits(mlp, examples[i]!.features), 1e-4));
    const correct = results.filter((r, i) => softmax(r.scores).indexOf(Math.max(...softmax(r.scores))) === examples[i]!.label).length;
    expect(correct).toBeGreaterThanOrEqual(98);
  });
});
