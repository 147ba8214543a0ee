export * from './rng.js';
export * from './mlp.js';
export * from './onnx-export.js';
export * from './run-onnx.js';
export * from './test-model.js';
