/** Feature-dump I/O (SPEC §4.3): .npy, .safetensors, streamed dumps, atomic writes. */
export { type Dump, type DumpBatch, type DumpField, type BatchOptions, type OpenDumpOptions, type TensorDescriptor, DEFAULT_BATCH_BYTES, openDump, loadHead, looksLikeDump, spatialMean } from './dump.js';
export { type NpyDescriptor, type NpyArray, type NpyStreamWriter, parseNpyHeader, readNpyHeader, readNpy, writeNpy, openNpyWriter, npyTensor, parseDescr } from './npy.js';
export { type SafetensorsHeader, type SafetensorsTensor, type SafetensorsDType, type SafetensorsInput, type SafetensorsData, parseSafetensorsHeader, readSafetensorsHeader, readSafetensors, writeSafetensors } from './safetensors.js';
export { type AtomicWriter, writeFileAtomic, openAtomicWriter } from './atomic.js';
export { type StoredTensor, MAX_READ_BYTES, TensorReader, readTensorFloat32, elementCount, shapeByteLength } from './tensor.js';
export { type RegularFile, openRegularFile, statRegular, readRegularFile, fileKind } from './file.js';
export { type DType, dtypeSize, float16ToNumber, halfBitsToFloatBits, firstNonFinite } from './convert.js';
