/**
 * `covarianceAccumulator`: streaming Σx, Σxxᵀ (upper triangle) over Float32Array rows, finishing
 * to the biased (1/N) covariance about the mean, about given means, or about per-group means
 * (the shared class-centred covariance of Mahalanobis, Lee et al. 2018). Hand-written for speed
 * and exactness: rows are shifted by the first row (less cancellation) and added 8 at a time.
 */
import { NapoodError, describe } from '../errors.js';

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
