/**
 * napood's public API: re-exports only. Types in types.ts, methods in methods/ (one file each,
 * one registry), the pipeline in core/, metrics in metrics/, dump I/O in io/.
 */
export type {
  FeatureBatch, FeatureMap, LinearHead, Head, Need, ParamSpec, Params, Diagnostics, ScoreContext, Fitter, MethodDefinition,
} from './types.js';
export { NapoodError } from './errors.js';
export { VERSION } from './version.js';

export { METHODS, getMethod, methodNames, buildRegistry } from './methods/registry.js';
export { napKernel } from './methods/nap.js';
export { geometricBlend } from './methods/napx.js';
export { ashKernel } from './methods/ash.js';
export { scaleKernel } from './methods/scale.js';
export { linearHead, linearForward, logSumExpRows, maxSoftmaxRows } from './methods/common.js';

export { parseMethodSpec, parseMethodList, type MethodSpec } from './core/spec.js';
export { fitMethods, scoreSource, type BatchSource, type Field, type FittedMethod, type MethodResult, type ScoreRun } from './core/pipeline.js';
export { encodeState, decodeState } from './core/state.js';

export * from './metrics/index.js';

export { openDump, loadHead, type Dump, type DumpField } from './io/dump.js';
export { readNpy, writeNpy } from './io/npy.js';
export { writeFileAtomic } from './io/atomic.js';
