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
 * and the sum together (sum accumulated in float64), and, when asked, notices negative values in
 * the same pass. `napKernel` runs the WebAssembly SIMD kernel (src/kernels/nap.wat) where the
 * runtime has WASM SIMD and the plain-JS kernel `napKernelJs` (the reference) otherwise, and for
 * maps of fewer than 128 values (where the JS kernel is faster).
 * Throughput against PyTorch, numpy and C: bench/nap.ts, bench/results/nap.md.
 */
import { NapoodError } from '../errors.js';
import { napKernelWasm } from '../kernels/nap_simd.js';
import type { FeatureBatch, MethodDefinition, ScoreContext } from '../types.js';
import { requireFeatureMap } from './needs.js';
import { napLayersScore } from './nap-layers.js';

export interface NapOptions {
  eps: number;
  p: number;
}

/** Side results of a kernel pass. */
export interface NapStats {
  /** Number of negative activations in the map (NAP assumes post-ReLU maps, A ≥ 0). */
  negatives: number;
}

function checkShape(map: Float32Array, n: number, c: number, hw: number): void {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(c) && c >= 1 && Number.isInteger(hw) && hw >= 1)) {
    throw new NapoodError('nap', 'integer n ≥ 0, c ≥ 1 and h·w ≥ 1', `n=${n}, c=${c}, h·w=${hw}`);
  }
  if (map.length < n * c * hw) {
    throw new NapoodError('featureMap', `at least n·c·h·w = ${n * c * hw} values`, `${map.length}`);
  }
}

/**
 * Pure kernel: NAP score of each of the n samples of an n×c×hw map (hw = H·W).
 * `stats` (optional) receives the number of negative activations, counted in the same pass.
 * Uses WebAssembly SIMD when available, else `napKernelJs`; both give the same scores up to the
 * order of the float64 additions (relative difference ~1e-15).
 */
export function napKernel(
  map: Float32Array,
  n: number,
  c: number,
  hw: number,
  eps: number,
  p: number,
  out: Float64Array = new Float64Array(n),
  stats?: NapStats,
): Float64Array {
  checkShape(map, n, c, hw);
  // below ~128 values the JS kernel is faster than the WASM path's fixed cost (~0.1 µs a call)
  if (n * c * hw < 128) return napKernelJs(map, n, c, hw, eps, p, out, stats);
  return napKernelWasm(map, n, c, hw, eps, p, out, stats) ?? napKernelJs(map, n, c, hw, eps, p, out, stats);
}

/**
 * The plain-JS NAP kernel: the reference for the WASM path and the fallback where WebAssembly
 * SIMD is missing. One pass per channel: max and a float64 sum (four partial sums).
 */
export function napKernelJs(
  map: Float32Array,
  n: number,
  c: number,
  hw: number,
  eps: number,
  p: number,
  out: Float64Array = new Float64Array(n),
  stats?: NapStats,
): Float64Array {
  checkShape(map, n, c, hw);
  const invHw = 1 / hw;
  const square = p === 2;
  const watchNegatives = stats !== undefined;
  let negatives = 0;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    let base = i * c * hw;
    for (let ch = 0; ch < c; ch++) {
      const end = base + hw;
      let max = map[base];
      let lo = 0;
      // Four independent partial sums shorten the float64 dependency chain; the max updates are
      // plain `if`s (rarely taken, so well predicted).
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = base;
      if (watchNegatives) {
        for (; j + 4 <= end; j += 4) {
          const a = map[j], b = map[j + 1], d = map[j + 2], e = map[j + 3];
          s0 += a; s1 += b; s2 += d; s3 += e;
          if (a > max) max = a;
          if (b > max) max = b;
          if (d > max) max = d;
          if (e > max) max = e;
          if (a < lo) lo = a;
          if (b < lo) lo = b;
          if (d < lo) lo = d;
          if (e < lo) lo = e;
        }
      } else {
        for (; j + 4 <= end; j += 4) {
          const a = map[j], b = map[j + 1], d = map[j + 2], e = map[j + 3];
          s0 += a; s1 += b; s2 += d; s3 += e;
          if (a > max) max = a;
          if (b > max) max = b;
          if (d > max) max = d;
          if (e > max) max = e;
        }
      }
      for (; j < end; j++) {
        const a = map[j];
        s0 += a;
        if (a > max) max = a;
        if (a < lo) lo = a;
      }
      if (watchNegatives && lo < 0) negatives += countNegativesIn(map, base, end);
      const ratio = max / (((s0 + s1) + (s2 + s3)) * invHw + eps);
      acc += square ? ratio * ratio : Math.pow(ratio, p);
      base = end;
    }
    out[i] = acc / c;
  }
  if (stats) stats.negatives = negatives;
  return out;
}

function countNegativesIn(map: Float32Array, from: number, to: number): number {
  let count = 0;
  for (let j = from; j < to; j++) if (map[j] < 0) count++;
  return count;
}

/**
 * Count of negative values in a map (NAP assumes post-ReLU maps). A separate pass over the map;
 * `napKernel(…, stats)` gets the same count from its own pass at almost no cost.
 */
export function countNegatives(map: Float32Array): number {
  return countNegativesIn(map, 0, map.length);
}

export const nap: MethodDefinition<undefined> = {
  name: 'nap',
  summary: 'Neural Activation Prior: mean over channels of (max / (mean + eps))^p of the pre-pooling map',
  source: 'arXiv 2402.18162, eq. 3–4',
  needs: ['featureMap'],
  params: {
    // The ratio max/(mean+ε) is at most H·W/(1 + H·W·ε/max): with p ≤ 20 the score stays finite
    // in float64 for any map napood accepts (40 Mpx: (4e7)^20 ≈ 1e152), and ε ≥ 1e-8 keeps it
    // from dividing by a mean of 0.
    eps: { default: 1, min: 1e-8, max: 1e8, doc: 'ε added to the channel mean' },
    p: { default: 2, min: 0.1, max: 20, doc: 'exponent of the max/mean ratio' },
  },
  layered: true,
  score(batch: FeatureBatch, ctx: ScoreContext<undefined>): Float64Array {
    if (ctx.layers?.length) return napLayersScore(batch, ctx, ctx.layers);
    const fm = requireFeatureMap(batch, 'nap');
    const stats: NapStats = { negatives: 0 };
    const scores = napKernel(fm.data, batch.n, fm.c, fm.h * fm.w, ctx.params.eps, ctx.params.p, new Float64Array(batch.n), stats);
    if (stats.negatives > 0) ctx.diagnostics.negativeActivations = (ctx.diagnostics.negativeActivations ?? 0) + stats.negatives;
    return scores;
  },
};
