/**
 * The library filters of hendrycks/robustness (ImageNet-C `corruptions.py`, `make_cifar_c.py`)
 * re-written to return the reference's values (float64 / float32 as the reference's arrays):
 *
 * - `gaussianFilter`: `skimage.filters.gaussian` = `scipy.ndimage.gaussian_filter` (kernel
 *   exp(−x²/2σ²) over ±int(truncate·σ + 0.5), normalised by numpy's pairwise sum; one pass per
 *   spatial axis, rows first; the symmetric tap order of scipy's NI_Correlate1D; the
 *   intermediate array in the input's float type; modes 'nearest' and 'reflect').
 * - `clippedZoom`: the reference's `clipped_zoom` (centre crop of ⌈side/z⌉, `scipy.ndimage.zoom`
 *   order 1 — corner-aligned, output side round(side·z), mode 'constant' so that a coordinate
 *   past the last sample by rounding reads 0 as scipy does — then a centre trim).
 *   Generalised per axis (the reference crops a square from the height only; equal on squares).
 * - `motionBlurMagick`: ImageMagick 6's MotionBlurImage as Wand runs it on 8-bit PNGs.
 *
 * Runtime-neutral: no node: import.
 */
import { borderNearest, borderReflect, npPairwiseSum, pyRound } from './common.js';

export type GaussianMode = 'nearest' | 'reflect';

// ---------------------------------------------------------------------------------------------
// scipy.ndimage.gaussian_filter.

/** scipy's _gaussian_kernel1d(sigma, 0, radius): the half kernel w[0..radius] (symmetric). */
export function gaussianHalfKernel(sigma: number, truncate: number): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const coef = -0.5 / (sigma * sigma);
  const full = new Float64Array(2 * radius + 1);
  for (let i = 0; i < full.length; i++) {
    const x = i - radius;
    full[i] = Math.exp(coef * (x * x));
  }
  const sum = npPairwiseSum(full);
  const half = new Float64Array(radius + 1);
  for (let k = 0; k <= radius; k++) half[k] = full[radius + k]! / sum;
  return half;
}

type FloatArray = Float64Array | Float32Array;

/** Folded weights of a kernel wider than the line: W[i·n + j] = Σ weights of taps of i landing on j. */
const foldCache = new Map<string, Float64Array>();
function foldedWeights(half: Float64Array, n: number, mode: GaussianMode, key: string): Float64Array {
  const k = `${key}|${n}|${mode}`;
  const hit = foldCache.get(k);
  if (hit) return hit;
  const r = half.length - 1;
  const W = new Float64Array(n * n);
  const border = mode === 'nearest' ? borderNearest : borderReflect;
  for (let i = 0; i < n; i++) {
    for (let t = -r; t <= r; t++) W[i * n + border(i + t, n)]! += half[Math.abs(t)]!;
  }
  if (foldCache.size > 64) foldCache.clear();
  foldCache.set(k, W);
  return W;
}

/**
 * One scipy gaussian_filter1d pass along a strided axis of `data` (in place through `out`):
 * `count` lines of `n` samples, sample j of line l at base(l) + j·stride.
 */
function correlateAxis(
  src: FloatArray, dst: FloatArray, n: number, stride: number, bases: Int32Array, half: Float64Array, mode: GaussianMode, key: string,
): void {
  const r = half.length - 1;
  const line = new Float64Array(n + 2 * r);
  const border = mode === 'nearest' ? borderNearest : borderReflect;
  const folded = r > n ? foldedWeights(half, n, mode, key) : undefined;
  const w0 = half[0]!;
  for (let li = 0; li < bases.length; li++) {
    const base = bases[li]!;
    if (folded) {
      for (let j = 0; j < n; j++) line[j] = src[base + j * stride]!;
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) s += folded[row + j]! * line[j]!;
        dst[base + i * stride] = s;
      }
      continue;
    }
    for (let j = -r; j < n + r; j++) line[j + r] = src[base + border(j, n) * stride]!;
    for (let i = 0; i < n; i++) {
      const c = i + r;
      let s = line[c]! * w0;
      for (let k = r; k >= 1; k--) s += (line[c - k]! + line[c + k]!) * half[k]!;
      dst[base + i * stride] = s;
    }
  }
}

