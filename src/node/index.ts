/**
 * `napood/node`: everything of `napood` plus what needs Node — files (npy, safetensors, streamed
 * dumps, atomic writes), image files and folders with the sharp decoder, onnxruntime-node, the
 * path-taking high-level API. Re-exports only.
 */
export * from '../index.js';
export {
  type Dump, type DumpBatch, type DumpField, type BatchOptions as DumpBatchOptions, type OpenDumpOptions, type TensorDescriptor, DEFAULT_BATCH_BYTES, openDump, loadHead, looksLikeDump,
  type NpyDescriptor, type NpyArray, type NpyStreamWriter, readNpyHeader, readNpy, writeNpy, openNpyWriter, npyTensor, parseDescr,
  type SafetensorsHeader, type SafetensorsTensor, type SafetensorsDType, type SafetensorsInput, type SafetensorsData, readSafetensorsHeader, readSafetensors, writeSafetensors,
  type AtomicWriter, writeFileAtomic, openAtomicWriter,
  type StoredTensor, TensorReader, readTensorFloat32, elementCount,
  type DType, dtypeSize, float16ToNumber, halfBitsToFloatBits, firstNonFinite,
} from './io/index.js';
export * from './images/index.js';
export { makeReport, type ReportOptions, type ReportSummary } from './report-run.js';
export { renderSvg, renderPng } from './report-render.js';
export { openModel, NodeOodModel, type NodeDataSet, type NodeTuneOptions, type OpenModelOptions } from './api.js';
export { loadDetector, NodeDetector, openImageSources, checkDumpMatchesDetector, type LoadDetectorOptions } from './detector.js';
export { sha256File, sha256Bytes } from './io/sha256.js';
export { RunSets, type RunSetsOptions, type RunSource, type SetRole } from './sets.js';
export { openDumpSource, resolveHead, headFrom, inputArraySource, imageSetSource, replayableSource, type DumpSource, type ImageSetOptions } from './sources.js';
export { checkOutputs, writeOutputs, type OutputPath } from './outputs.js';
// ONNX models through onnxruntime-node (path or bytes).
export { externalDataBeside, loadOnnxModel, nodeRuntime, type NodeOnnxLoadOptions } from './onnx.js';
