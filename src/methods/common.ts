/**
 * Row kernels shared by the logit-based methods. All take N×K row-major Float32Array logits and
 * return one float64 value per row; everything is computed in float64 and stably (max-shifted),
 * so logits of ±1000 neither overflow nor collapse.
 */
import { NapoodError } from '../errors.js';
import { selectInPlace } from '../math/percentile.js';
import type { Head, LinearHead } from '../types.js';

/**
 * The range of the temperature of MSP, energy and ODIN: [1e-3, 1e6]. Below, 1/T overflows for
 * subnormal T (T = 1e-320 gives NaN); above, the energy T · log K overflows (T = 1e308) and every
 * softmax is flat (1/K) anyway. The methods' papers use T from 1 to 1000.
 */
export const TEMPERATURE_RANGE = { min: 1e-3, max: 1e6 } as const;

/** t · log Σ_k exp(f_k / t) per row (the energy score, negated free energy). */
export function logSumExpRows(logits: Float32Array, n: number, k: number, t = 1, out = new Float64Array(n)): Float64Array {
  const invT = 1 / t;
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = logits[base + j] * invT;
      if (v > max) max = v;
    }
    if (max === -Infinity || max === Infinity) { out[i] = t * max; continue; }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[base + j] * invT - max);
    out[i] = t * (max + Math.log(sum));
  }
  return out;
}

/** max_k softmax(f / t)_k per row = 1 / Σ_k exp((f_k − max f) / t). */
export function maxSoftmaxRows(logits: Float32Array, n: number, k: number, t = 1, out = new Float64Array(n)): Float64Array {
  const invT = 1 / t;
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (logits[base + j] > max) max = logits[base + j];
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp((logits[base + j] - max) * invT);
    out[i] = 1 / sum;
  }
  return out;
}

/** max_k f_k per row. */
export function maxRows(values: Float32Array, n: number, k: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (values[base + j] > max) max = values[base + j];
    out[i] = max;
  }
  return out;
}

/** softmax(f) per row, float64, N×K. */
export function softmaxRows(logits: Float32Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (logits[base + j] > max) max = logits[base + j];
    let sum = 0;
    for (let j = 0; j < k; j++) { const e = Math.exp(logits[base + j] - max); out[base + j] = e; sum += e; }
    const inv = 1 / sum;
    for (let j = 0; j < k; j++) out[base + j] *= inv;
  }
  return out;
}

/**
 * logits = z Wᵀ + b for a linear head; z is N×C, W is K×C, result N×K (float64 accumulation).
 * `weight` may be a masked copy of the head's weight (DICE).
 */
export function linearForward(z: Float32Array, n: number, c: number, weight: Float32Array, bias: Float32Array, k: number): Float32Array {
  if (z.length !== n * c) throw new NapoodError('z', `${n}×${c} = ${n * c} pooled values`, `${z.length}`);
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const zb = i * c;
    for (let r = 0; r < k; r++) {
      const wb = r * c;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 4 <= c; j += 4) {
        s0 += z[zb + j] * weight[wb + j];
        s1 += z[zb + j + 1] * weight[wb + j + 1];
        s2 += z[zb + j + 2] * weight[wb + j + 2];
        s3 += z[zb + j + 3] * weight[wb + j + 3];
      }
      let s = (s0 + s1) + (s2 + s3);
      for (; j < c; j++) s += z[zb + j] * weight[wb + j];
      out[i * k + r] = s + bias[r];
    }
  }
  return out;
}

/** Wrap a linear layer as a Head. */
export function linearHead(weight: Float32Array, bias: Float32Array, k: number, c: number): Head {
  const linear: LinearHead = { weight, bias, k, c };
  return { k, c, linear, forward: (z, n) => linearForward(z, n, c, weight, bias, k) };
}

/** Energy (T = 1) of the logits a head gives for modified features. */
export async function headEnergy(head: Head, z: Float32Array, n: number): Promise<{ scores: Float64Array; logits: Float32Array }> {
  const logits = await head.forward(z, n);
  return { scores: logSumExpRows(logits, n, head.k), logits };
}

/**
 * Indices kept by a per-row top-k: a boolean mask (1 = kept) of the k largest of `row`; among
 * equal values at the boundary the lower index is kept first (a deterministic rule; torch.topk
 * leaves it unspecified). O(C) per row by selecting the k-th largest value.
 */
export function topKMask(row: Float32Array | Float64Array, k: number, mask: Uint8Array, scratch: Float64Array): void {
  const c = row.length;
  mask.fill(0);
  if (k <= 0) return;
  if (k >= c) { mask.fill(1); return; }
  for (let j = 0; j < c; j++) scratch[j] = row[j];
  const threshold = selectKthLargest(scratch, c, k);
  let above = 0;
  for (let j = 0; j < c; j++) if (row[j] > threshold) { mask[j] = 1; above++; }
  let need = k - above;
  for (let j = 0; j < c && need > 0; j++) if (row[j] === threshold) { mask[j] = 1; need--; }
}

/** The k-th largest (1-based) of a[0..n), reordering a. */
export function selectKthLargest(a: Float64Array, n: number, k: number): number {
  const view = n === a.length ? a : a.subarray(0, n);
  selectInPlace(view, n - k);
  return view[n - k];
}

/** numpy's round (half to even), used by ASH/SCALE for k = C − round(C·p/100). */
export { roundHalfEven } from '../math/rounding.js';
