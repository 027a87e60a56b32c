/**
 * ONNX models on Node: onnxruntime-node as the runtime of onnx/ (CPU), and a loader that reads the
 * model file and its external data.
 *
 * onnxruntime is never given a path: the loader reads the model, reads any external data itself
 * from the model file's folder (`externalDataBeside`: relative locations only, realpath inside
 * that folder, a regular file holding offset + length bytes), and hands onnxruntime bytes in
 * which every tensor holds its values (onnx/external.ts). A model with external data therefore
 * works from any working folder, and no tensor can read a file elsewhere.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import * as ort from 'onnxruntime-node';
import { NapoodError, describe } from '../errors.js';
import { loadOnnxModel as loadOnnxModelBytes, type OnnxClassifier, type OnnxLoadOptions } from '../onnx/adapter.js';
import { checkLocation, type ExternalDataReader, type ExternalDataRef } from '../onnx/external.js';
import { grouped, MAX_TENSOR_BYTES } from '../onnx/limits.js';
import type { OnnxRuntime } from '../onnx/runtime.js';

/** onnxruntime-node, as the runtime the neutral ONNX code takes. */
export const nodeRuntime: OnnxRuntime = ort;

export interface NodeOnnxLoadOptions extends OnnxLoadOptions {
  /** Name of the model in messages when bytes are given (default "model"). */
  readonly file?: string;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel);
}

/**
 * The external data of the model file `modelPath`, read from its folder: `location` is relative
 * to the folder of the path as given (as onnxruntime resolves it), may not be absolute nor use
 * "..", and its real path (links followed) must stay inside the folder's real path; the file must
 * be a regular file holding offset + length bytes. NapoodError naming `file` otherwise.
 */
export function externalDataBeside(modelPath: string, file: string = modelPath): ExternalDataReader {
  const folder = dirname(modelPath);
  let realFolder: Promise<string> | undefined;
  return async (ref: ExternalDataRef): Promise<Uint8Array> => {
    checkLocation(ref, file);
    const expected = 'external data in files inside the model\'s folder';
    const where = `tensor ${describe(ref.tensor)}: ${describe(ref.location)}`;
    realFolder ??= realpath(folder);
    const root = await realFolder;
    const path = resolve(folder, ref.location);
    if (!inside(resolve(folder), path)) throw new NapoodError(file, expected, `${where} is outside ${describe(folder)}`);
    let real: string;
    try {
      real = await realpath(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new NapoodError(file, expected, `${where}: ${code === 'ENOENT' ? `no such file in ${describe(folder)}` : String(code ?? e)}`);
    }
    if (!inside(root, real)) throw new NapoodError(file, expected, `${where} is a link to ${describe(real)}, outside the model's folder`);
    // opened without blocking (a FIFO would wait for a writer) and without following a link swapped in since realpath;
    // the checks are on the opened file itself
    let handle;
    try {
      handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      throw new NapoodError(file, expected, `${where}: ${String((e as NodeJS.ErrnoException).code ?? e)}`);
    }
    const out = new Uint8Array(ref.length);
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new NapoodError(file, 'external data in regular files', `${where} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`);
      const end = ref.offset + ref.length;
      if (st.size < end) {
        throw new NapoodError(file, `external data files that hold each tensor's bytes (${where}: offset ${grouped(ref.offset)} + length ${grouped(ref.length)} = ${grouped(end)} bytes)`,
          `a file of ${grouped(st.size)} bytes`);
      }
      let done = 0;
      while (done < ref.length) {
        const { bytesRead } = await handle.read(out, done, ref.length - done, ref.offset + done);
        if (bytesRead === 0) throw new NapoodError(file, 'external data files that hold each tensor\'s bytes', `${where}: the file ended at byte ${grouped(ref.offset + done)} while being read`);
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return out;
  };
}

/**
 * The bytes of a model file: a regular file (a FIFO or a device such as /dev/zero would block or
 * never end) under 2 GiB (protobuf's bound on one message). NapoodError naming `path` otherwise.
 */
async function readModelFile(path: string): Promise<Uint8Array> {
  const expected = 'a readable ONNX file';
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NapoodError(path, expected, code === 'ENOENT' ? 'no such file' : String(code ?? e));
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NapoodError(path, expected, st.isDirectory() ? 'a directory' : 'not a regular file');
    if (st.size > MAX_TENSOR_BYTES) throw new NapoodError(path, 'an ONNX file under 2 GiB (protobuf\'s limit; larger models keep their weights in external data)', `${grouped(st.size)} bytes`);
    const out = new Uint8Array(st.size);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await handle.read(out, done, out.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === out.length ? out : out.subarray(0, done);
  } catch (e) {
    if (e instanceof NapoodError) throw e;
    throw new NapoodError(path, expected, String((e as NodeJS.ErrnoException).code ?? e));
  } finally {
    await handle.close();
  }
}

/**
 * Load an ONNX classifier from a file on onnxruntime-node, with its external data read from the
 * file's folder; or from its bytes (then external data is refused: there is no folder).
 */
export async function loadOnnxModel(pathOrBytes: string | Uint8Array, opts: NodeOnnxLoadOptions = {}): Promise<OnnxClassifier> {
  if (pathOrBytes instanceof Uint8Array) return loadOnnxModelBytes(pathOrBytes, opts.file ?? 'model', opts, nodeRuntime);
  const path = pathOrBytes;
  const bytes = await readModelFile(path);
  return loadOnnxModelBytes(bytes, path, { ...opts, externalData: opts.externalData ?? externalDataBeside(path) }, nodeRuntime);
}
