/**
 * Dense linear algebra kernels over row-major typed arrays (Float64 results, Float64 accumulation):
 *
 * - `symmetricEigen`: all eigenvalues (ascending, like numpy.linalg.eigh) and eigenvectors of a real
 *   symmetric matrix. Householder reduction to tridiagonal form followed by the implicit QL algorithm
 *   with Wilkinson-type shifts — the method of the EISPACK routines tred2 / tql2 (Wilkinson &
 *   Reinsch, "Handbook for Automatic Computation II", 1971; Golub & Van Loan §8.3), written here
 *   for row-major storage: the orthogonal factor is kept transposed (eigenvectors as rows), the
 *   Householder steps work on contiguous rows, the back-transformation is done in row blocks, and
 *   the QL rotations are buffered and applied several sweeps at a time on cache-line column
 *   blocks (see RotationBuffer). About 10× slower than LAPACK (numpy) on one core.
 * - `pinvh`: pseudo-inverse of a symmetric matrix, scipy.linalg.pinvh semantics (SciPy ≥ 1.7:
 *   eigenvalues with |λ| ≤ atol + rtol · max|λ| are dropped, atol = 0, rtol = n · eps(float64)).
 * - `pinv`: Moore–Penrose pseudo-inverse through the smaller Gram matrix:
 *   pinv(W) = Wᵀ pinvh(W Wᵀ) (rows ≤ cols) or pinvh(Wᵀ W) Wᵀ (rows > cols). numpy.linalg.pinv uses
 *   the SVD with rcond = 1e-15; here the cutoff acts on the Gram eigenvalues σ², so singular values
 *   σ ≤ σ_max · sqrt(min(rows, cols) · eps) ≈ σ_max · 1e-7 are dropped (they cannot be resolved from
 *   the Gram matrix anyway). The relative error grows like cond(W)² · eps (numpy's SVD: cond · eps);
 *   on the golden full-rank and exactly rank-deficient inputs both agree to < 1e-13.
 * - `matmul`, `matmulABt`, `matVec`, `transpose`: blocked, cache-friendly products.
 * - `covarianceAccumulator`: streaming Σx, Σxxᵀ (upper triangle) over Float32Array rows, finishing
 *   to the biased (1/N) covariance about the mean, about given means, or about per-group means
 *   (the shared class-centred covariance of Mahalanobis, Lee et al. 2018).
 */
import { NapoodError, describe } from '../errors.js';

type Numeric = Float32Array | Float64Array;

const EPS = 2.220446049250313e-16; // float64 machine epsilon, numpy.finfo(float64).eps

function checkSquare(argument: string, a: Numeric, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new NapoodError(`${argument} size`, 'a non-negative integer', describe(n));
  if (a.length !== n * n) {
    throw new NapoodError(argument, `a ${n}×${n} row-major matrix (${n * n} values)`, `${a.length} values`);
  }
}

