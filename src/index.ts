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

// ONNX models (onnxruntime-node, CPU) and images (sharp).
export { loadOnnxModel, type OnnxClassifier, type OnnxLoadOptions, type OnnxModelInfo, type OnnxRunResult } from './onnx/adapter.js';
export { analyseGraph, type GraphAnalysis } from './onnx/graph.js';
export { createOdinScorer, odinScores, type OdinOptions, type OdinScorer } from './onnx/odin.js';
export { buildGradientModel, type GradientModel } from './onnx/backward.js';
export * from './images/index.js';
