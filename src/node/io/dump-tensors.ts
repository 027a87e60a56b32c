/**
 * The tensors of a feature dump (dump.ts): finding them in a .safetensors file or a directory of
 * .npy files (`locate`), the NaN / ±Inf check of every chunk read (`checkFinite`, an overflow of
 * float64 data to float32 reported with its value), and reading a linear head's weight and bias.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError, describe, shapeString } from '../../errors.js';
import type { LinearHead } from '../../types.js';
import { firstNonFinite } from './convert.js';
import { npyTensor, readNpyHeader } from './npy.js';
import { readSafetensorsHeader } from './safetensors.js';
import { type StoredTensor, TensorReader, checkReadSize, elementCount, rowElements } from './tensor.js';
import { firstNonFiniteWasm } from '../../kernels/nap_simd.js';

export interface Located {
  format: 'safetensors' | 'npy-dir';
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
  /** Names of everything found (for error messages). */
  found: string[];
}

/** Collect the tensors of a .safetensors file or a directory of .npy files named in `names`. */
export function locate(p: string, argument: string, what: string, names: readonly string[]): Located {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NapoodError(argument, what, `${describe(p)} (${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message})`);
  }
  const label = (file: string): string => (argument === p ? file : `${argument}: ${file}`);
  if (st.isDirectory()) {
    const entries = fs.readdirSync(p).sort();
    const tensors = new Map<string, StoredTensor>();
    for (const name of names) {
      const file = path.join(p, `${name}.npy`);
      if (!entries.includes(`${name}.npy`)) continue;
      tensors.set(name, npyTensor(readNpyHeader(file, label(file)), name));
    }
    return { format: 'npy-dir', tensors, metadata: {}, found: entries };
  }
  if (p.endsWith('.npy')) {
    throw new NapoodError(argument, `${what} (a single .npy must be in a directory, named e.g. featureMap.npy, pooled.npy, logits.npy)`, describe(p));
  }
  const h = readSafetensorsHeader(p, label(p));
  return { format: 'safetensors', tensors: new Map(h.tensors), metadata: { ...h.metadata }, found: [...h.tensors.keys()] };
}

/**
 * Throw when `data` (rows firstRow… of tensor `t`, as float32) holds NaN or ±Inf. An infinity
 * that is a finite value in the file (float64 data beyond ±3.4e38, rounded to ±Inf by the
 * conversion to float32) is reported as an overflow with the value, read again as float64.
 */
export function checkFinite(data: Float32Array, t: StoredTensor, firstRow: number, reader: TensorReader, argument: string, dumpPath: string): void {
  // The WASM SIMD scan (about 5× the JS loop) where the runtime has it; -1 when all finite.
  const i = firstNonFiniteWasm(data) ?? firstNonFinite(data);
  if (i < 0) return;
  const rowElems = Math.max(rowElements(t), 1);
  const v = data[i];
  const row = firstRow + Math.floor(i / rowElems);
  const where = `row ${row} (element ${i % rowElems} of the row)`;
  if (!Number.isNaN(v) && t.dtype === 'float64') {
    // The same bytes as one flat vector: read just that element as float64.
    const flat: StoredTensor = { ...t, shape: [elementCount(t.shape)] };
    const orig = reader.readFloat64(flat, firstRow * rowElems + i, 1)[0];
    if (Number.isFinite(orig)) {
      throw new NapoodError(argument, `values in tensor "${t.name}" of ${dumpPath} that fit in float32 (napood computes in float32; the largest float32 is ±3.4028235e38)`,
        `${orig} at ${where}, which overflows float32`);
    }
  }
  const kind = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  throw new NapoodError(argument, `finite values in tensor "${t.name}" of ${dumpPath}`, `${kind} at ${where}`);
}

export function readHeadTensors(weight: StoredTensor, bias: StoredTensor | undefined, argument: string): LinearHead {
  if (weight.shape.length !== 2) throw new NapoodError(argument, `"${weight.name}" of shape [K, C]`, shapeString(weight.shape));
  const [k, c] = weight.shape;
  if (k === 0 || c === 0) throw new NapoodError(argument, `"${weight.name}" [K, C] with K, C > 0`, shapeString(weight.shape));
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== k)) {
    throw new NapoodError(argument, `"${bias.name}" of shape [${k}] (K of "${weight.name}" ${shapeString(weight.shape)})`, shapeString(bias.shape));
  }
  checkReadSize(weight, k, argument);
  const r = new TensorReader();
  try {
    const w = r.readFloat32(weight, 0, k);
    checkFinite(w, weight, 0, r, argument, weight.file);
    const b = bias ? r.readFloat32(bias, 0, k) : new Float32Array(k);
    if (bias) checkFinite(b, bias, 0, r, argument, bias.file);
    return { weight: w, bias: b, k, c };
  } finally {
    r.close();
  }
}
