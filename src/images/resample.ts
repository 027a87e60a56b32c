/**
 * Image resampling that reproduces Pillow's `Image.resize` bit for bit on 8-bit images (modes L,
 * RGB and RGBX: 1 to 4 interleaved channels, each resampled alike), so that napood feeds a model
 * the same pixels as torchvision's PIL pipeline (`transforms.Resize` on a PIL image always uses
 * Pillow's antialiased resampling, with no `reducing_gap`, so Pillow's reduce() pre-step never
 * runs).
 *
 * Source: Pillow 9.4 src/libImaging/Resample.c (`precompute_coeffs`, `normalize_coeffs_8bpc`,
 * `ImagingResampleHorizontal_8bpc` / `Vertical_8bpc`, `ImagingResampleInner`) and
 * src/libImaging/Geometry.c (`ImagingScaleAffine`, used for NEAREST). Same filters (box, bilinear,
 * hamming, bicubic a = −0.5, lanczos a = 3), the filter support scaled by the downscaling factor
 * (antialiasing), coefficients normalised to sum 1 then rounded to 22-bit fixed point, int32 sums
 * starting at 2^21, a horizontal pass (when the width changes) then a vertical pass (when the
 * height changes), each shifted right by 22 and clamped to uint8 as Pillow's clip8 — the same
 * pass order and the same intermediate uint8 rounding as Pillow.
 *
 * Only the output window [left, left + outW) × [top, top + outH) of the full `resizeW × resizeH`
 * result is computed: this equals resizing the whole image and cropping afterwards
 * (torchvision `Resize` then `CenterCrop`), because every output pixel depends only on its own
 * coefficients. The horizontal pass covers the window's columns and only the source rows the
 * window's vertical taps read.
 *
 * Speed (bench/resample.ts): coefficient sets are cached per geometry; every output of a pass has
 * the same tap count (zero weights pad the shorter ones, which leaves the integer sums unchanged),
 * so the tap loops have fixed lengths and are unrolled for up to 8 (horizontal, RGB) or 16
 * (vertical) taps; sums stay in int32 registers (Math.imul, no float64); the horizontal pass does
 * two RGB rows (four grey rows) per weight load; the intermediate image lives in a reused buffer.
 *
 * Here: the entry point `resamplePil`, its scratch buffer, the crop-only copy and NEAREST; the
 * filters and coefficients are in resample-coeffs.ts, the two passes in resample-passes.ts.
 */
import { precomputeCoeffs } from './resample-coeffs.js';
import { horizontalPass, verticalPass } from './resample-passes.js';

export type PilFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

export interface ResampleWindow {
  /** Size of the full resized image. */
  readonly resizeW: number;
  readonly resizeH: number;
  /** Window of it to compute (a crop); defaults to the whole image. */
  readonly left?: number;
  readonly top?: number;
  readonly outW?: number;
  readonly outH?: number;
}

/**
 * Resize `src` (HWC uint8, `w × h`, `ch` channels) to `resizeW × resizeH` with Pillow's algorithm
 * and return the window [left, left + outW) × [top, top + outH) as HWC uint8.
 */
export function resamplePil(src: Uint8Array, w: number, h: number, ch: number, filter: PilFilter, win: ResampleWindow): Uint8Array {
  const { resizeW, resizeH } = win;
  const left = win.left ?? 0;
  const top = win.top ?? 0;
  const outW = win.outW ?? resizeW;
  const outH = win.outH ?? resizeH;
  if (src.length !== w * h * ch) throw new RangeError(`resamplePil: expected ${w * h * ch} bytes (${w}×${h}×${ch}), found ${src.length}`);
  if (left < 0 || top < 0 || left + outW > resizeW || top + outH > resizeH || outW < 1 || outH < 1) {
    throw new RangeError(`resamplePil: window ${outW}×${outH} at (${left}, ${top}) outside ${resizeW}×${resizeH}`);
  }
  if (filter === 'nearest') return nearest(src, w, h, ch, resizeW, resizeH, left, top, outW, outH);
  const needH = resizeW !== w;
  const needV = resizeH !== h;
  if (!needH && !needV) return cropCopy(src, w, ch, left, top, outW, outH);
  const rowBytes = outW * ch;
  const out = new Uint8Array(outH * rowBytes);
  if (!needH) {
    // Pillow skips the horizontal pass: the vertical pass reads the source columns as they are.
    verticalPass(src, w * ch, left * ch, rowBytes, precomputeCoeffs(h, resizeH, filter, top, outH), out);
    return out;
  }
  const hc = precomputeCoeffs(w, resizeW, filter, left, outW);
  if (!needV) {
    horizontalPass(src, w * ch, ch, hc, top, outH, out, outW);
    return out;
  }
  // Horizontal pass over the source rows the vertical pass reads, into a reused scratch buffer
  // whose row 0 is source row vc.lo.
  const vc = precomputeCoeffs(h, resizeH, filter, top, outH);
  const rows = vc.hi - vc.lo;
  const tmp = scratch(rows * rowBytes);
  horizontalPass(src, w * ch, ch, hc, vc.lo, rows, tmp, outW);
  verticalPass(tmp, rowBytes, -(vc.lo * rowBytes) | 0, rowBytes, vc, out); // | 0: never -0 (a double)
  return out;
}

let scratchBuf = new Uint8Array(0);
/** Largest intermediate image kept between calls (bigger ones are allocated per call). */
const SCRATCH_KEEP = 4 << 20;

/** A buffer of at least `size` bytes for the intermediate image (contents undefined). */
function scratch(size: number): Uint8Array {
  if (size > SCRATCH_KEEP) return new Uint8Array(size);
  if (scratchBuf.length < size) scratchBuf = new Uint8Array(size);
  return scratchBuf;
}

function cropCopy(src: Uint8Array, w: number, ch: number, left: number, top: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH * ch);
  for (let y = 0; y < outH; y++) {
    const from = ((top + y) * w + left) * ch;
    out.set(src.subarray(from, from + outW * ch), y * outW * ch);
  }
  return out;
}

/**
 * Pillow NEAREST (Geometry.c `ImagingScaleAffine`): source index = trunc(x0 + i·scale) with
 * x0 = scale / 2, accumulated by repeated addition exactly as Pillow does.
 */
function nearest(src: Uint8Array, w: number, h: number, ch: number, resizeW: number, resizeH: number, left: number, top: number, outW: number, outH: number): Uint8Array {
  const xs = nearestIndices(w, resizeW, left, outW);
  const ys = nearestIndices(h, resizeH, top, outH);
  const out = new Uint8Array(outW * outH * ch);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const row = ys[y]! * w;
    for (let x = 0; x < outW; x++) {
      const p = (row + xs[x]!) * ch;
      for (let c = 0; c < ch; c++) out[o++] = src[p + c]!;
    }
  }
  return out;
}

function nearestIndices(inSize: number, outSize: number, first: number, count: number): Int32Array {
  const a = inSize / outSize;
  const idx = new Int32Array(count);
  let xo = a * 0.5;
  for (let x = 0; x < first + count; x++) {
    if (x >= first) {
      const v = xo < 0 ? -1 : Math.trunc(xo);
      idx[x - first] = v < 0 ? 0 : v >= inSize ? inSize - 1 : v;
    }
    xo += a;
  }
  return idx;
}
