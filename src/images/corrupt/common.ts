/**
 * Shared numerics of the corruption kernels (`src/images/corrupt/`): the pixel image type, the
 * two parameter sets, float32 emulation, border rules, and the pieces of numpy / scipy.ndimage /
 * skimage that hendrycks/robustness (ImageNet-C `corruptions.py`, `make_cifar_c.py`) calls:
 *
 * - `toUint8*`: the last step of make_*_c.py, `np.uint8(np.clip(x, 0, 1) * 255)` — a truncation
 *   toward zero, not a rounding (float32 or float64, as the reference's array is).
 * - `gaussianFilter`: `skimage.filters.gaussian` = `scipy.ndimage.gaussian_filter` (kernel
 *   exp(−x²/2σ²) over ±int(truncate·σ + 0.5), normalised by numpy's pairwise sum; one pass per
 *   spatial axis, rows first; the symmetric tap order of scipy's NI_Correlate1D; the
 *   intermediate array in the input's float type; modes 'nearest' and 'reflect').
 * - `clippedZoom`: the reference's `clipped_zoom` (centre crop of ⌈side/z⌉, `scipy.ndimage.zoom`
 *   order 1 — corner-aligned, output side round(side·z), mode 'constant' so that a coordinate
 *   past the last sample by rounding reads 0 as scipy does — then a centre trim).
 *   Generalised per axis (the reference crops a square from the height only; equal on squares).
 * - `npArange`: numpy's float `arange` (length ⌈(stop − start)/step⌉, values start + i·δ with
 *   δ = (start + step) − start), which decides zoom blur's factor lists (np.arange(1, 1.11, 0.01)
 *   has 12 entries, 1.11 included).
 *
 * Runtime-neutral: no node: import.
 */
import { NapoodError } from '../../errors.js';

/** A decoded image: interleaved HWC uint8, 1 (grey) or 3 (RGB) channels. */
export interface PixelImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/** Which reference's severities: CIFAR-10-C (make_cifar_c.py) or ImageNet-C (corruptions.py). */
export type ParamSet = 'cifar' | 'imagenet';

/** Largest side that gets CIFAR-C's parameters under `params: 'auto'`. */
export const CIFAR_MAX_SIDE = 64;

export function paramSetFor(width: number, height: number, params: ParamSet | 'auto' = 'auto'): ParamSet {
  if (params === 'cifar' || params === 'imagenet') return params;
  return Math.max(width, height) <= CIFAR_MAX_SIDE ? 'cifar' : 'imagenet';
}

export const f32 = Math.fround;

