/**
 * Test helpers for the input-gradient tests: fixture paths, meta.json of
 * tools/make_grad_fixtures.py, a .npy reader for float32 / float64 C-order files, error metrics.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/fixtures/ (this file is compiled to <outDir>/test/onnx-grad/). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

export interface GradMeta {
  T: number;
  noise: number;
  std: number[];
  models: { name: string; model: string; input: string; ref: string; margin: number; ops?: string[] }[];
}

export function gradMeta(): GradMeta {
  return JSON.parse(readFileSync(`${FIXTURES}onnx-grad/meta.json`, 'utf8')) as GradMeta;
}

export interface Npy {
  data: Float32Array | Float64Array;
  shape: number[];
}

/** Read a little-endian float32 / float64 C-order .npy (format 1.0). */
export function readNpy(path: string): Npy {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const headerLen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = buf[6] === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (header.includes("'fortran_order': True")) throw new Error(`${path}: Fortran order`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)![1]!).split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const bytes = buf.subarray(start + headerLen);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (header.includes("'descr': '<f4'")) return { data: new Float32Array(copy.buffer), shape };
  if (header.includes("'descr': '<f8'")) return { data: new Float64Array(copy.buffer), shape };
  throw new Error(`${path}: expected <f4 or <f8, header ${header}`);
}

export function readF32(path: string): Float32Array {
  const r = readNpy(path);
  return r.data instanceof Float32Array ? r.data : Float32Array.from(r.data);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Per-sample max |a − b| / max |ref| over rows of `per` values. */
export function relErrorPerRow(got: ArrayLike<number>, ref: ArrayLike<number>, per: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * per < ref.length; r++) {
    let m = 0;
    let d = 0;
    for (let i = r * per; i < (r + 1) * per; i++) {
      m = Math.max(m, Math.abs(ref[i]!));
      d = Math.max(d, Math.abs(got[i]! - ref[i]!));
    }
    out.push(d / m);
  }
  return out;
}