function checkFinite(argument: string, a: Numeric): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) throw new NapoodError(argument, 'finite values', `${v} at index ${i}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigendecomposition
// ---------------------------------------------------------------------------------------------

export interface SymmetricEigen {
  /** Eigenvalues in ascending order (n). */
  values: Float64Array;
  /** n×n row-major; column j is the unit eigenvector of values[j]: vectors[i*n + j]. */
  vectors: Float64Array;
}

/**
 * Householder reduction of the symmetric matrix `a` (n×n row-major, overwritten) to tridiagonal
 * form T = Qᵀ A Q. On return d holds the diagonal of T, e[i] (i ≥ 1) the sub-diagonal T[i][i−1],
 * and `qt` (n×n) holds Qᵀ (row j of qt is column j of Q).
 *
 * Step i (from n−1 down to 1) reflects the first i coordinates so that row i of the leading
 * (i+1)×(i+1) block becomes (0, …, 0, e_i, d_i): P = I − u uᵀ / h with u built from a[i][0..i−1].
 * The leading i×i block B becomes P B P = B − u qᵀ − q uᵀ, where p = B u / h, K = uᵀp / 2h,
 * q = p − K u. Only the lower triangle of B is read and updated (rows are contiguous).
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, qt: Float64Array): void {
  const hs = new Float64Array(n); // h of each reflector (0 = no reflection)
  const p = new Float64Array(n);
  for (let i = n - 1; i >= 1; i--) {
    const rowI = i * n;
    const l = i - 1;
    let scale = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(a[rowI + k]);
    d[i] = a[rowI + i];
    if (i === 1 || scale === 0) {
      // Nothing to annihilate: row i is already (…0, a[i][i−1], a[i][i]).
      e[i] = a[rowI + l];
      hs[i] = 0;
      continue;
    }
    let h = 0;
    for (let k = 0; k < i; k++) {
      const v = a[rowI + k] / scale;
      a[rowI + k] = v;
      h += v * v;
    }
    const f = a[rowI + l];
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    a[rowI + l] = f - g; // u is now stored in a[i][0..i−1]
    hs[i] = h;
    symmetricLowerMatVec(a, n, i, rowI, p);
    let up = 0;
    for (let r = 0; r < i; r++) {
      p[r] /= h;
      up += a[rowI + r] * p[r];
    }
    const kk = up / (2 * h);
    for (let r = 0; r < i; r++) p[r] -= kk * a[rowI + r]; // p is now q
    symmetricLowerRank2Update(a, n, i, rowI, p);
  }
  d[0] = a[0];
  e[0] = 0;
  // Qᵀ = P_1 P_2 ⋯ P_{n−1}, built as ((I·P_1)·P_2)⋯. Right-multiplying by P_i changes only the
  // leading i×i block of M (the rest is still the identity there).
  qt.fill(0);
  for (let i = 0; i < n; i++) qt[i * n + i] = 1;
  // Each row of M evolves on its own (M_r ← M_r P_1 P_2 ⋯), so rows are taken in blocks that stay
  // in cache while every reflector streams past once per block; row r is only changed by P_i with
  // i > r (before that it is still e_r, zero in the first i columns).
  const R = Math.max(2, Math.min(64, Math.floor(32768 / Math.max(n, 1)) & ~1));
  for (let r0 = 0; r0 < n; r0 += R) {
    const r1 = Math.min(n, r0 + R);
    for (let i = r0 + 1; i < n; i++) {
      const h = hs[i];
      if (h !== 0) applyReflectorRight(qt, n, i, a, i * n, h, r0, Math.min(r1, i));
    }
  }
}

/**
 * p[0..i) = B u for the symmetric leading i×i block B of a (lower triangle read), u = a[uOff ..
 * uOff+i). Row r contributes B[r][j]·u_j to p_r and B[r][j]·u_r to p_j (j < r); two rows per pass
 * share the loads of u and p.
 */
function symmetricLowerMatVec(a: Float64Array, n: number, i: number, uOff: number, p: Float64Array): void {
  p.fill(0, 0, i);
  let r = 0;
  for (; r + 1 < i; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    const u0 = a[uOff + r];
    const u1 = a[uOff + r + 1];
    let acc0 = 0;
    let acc1 = 0;
    for (let j = 0; j < r; j++) {
      const b0 = a[r0 + j];
      const b1 = a[r1 + j];
      const uj = a[uOff + j];
      acc0 += b0 * uj;
      acc1 += b1 * uj;
      p[j] += b0 * u0 + b1 * u1;
    }
    const off = a[r1 + r]; // B[r+1][r]
    p[r] += acc0 + a[r0 + r] * u0 + off * u1;
    p[r + 1] += acc1 + off * u0 + a[r1 + r + 1] * u1;
  }
  if (r < i) {
    const r0 = r * n;
    const u0 = a[uOff + r];
    let acc0 = 0;
    for (let j = 0; j < r; j++) {
      const b0 = a[r0 + j];
      acc0 += b0 * a[uOff + j];
      p[j] += b0 * u0;
    }
    p[r] += acc0 + a[r0 + r] * u0;
  }
}

/** B ← B − u qᵀ − q uᵀ on the lower triangle of the leading i×i block (u = a[uOff ..), q = p). */
function symmetricLowerRank2Update(a: Float64Array, n: number, i: number, uOff: number, q: Float64Array): void {
  let r = 0;
  for (; r + 1 < i; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    const u0 = a[uOff + r], u1 = a[uOff + r + 1];
    const q0 = q[r], q1 = q[r + 1];
    for (let j = 0; j <= r; j++) {
      const qj = q[j];
      const uj = a[uOff + j];
      a[r0 + j] -= u0 * qj + q0 * uj;
      a[r1 + j] -= u1 * qj + q1 * uj;
    }
    a[r1 + r + 1] -= u1 * q[r + 1] + q1 * a[uOff + r + 1];
  }
  if (r < i) {
    const r0 = r * n;
    const u0 = a[uOff + r];
    const q0 = q[r];
    for (let j = 0; j <= r; j++) a[r0 + j] -= u0 * q[j] + q0 * a[uOff + j];
  }
}

/**
 * Rows [rFrom, rTo) of M (n×n): M_r ← M_r (I − u uᵀ / h) on the first i columns, u = a[uOff ..
 * uOff+i); each row becomes M_r − (M_r·u / h) uᵀ. Two rows per pass share the loads of u.
 */
function applyReflectorRight(
  m: Float64Array, n: number, i: number, a: Float64Array, uOff: number, h: number, rFrom: number, rTo: number,
): void {
  let r = rFrom;
  for (; r + 1 < rTo; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    let s0 = 0;
    let s1 = 0;
    for (let j = 0; j < i; j++) {
      const uj = a[uOff + j];
      s0 += m[r0 + j] * uj;
      s1 += m[r1 + j] * uj;
    }
    if (s0 === 0 && s1 === 0) continue;
    s0 /= h;
    s1 /= h;
    for (let j = 0; j < i; j++) {
      const uj = a[uOff + j];
      m[r0 + j] -= s0 * uj;
      m[r1 + j] -= s1 * uj;
    }
  }
  if (r < rTo) {
    const r0 = r * n;
    let s0 = 0;
    for (let j = 0; j < i; j++) s0 += m[r0 + j] * a[uOff + j];
    if (s0 !== 0) {
      s0 /= h;
      for (let j = 0; j < i; j++) m[r0 + j] -= s0 * a[uOff + j];
    }
  }
}

/**
 * Implicit QL iteration with shifts on the symmetric tridiagonal matrix (diagonal d, sub-diagonal
 * e[i] = T[i][i−1]); d receives the eigenvalues (unordered) and the plane rotations of each sweep
 * are applied to rows of zt (eigenvectors as rows) after the sweep.
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, zt: Float64Array, n: number, withVectors: boolean): void {
  // Re-index the off-diagonal so that off[i] couples i and i+1.
  const off = new Float64Array(n);
  for (let i = 1; i < n; i++) off[i - 1] = e[i];
  // Rotations of several sweeps are buffered and applied together (see RotationBuffer).
  const buffer = withVectors ? new RotationBuffer(zt, n) : null;
  const cosines = new Float64Array(n);
  const sines = new Float64Array(n);
  let tst = 0; // running norm estimate, convergence threshold reference (as in EISPACK tql2)
  const maxIterations = 60;
  for (let l = 0; l < n; l++) {
    tst = Math.max(tst, Math.abs(d[l]) + Math.abs(off[l]));
    let iterations = 0;
    for (;;) {
      // Find the first negligible off-diagonal element at or after l.
      let m = l;
      while (m < n - 1 && Math.abs(off[m]) > EPS * tst) m++;
      if (m === l) break;
      if (++iterations > maxIterations) {
        throw new NapoodError('symmetricEigen', `QL iteration to converge within ${maxIterations} steps`, `no convergence at eigenvalue ${l}`);
      }
      // Shift from the leading 2×2 block (Wilkinson), QL sweep from m−1 up to l.
      let g = (d[l + 1] - d[l]) / (2 * off[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      let lowest = m; // lowest index i whose rotation was computed
      for (let i = m - 1; i >= l; i--) {
        const f = s * off[i];
        const b = c * off[i];
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // Underflow: the problem splits here; undo the pending shift and restart.
          d[i + 1] -= p;
          off[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        cosines[i] = c;
        sines[i] = s;
        lowest = i;
      }
      if (buffer && lowest < m) buffer.add(cosines, sines, m, lowest);
      if (deflated) continue;
      d[l] -= p;
      off[l] = g;
      off[m] = 0;
    }
  }
  buffer?.flush();
}

/**
 * Delayed application of QL sweeps to the eigenvector rows. One sweep is a chain of rotations
 * i = top−1 down to low: rows i and i+1 become (c·z_i − s·z_{i+1}, s·z_i + c·z_{i+1}). Row i+1 is
 * final after rotation i, so each column carries one running value down the chain (one load and
 * one store per rotation and column instead of two each). Columns are done 8 at a time (one cache
 * line), and the chains of up to 32 sweeps are applied to a column block before moving on, so the
 * rows touched stay in cache across sweeps — for n = 2048 the 32 MB matrix does not fit in cache
 * and one sweep at a time would stream it from memory for every sweep.
 */
class RotationBuffer {
  private cs: Float64Array;
  private sn: Float64Array;
  private used = 0;
  private readonly tops: number[] = [];
  private readonly lows: number[] = [];
  private readonly offsets: number[] = [];
  private static readonly MAX_SWEEPS = 32;

  constructor(
    private readonly zt: Float64Array,
    private readonly n: number,
  ) {
    this.cs = new Float64Array(Math.max(1, 8 * n));
    this.sn = new Float64Array(Math.max(1, 8 * n));
  }

  /** Records the rotations low … top−1 of one sweep (cs[i], sn[i]). */
  add(cs: Float64Array, sn: Float64Array, top: number, low: number): void {
    const len = top - low;
    if (this.used + len > this.cs.length || this.tops.length === RotationBuffer.MAX_SWEEPS) this.flush();
    const o = this.used;
    // Stored in application order: position o + t holds rotation i = top − 1 − t.
    for (let t = 0; t < len; t++) {
      this.cs[o + t] = cs[top - 1 - t];
      this.sn[o + t] = sn[top - 1 - t];
    }
    this.tops.push(top);
    this.lows.push(low);
    this.offsets.push(o);
    this.used += len;
  }

  flush(): void {
    const sweeps = this.tops.length;
    if (sweeps === 0) return;
    const { zt, n, cs, sn } = this;
    let k = 0;
    for (; k + 7 < n; k += 8) {
      for (let w = 0; w < sweeps; w++) {
        const top = this.tops[w];
        const len = top - this.lows[w];
        const base = this.offsets[w];
        let o = top * n + k;
        let t0 = zt[o], t1 = zt[o + 1], t2 = zt[o + 2], t3 = zt[o + 3];
        let t4 = zt[o + 4], t5 = zt[o + 5], t6 = zt[o + 6], t7 = zt[o + 7];
        for (let t = 0; t < len; t++) {
          const c = cs[base + t];
          const s = sn[base + t];
          const oi = o - n;
          let x = zt[oi];
          zt[o] = s * x + c * t0; t0 = c * x - s * t0;
          x = zt[oi + 1];
          zt[o + 1] = s * x + c * t1; t1 = c * x - s * t1;
          x = zt[oi + 2];
          zt[o + 2] = s * x + c * t2; t2 = c * x - s * t2;
          x = zt[oi + 3];
          zt[o + 3] = s * x + c * t3; t3 = c * x - s * t3;
          x = zt[oi + 4];
          zt[o + 4] = s * x + c * t4; t4 = c * x - s * t4;
          x = zt[oi + 5];
          zt[o + 5] = s * x + c * t5; t5 = c * x - s * t5;
          x = zt[oi + 6];
          zt[o + 6] = s * x + c * t6; t6 = c * x - s * t6;
          x = zt[oi + 7];
          zt[o + 7] = s * x + c * t7; t7 = c * x - s * t7;
          o = oi;
        }
        zt[o] = t0; zt[o + 1] = t1; zt[o + 2] = t2; zt[o + 3] = t3;
        zt[o + 4] = t4; zt[o + 5] = t5; zt[o + 6] = t6; zt[o + 7] = t7;
      }
    }
    for (; k < n; k++) {
      for (let w = 0; w < sweeps; w++) {
        const top = this.tops[w];
        const len = top - this.lows[w];
        const base = this.offsets[w];
        let o = top * n + k;
        let v = zt[o];
        for (let t = 0; t < len; t++) {
          const c = cs[base + t];
          const s = sn[base + t];
          const x = zt[o - n];
          zt[o] = s * x + c * v;
          v = c * x - s * v;
          o -= n;
        }
        zt[o] = v;
      }
    }
    this.tops.length = 0;
    this.lows.length = 0;
    this.offsets.length = 0;
    this.used = 0;
  }
}

/**
 * Eigenvalues and eigenvectors as rows (internal form): vectorsRows[j*n + i] = component i of
 * eigenvector j; values ascending.
 */
export function symmetricEigenRows(a: Numeric, n: number): { values: Float64Array; rows: Float64Array } {
  checkSquare('symmetricEigen matrix', a, n);
  checkFinite('symmetricEigen matrix', a);
  // Only the lower triangle is read (like LAPACK with UPLO = 'L', the numpy.linalg.eigh default).
  const work = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const zt = new Float64Array(n * n);
  if (n === 0) return { values: d, rows: zt };
  tridiagonalize(work, n, d, e, zt);
  tridiagonalQL(d, e, zt, n, true);
  // Sort ascending (stable on the index so the output is deterministic).
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y] || x - y);
  const values = new Float64Array(n);
  const rows = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    values[j] = d[order[j]];
    rows.set(zt.subarray(order[j] * n, order[j] * n + n), j * n);
  }
  return { values, rows };
}

/**
 * Eigendecomposition of a real symmetric n×n matrix (row-major; only the lower triangle is read).
 * Returns eigenvalues ascending and eigenvectors as columns: vectors[i*n + j] = component i of the
 * eigenvector of values[j]. Eigenvector signs are arbitrary (as in LAPACK).
 */
export function symmetricEigen(a: Numeric, n: number): SymmetricEigen {
  const { values, rows } = symmetricEigenRows(a, n);
  return { values, vectors: transpose(rows, n, n) };
}

/** Eigenvalues only (ascending), O(n³) reduction but no eigenvector accumulation. */
export function symmetricEigenvalues(a: Numeric, n: number): Float64Array {
  checkSquare('symmetricEigenvalues matrix', a, n);
  checkFinite('symmetricEigenvalues matrix', a);
  const work = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return d;
  const zt = new Float64Array(n * n);
  tridiagonalize(work, n, d, e, zt);
  tridiagonalQL(d, e, zt, n, false);
  return d.sort();
}

// ---------------------------------------------------------------------------------------------
// Pseudo-inverses
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------

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
function scaledGram(u: Float64Array, w: Float64Array, n: number, r: number): Float64Array {
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

// ---------------------------------------------------------------------------------------------
// Streaming covariance
// ---------------------------------------------------------------------------------------------

export type CovarianceCentre =
  /** About the overall mean of the rows seen (np.cov(x.T, bias=True)). */
  | 'mean'
  /** Each row about the mean of its group (labels given to `update`); one shared covariance. */
  | 'groups'
  /** About a given vector (e.g. ViM's origin u = −pinv(W) b). */
  | Float64Array
  | Float32Array;

export interface CovarianceAccumulator {
  readonly c: number;
  /** Rows seen so far. */
  readonly count: number;
  /**
   * Add n rows (n×c row-major). With `groups` > 0 at creation, `labels` (n, in [0, groups)) is
   * required and per-group sums are kept too.
   */
  update(rows: Float32Array | Float64Array, n: number, labels?: Int32Array): void;
  /** Mean of all rows seen (c). */
  mean(): Float64Array;
  /** Per-group means (groups×c, row-major) and counts; groups without rows have mean 0. */
  groupMeans(): { means: Float64Array; counts: Float64Array };
  /** Biased (1/N) covariance c×c, full symmetric, centred as asked (default 'mean'). */
  finish(centre?: CovarianceCentre): Float64Array;
}

/**
 * Streaming accumulator of Σ x and Σ x xᵀ (upper triangle, float64). Rows are shifted by the first
 * row seen before accumulation (shifted-data algorithm), which keeps the cancellation in
 * S/N − μμᵀ small when the mean is large compared with the spread. The update processes rows in
 * blocks of 8: every entry of the triangle is loaded and stored once per block.
 */
export function covarianceAccumulator(c: number, options: { groups?: number } = {}): CovarianceAccumulator {
  if (!Number.isInteger(c) || c < 1) throw new NapoodError('covarianceAccumulator c', 'a positive integer', describe(c));
  const groups = options.groups ?? 0;
  if (!Number.isInteger(groups) || groups < 0) {
    throw new NapoodError('covarianceAccumulator groups', 'a non-negative integer', describe(options.groups));
  }
  const s2 = new Float64Array(c * c); // upper triangle used: s2[i*c + j], j ≥ i
  const s1 = new Float64Array(c);
  const shift = new Float64Array(c);
  const gs1 = new Float64Array(groups * c);
  const gCount = new Float64Array(groups);
  let count = 0;
  // Rows are processed in blocks of 8, stored transposed (bt[j*8 + r] = shifted row r, column j;
  // unused rows of a partial block are zero and add nothing). Each pass over the triangle updates
  // two rows of S at once from 16 register-held values: 16 multiply-adds per 8 loads and 2 stores.
  const BR = 8;
  const bt = new Float64Array(BR * c);
  let pending = 0; // rows in bt not yet added to s2 (kept across update calls)

  /** Adds a partial block (zero rows add nothing). */
  function flush(): void {
    if (pending === 0) return;
    for (let j = 0; j < c; j++) for (let r = pending; r < BR; r++) bt[j * 8 + r] = 0;
    accumulateBlock();
    pending = 0;
  }

  function accumulateBlock(): void {
    const s = s2;
    const x = bt;
    let i = 0;
    for (; i + 1 < c; i += 2) {
      const oi = i * 8;
      const a0 = x[oi], a1 = x[oi + 1], a2 = x[oi + 2], a3 = x[oi + 3];
      const a4 = x[oi + 4], a5 = x[oi + 5], a6 = x[oi + 6], a7 = x[oi + 7];
      const e0 = x[oi + 8], e1 = x[oi + 9], e2 = x[oi + 10], e3 = x[oi + 11];
      const e4 = x[oi + 12], e5 = x[oi + 13], e6 = x[oi + 14], e7 = x[oi + 15];
      const r0 = i * c;
      const r1 = r0 + c;
      // j = i: row i only (S[i+1][i] is below the diagonal).
      s[r0 + i] += ((a0 * a0 + a1 * a1) + (a2 * a2 + a3 * a3)) + ((a4 * a4 + a5 * a5) + (a6 * a6 + a7 * a7));
      for (let j = i + 1; j < c; j++) {
        const o = j * 8;
        const x0 = x[o], x1 = x[o + 1], x2 = x[o + 2], x3 = x[o + 3];
        const x4 = x[o + 4], x5 = x[o + 5], x6 = x[o + 6], x7 = x[o + 7];
        s[r0 + j] += ((a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3)) + ((a4 * x4 + a5 * x5) + (a6 * x6 + a7 * x7));
        s[r1 + j] += ((e0 * x0 + e1 * x1) + (e2 * x2 + e3 * x3)) + ((e4 * x4 + e5 * x5) + (e6 * x6 + e7 * x7));
      }
    }
    if (i < c) {
      // Odd c: the last diagonal entry.
      const oi = i * 8;
      let acc = 0;
      for (let r = 0; r < 8; r++) acc += x[oi + r] * x[oi + r];
      s[i * c + i] += acc;
    }
  }

  const acc: CovarianceAccumulator = {
    c,
    get count() {
      return count;
    },
    update(rows, n, labels) {
      if (!Number.isInteger(n) || n < 0) throw new NapoodError('covariance update n', 'a non-negative integer', describe(n));
      if (rows.length !== n * c) {
        throw new NapoodError('covariance update rows', `${n}×${c} values (${n * c})`, `${rows.length} values`);
      }
      if (groups > 0) {
        if (!labels || labels.length !== n) {
          throw new NapoodError('covariance update labels', `${n} labels (accumulator has ${groups} groups)`, labels ? `${labels.length} labels` : 'none');
        }
        for (let r = 0; r < n; r++) {
          const g = labels[r];
          if (!(g >= 0 && g < groups)) throw new NapoodError('covariance update labels', `labels in [0, ${groups})`, `${g} at row ${r}`);
        }
      }
      // Validate before changing any state, so a rejected chunk leaves the accumulator intact.
      for (let t = 0; t < n * c; t++) {
        const v = rows[t];
        if (v - v !== 0) throw new NapoodError('covariance update rows', 'finite values', `${v} at row ${Math.floor(t / c)}, column ${t % c}`);
      }
      if (n === 0) return;
      if (count === 0) for (let j = 0; j < c; j++) shift[j] = rows[j];
      for (let r = 0; r < n; r++) {
        const src = r * c;
        const slot = pending;
        for (let j = 0; j < c; j++) {
          const x = rows[src + j] - shift[j];
          bt[j * 8 + slot] = x;
          s1[j] += x;
        }
        if (groups > 0) {
          const g = labels![r];
          const gb = g * c;
          for (let j = 0; j < c; j++) gs1[gb + j] += bt[j * 8 + slot];
          gCount[g]++;
        }
        if (++pending === BR) {
          accumulateBlock();
          pending = 0;
        }
      }
      count += n;
    },
    mean() {
      const m = new Float64Array(c);
      if (count === 0) throw new NapoodError('covariance mean', 'at least one row', '0 rows');
      for (let j = 0; j < c; j++) m[j] = shift[j] + s1[j] / count;
      return m;
    },
    groupMeans() {
      const means = new Float64Array(groups * c);
      for (let g = 0; g < groups; g++) {
        if (gCount[g] === 0) continue;
        for (let j = 0; j < c; j++) means[g * c + j] = shift[j] + gs1[g * c + j] / gCount[g];
      }
      return { means, counts: Float64Array.from(gCount) };
    },
    finish(centre = 'mean') {
      if (count === 0) throw new NapoodError('covariance finish', 'at least one row', '0 rows');
      flush();
      const out = new Float64Array(c * c);
      const inv = 1 / count;
      for (let i = 0; i < c; i++) for (let j = i; j < c; j++) out[i * c + j] = s2[i * c + j];
      if (centre === 'mean') {
        // Σ(x'−m')(x'−m')ᵀ = S' − N m' m'ᵀ with m' = s1/N (x' = shifted rows).
        for (let i = 0; i < c; i++) {
          const mi = s1[i] * inv;
          for (let j = i; j < c; j++) out[i * c + j] -= mi * s1[j];
        }
      } else if (centre === 'groups') {
        if (groups === 0) throw new NapoodError('covariance finish centre', "an accumulator created with { groups } for 'groups'", 'no groups');
        for (let g = 0; g < groups; g++) {
          const ng = gCount[g];
          if (ng === 0) continue;
          const gb = g * c;
          for (let i = 0; i < c; i++) {
            const mi = gs1[gb + i] / ng;
            if (mi === 0) continue;
            for (let j = i; j < c; j++) out[i * c + j] -= mi * gs1[gb + j];
          }
        }
      } else {
        const mu = centre;
        if (mu.length !== c) throw new NapoodError('covariance finish centre', `a mean vector of length ${c}`, `length ${mu.length}`);
        // Σ(x'−d)(x'−d)ᵀ = S' − s1 dᵀ − d s1ᵀ + N d dᵀ with d = μ − shift.
        const dv = new Float64Array(c);
        for (let j = 0; j < c; j++) dv[j] = mu[j] - shift[j];
        for (let i = 0; i < c; i++) {
          for (let j = i; j < c; j++) out[i * c + j] += -s1[i] * dv[j] - dv[i] * s1[j] + count * dv[i] * dv[j];
        }
      }
      for (let i = 0; i < c; i++) {
        for (let j = i; j < c; j++) {
          const v = out[i * c + j] * inv;
          out[i * c + j] = v;
          out[j * c + i] = v;
        }
      }
      return out;
    },
  };
  return acc;
}
