/**
 * NAP — Neural Activation Prior.
 * Paper: "Out-of-Distribution Detection using Neural Activation Prior", arXiv 2402.18162 (eq. 3–4,
 * Algorithm 1 of v4).
 *
 *   S_NAP(x) = (1/C) Σ_c ( max_hw A_c / (mean_hw A_c + ε) )^p
 *
 * A: feature map before global pooling (N×C×H×W, after the last ReLU, A ≥ 0).
 * Needs: featureMap. Defaults: ε = 1, p = 2. Higher = more in-distribution.
 *
 * The kernel reads every element of the map exactly once: one pass per channel computes the max
 * and the sum together (sum accumulated in float64).
 */
import type { FeatureBatch, MethodDefinition, ScoreContext } from '../types.js';
import { requireFeatureMap } from './needs.js';

export interface NapOptions {
  eps: number;
  p: number;
}

/**
 * Pure kernel: NAP score of each of the n samples of an n×c×h×w map.
 * `negatives` (optional) receives the number of negative activations seen, so the caller can warn.
 */
export function napKernel(
  map: Float32Array,
  n: number,
  c: number,
  hw: number,
  eps: number,
  p: number,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  const invHw = 1 / hw;
  const squareFast = p === 2;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    let base = i * c * hw;
    for (let ch = 0; ch < c; ch++) {
      const end = base + hw;
      let max = map[base];
      let sum = 0;
      // Unrolled by 4: four independent sums shorten the dependency chain.
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = base;
      for (; j + 4 <= end; j += 4) {
        const a = map[j], b = map[j + 1], d = map[j + 2], e = map[j + 3];
        s0 += a; s1 += b; s2 += d; s3 += e;
        const m1 = a > b ? a : b;
        const m2 = d > e ? d : e;
        const m = m1 > m2 ? m1 : m2;
        if (m > max) max = m;
      }
      for (; j < end; j++) {
        const a = map[j];
        sum += a;
        if (a > max) max = a;
      }
      sum += (s0 + s1) + (s2 + s3);
      const ratio = max / (sum * invHw + eps);
      acc += squareFast ? ratio * ratio : Math.pow(ratio, p);
      base = end;
    }
    out[i] = acc / c;
  }
  return out;
}

/** Count of negative values in a map (NAP assumes post-ReLU maps). */
export function countNegatives(map: Float32Array): number {
  let count = 0;
  for (let j = 0; j < map.length; j++) if (map[j] < 0) count++;
  return count;
}

export const nap: MethodDefinition<undefined> = {
  name: 'nap',
  summary: 'Neural Activation Prior: mean over channels of (max / (mean + eps))^p of the pre-pooling map',
  source: 'arXiv 2402.18162, eq. 3–4',
  needs: ['featureMap'],
  params: {
    eps: { default: 1, min: 0, exclusiveMin: true, doc: 'ε added to the channel mean' },
    p: { default: 2, min: 0, exclusiveMin: true, doc: 'exponent of the max/mean ratio' },
  },
  score(batch: FeatureBatch, ctx: ScoreContext<undefined>): Float64Array {
    const fm = requireFeatureMap(batch, 'nap');
    const negatives = countNegatives(fm.data);
    if (negatives > 0) ctx.diagnostics.negativeActivations = (ctx.diagnostics.negativeActivations ?? 0) + negatives;
    return napKernel(fm.data, batch.n, fm.c, fm.h * fm.w, ctx.params.eps, ctx.params.p);
  },
};
