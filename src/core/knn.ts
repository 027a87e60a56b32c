/**
 * Exact k-nearest-neighbour distance kernels (brute force), used by the KNN OOD score
 * (Sun et al., "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022; OpenOOD's
 * KNNPostprocessor: faiss IndexFlatL2 over L2-normalised features, score = −distance to the k-th
 * neighbour, k = 50).
 *
 * distance²(q, b) = ‖q‖² + ‖b‖² − 2 q·b, clamped at 0, with all products accumulated in float64
 * (faiss computes the same expansion in float32). The dot products are computed tile by tile
 * (a block of bank rows that stays in cache × pairs of queries, 2×4 register tile) and each query
 * keeps its k smallest distances² in a bounded max-heap.
 */
import { NapoodError, describe } from '../errors.js';

function checkRows(argument: string, rows: Float32Array, n: number, c: number): void {
  if (!Number.isInteger(n) || n < 0) throw new NapoodError(`${argument} count`, 'a non-negative integer', describe(n));
  if (rows.length !== n * c) {
    throw new NapoodError(argument, `${n}×${c} values (${n * c})`, `${rows.length} values`);
  }
}

function checkFiniteNorms(argument: string, norms: Float64Array): void {
  for (let i = 0; i < norms.length; i++) {
    if (!Number.isFinite(norms[i])) throw new NapoodError(argument, 'finite values', `a NaN or infinite value (or overflow) in row ${i}`);
  }
}

/** ‖row‖² of each of the n rows (n×c), float64. */
export function squaredNorms(rows: Float32Array, n: number, c: number): Float64Array {
  checkRows('rows', rows, n, c);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let s0 = 0, s1 = 0;
    let j = 0;
    for (; j + 1 < c; j += 2) {
      const a = rows[o + j], b = rows[o + j + 1];
      s0 += a * a;
      s1 += b * b;
    }
    if (j < c) s0 += rows[o + j] * rows[o + j];
    out[i] = s0 + s1;
  }
  return out;
}

/**
 * Each row divided by (its L2 norm + eps), as OpenOOD's KNN normaliser
 * `x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-10)`; the norm is computed in float64.
 */
export function l2Normalize(rows: Float32Array, n: number, c: number, eps = 1e-10): Float32Array {
  if (!Number.isInteger(c) || c < 1) throw new NapoodError('l2Normalize c', 'a positive integer', describe(c));
  if (!(eps >= 0)) throw new NapoodError('l2Normalize eps', 'a number ≥ 0', describe(eps));
  const norms = squaredNorms(rows, n, c);
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    const inv = 1 / (Math.sqrt(norms[i]) + eps);
    const o = i * c;
    for (let j = 0; j < c; j++) out[o + j] = rows[o + j] * inv;
  }
  return out;
}

/** Push-or-replace into the max-heap heap[base .. base+size) (size = current fill). */
function heapOffer(heap: Float64Array, base: number, k: number, fill: Int32Array, q: number, v: number): void {
  let size = fill[q];
  if (size < k) {
    // Sift up.
    let i = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pv = heap[base + parent];
      if (pv >= v) break;
      heap[base + i] = pv;
      i = parent;
    }
    heap[base + i] = v;
    fill[q] = size + 1;
    return;
  }
  if (v >= heap[base]) return;
  // Replace the root and sift down.
  let i = 0;
  size = k;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    let child = l;
    let cv = heap[base + l];
    if (r < size) {
      const rv = heap[base + r];
      if (rv > cv) {
        child = r;
        cv = rv;
      }
    }
    if (cv <= v) break;
    heap[base + i] = cv;
    i = child;
  }
  heap[base + i] = v;
}

export interface KnnOptions {
  /** ‖b‖² of every bank row (from `squaredNorms`), to reuse across calls with the same bank. */
  bankNorms?: Float64Array;
}

/**
 * Euclidean distance from each of the nq query rows (nq×c) to its k-th nearest row of the bank
 * (nb×c), k 1-based (k = 1: nearest). Exact; returns nq distances (Float64).
 */
