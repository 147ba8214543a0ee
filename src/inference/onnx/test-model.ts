/**
 * Tiny fixed ONNX models for tests (here and in other contexts: artifact store, worker, gate e2e tests):
 * deterministic bytes for a given seed and shape, so their digests are stable.
 */
import { createMlp, type Mlp } from './mlp.js';
import { exportMlpToOnnx, type OnnxExportOptions } from './onnx-export.js';

export interface TestModelOptions extends Pick<OnnxExportOptions, 'softmax' | 'dynamicBatch'> {
  /** Hidden widths (default `[8]`). */
  hidden?: number[];
}

/** The MLP behind {@link buildTestModel} (for computing expected outputs with `predict`/`logits`). */
export function buildTestMlp(seed: number, inputs: number, classes: number, options: TestModelOptions = {}): Mlp {
  const mlp = createMlp({ inputs, hidden: options.hidden ?? [8], classes }, seed);
  // Non-zero biases, so that a model that ignored them would be caught.
  for (const layer of mlp.layers) for (let o = 0; o < layer.outputs; o++) layer.bias[o] = ((o % 3) - 1) * 0.1;
  return mlp;
}

/** ONNX bytes of a small random MLP: input `features` `[batch, inputs]`, output `scores` (logits) `[batch, classes]`. */
export function buildTestModel(seed: number, inputs: number, classes: number, options: TestModelOptions = {}): Uint8Array {
  return exportMlpToOnnx(buildTestMlp(seed, inputs, classes, options), {
    softmax: options.softmax ?? false,
    dynamicBatch: options.dynamicBatch ?? true,
    docString: `ida-ledger test model (seed ${seed})`,
  });
}
