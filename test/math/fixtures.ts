/** Loads the golden JSON fixtures written by tools/golden_linalg.py (test/fixtures/linalg/). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

// Compiled tests live in <outDir>/test/math/, sources in test/core/: the repository root is
// three levels up from the compiled file.
const root = fileURLToPath(new URL('../../../', import.meta.url));

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(`${root}test/fixtures/linalg/${name}`, 'utf8')) as T;
}

/** Max |a − b| over two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Asserts max|a − b| ≤ tol · max(max|b|, floor). */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, floor = 0): void {
  const scale = Math.max(maxAbs(b), floor);
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol * scale, `${what}: max abs diff ${d} > ${tol} × ${scale}`);
}

/** Deterministic PRNG (mulberry32) for generated test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller). */
export function normals(n: number, next: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
