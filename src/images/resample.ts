/**
 * Image resampling that reproduces Pillow's `Image.resize` bit for bit on 8-bit images (modes L
 * and RGB), so that napood feeds a model the same pixels as torchvision's PIL pipeline
 * (`transforms.Resize` on a PIL image always uses Pillow's antialiased resampling).
 *
 * Source: Pillow src/libImaging/Resample.c (`precompute_coeffs`, `normalize_coeffs_8bpc`,
 * `ImagingResampleHorizontal_8bpc` / `Vertical_8bpc`, `ImagingResampleInner`) and
 * src/libImaging/Geometry.c (`ImagingScaleAffine`, used for NEAREST). Same filters (box, bilinear,
 * hamming, bicubic a = −0.5, lanczos a = 3), the filter support scaled by the downscaling factor
 * (antialiasing), coefficients rounded to 22-bit fixed point, a horizontal pass then a vertical
 * pass, each rounded and clamped to uint8 as Pillow does.
 *
 * Only the output window [left, left + outW) × [top, top + outH) of the full `resizeW × resizeH`
 * result is computed: this equals resizing the whole image and cropping afterwards
 * (torchvision `Resize` then `CenterCrop`), because every output pixel depends only on its own
 * coefficients.
 *
 * Pixels are interleaved HWC uint8 with 1 to 4 channels; every channel is resampled alike.
 */

export type PilFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

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

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point coefficients for output indices [first, first + count) of a resize inSize → outSize. */
interface Coeffs {
  readonly ksize: number;
  /** Per output: first input index. */
  readonly start: Int32Array;
  /** Per output: number of input taps. */
  readonly taps: Int32Array;
  /** count × ksize fixed-point weights. */
  readonly k: Int32Array;
}

function precomputeCoeffs(inSize: number, outSize: number, filter: FilterDef, first: number, count: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const taps = new Int32Array(count);
  const k = new Int32Array(count * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let i = 0; i < count; i++) {
    const xx = first + i;
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
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
      k[i * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[i] = xmin;
    taps[i] = xmax;
  }
  return { ksize, start, taps, k };
}

/** Pillow's clip8: arithmetic shift by 22 bits, clamped to 0…255. */
function clip8(ss: number): number {
  const v = Math.floor(ss / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

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
  const f = FILTERS[filter];
  const needH = resizeW !== w;
  const needV = resizeH !== h;
  if (!needH && !needV) return cropCopy(src, w, ch, left, top, outW, outH);

  // Horizontal pass over the source rows the vertical pass will read.
  let rowFirst = top;
  let rowCount = outH;
  let vert: Coeffs | undefined;
  if (needV) {
    vert = precomputeCoeffs(h, resizeH, f, top, outH);
    rowFirst = vert.start[0]!;
    rowCount = vert.start[outH - 1]! + vert.taps[outH - 1]! - rowFirst;
  }
  const tmp = needH
    ? horizontalPass(src, w, ch, precomputeCoeffs(w, resizeW, f, left, outW), rowFirst, rowCount, outW)
    : cropCopy(src, w, ch, left, rowFirst, outW, rowCount); // Pillow skips the pass: columns as they are
  return vert ? verticalPass(tmp, outW * ch, vert, rowFirst, outH) : tmp;
}

/** Rows [rowFirst, rowFirst + rowCount) of `src`, resampled horizontally to `outW` columns. */
function horizontalPass(src: Uint8Array, w: number, ch: number, hc: Coeffs, rowFirst: number, rowCount: number, outW: number): Uint8Array {
  const out = new Uint8Array(rowCount * outW * ch);
  const { ksize, start, taps, k } = hc;
  let o = 0;
  for (let y = 0; y < rowCount; y++) {
    const rowIn = (rowFirst + y) * w * ch;
    for (let xx = 0; xx < outW; xx++) {
      const n = taps[xx]!;
      const kb = xx * ksize;
      let p = rowIn + start[xx]! * ch;
      if (ch === 3) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < n; x++, p += 3) {
          const kx = k[kb + x]!;
          s0 += src[p]! * kx;
          s1 += src[p + 1]! * kx;
          s2 += src[p + 2]! * kx;
        }
        out[o++] = clip8(s0);
        out[o++] = clip8(s1);
        out[o++] = clip8(s2);
      } else {
        for (let c = 0; c < ch; c++) {
          let ss = HALF;
          for (let x = 0, q = p + c; x < n; x++, q += ch) ss += src[q]! * k[kb + x]!;
          out[o++] = clip8(ss);
        }
      }
    }
  }
  return out;
}

/** Vertical resampling of `tmp` (rows from source row `rowFirst` on, `stride` bytes each). */
function verticalPass(tmp: Uint8Array, stride: number, vc: Coeffs, rowFirst: number, outH: number): Uint8Array {
  const out = new Uint8Array(outH * stride);
  const acc = new Float64Array(stride);
  const { ksize, start, taps, k } = vc;
  for (let yy = 0; yy < outH; yy++) {
    acc.fill(HALF);
    const ymin = start[yy]! - rowFirst;
    const n = taps[yy]!;
    const kb = yy * ksize;
    for (let y = 0; y < n; y++) {
      const ky = k[kb + y]!;
      const row = (ymin + y) * stride;
      for (let i = 0; i < stride; i++) acc[i] += tmp[row + i]! * ky;
    }
    const rowOut = yy * stride;
    for (let i = 0; i < stride; i++) out[rowOut + i] = clip8(acc[i]!);
  }
  return out;
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
