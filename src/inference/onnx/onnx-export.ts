/**
 * Writes an {@link Mlp} as an ONNX model (onnx-proto's ModelProto), and reads such a model back.
 *
 * Graph: input `features` float32 `[batch, inputs]` (batch dynamic) → per layer `Gemm(x, W, B, transB = 1)`
 * (W `[outputs, inputs]`, B `[outputs]`, float32 initializers, little-endian raw data) with `Relu` between
 * layers → output `scores` float32 `[batch, classes]`: the logits, or with `softmax: true` a final `Softmax`
 * (axis -1) and the probabilities. The metadata property `ida.scores` says which (`logits` | `probabilities`)
 * so that the worker applies a softmax only to logits. No timestamps or random ids: the same weights give the
 * same bytes (artifacts are content-addressed).
 */
import onnxProto from 'onnx-proto';
import type { DenseLayer, Mlp } from './mlp.js';
import { architectureOf } from './mlp.js';

const { onnx } = onnxProto;

export const ONNX_INPUT_NAME = 'features';
export const ONNX_OUTPUT_NAME = 'scores';
/** Metadata key naming what `scores` holds: `logits` or `probabilities`. */
export const SCORES_METADATA_KEY = 'ida.scores';
export type ScoresKind = 'logits' | 'probabilities';

export interface OnnxExportOptions {
  /** Append a Softmax so that `scores` are probabilities (default false: logits). */
  softmax?: boolean;
  /** Default 13. Gemm, Relu and Softmax (axis -1) as used here mean the same from 13 on. */
  opset?: number;
  /** Default true: `[batch, inputs]` with a symbolic batch; false: fixed `[1, inputs]`. */
  dynamicBatch?: boolean;
  /** Free text stored as the model's doc string. */
  docString?: string;
  /** Extra metadata properties (string values), e.g. the run id. */
  metadata?: Record<string, string>;
  /** ModelProto.modelVersion (default 1). */
  modelVersion?: number;
}

/** IR version 8 (ONNX 1.10), read by every onnxruntime since 1.10. */
const IR_VERSION = 8;

function floatTensor(name: string, dims: number[], values: Float32Array): onnxProto.onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let k = 0; k < values.length; k++) view.setFloat32(k * 4, values[k]!, true);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

function tensorValueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** The ONNX bytes of `mlp`. */
export function exportMlpToOnnx(mlp: Mlp, options: OnnxExportOptions = {}): Uint8Array {
  if (mlp.layers.length === 0) throw new RangeError('an MLP needs at least one layer');
  const softmax = options.softmax ?? false;
  const batch = (options.dynamicBatch ?? true) ? 'batch' : 1;
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  let current = ONNX_INPUT_NAME;
  mlp.layers.forEach((layer, l) => {
    const last = l === mlp.layers.length - 1;
    const w = `layer${l}.weight`;
    const b = `layer${l}.bias`;
    initializers.push(floatTensor(w, [layer.outputs, layer.inputs], layer.weights), floatTensor(b, [layer.outputs], layer.bias));
    const gemmOut = last ? (softmax ? 'logits' : ONNX_OUTPUT_NAME) : `layer${l}.linear`;
    nodes.push({
      name: `layer${l}.gemm`,
      opType: 'Gemm',
      input: [current, w, b],
      output: [gemmOut],
      attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    current = gemmOut;
    if (!last) {
      const reluOut = `layer${l}.relu`;
      nodes.push({ name: `layer${l}.relu`, opType: 'Relu', input: [current], output: [reluOut] });
      current = reluOut;
    }
  });
  if (softmax) {
    nodes.push({
      name: 'head.softmax',
      opType: 'Softmax',
      input: [current],
      output: [ONNX_OUTPUT_NAME],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
    });
  }
  const metadata: Record<string, string> = {
    ...options.metadata,
    [SCORES_METADATA_KEY]: softmax ? 'probabilities' : 'logits',
    'ida.architecture': architectureOf(mlp),
  };
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: options.opset ?? 13 }],
    producerName: 'ida-ledger',
    producerVersion: '0.1.0',
    modelVersion: options.modelVersion ?? 1,
    docString: options.docString ?? '',
    graph: {
      name: architectureOf(mlp),
      node: nodes,
      initializer: initializers,
      input: [tensorValueInfo(ONNX_INPUT_NAME, [batch, mlp.inputs])],
      output: [tensorValueInfo(ONNX_OUTPUT_NAME, [batch, mlp.classes])],
    },
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key]! })),
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
}

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function floatsOf(tensor: onnxProto.onnx.ITensorProto): Float32Array {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) throw new TypeError(`initializer ${tensor.name} is not float32`);
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 4);
    for (let k = 0; k < out.length; k++) out[k] = view.getFloat32(k * 4, true);
    return out;
  }
  return Float32Array.from(tensor.floatData ?? []);
}

/** Metadata properties of an ONNX model, as a plain record. */
export function onnxMetadata(modelBytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(modelBytes);
  const out: Record<string, string> = {};
  for (const entry of model.metadataProps) out[entry.key ?? ''] = entry.value ?? '';
  return out;
}

/**
 * Reads back a model of the shape {@link exportMlpToOnnx} writes (Gemm with transB = 1, Relu, optional final
 * Softmax). Anything else throws: this is not a general ONNX importer.
 */
export function importMlpFromOnnx(modelBytes: Uint8Array): { mlp: Mlp; scores: ScoresKind; metadata: Record<string, string> } {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new TypeError('ONNX model without a graph');
  const tensors = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const layers: DenseLayer[] = [];
  let scores: ScoresKind = 'logits';
  for (const node of graph.node ?? []) {
    if (node.opType === 'Gemm') {
      const transB = (node.attribute ?? []).find((a) => a.name === 'transB');
      if (toNumber(transB?.i) !== 1) throw new TypeError(`Gemm ${node.name} without transB = 1`);
      const w = tensors.get(node.input?.[1] ?? '');
      const b = tensors.get(node.input?.[2] ?? '');
      if (!w || !b) throw new TypeError(`Gemm ${node.name} without initializers`);
      const [outputs, inputs] = (w.dims ?? []).map(toNumber);
      if (!outputs || !inputs) throw new TypeError(`Gemm ${node.name}: weights are not a matrix`);
      layers.push({ inputs, outputs, weights: floatsOf(w), bias: floatsOf(b) });
    } else if (node.opType === 'Softmax') {
      scores = 'probabilities';
    } else if (node.opType !== 'Relu') {
      throw new TypeError(`unsupported ONNX operator ${node.opType}`);
    }
  }
  if (layers.length === 0) throw new TypeError('ONNX model without Gemm layers');
  const metadata: Record<string, string> = {};
  for (const entry of model.metadataProps) metadata[entry.key ?? ''] = entry.value ?? '';
  return { mlp: { inputs: layers[0]!.inputs, classes: layers[layers.length - 1]!.outputs, layers }, scores, metadata };
}
