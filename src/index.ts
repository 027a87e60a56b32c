/**
 * napood's public API, runtime-neutral (no Node builtins, no native modules: it bundles for the
 * browser; test/bundle checks it): types, methods (one file each, one registry), metrics, the
 * fit/score pipeline, ONNX graph analysis, image preprocessing and the decoder interface, the
 * application layer (evaluation reports, state files, the high-level OodModel). Node's files,
 * sharp, onnxruntime-node and dumps are in `napood/node` (src/node/index.ts). Re-exports only.
 */
export type {
  BatchField, FeatureBatch, FeatureMap, LinearHead, Head, Need, ParamSpec, Params, Diagnostics, ScoreContext, Fitter, MethodDefinition, ModelAccess, NapoodEvents, Layout,
} from './types.js';
export { BATCH_FIELDS, DUMP_TENSORS } from './types.js';
export { NapoodError } from './errors.js';
export { VERSION } from './version.js';

export { METHODS, getMethod, methodNames, buildRegistry } from './methods/registry.js';
export { napKernel, napKernelJs, type NapOptions, type NapStats } from './methods/nap.js';
export { napWasmAvailable, napWasmStagingBuffer } from './kernels/nap_simd.js';
export { geometricBlend, NAPX_INNER } from './methods/napx.js';
export { napChannelStats, napFromStats, channelAverages, type ChannelStats } from './methods/nap-stats.js';
export { parseReportConfig, parseReportConfigText, DEFAULT_METHODS, PAPER_W, type ReportConfig, type ModelConfig, type SetsConfig } from './app/report/config.js';
export { modelFigures, type Figure } from './app/report/figures.js';
export { ashKernel } from './methods/ash.js';
export { scaleKernel } from './methods/scale.js';
export { linearHead, linearForward, logSumExpRows, maxSoftmaxRows } from './methods/common.js';
export { roundHalfEven } from './math/rounding.js';
export { spatialMean } from './math/spatial.js';

export { parseMethodSpec, parseMethodList, type MethodSpec } from './run/spec.js';
export { checkSources, fitMethods, scoreSource, type BatchSource, type Field, type FittedMethod, type MethodResult, type ScoreRun } from './run/pipeline.js';
export { encodeState, decodeState } from './run/state.js';

export * from './metrics/index.js';

// ONNX models: the runtime is injected (onnx/runtime.ts); napood/node provides onnxruntime-node.
export { loadOnnxModel as loadOnnxModelBytes, type OnnxClassifier, type OnnxLoadOptions, type OnnxModelInfo, type OnnxRunResult } from './onnx/adapter.js';
export type { OnnxRuntime } from './onnx/runtime.js';
export { prepareModelBytes, type ExternalDataReader, type ExternalDataRef } from './onnx/external.js';
export { createOdinScorer, odinScores, type OdinOptions, type OdinScorer } from './app/model-access.js';
export { odinDetails, odinLogitGradient, odinPerturb, type OdinDetails } from './methods/odin.js';
export { buildGradientModel, GRADIENT_OPS, type GradientModel, type GradientModelOptions } from './onnx/grad/index.js';
export { onnxModelAccess, type OnnxModelAccess } from './onnx/grad/access.js';
export * from './images/index.js';
export * from './images/corrupt/index.js';

export { analyseGraph, type GraphAnalysis } from './onnx/graph.js';

export { OodModel, resolvePreprocess, type DataSet, type ImageEntry, type OodModelOptions, type Scores } from './app/api.js';
export { evaluate, buildReport, setMetrics, averageMetrics, nonFiniteOf, type EvalSet, type EvaluateOptions, type Evaluation } from './app/evaluate.js';
export { csvTable, markdownTable, textTable, type EvalReport, type MethodReport, type SetMetrics, type NonFiniteScores } from './app/report.js';
export { fitOrLoad, type FitOptions } from './app/fit.js';
export { parseStateFile, stateFileText, STATE_FILE_VERSION } from './app/state-file.js';
export { checkCompatible, checkDumpMatchesModel, checkFitScale, headDifference, NormMeter } from './app/checks.js';
export { arraySource, modelSource, type InputBatch, type ModelBatch, type ModelSource } from './app/model-source.js';
export { inspectReport, inspectText } from './app/inspect.js';
export { tuneMethods, usableCandidates, DEFAULT_TUNE_CANDIDATES, type TuneOptions, type TuneSets, type TuneReport, type TuneCandidate, type TuneResult } from './app/tune.js';
export { searchWeight, weightGrid, roundWeight, pairMetrics, blendEvaluator, type Criterion, type SearchOptions, type WeightSearch, type WeightPoint, type PairMetrics } from './app/tune-search.js';
export { tuneText } from './app/tune-text.js';
export { pseudoOodSource, pseudoOodInfo, DEFAULT_PSEUDO_SEVERITIES, type PseudoOodOptions } from './app/pseudo-ood.js';
export {
  calibrate, conformalPValue, countAtMost, isOodAt, thresholdAt, minCalibrationSize, orderIndex, checkLevel, calibrationSummary, type Calibration, type CalibrationOptions,
} from './app/calibrate.js';
export { encodeDetector, decodeDetector, sha256Hex, DETECTOR_FORMAT, DETECTOR_VERSION, type DetectorData, type DetectorModelInfo } from './app/detector-file.js';
export { Detector, openDetector, checkModelMatches, type CheckRow, type CheckResult, type DetectorOptions } from './app/detector.js';
export { calibrateModel, tuneModel, calibrationScores, checkCalibrationSize, methodToCalibrate, type TuneApiOptions, type CalibrateApiOptions } from './app/detector-build.js';
export { imageEntrySource, imageSourcesOf, type ImageEntryOptions } from './app/image-set.js';
