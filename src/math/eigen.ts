/**
 * `symmetricEigen`: all eigenvalues (ascending, like numpy.linalg.eigh) and eigenvectors of a real
 * symmetric matrix. Householder reduction to tridiagonal form (householder.ts) followed by the
 * implicit QL algorithm with Wilkinson-type shifts — the method of the EISPACK routines tred2 /
 * tql2 (Wilkinson & Reinsch, "Handbook for Automatic Computation II", 1971; Golub & Van Loan
 * §8.3). Hand-written for speed on row-major storage: eigenvectors are kept as rows and the QL
 * rotations are buffered and applied several sweeps at a time on cache-line column blocks (see
 * RotationBuffer). About 10× slower than LAPACK (numpy) on one core.
 */
import { NapoodError } from '../errors.js';
import { EPS, checkFinite, checkSquare, type Numeric } from './dense.js';
import { tridiagonalize } from './householder.js';
import { transpose } from './products.js';

export interface SymmetricEigen {
  /** Eigenvalues in ascending order (n). */
  values: Float64Array;
  /** n×n row-major; column j is the unit eigenvector of values[j]: vectors[i*n + j]. */
  vectors: Float64Array;
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