export function kthNearestDistance(
  queries: Float32Array,
  nq: number,
  bank: Float32Array,
  nb: number,
  c: number,
  k: number,
  options: KnnOptions = {},
): Float64Array {
  if (!Number.isInteger(c) || c < 1) throw new NapoodError('kthNearestDistance c', 'a positive integer', describe(c));
  checkRows('kthNearestDistance queries', queries, nq, c);
  checkRows('kthNearestDistance bank', bank, nb, c);
  if (!Number.isInteger(k) || k < 1 || k > nb) {
    throw new NapoodError('kthNearestDistance k', `an integer in [1, ${nb}] (the bank has ${nb} rows)`, describe(k));
  }
  const bankNorms = options.bankNorms ?? squaredNorms(bank, nb, c);
  if (bankNorms.length !== nb) {
    throw new NapoodError('kthNearestDistance bankNorms', `${nb} values (one per bank row)`, `${bankNorms.length} values`);
  }
  const out = new Float64Array(nq);
  if (nq === 0) return out;
  const queryNorms = squaredNorms(queries, nq, c);
  // A NaN or infinite value makes its row's norm non-finite: reject it here rather than rank it.
  checkFiniteNorms('kthNearestDistance queries', queryNorms);
  if (options.bankNorms === undefined) checkFiniteNorms('kthNearestDistance bank', bankNorms);
  const QB = 32; // queries per block
  // Bank rows per block: about 128 KiB of float32, so the block stays in L2 while every query
  // pair of the query block streams over it.
  const BB = Math.max(4, Math.min(256, Math.floor(32768 / c) & ~3));
  const heapFill = new Int32Array(nq);
  const heaps = new Float64Array(nq * k);

  for (let q0 = 0; q0 < nq; q0 += QB) {
    const q1 = Math.min(nq, q0 + QB);
    for (let b0 = 0; b0 < nb; b0 += BB) {
      const b1 = Math.min(nb, b0 + BB);
      let q = q0;
      for (; q + 1 < q1; q += 2) {
        const oa = q * c;
        const ob = oa + c;
        const na = queryNorms[q];
        const nbq = queryNorms[q + 1];
        const ha = q * k;
        const hb = ha + k;
        let b = b0;
        for (; b + 3 < b1; b += 4) {
          const r0 = b * c, r1 = r0 + c, r2 = r1 + c, r3 = r2 + c;
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
          for (let j = 0; j < c; j++) {
            const x = queries[oa + j];
            const y = queries[ob + j];
            const v0 = bank[r0 + j], v1 = bank[r1 + j], v2 = bank[r2 + j], v3 = bank[r3 + j];
            a0 += x * v0; a1 += x * v1; a2 += x * v2; a3 += x * v3;
            c0 += y * v0; c1 += y * v1; c2 += y * v2; c3 += y * v3;
          }
          const m0 = bankNorms[b], m1 = bankNorms[b + 1], m2 = bankNorms[b + 2], m3 = bankNorms[b + 3];
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + m0 - 2 * a0));
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + m1 - 2 * a1));
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + m2 - 2 * a2));
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + m3 - 2 * a3));
          heapOffer(heaps, hb, k, heapFill, q + 1, Math.max(0, nbq + m0 - 2 * c0));
          heapOffer(heaps, hb, k, heapFill, q + 1, Math.max(0, nbq + m1 - 2 * c1));
          heapOffer(heaps, hb, k, heapFill, q + 1, Math.max(0, nbq + m2 - 2 * c2));
          heapOffer(heaps, hb, k, heapFill, q + 1, Math.max(0, nbq + m3 - 2 * c3));
        }
        for (; b < b1; b++) {
          const r0 = b * c;
          let a0 = 0, c0 = 0;
          for (let j = 0; j < c; j++) {
            const v = bank[r0 + j];
            a0 += queries[oa + j] * v;
            c0 += queries[ob + j] * v;
          }
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + bankNorms[b] - 2 * a0));
          heapOffer(heaps, hb, k, heapFill, q + 1, Math.max(0, nbq + bankNorms[b] - 2 * c0));
        }
      }
      if (q < q1) {
        // Odd query left in this block.
        const oa = q * c;
        const na = queryNorms[q];
        const ha = q * k;
        for (let b = b0; b < b1; b++) {
          const r0 = b * c;
          let s0 = 0, s1 = 0;
          let j = 0;
          for (; j + 1 < c; j += 2) {
            s0 += queries[oa + j] * bank[r0 + j];
            s1 += queries[oa + j + 1] * bank[r0 + j + 1];
          }
          if (j < c) s0 += queries[oa + j] * bank[r0 + j];
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + bankNorms[b] - 2 * (s0 + s1)));
        }
      }
    }
  }
  // The heap root is the k-th smallest distance².
  for (let q = 0; q < nq; q++) out[q] = Math.sqrt(heaps[q * k]);
  return out;
}
