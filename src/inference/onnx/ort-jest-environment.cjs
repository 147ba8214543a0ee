/**
 * Jest test environment for specs that run onnxruntime-node (docblock `@jest-environment
 * ./src/inference/onnx/ort-jest-environment.cjs`).
 *
 * Jest runs each test file in its own vm context, whose typed-array constructors differ from the ones of the
 * main context where onnxruntime's native binding creates its output arrays; onnxruntime-common then refuses
 * them ("A float32 tensor's data must be type of Float32Array"). Sharing the main context's constructors with
 * the test context removes the mismatch. Only tests need this: a plain Node process has one context.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OrtTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) if (globalThis[name] !== undefined) this.global[name] = globalThis[name];
  }
}

module.exports = OrtTestEnvironment;
