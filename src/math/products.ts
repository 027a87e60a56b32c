/**
 * Dense products over row-major typed arrays (Float64 results, Float64 accumulation): `matmul`,
 * `matmulABt`, `matVec`, `transpose`, and the exactly symmetric U·diag(w)·Uᵀ used by `pinvh`.
 * Hand-written for speed: blocked, cache-friendly loops, 2×2 register tiles.
 */
import { NapoodError } from '../errors.js';
import type { Numeric } from './dense.js';

const BLOCK = 64;

/** Transpose of a rows×cols row-major matrix (cols×rows, Float64). */
export function transpose(a: Numeric, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i0 = 0; i0 < rows; i0 += BLOCK) {
    const i1 = Math.min(rows, i0 + BLOCK);
    for (let j0 = 0; j0 < cols; j0 += BLOCK) {
      const j1 = Math.min(cols, j0 + BLOCK);
      for (let i = i0; i < i1; i++) {
        const src = i * cols;
        for (let j = j0; j < j1; j++) out[j * rows + i] = a[src + j];
      }
    }
  }
  return out;
}

function checkProduct(name: string, a: Numeric, aLen: number, aShape: string, b: Numeric, bLen: number, bShape: string): void {
  if (a.length !== aLen) throw new NapoodError(`${name} a`, `a ${aShape} matrix (${aLen} values)`, `${a.length} values`);
  if (b.length !== bLen) throw new NapoodError(`${name} b`, `a ${bShape} matrix (${bLen} values)`, `${b.length} values`);
}

/**
 * C = A · B with A m×k, B k×n (row-major), C m×n Float64. Blocked i-k-j order: the inner loop is
 * an axpy over a contiguous row of B into a contiguous row of C.
 */
export function matmul(a: Numeric, b: Numeric, m: number, k: number, n: number, out?: Float64Array): Float64Array {
  checkProduct('matmul', a, m * k, `${m}×${k}`, b, k * n, `${k}×${n}`);
  const c = out ?? new Float64Array(m * n);
  if (c.length !== m * n) throw new NapoodError('matmul out', `${m * n} values`, `${c.length} values`);
  c.fill(0);
  const KB = 128;
  const NB = 512;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB);
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(k, p0 + KB);
      for (let i = 0; i < m; i++) {
        const rowC = i * n;
        const rowA = i * k;
        let p = p0;
        // Two rows of B per pass halves the loads/stores of C.
        for (; p + 1 < p1; p += 2) {
          const x0 = a[rowA + p];
          const x1 = a[rowA + p + 1];
          if (x0 === 0 && x1 === 0) continue;
          const rb0 = p * n;
          const rb1 = rb0 + n;
          for (let j = j0; j < j1; j++) c[rowC + j] += x0 * b[rb0 + j] + x1 * b[rb1 + j];
        }
        if (p < p1) {
          const x0 = a[rowA + p];
          if (x0 !== 0) {
            const rb0 = p * n;
            for (let j = j0; j < j1; j++) c[rowC + j] += x0 * b[rb0 + j];
          }
        }
      }
    }
  }
  return c;
}

/**
 * C = A · Bᵀ with A m×k, B n×k (row-major), C m×n Float64: every entry is a dot product of two
 * contiguous rows. Tiled 2×2 (rows of A × rows of B) over blocks that stay in cache.
 */
export function matmulABt(a: Numeric, b: Numeric, m: number, k: number, n: number, out?: Float64Array): Float64Array {
  checkProduct('matmulABt', a, m * k, `${m}×${k}`, b, n * k, `${n}×${k}`);
  const c = out ?? new Float64Array(m * n);
  if (c.length !== m * n) throw new NapoodError('matmulABt out', `${m * n} values`, `${c.length} values`);
  abtKernel(a, b, c, m, k, n, false);
  return c;
}

/**
 * Tiled C = A·Bᵀ. With `lowerOnly` (m = n), only the blocks on or below the diagonal are computed
 * and the lower triangle is then mirrored, so the result is exactly symmetric (use when A·Bᵀ is
 * symmetric, e.g. U·D·Uᵀ).
 */
function abtKernel(a: Numeric, b: Numeric, c: Float64Array, m: number, k: number, n: number, lowerOnly: boolean): void {
  const IB = 32;
  const JB = 64;
  const KB = 256; // a 32×256 block of A and a 64×256 block of B (float64) stay in L2
  c.fill(0);
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(k, p0 + KB);
    for (let i0 = 0; i0 < m; i0 += IB) {
      const i1 = Math.min(m, i0 + IB);
      for (let j0 = 0; j0 < (lowerOnly ? i1 : n); j0 += JB) {
        const j1 = Math.min(n, j0 + JB);
        let i = i0;
        for (; i + 1 < i1; i += 2) {
          const ra0 = i * k;
          const ra1 = ra0 + k;
          const c0 = i * n;
          const c1 = c0 + n;
          let j = j0;
          for (; j + 1 < j1; j += 2) {
            const rb0 = j * k;
            const rb1 = rb0 + k;
            let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
            for (let p = p0; p < p1; p++) {
              const a0 = a[ra0 + p], a1 = a[ra1 + p];
              const b0 = b[rb0 + p], b1 = b[rb1 + p];
              s00 += a0 * b0; s01 += a0 * b1;
              s10 += a1 * b0; s11 += a1 * b1;
            }
            c[c0 + j] += s00; c[c0 + j + 1] += s01;
            c[c1 + j] += s10; c[c1 + j + 1] += s11;
          }
          if (j < j1) {
            const rb0 = j * k;
            let s00 = 0, s10 = 0;
            for (let p = p0; p < p1; p++) {
              const b0 = b[rb0 + p];
              s00 += a[ra0 + p] * b0; s10 += a[ra1 + p] * b0;
            }
            c[c0 + j] += s00; c[c1 + j] += s10;
          }
        }
        if (i < i1) {
          const ra0 = i * k;
          for (let j = j0; j < j1; j++) {
            const rb0 = j * k;
            let s = 0;
            for (let p = p0; p < p1; p++) s += a[ra0 + p] * b[rb0 + p];
            c[i * n + j] += s;
          }
        }
      }
    }
  }
  if (lowerOnly) for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) c[j * n + i] = c[i * n + j];
}

/**
 * U · diag(w) · Uᵀ for U n×r (row-major), computed on the lower triangle and mirrored, so the
 * result is exactly symmetric.
 */
export function scaledGram(u: Float64Array, w: Float64Array, n: number, r: number): Float64Array {
  const us = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let t = 0; t < r; t++) us[i * r + t] = u[i * r + t] * w[t];
  const out = new Float64Array(n * n);
  if (r > 0) abtKernel(us, u, out, n, r, n, true);
  return out;
}

/** y = A x with A rows×cols (row-major). */
export function matVec(a: Numeric, x: Numeric, rows: number, cols: number, out?: Float64Array): Float64Array {
  checkProduct('matVec', a, rows * cols, `${rows}×${cols}`, x, cols, `${cols}-vector (as ${cols}×1)`);
  const y = out ?? new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const ra = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[ra + j] * x[j];
    y[i] = s;
  }
  return y;
}
