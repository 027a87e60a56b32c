/**
 * Exact k-nearest-neighbour distance kernels (brute force), used by the KNN OOD score
 * (Sun et al., "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022; OpenOOD's
 * KNNPostprocessor: faiss IndexFlatL2 over L2-normalised features, score = −distance to the k-th
 * neighbour, k = 50).
 *
 * distance²(q, b) = ‖q‖² + ‖b‖² − 2 q·b, clamped at 0, with all products accumulated in float64
 * (faiss computes the same expansion in float32). The dot products are computed GEMM-style:
 * queries packed as float64 pairs, the bank packed block by block (a block that stays in cache) in
 * interleaved groups of four rows, and a 2×4 register tile; each query keeps its k smallest
 * distances² in a bounded max-heap.
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

/**
 * ‖row‖² of each of the n rows (n×c), float64, summed left to right with one accumulator — the
 * same order as the dot products of `kthNearestDistance`, so a query identical to a bank row is at
 * distance exactly 0.
 */
export function squaredNorms(rows: Float32Array, n: number, c: number, argument = 'squaredNorms rows'): Float64Array {
  checkRows(argument, rows, n, c);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let s = 0;
    for (let j = 0; j < c; j++) {
      const a = rows[o + j];
      s += a * a;
    }
    out[i] = s;
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
  const norms = squaredNorms(rows, n, c, 'l2Normalize rows');
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

/**
 * Dot products of one packed query pair (pq at offset oq, 2c values) with `groups` packed groups of
 * four bank rows; dots[8g + r] = first query · row r of group g, dots[8g + 4 + r] = second query.
 * A small separate function so that V8 optimises the 2×4 register tile on its own.
 */
function pairTile(pq: Float64Array, oq: number, pb: Float64Array, groups: number, c: number, dots: Float64Array): void {
  const end = oq + 2 * c;
  for (let g = 0; g < groups; g++) {
    let p = g * 4 * c;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (let u = oq; u < end; u += 2, p += 4) {
      const x = pq[u];
      const y = pq[u + 1];
      const v0 = pb[p], v1 = pb[p + 1], v2 = pb[p + 2], v3 = pb[p + 3];
      a0 += x * v0; a1 += x * v1; a2 += x * v2; a3 += x * v3;
      c0 += y * v0; c1 += y * v1; c2 += y * v2; c3 += y * v3;
    }
    const o = 8 * g;
    dots[o] = a0; dots[o + 1] = a1; dots[o + 2] = a2; dots[o + 3] = a3;
    dots[o + 4] = c0; dots[o + 5] = c1; dots[o + 6] = c2; dots[o + 7] = c3;
  }
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
  const bankNorms = options.bankNorms ?? squaredNorms(bank, nb, c, 'kthNearestDistance bank');
  if (bankNorms.length !== nb) {
    throw new NapoodError('kthNearestDistance bankNorms', `${nb} values (one per bank row)`, `${bankNorms.length} values`);
  }
  const out = new Float64Array(nq);
  if (nq === 0) return out;
  const queryNorms = squaredNorms(queries, nq, c, 'kthNearestDistance queries');
  // A NaN or infinite value makes its row's norm non-finite: reject it here rather than rank it.
  checkFiniteNorms('kthNearestDistance queries', queryNorms);
  if (options.bankNorms === undefined) checkFiniteNorms('kthNearestDistance bank', bankNorms);
  // Queries are taken in chunks of QC (bounded memory whatever nq is): each chunk is packed as
  // float64 pairs, pq[pair*2c + 2j + s] = query (2·pair + s) of the chunk, column j (a zero row
  // pads an odd count), and has its own heaps. Bank rows are packed per block in groups of four,
  // pb[group*4c + 4j + r] = bank[b0 + 4·group + r][j] (zero rows pad the last group); a block is
  // about 256 KiB of float64, so it stays in L2 while every query pair of the chunk streams over it.
  const QC = 512;
  const BB = Math.max(4, Math.min(1024, Math.floor(32768 / c) & ~3));
  const chunkRows = Math.min(nq, QC);
  const pq = new Float64Array(((chunkRows + 1) >> 1) * 2 * c);
  const pb = new Float64Array(BB * c);
  const dots = new Float64Array(BB * 2);
  const heapFill = new Int32Array(chunkRows);
  const heaps = new Float64Array(chunkRows * k);
  for (let q0 = 0; q0 < nq; q0 += QC) {
    const cq = Math.min(QC, nq - q0);
    const pairs = (cq + 1) >> 1;
    pq.fill(0);
    heapFill.fill(0);
    for (let q = 0; q < cq; q++) {
      const dst = (q >> 1) * 2 * c + (q & 1);
      const src = (q0 + q) * c;
      for (let j = 0; j < c; j++) pq[dst + 2 * j] = queries[src + j];
    }
    for (let b0 = 0; b0 < nb; b0 += BB) {
      const b1 = Math.min(nb, b0 + BB);
      const rowsIn = b1 - b0;
      const groups = (rowsIn + 3) >> 2;
      pb.fill(0, 0, groups * 4 * c);
      for (let r = 0; r < rowsIn; r++) {
        const dst = (r >> 2) * 4 * c + (r & 3);
        const src = (b0 + r) * c;
        for (let j = 0; j < c; j++) pb[dst + 4 * j] = bank[src + j];
      }
      for (let pair = 0; pair < pairs; pair++) {
        const q = 2 * pair; // index within the chunk
        const hasSecond = q + 1 < cq;
        const na = queryNorms[q0 + q];
        const nbq = hasSecond ? queryNorms[q0 + q + 1] : 0;
        const ha = q * k;
        const hb = ha + k;
        pairTile(pq, pair * 2 * c, pb, groups, c, dots);
        for (let r = 0; r < rowsIn; r++) {
          const m = bankNorms[b0 + r];
          const slot = ((r >> 2) << 3) + (r & 3);
          heapOffer(heaps, ha, k, heapFill, q, Math.max(0, na + m - 2 * dots[slot]));
          if (hasSecond) heapOffer(heaps, hb, k, heapFill, q + 1, Math.max(0, nbq + m - 2 * dots[slot + 4]));
        }
      }
    }
    // The heap root is the k-th smallest distance².
    for (let q = 0; q < cq; q++) out[q0 + q] = Math.sqrt(heaps[q * k]);
  }
  return out;
}
