/**
 * The geometry and pixel kernels of the preprocessing (preprocess.ts), from decoded uint8 pixels
 * to the float32 tensor: torchvision's Resize + CenterCrop window (`resizeGeometry`, Python's
 * round), Pillow's channel conversions (`convertChannels`, `cmykToRgb`) and the normalisation in
 * float32 exactly as torch computes it (`normalizeInto`, a 256-entry table per channel).
 * Runtime-neutral.
 */
import type { Preprocess } from './preprocess.js';
import { roundHalfEven } from '../math/rounding.js';

export interface ResizeGeometry {
  /** Size of the resized image before the crop. */
  readonly resizeW: number;
  readonly resizeH: number;
  /** Crop window inside it. */
  readonly left: number;
  readonly top: number;
  readonly outW: number;
  readonly outH: number;
}

/** torchvision Resize(resize) + CenterCrop(size), or Resize(size) when `resize` is absent. */
export function resizeGeometry(width: number, height: number, pp: Pick<Preprocess, 'size' | 'resize'>): ResizeGeometry {
  const [outH, outW] = pp.size;
  if (pp.resize === undefined) return { resizeW: outW, resizeH: outH, left: 0, top: 0, outW, outH };
  const r = pp.resize;
  let resizeW: number;
  let resizeH: number;
  if (width <= height) {
    resizeW = r;
    resizeH = Math.trunc((r * height) / width);
  } else {
    resizeH = r;
    resizeW = Math.trunc((r * width) / height);
  }
  // resize ≥ max(size) (checked when parsing), so the crop fits and torchvision pads nothing.
  const top = roundHalfEven((resizeH - outH) / 2);
  const left = roundHalfEven((resizeW - outW) / 2);
  return { resizeW, resizeH, left, top, outW, outH };
}

/**
 * Convert interleaved uint8 pixels between 1 and 3 channels as Pillow's `convert`:
 * RGB → L with L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16, L → RGB by replication.
 */
export function convertChannels(pixels: Uint8Array, count: number, from: 1 | 3, to: 1 | 3): Uint8Array {
  if (pixels.length !== count * from) throw new RangeError(`convertChannels: expected ${count * from} bytes, found ${pixels.length}`);
  if (from === to) return pixels;
  if (from === 3) {
    const out = new Uint8Array(count);
    for (let i = 0, p = 0; i < count; i++, p += 3) {
      out[i] = (pixels[p]! * 19595 + pixels[p + 1]! * 38470 + pixels[p + 2]! * 7471 + 0x8000) >>> 16;
    }
    return out;
  }
  const out = new Uint8Array(count * 3);
  for (let i = 0, p = 0; i < count; i++, p += 3) {
    const v = pixels[i]!;
    out[p] = v;
    out[p + 1] = v;
    out[p + 2] = v;
  }
  return out;
}

/**
 * Pillow's CMYK → RGB (Convert.c `cmyk2rgb`, no colour management): with nk = 255 − K,
 * R = nk − round(C · nk / 255) (MULDIV255), same for G from M and B from Y.
 */
export function cmykToRgb(pixels: Uint8Array, count: number): Uint8Array {
  if (pixels.length !== count * 4) throw new RangeError(`cmykToRgb: expected ${count * 4} bytes, found ${pixels.length}`);
  const out = new Uint8Array(count * 3);
  for (let i = 0, p = 0, q = 0; i < count; i++, p += 4, q += 3) {
    const nk = 255 - pixels[p + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = pixels[p + c]! * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[q + c] = v < 0 ? 0 : v;
    }
  }
  return out;
}

/**
 * Write one image (interleaved HWC uint8, `pp.channels` channels, pp.size) into `out` at
 * `offset` as float32 in pp.layout, normalised as torchvision ToTensor + Normalize in float32:
 * x = fl(fl(u / 255) − fl(mean)) / fl(std) (u itself when maxValue = 255). BGR order reverses
 * the colour channels.
 */
export function normalizeInto(pixels: Uint8Array, pp: Preprocess, out: Float32Array, offset: number): void {
  const [h, w] = pp.size;
  const c = pp.channels;
  const hw = h * w;
  if (pixels.length !== hw * c) throw new RangeError(`normalizeInto: expected ${hw * c} bytes (${h}×${w}×${c}), found ${pixels.length}`);
  if (offset < 0 || offset + hw * c > out.length) throw new RangeError(`normalizeInto: ${hw * c} values at ${offset} do not fit in ${out.length}`);
  // Per channel: a 256-entry table (the value depends only on u), computed with float32 steps.
  const table = new Float32Array(256 * c);
  for (let k = 0; k < c; k++) {
    const m = Math.fround(pp.mean[k]!);
    const s = Math.fround(pp.std[k]!);
    for (let u = 0; u < 256; u++) {
      const t = pp.maxValue === 1 ? Math.fround(u / 255) : u;
      table[k * 256 + u] = Math.fround(Math.fround(t - m) / s);
    }
  }
  const bgr = c === 3 && pp.channelOrder === 'bgr';
  for (let k = 0; k < c; k++) {
    const src = bgr ? 2 - k : k;
    const tb = k * 256;
    if (pp.layout === 'nchw') {
      const base = offset + k * hw;
      for (let i = 0, p = src; i < hw; i++, p += c) out[base + i] = table[tb + pixels[p]!]!;
    } else {
      for (let i = 0, p = src, q = offset + k; i < hw; i++, p += c, q += c) out[q] = table[tb + pixels[p]!]!;
    }
  }
}
