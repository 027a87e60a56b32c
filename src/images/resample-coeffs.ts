/**
 * The resampling filters of Pillow 9.4 (src/libImaging/Resample.c: box, bilinear, hamming,
 * bicubic a = −0.5, lanczos a = 3) and their fixed-point coefficients (`precompute_coeffs` +
 * `normalize_coeffs_8bpc`) for the passes of resample-passes.ts, written to match Pillow bit for
 * bit: the support scaled by the downscaling factor, weights normalised to sum 1 then rounded to
 * 22-bit fixed point with C's truncation. For speed every output gets the same tap count (zero
 * weights pad the shorter ones) and coefficient sets are cached per geometry.
 */
import type { PilFilter } from './resample.js';

interface FilterDef {
  readonly support: number;
  readonly fn: (x: number) => number;
}

const F054 = Math.fround(0.54);
const F046 = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Readonly<Record<Exclude<PilFilter, 'nearest'>, FilterDef>> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    fn: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  hamming: {
    support: 1,
    fn: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      // Pillow: sin(x) / x * (0.54f + 0.46f * cos(x)) with float constants.
      return (Math.sin(px) / px) * (F054 + F046 * Math.cos(px));
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

export const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
export const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Fixed-point coefficients of output indices [first, first + count) of a resize inSize → outSize,
 * laid out with the same number of taps `n` for every output: output i reads inputs
 * [start[i], start[i] + n) with weights k[i·n …]. Pillow gives each output its own tap count
 * (bounds xmin, xmax); outputs with fewer than n taps get zero weights for the extra inputs, and
 * those near the far edge have `start` moved back so that the extra inputs exist. The integer
 * sums are the same as Pillow's (a zero weight adds 0), and the inner loops have a fixed length.
 * All inputs read lie in [lo, hi), the union of Pillow's bounds, and hi − lo ≥ n.
 */
export interface Coeffs {
  readonly n: number;
  readonly start: Int32Array;
  readonly k: Int32Array;
  readonly lo: number;
  readonly hi: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for outputs [first, first + count). */
export function precomputeCoeffs(inSize: number, outSize: number, name: Exclude<PilFilter, 'nearest'>, first: number, count: number): Coeffs {
  const key = `${name} ${inSize} ${outSize} ${first} ${count}`;
  const hit = coeffCache.get(key);
  if (hit) return hit;
  const filter = FILTERS[name];
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const xmins = new Int32Array(count);
  const taps = new Int32Array(count);
  const kk = new Int32Array(count * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  let n = 0;
  let lo = inSize;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    const xx = first + i;
    const center = (xx + 0.5) * scale;
    // (int) casts: truncation toward zero; `| 0` rather than Math.trunc, which gives −0 (a
    // double that would make the passes' index arithmetic float64) for −1 < x < 0.
    let xmin = (center - support + 0.5) | 0;
    if (xmin < 0) xmin = 0;
    let xmax = (center + support + 0.5) | 0;
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = filter.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      // normalize_coeffs_8bpc: (int)(±0.5 + v · 2^22), truncation toward zero.
      kk[i * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    xmins[i] = xmin;
    taps[i] = xmax;
    if (xmax > n) n = xmax;
    if (xmin < lo) lo = xmin;
    if (xmin + xmax > hi) hi = xmin + xmax;
  }
  // Same tap count n for all: an output with fewer taps starts at most at hi − n (≥ lo, since
  // some output has n taps inside [lo, hi)), its weights shifted by the difference.
  const start = new Int32Array(count);
  const k = new Int32Array(count * n);
  for (let i = 0; i < count; i++) {
    const s = Math.min(xmins[i]!, hi - n);
    const d = xmins[i]! - s;
    start[i] = s;
    for (let x = 0, t = taps[i]!; x < t; x++) k[i * n + d + x] = kk[i * ksize + x]!;
  }
  const c: Coeffs = { n, start, k, lo, hi };
  if (coeffCache.size >= COEFF_CACHE_SIZE) coeffCache.delete(coeffCache.keys().next().value!);
  coeffCache.set(key, c);
  return c;
}

/**
 * The last coefficient sets made (oldest dropped first): images of one size and geometry
 * share them. Entries are never written after they are made.
 */
const coeffCache = new Map<string, Coeffs>();
const COEFF_CACHE_SIZE = 16;