/**
 * skimage.filters.gaussian(x, sigma, multichannel=True, mode, truncate) on an HWC array (`c`
 * channels, each filtered alone; c = 1 for a 2-D array). Returns a new array of the same type
 * (float32 in, float32 intermediate and out, as scipy). sigma ≤ 1e-15 is the identity (scipy skips the axis).
 */
export function gaussianFilter<T extends FloatArray>(x: T, h: number, w: number, c: number, sigma: number, mode: GaussianMode = 'nearest', truncate = 4): T {
  const make = (): T => (x instanceof Float32Array ? new Float32Array(x.length) : new Float64Array(x.length)) as T;
  if (!(sigma > 1e-15)) {
    const out = make();
    out.set(x);
    return out;
  }
  const half = gaussianHalfKernel(sigma, truncate);
  const key = `${sigma}|${truncate}`;
  // Axis 0 (down the rows): lines are (x, channel) columns.
  const tmp = make();
  const colBases = new Int32Array(w * c);
  for (let i = 0; i < w * c; i++) colBases[i] = i;
  correlateAxis(x, tmp, h, w * c, colBases, half, mode, key);
  // Axis 1 (along a row): lines are (y, channel).
  const out = make();
  const rowBases = new Int32Array(h * c);
  for (let y = 0; y < h; y++) for (let ch = 0; ch < c; ch++) rowBases[y * c + ch] = y * w * c + ch;
  correlateAxis(tmp, out, w, c, rowBases, half, mode, key);
  return out;
}

// ---------------------------------------------------------------------------------------------
// clipped_zoom (scipy.ndimage.zoom, order 1).

interface ZoomAxis {
  /** Per output sample (after the trim): first source index in the crop, or −1 for scipy's cval 0. */
  readonly i0: Int32Array;
  readonly w0: Float64Array;
  readonly w1: Float64Array;
  /** Crop offset in the source. */
  readonly offset: number;
  /** Crop length. */
  readonly len: number;
}

function zoomAxis(n: number, z: number): ZoomAxis {
  const len = Math.ceil(n / z);
  const offset = Math.floor((n - len) / 2);
  const m = pyRound(len * z);
  const ratio = m - 1 !== 0 ? (len - 1) / (m - 1) : 1;
  const trim = Math.floor((m - n) / 2);
  const i0 = new Int32Array(n);
  const w0 = new Float64Array(n);
  const w1 = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    const cc = (o + trim) * ratio;
    if (cc > len - 1) {
      i0[o] = -1;
      continue;
    }
    const s = Math.floor(cc);
    const t = cc - s;
    i0[o] = s;
    w0[o] = 1 - t;
    w1[o] = t;
  }
  return { i0, w0, w1, offset, len };
}

/**
 * clipped_zoom(img, z) of an HWC float array: crop ⌈h/z⌉ × ⌈w/z⌉ at the centre, zoom by z
 * (scipy order 1), trim to h × w at the centre. float32 in → each value rounded to float32 (scipy
 * writes the input's dtype).
 */
