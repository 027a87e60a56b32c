/**
 * Pseudo-inverses over row-major typed arrays (Float64 results, Float64 accumulation):
 *
 * - `pinvh`: pseudo-inverse of a symmetric matrix, scipy.linalg.pinvh semantics (SciPy ≥ 1.7:
 *   eigenvalues with |λ| ≤ atol + rtol · max|λ| are dropped, atol = 0, rtol = n · eps(float64)).
 * - `pinv`: Moore–Penrose pseudo-inverse through the smaller Gram matrix:
 *   pinv(W) = Wᵀ pinvh(W Wᵀ) (rows ≤ cols) or pinvh(Wᵀ W) Wᵀ (rows > cols). numpy.linalg.pinv uses
 *   the SVD with rcond = 1e-15; here the cutoff acts on the Gram eigenvalues σ², so singular values
 *   σ ≤ σ_max · sqrt(min(rows, cols) · eps) ≈ σ_max · 1e-7 are dropped (they cannot be resolved from
 *   the Gram matrix anyway). The relative error grows like cond(W)² · eps (numpy's SVD: cond · eps);
 *   on the golden full-rank and exactly rank-deficient inputs both agree to < 1e-13.
 *
 * The other dense kernels: eigen.ts (symmetricEigen, with householder.ts), products.ts (matmul,
 * matmulABt, matVec, transpose), covariance.ts (covarianceAccumulator); dense.ts holds what they share.
 */
import { NapoodError, describe } from '../errors.js';
import { EPS, checkFinite, type Numeric } from './dense.js';
import { symmetricEigenRows } from './eigen.js';
import { matmul, matmulABt, scaledGram, transpose } from './products.js';

export interface PinvhOptions {
  /** Absolute eigenvalue threshold (default 0). */
  atol?: number;
  /** Relative threshold (default n · eps(float64), SciPy ≥ 1.7). */
  rtol?: number;
}

export interface PinvhResult {
  inverse: Float64Array;
  /** Number of eigenvalues kept. */
  rank: number;
}

/** pinvh with its rank, see `pinvh`. */
export function pinvhWithRank(a: Numeric, n: number, opts: PinvhOptions = {}): PinvhResult {
  const atol = opts.atol ?? 0;
  const rtol = opts.rtol ?? n * EPS;
  if (!(atol >= 0) || !Number.isFinite(atol)) throw new NapoodError('pinvh atol', 'a finite number ≥ 0', describe(opts.atol));
  if (!(rtol >= 0) || !Number.isFinite(rtol)) throw new NapoodError('pinvh rtol', 'a finite number ≥ 0', describe(opts.rtol));
  const { values, rows } = symmetricEigenRows(a, n);
  let maxAbs = 0;
  for (let j = 0; j < n; j++) maxAbs = Math.max(maxAbs, Math.abs(values[j]));
  const cutoff = atol + maxAbs * rtol;
  const kept: number[] = [];
  for (let j = 0; j < n; j++) if (Math.abs(values[j]) > cutoff) kept.push(j);
  const r = kept.length;
  // B = U diag(1/λ) Uᵀ over kept eigenpairs; U (n×r) = transpose of the kept rows.
  const u = new Float64Array(n * r);
  const w = new Float64Array(r);
  for (let t = 0; t < r; t++) {
    const j = kept[t];
    w[t] = 1 / values[j];
    const src = j * n;
    for (let i = 0; i < n; i++) u[i * r + t] = rows[src + i];
  }
  return { inverse: scaledGram(u, w, n, r), rank: r };
}

/**
 * Pseudo-inverse of a symmetric n×n matrix, as scipy.linalg.pinvh (SciPy ≥ 1.7): eigenvalues with
 * |λ| ≤ atol + rtol · max|λ| are dropped (defaults atol = 0, rtol = n · eps(float64)).
 */
export function pinvh(a: Numeric, n: number, opts: PinvhOptions = {}): Float64Array {
  return pinvhWithRank(a, n, opts).inverse;
}

/**
 * Moore–Penrose pseudo-inverse of a rows×cols matrix (row-major); returns cols×rows.
 * Computed through the smaller Gram matrix (see the file header for the cutoff).
 */
export function pinv(w: Numeric, rows: number, cols: number): Float64Array {
  if (!Number.isInteger(rows) || rows < 0) throw new NapoodError('pinv rows', 'a non-negative integer', describe(rows));
  if (!Number.isInteger(cols) || cols < 0) throw new NapoodError('pinv cols', 'a non-negative integer', describe(cols));
  if (w.length !== rows * cols) {
    throw new NapoodError('pinv matrix', `a ${rows}×${cols} row-major matrix (${rows * cols} values)`, `${w.length} values`);
  }
  checkFinite('pinv matrix', w);
  if (rows === 0 || cols === 0) return new Float64Array(0);
  if (rows <= cols) {
    // pinv(W) = Wᵀ (W Wᵀ)⁺ ; W Wᵀ is rows×rows.
    const g = matmulABt(w, w, rows, cols, rows);
    symmetrizeFromLower(g, rows);
    const gi = pinvh(g, rows);
    // (cols×rows) = Wᵀ · gi  →  row c of result = Σ_r W[r][c] gi[r][:]
    const wt = transpose(w, rows, cols);
    return matmul(wt, gi, cols, rows, rows);
  }
  // pinv(W) = (Wᵀ W)⁺ Wᵀ ; Wᵀ W is cols×cols.
  const wt = transpose(w, rows, cols);
  const g = matmulABt(wt, wt, cols, rows, cols);
  symmetrizeFromLower(g, cols);
  const gi = pinvh(g, cols);
  return matmul(gi, wt, cols, cols, rows);
}

function symmetrizeFromLower(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
}
