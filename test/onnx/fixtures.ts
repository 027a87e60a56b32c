/**
 * Test helpers for the ONNX adapter: fixture paths, a minimal .npy reader (float32, C-order, the
 * files written by tools/make_onnx_fixtures.py) and a tolerance check.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { NapoodError } from '../../src/errors.js';

/** test/fixtures/onnx/ (this file is compiled to <outDir>/test/onnx/, three levels below the repo root). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/onnx/', import.meta.url));

export interface Expect {
  name: string;
  opset: number;
  input_shape: number[];
  feature_shape: number[];
  pooled_dim: number;
  num_classes: number;
  pool_kind: string;
  head_kind: 'linear' | 'mlp';
  linear_op: string | null;
  ops: string[];
  /** Channels-last fixtures (tools/make_onnx_nhwc_fixtures.py); absent = nchw. */
  input_layout?: 'nchw' | 'nhwc';
  feature_layout?: 'nchw' | 'nhwc';
}

/** The model fixtures (every directory but bad/). */
export function modelFixtures(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'bad')
    .map((d) => d.name)
    .sort();
}

export function expectOf(name: string): Expect {
  return JSON.parse(readFileSync(`${FIXTURES}${name}/expect.json`, 'utf8')) as Expect;
}

export interface Npy {
  data: Float32Array;
  shape: number[];
}

/** Read a little-endian float32 C-order .npy (format 1.0 / 2.0). */
export function readNpy(path: string): Npy {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${path}: expected little-endian float32 C-order, header ${header}`);
  }
  const shape = (/'shape': \(([^)]*)\)/.exec(header)![1]!).split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = start + headerLen;
  const bytes = buf.subarray(offset);
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { data, shape };
}

/** Largest |a − b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Assert |a − b| ≤ tol elementwise. */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol, `${what}: max |diff| ${d} > ${tol}`);
}

/** assert.throws / rejects validator: a NapoodError whose message matches `re` (and argument, when given). */
export function napoodError(re: RegExp, argument?: string): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof NapoodError, `expected a NapoodError, got ${String(e)}`);
    assert.match(e.message, re);
    if (argument !== undefined) assert.equal(e.argument, argument);
    return true;
  };
}
