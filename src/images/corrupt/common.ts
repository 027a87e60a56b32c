/**
 * Shared numerics of the corruption kernels (`src/images/corrupt/`): the pixel image type, the
 * two parameter sets, float32 emulation, border rules, the numpy helpers and skimage's HSV
 * conversions that hendrycks/robustness (ImageNet-C `corruptions.py`, `make_cifar_c.py`) calls;
 * the scipy.ndimage and ImageMagick filters are in filters.ts.
 *
 * - `toUint8*`: the last step of make_*_c.py, `np.uint8(np.clip(x, 0, 1) * 255)` — a truncation
 *   toward zero, not a rounding (float32 or float64, as the reference's array is).
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
