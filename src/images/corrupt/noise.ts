/**
 * Noise corruptions (ImageNet-C family "noise", plus the extra speckle_noise), after
 * hendrycks/robustness `corruptions.py` (ImageNet-C) and `make_cifar_c.py` (CIFAR-10-C). x is the
 * image / 255 in float64, the result np.uint8(np.clip(·, 0, 1) · 255) (truncation).
 *
 *   gaussian_noise  x + c·z, z ~ N(0, 1)            c: CIFAR .04 .06 .08 .09 .10 · ImageNet .08 .12 .18 .26 .38
 *   shot_noise      Poisson(x·c) / c                c: CIFAR 500 250 100 75 50 · ImageNet 60 25 12 5 3
 *   impulse_noise   skimage random_noise 's&p'      amount: CIFAR .01 .02 .03 .05 .07 · ImageNet .03 .06 .09 .17 .27
 *   speckle_noise   x + x·c·z                       c: CIFAR .06 .1 .12 .16 .2 · ImageNet .15 .2 .35 .45 .6
 *
 * Every value (pixel × channel) draws alone, so a grey image is treated as the reference treats
 * it (a 2-D array), which equals the RGB reference on the grey image replicated with the same
 * draw in each channel.
 *
 * Random fields (`*With` take them, so the golden tests can feed numpy the same ones):
 *   gaussian / speckle: z, one standard normal per value.
 *   shot: u, one uniform per value; the count is the Poisson quantile F⁻¹(u; λ) (smallest k with
 *     CDF(k) ≥ u, as scipy.stats.poisson.ppf), from a CDF table per distinct λ = (v / 255)·c (256
 *     of them per severity) — inversion sampling, exact in distribution, not numpy's PTRS stream.
 *   impulse: two uniforms per value: flipped = u₁ ≤ amount, salted = u₂ ≤ 0.5 (skimage's
 *     _bernoulli is `random(shape) <= p`); flipped & salted → 1, flipped & not salted → 0.
 */
import { truncU8, type PixelImage } from './common.js';

export const GAUSSIAN_NOISE = { cifar: [0.04, 0.06, 0.08, 0.09, 0.1], imagenet: [0.08, 0.12, 0.18, 0.26, 0.38] } as const;
export const SHOT_NOISE = { cifar: [500, 250, 100, 75, 50], imagenet: [60, 25, 12, 5, 3] } as const;
export const IMPULSE_NOISE = { cifar: [0.01, 0.02, 0.03, 0.05, 0.07], imagenet: [0.03, 0.06, 0.09, 0.17, 0.27] } as const;
export const SPECKLE_NOISE = { cifar: [0.06, 0.1, 0.12, 0.16, 0.2], imagenet: [0.15, 0.2, 0.35, 0.45, 0.6] } as const;

function clip01x255(v: number): number {
  return truncU8((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
}

export function gaussianNoiseWith(image: PixelImage, c: number, z: ArrayLike<number>): Uint8Array {
  const src = image.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = clip01x255(src[i]! / 255 + c * z[i]!);
  return out;
}

export function speckleNoiseWith(image: PixelImage, c: number, z: ArrayLike<number>): Uint8Array {
  const src = image.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = src[i]! / 255;
    out[i] = clip01x255(x + x * (c * z[i]!));
  }
  return out;
}

const poissonTables = new Map<number, Float64Array[]>();

/** CDF tables of Poisson(λ_v), λ_v = (v / 255)·c, v = 0…255. */
function poissonCdfs(c: number): Float64Array[] {
  const hit = poissonTables.get(c);
  if (hit) return hit;
  const tables: Float64Array[] = [];
  for (let v = 0; v < 256; v++) {
    const lambda = (v / 255) * c;
    const cdf: number[] = [];
    let p = Math.exp(-lambda);
    let s = p;
    cdf.push(s);
    for (let k = 1; ; k++) {
      p = (p * lambda) / k;
      s += p;
      cdf.push(s);
      if (k > lambda && (s >= 1 || p < 1e-18 * s)) break;
    }
    tables.push(Float64Array.from(cdf));
  }
  if (poissonTables.size > 32) poissonTables.clear();
  poissonTables.set(c, tables);
  return tables;
}

/** Smallest k with cdf[k] ≥ u (the last index when the table's sum stops short of u). */
function quantile(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  if (cdf[hi]! < u) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! >= u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The Poisson counts of shot noise from uniforms: F⁻¹(u; (v / 255)·c). */
export function shotNoiseCounts(image: PixelImage, c: number, u: ArrayLike<number>): Int32Array {
  const tables = poissonCdfs(c);
  const src = image.data;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = quantile(tables[src[i]!]!, u[i]!);
  return out;
}

export function shotNoiseWith(image: PixelImage, c: number, u: ArrayLike<number>): Uint8Array {
  const k = shotNoiseCounts(image, c, u);
  const out = new Uint8Array(k.length);
  for (let i = 0; i < k.length; i++) out[i] = clip01x255(k[i]! / c);
  return out;
}

export function impulseNoiseWith(image: PixelImage, amount: number, flipU: ArrayLike<number>, saltU: ArrayLike<number>): Uint8Array {
  const src = image.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = flipU[i]! <= amount ? (saltU[i]! <= 0.5 ? 1 : 0) : src[i]! / 255;
    out[i] = clip01x255(x);
  }
  return out;
}