/** Check an image's shape and bytes; names the argument in the error. */
export function checkImage(image: PixelImage, argument = 'image'): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new NapoodError(argument, 'a width and height that are positive integers', `${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new NapoodError(argument, '1 (grey) or 3 (RGB) channels (convert RGBA first: convertChannels or drop alpha)', String(channels));
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new NapoodError(argument, `${width * height * channels} bytes of HWC uint8 (${width}×${height}×${channels})`, data instanceof Uint8Array ? `${data.length} bytes` : typeof data);
  }
}

/** np.uint8 of a value the reference has clipped to [0, 255]: truncation; NaN → 0. */
export function truncU8(v: number): number {
  return v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
}

/** np.uint8(np.clip(x, 0, 1) * 255) of a float64 array. */
export function toUint8From01(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = truncU8((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
  }
  return out;
}

/** np.uint8(np.clip(x, 0, 1) * 255) of a float32 array (the product rounded to float32). */
export function toUint8From01F32(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = truncU8(f32((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
  }
  return out;
}

/** x / 255 in float64 (np.array(x) / 255.). */
export function to01(data: Uint8Array): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
  return out;
}

/** np.array(x, dtype=np.float32) / 255. (a float32 array). */
export function to01F32(data: Uint8Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
  return out;
}

/** Grey → RGB by replication. */
export function grayToRgb(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length * 3);
  for (let i = 0, p = 0; i < data.length; i++, p += 3) {
    const v = data[i]!;
    out[p] = v;
    out[p + 1] = v;
    out[p + 2] = v;
  }
  return out;
}

/** RGB → grey as Pillow's convert('L'): (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
export function rgbToGray(data: Uint8Array): Uint8Array {
  const n = data.length / 3;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    out[i] = (data[p]! * 19595 + data[p + 1]! * 38470 + data[p + 2]! * 7471 + 0x8000) >>> 16;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Border rules (index of sample i of a line of n samples).

/** 'nearest' / BORDER_REPLICATE: a a a | a b c d | d d d. */
export function borderNearest(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** scipy 'reflect' (half-sample symmetric): d c b a | a b c d | d c b a, period 2n. */
export function borderReflect(i: number, n: number): number {
  const p = 2 * n;
  let k = i % p;
  if (k < 0) k += p;
  return k < n ? k : p - 1 - k;
}

/** OpenCV BORDER_REFLECT_101 / scipy 'mirror': d c b | a b c d | c b a, period 2n − 2. */
export function borderReflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * n - 2;
  let k = i % p;
  if (k < 0) k += p;
  return k < n ? k : p - k;
}

export type GaussianMode = 'nearest' | 'reflect';

// ---------------------------------------------------------------------------------------------
// numpy helpers.

/** numpy's pairwise summation (pairwise_sum in loops_utils.h, block 128, 8 accumulators). */
export function npPairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let k = 0; k < 8; k++) r[k]! += a[start + i + k]!;
    }
    let res = (r[0]! + r[1]! + (r[2]! + r[3]!)) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return npPairwiseSum(a, start, n2) + npPairwiseSum(a, start + n2, n - n2);
}

/** numpy float arange(start, stop, step). */
export function npArange(start: number, stop: number, step: number): number[] {
  const len = Math.max(0, Math.ceil((stop - start) / step));
  const out: number[] = [];
  if (len === 0) return out;
  out.push(start);
  if (len === 1) return out;
  const second = start + step;
  out.push(second);
  const delta = second - start;
  for (let i = 2; i < len; i++) out.push(start + i * delta);
  return out;
}

/** Python's round() of a float (half to even), as an integer. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

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

// ---------------------------------------------------------------------------------------------
// skimage.color rgb2hsv / hsv2rgb (float64, the same operations in the same order).

/** skimage rgb2hsv of one pixel (r, g, b in [0, 1]) into hsv[0..2]. */
export function rgbToHsvPixel(r: number, g: number, b: number, hsv: Float64Array): void {
  const v = r > g ? (r > b ? r : b) : g > b ? g : b;
  const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
  const delta = v - mn;
  let s = delta / v;
  if (delta === 0) s = 0;
  let h = 0;
  if (r === v) h = (g - b) / delta;
  if (g === v) h = 2 + (b - r) / delta;
  if (b === v) h = 4 + (r - g) / delta;
  h = h / 6;
  let m = h % 1;
  if (m !== 0 && m < 0) m += 1;
  if (delta === 0) m = 0;
  hsv[0] = Number.isNaN(m) ? 0 : m;
  hsv[1] = Number.isNaN(s) ? 0 : s;
  hsv[2] = Number.isNaN(v) ? 0 : v;
}

/** skimage hsv2rgb of one pixel into rgb[0..2]. */
export function hsvToRgbPixel(h: number, s: number, v: number, rgb: Float64Array): void {
  const hi6 = Math.floor(h * 6);
  const f = h * 6 - hi6;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  // .astype(np.uint8) % 6 (hi is 0…6 here).
  switch ((hi6 & 255) % 6) {
    case 0: rgb[0] = v; rgb[1] = t; rgb[2] = p; break;
    case 1: rgb[0] = q; rgb[1] = v; rgb[2] = p; break;
    case 2: rgb[0] = p; rgb[1] = v; rgb[2] = t; break;
    case 3: rgb[0] = p; rgb[1] = q; rgb[2] = v; break;
    case 4: rgb[0] = t; rgb[1] = p; rgb[2] = v; break;
    default: rgb[0] = v; rgb[1] = p; rgb[2] = q; break;
  }
}

/**
 * A colour corruption of an RGB image, applied to a grey one as the reference would to the grey
 * image replicated to RGB, converted back with Pillow's convert('L').
 */
export function viaRgb(image: PixelImage, fn: (rgb: PixelImage) => Uint8Array): Uint8Array {
  if (image.channels === 3) return fn(image);
  const rgb: PixelImage = { width: image.width, height: image.height, channels: 3, data: grayToRgb(image.data) };
  return rgbToGray(fn(rgb));
}

/**
 * skimage's rgb2hsv → edit → hsv2rgb over an RGB image, in float64 on [0, 1], back to uint8 as
 * the reference's np.clip(x, 0, 1) * 255 (saturate edits s, brightness edits v).
 */
export function mapHsv(image: PixelImage, edit: (hsv: Float64Array) => void): Uint8Array {
  const src = image.data;
  const n = src.length / 3;
  const out = new Float64Array(src.length);
  const hsv = new Float64Array(3);
  const rgb = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    rgbToHsvPixel(src[3 * i]! / 255, src[3 * i + 1]! / 255, src[3 * i + 2]! / 255, hsv);
    edit(hsv);
    hsvToRgbPixel(hsv[0]!, hsv[1]!, hsv[2]!, rgb);
    out[3 * i] = rgb[0]!;
    out[3 * i + 1] = rgb[1]!;
    out[3 * i + 2] = rgb[2]!;
  }
  return toUint8From01(out);
}
