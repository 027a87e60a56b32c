/**
 * ONNX models on Node: onnxruntime-node as the runtime of onnx/ (CPU), and a loader that reads the
 * model file.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { NapoodError } from '../errors.js';
import { loadOnnxModel as loadOnnxModelBytes, type OnnxClassifier, type OnnxLoadOptions } from '../onnx/adapter.js';
import type { OnnxRuntime } from '../onnx/runtime.js';

/** onnxruntime-node, as the runtime the neutral ONNX code takes. */
export const nodeRuntime: OnnxRuntime = ort;

export interface NodeOnnxLoadOptions extends OnnxLoadOptions {
  /** Name of the model in messages when bytes are given (default "model"). */
  readonly file?: string;
}

/** Load an ONNX classifier from a file (or its bytes) on onnxruntime-node. */
export async function loadOnnxModel(pathOrBytes: string | Uint8Array, opts: NodeOnnxLoadOptions = {}): Promise<OnnxClassifier> {
  if (pathOrBytes instanceof Uint8Array) return loadOnnxModelBytes(pathOrBytes, opts.file ?? 'model', opts, nodeRuntime);
  const path = pathOrBytes;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NapoodError(path, 'a readable ONNX file', code === 'ENOENT' ? 'no such file' : String(code ?? e));
  }
  return loadOnnxModelBytes(bytes, path, opts, nodeRuntime);
}