export function clippedZoom<T extends FloatArray>(x: T, h: number, w: number, c: number, z: number): T {
  const ay = zoomAxis(h, z);
  const ax = zoomAxis(w, z);
  const out = (x instanceof Float32Array ? new Float32Array(x.length) : new Float64Array(x.length)) as T;
  const rowStride = w * c;
  for (let oy = 0; oy < h; oy++) {
    const sy = ay.i0[oy]!;
    if (sy < 0) continue;
    const wy0 = ay.w0[oy]!;
    const wy1 = ay.w1[oy]!;
    const y0 = ay.offset + sy;
    const y1 = ay.offset + Math.min(sy + 1, ay.len - 1);
    for (let ox = 0; ox < w; ox++) {
      const sx = ax.i0[ox]!;
      if (sx < 0) continue;
      const wx0 = ax.w0[ox]!;
      const wx1 = ax.w1[ox]!;
      const x0 = ax.offset + sx;
      const x1 = ax.offset + Math.min(sx + 1, ax.len - 1);
      const p00 = y0 * rowStride + x0 * c;
      const p01 = y0 * rowStride + x1 * c;
      const p10 = y1 * rowStride + x0 * c;
      const p11 = y1 * rowStride + x1 * c;
      const o = (oy * w + ox) * c;
      for (let ch = 0; ch < c; ch++) {
        // scipy NI_ZoomShift: t += in · w_y · w_x over the taps, last axis fastest.
        let t = 0;
        t += x[p00 + ch]! * wy0 * wx0;
        t += x[p01 + ch]! * wy0 * wx1;
        t += x[p10 + ch]! * wy1 * wx0;
        t += x[p11 + ch]! * wy1 * wx1;
        out[o + ch] = t;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ImageMagick's MotionBlurImage (Wand `motion_blur(radius, sigma, angle)`).

/**
 * ImageMagick 6 MotionBlurImage on 8-bit pixels as the reference runs it (a PNG through Wand,
 * Q16, virtual pixels 'edge', written back as 8-bit PNG): width = 2⌈radius⌉ + 1 taps with the
 * one-sided weights exp(−i²/2σ²) (i = 0…width−1) normalised to 1, tap i at the integer offset
 * (⌈i·cos θ − 0.5⌉, ⌈i·sin θ − 0.5⌉) from the pixel (x right, y down), coordinates clamped to
 * the image; the sum is taken on the 16-bit quantum (v·257), rounded (ClampToQuantum), and the
 * 8-bit PNG the reference reads back holds ⌊q / 257⌋ (measured on Debian's ImageMagick 6.9.11
 * Q16 through Wand: the 8-bit samples equal the 16-bit ones divided by 257 and truncated, not
 * rounded). Each channel alone.
 */
export function motionBlurMagick(src: Uint8Array, w: number, h: number, c: number, radius: number, sigma: number, angleDeg: number): Uint8Array {
  const width = radius > 1e-12 ? 2 * Math.ceil(radius) + 1 : 3;
  const s = Math.abs(sigma) < 1e-12 ? 1e-12 : sigma;
  const kernel = new Float64Array(width);
  let norm = 0;
  for (let i = 0; i < width; i++) {
    kernel[i] = Math.exp(-(i * i) / (2 * s * s)) / (2.5066282746310002 * s);
    norm += kernel[i]!;
  }
  for (let i = 0; i < width; i++) kernel[i]! /= norm;
  const rad = (Math.PI * angleDeg) / 180;
  const px = width * Math.sin(rad);
  const py = width * Math.cos(rad);
  const hyp = Math.hypot(px, py);
  const offX = new Int32Array(width);
  const offY = new Int32Array(width);
  for (let i = 0; i < width; i++) {
    offX[i] = Math.ceil((i * py) / hyp - 0.5);
    offY[i] = Math.ceil((i * px) / hyp - 0.5);
  }
  const out = new Uint8Array(src.length);
  const acc = new Float64Array(c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      acc.fill(0);
      for (let i = 0; i < width; i++) {
        const yy = y + offY[i]!;
        const xx = x + offX[i]!;
        const p = ((yy < 0 ? 0 : yy >= h ? h - 1 : yy) * w + (xx < 0 ? 0 : xx >= w ? w - 1 : xx)) * c;
        const k = kernel[i]!;
        for (let ch = 0; ch < c; ch++) acc[ch]! += k * (src[p + ch]! * 257);
      }
      const o = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) {
        const v = acc[ch]!;
        const q = v <= 0 ? 0 : v >= 65535 ? 65535 : Math.floor(v + 0.5);
        out[o + ch] = Math.floor(q / 257);
      }
    }
  }
  return out;
}
