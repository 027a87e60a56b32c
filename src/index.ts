/**
 * napood's public API: re-exports only. Types in types.ts, methods in methods/ (one file each,
 * one registry), the pipeline in core/, metrics in metrics/, dump I/O in io/, ONNX models in onnx/,
 * images in images/.
 */
export type {
  FeatureBatch, FeatureMap, LinearHead, Head, Need, ParamSpec, Params, Diagnostics, ScoreContext, Fitter, MethodDefinition, ModelAccess,
} from './types.js';
export { NapoodError } from './errors.js';
export { VERSION } from './version.js';

export { METHODS, getMethod, methodNames, buildRegistry } from './methods/registry.js';
export { napKernel, napKernelJs, type NapOptions, type NapStats } from './methods/nap.js';
export { napWasmAvailable, napWasmStagingBuffer } from './kernels/nap_simd.js';
export { geometricBlend } from './methods/napx.js';
export { ashKernel } from './methods/ash.js';
export { scaleKernel } from './methods/scale.js';
export { linearHead, linearForward, logSumExpRows, maxSoftmaxRows } from './methods/common.js';

export { parseMethodSpec, parseMethodList, type MethodSpec } from './run/spec.js';
export { fitMethods, scoreSource, type BatchSource, type Field, type FittedMethod, type MethodResult, type ScoreRun } from './run/pipeline.js';
export { encodeState, decodeState } from './run/state.js';

export * from './metrics/index.js';

export { openDump, loadHead, type Dump, type DumpField } from './node/io/dump.js';
export { readNpy, writeNpy } from './node/io/npy.js';
export { writeFileAtomic } from './node/io/atomic.js';

// ONNX models (the runtime is injected: onnx/runtime.ts) and images (sharp).
export type { OnnxClassifier, OnnxLoadOptions, OnnxModelInfo, OnnxRunResult } from './onnx/adapter.js';
export type { OnnxRuntime } from './onnx/runtime.js';
export { loadOnnxModel, nodeRuntime, type NodeOnnxLoadOptions } from './node/onnx.js'; // node
export { analyseGraph, type GraphAnalysis } from './onnx/graph.js';
export { createOdinScorer, odinScores, type OdinOptions, type OdinScorer } from './app/model-access.js';
export { odinDetails, odinLogitGradient, odinPerturb, type OdinDetails } from './methods/odin.js';
export { buildGradientModel, GRADIENT_OPS, type GradientModel, type GradientModelOptions } from './onnx/grad/index.js';
export { onnxModelAccess, type OnnxModelAccess } from './onnx/grad/access.js';
export * from './images/index.js';
