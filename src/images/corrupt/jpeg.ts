/**
 * A baseline JPEG round trip in TypeScript, as Pillow's `save(format='JPEG', quality=q)` then
 * `Image.open` does it with libjpeg-turbo (the reference's jpeg_compression). The entropy coding
 * (Huffman) is lossless, so the round trip's pixels depend only on what is done before and after
 * it; this file does exactly those steps and skips the bitstream:
 *
 * encoder (libjpeg-turbo defaults Pillow uses: baseline, 4:2:0, JDCT_ISLOW):
 *   RGB → YCbCr with jccolor.c's 16-bit fixed-point tables (grey: one component, no conversion);
 *   chroma h2v2 downsampling ((a + b + c + d + bias) >> 2, bias 1, 2, 1, 2… along a row), the
 *   right edge extended by repeating the last full-resolution column, the bottom by repeating
 *   the last row, then the last chroma row repeated to whole blocks (jcprepct.c / jcsample.c);
 *   jpeg_fdct_islow (jfdctint.c) of samples − 128; quantisation with libjpeg-turbo's reciprocal
 *   method (jcdctmgr.c compute_reciprocal: ((|c| + corr) · recip) >> (16 + ⌊log2 d⌋), d = 8·q);
 *   the quant tables are the IJG (Annex K) tables scaled by jpeg_quality_scaling
 *   (q < 50: 5000 / q, else 200 − 2q; (t·s + 50) / 100 clamped to 1…255, force_baseline).
 * decoder (libjpeg-turbo defaults): dequantise, jpeg_idct_islow (jidctint.c) with the post-IDCT
 *   range-limit table (wraps modulo 1024 like libjpeg's RANGE_MASK), h2v2 "fancy" (triangle)
 *   upsampling (jdsample.c: (3·near + far) per axis, +8 / +7 rounding; the row above the first is
 *   the first, the row below the last real chroma row is that row), YCbCr → RGB with jdcolor.c's
 *   tables.
 *
 * Not bit-identical by construction to every libjpeg build (SIMD paths are designed to match the
 * C code; test/corrupt checks the result against Pillow's round trip with a tolerance).
 */

const LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
  47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** jpeg_quality_scaling + jpeg_add_quant_table (force_baseline). Natural (row-major) order. */
export function quantTable(base: readonly number[], quality: number): Int32Array {
  let q = Math.trunc(quality);
  if (q <= 0) q = 1;
  if (q > 100) q = 100;
  const scale = q < 50 ? Math.trunc(5000 / q) : 200 - q * 2;
  const t = new Int32Array(64);
  for (let i = 0; i < 64; i++) {
    let v = Math.trunc((base[i]! * scale + 50) / 100);
    if (v <= 0) v = 1;
    if (v > 255) v = 255;
    t[i] = v;
  }
  return t;
}

interface Divisor {
  readonly recip: number;
  readonly corr: number;
  /** Total right shift: r = 16 + ⌊log2 d⌋ (one less for a power of two). */
  readonly shift: number;
}

/** libjpeg-turbo compute_reciprocal for a 16-bit DCTELEM. */
function reciprocal(divisor: number): Divisor {
  if (divisor === 1) return { recip: 1, corr: 0, shift: 0 };
  const b = 31 - Math.clz32(divisor);
  let r = 16 + b;
  let fq = Math.floor(2 ** r / divisor);
  const fr = 2 ** r % divisor;
  let c = divisor >> 1;
  if (fr === 0) {
    fq = Math.floor(fq / 2);
    r--;
  } else if (fr <= divisor >>> 1) {
    c++;
  } else {
    fq++;
  }
  return { recip: fq, corr: c, shift: r };
}

const F_0_298 = 2446, F_0_390 = 3196, F_0_541 = 4433, F_0_765 = 6270, F_0_899 = 7373, F_1_175 = 9633;
const F_1_501 = 12299, F_1_847 = 15137, F_1_961 = 16069, F_2_053 = 16819, F_2_562 = 20995, F_3_072 = 25172;
const CONST_BITS = 13;
const PASS1_BITS = 2;

/** DESCALE(x, n) = (x + 2^(n−1)) >> n, arithmetic (values stay far inside ±2^31). */
function descale(x: number, n: number): number {
  return Math.floor((x + 2 ** (n - 1)) / 2 ** n);
}

/** jpeg_fdct_islow in place on 64 values (row-major). */
function fdctIslow(d: Int32Array): void {
  for (let row = 0; row < 8; row++) {
    const o = row * 8;
    const tmp0 = d[o]! + d[o + 7]!, tmp7 = d[o]! - d[o + 7]!;
    const tmp1 = d[o + 1]! + d[o + 6]!, tmp6 = d[o + 1]! - d[o + 6]!;
    const tmp2 = d[o + 2]! + d[o + 5]!, tmp5 = d[o + 2]! - d[o + 5]!;
    const tmp3 = d[o + 3]! + d[o + 4]!, tmp4 = d[o + 3]! - d[o + 4]!;
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    d[o] = (tmp10 + tmp11) * 4;
    d[o + 4] = (tmp10 - tmp11) * 4;
    let z1 = (tmp12 + tmp13) * F_0_541;
    d[o + 2] = descale(z1 + tmp13 * F_0_765, CONST_BITS - PASS1_BITS);
    d[o + 6] = descale(z1 - tmp12 * F_1_847, CONST_BITS - PASS1_BITS);
    z1 = tmp4 + tmp7;
    let z2 = tmp5 + tmp6;
    let z3 = tmp4 + tmp6;
    let z4 = tmp5 + tmp7;
    const z5 = (z3 + z4) * F_1_175;
    const t4 = tmp4 * F_0_298, t5 = tmp5 * F_2_053, t6 = tmp6 * F_3_072, t7 = tmp7 * F_1_501;
    z1 = -z1 * F_0_899;
    z2 = -z2 * F_2_562;
    z3 = -z3 * F_1_961 + z5;
    z4 = -z4 * F_0_390 + z5;
    d[o + 7] = descale(t4 + z1 + z3, CONST_BITS - PASS1_BITS);
    d[o + 5] = descale(t5 + z2 + z4, CONST_BITS - PASS1_BITS);
    d[o + 3] = descale(t6 + z2 + z3, CONST_BITS - PASS1_BITS);
    d[o + 1] = descale(t7 + z1 + z4, CONST_BITS - PASS1_BITS);
  }
  for (let col = 0; col < 8; col++) {
    const d0 = d[col]!, d1 = d[8 + col]!, d2 = d[16 + col]!, d3 = d[24 + col]!;
    const d4 = d[32 + col]!, d5 = d[40 + col]!, d6 = d[48 + col]!, d7 = d[56 + col]!;
    const tmp0 = d0 + d7, tmp7 = d0 - d7;
    const tmp1 = d1 + d6, tmp6 = d1 - d6;
    const tmp2 = d2 + d5, tmp5 = d2 - d5;
    const tmp3 = d3 + d4, tmp4 = d3 - d4;
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    d[col] = descale(tmp10 + tmp11, PASS1_BITS);
    d[32 + col] = descale(tmp10 - tmp11, PASS1_BITS);
    let z1 = (tmp12 + tmp13) * F_0_541;
    d[16 + col] = descale(z1 + tmp13 * F_0_765, CONST_BITS + PASS1_BITS);
    d[48 + col] = descale(z1 - tmp12 * F_1_847, CONST_BITS + PASS1_BITS);
    z1 = tmp4 + tmp7;
    let z2 = tmp5 + tmp6;
    let z3 = tmp4 + tmp6;
    let z4 = tmp5 + tmp7;
    const z5 = (z3 + z4) * F_1_175;
    const t4 = tmp4 * F_0_298, t5 = tmp5 * F_2_053, t6 = tmp6 * F_3_072, t7 = tmp7 * F_1_501;
    z1 = -z1 * F_0_899;
    z2 = -z2 * F_2_562;
    z3 = -z3 * F_1_961 + z5;
    z4 = -z4 * F_0_390 + z5;
    d[56 + col] = descale(t4 + z1 + z3, CONST_BITS + PASS1_BITS);
    d[40 + col] = descale(t5 + z2 + z4, CONST_BITS + PASS1_BITS);
    d[24 + col] = descale(t6 + z2 + z3, CONST_BITS + PASS1_BITS);
    d[8 + col] = descale(t7 + z1 + z4, CONST_BITS + PASS1_BITS);
  }
}

/** The post-IDCT range limit: value v (centred) → sample, with libjpeg's RANGE_MASK wrap. */
function rangeLimit(v: number): number {
  const u = v & 1023;
  return u < 128 ? u + 128 : u < 512 ? 255 : u < 896 ? 0 : u - 896;
}

/** jpeg_idct_islow of dequantised coefficients (row-major) into 64 samples. */
function idctIslow(c: Int32Array, out: Uint8Array, ws: Int32Array): void {
  for (let col = 0; col < 8; col++) {
    const c0 = c[col]!, c1 = c[8 + col]!, c2 = c[16 + col]!, c3 = c[24 + col]!;
    const c4 = c[32 + col]!, c5 = c[40 + col]!, c6 = c[48 + col]!, c7 = c[56 + col]!;
    if (c1 === 0 && c2 === 0 && c3 === 0 && c4 === 0 && c5 === 0 && c6 === 0 && c7 === 0) {
      // jidctint.c's shortcut (exact): a column of zero AC terms is its DC · 2^PASS1_BITS.
      const dc = c0 * 4;
      for (let r = 0; r < 8; r++) ws[r * 8 + col] = dc;
      continue;
    }
    let z2 = c2;
    let z3 = c6;
    let z1 = (z2 + z3) * F_0_541;
    const tmp2e = z1 - z3 * F_1_847;
    const tmp3e = z1 + z2 * F_0_765;
    z2 = c0;
    z3 = c4;
    const tmp0e = (z2 + z3) * 8192;
    const tmp1e = (z2 - z3) * 8192;
    const tmp10 = tmp0e + tmp3e, tmp13 = tmp0e - tmp3e, tmp11 = tmp1e + tmp2e, tmp12 = tmp1e - tmp2e;
    let tmp0 = c7, tmp1 = c5, tmp2 = c3, tmp3 = c1;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F_1_175;
    tmp0 *= F_0_298; tmp1 *= F_2_053; tmp2 *= F_3_072; tmp3 *= F_1_501;
    z1 = -z1 * F_0_899; z2 = -z2 * F_2_562; z3 = -z3 * F_1_961 + z5; z4 = -z4 * F_0_390 + z5;
    tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
    const n = CONST_BITS - PASS1_BITS;
    ws[col] = descale(tmp10 + tmp3, n);
    ws[56 + col] = descale(tmp10 - tmp3, n);
    ws[8 + col] = descale(tmp11 + tmp2, n);
    ws[48 + col] = descale(tmp11 - tmp2, n);
    ws[16 + col] = descale(tmp12 + tmp1, n);
    ws[40 + col] = descale(tmp12 - tmp1, n);
    ws[24 + col] = descale(tmp13 + tmp0, n);
    ws[32 + col] = descale(tmp13 - tmp0, n);
  }
  for (let row = 0; row < 8; row++) {
    const o = row * 8;
    let z2 = ws[o + 2]!;
    let z3 = ws[o + 6]!;
    let z1 = (z2 + z3) * F_0_541;
    const tmp2e = z1 - z3 * F_1_847;
    const tmp3e = z1 + z2 * F_0_765;
    const tmp0e = (ws[o]! + ws[o + 4]!) * 8192;
    const tmp1e = (ws[o]! - ws[o + 4]!) * 8192;
    const tmp10 = tmp0e + tmp3e, tmp13 = tmp0e - tmp3e, tmp11 = tmp1e + tmp2e, tmp12 = tmp1e - tmp2e;
    let tmp0 = ws[o + 7]!, tmp1 = ws[o + 5]!, tmp2 = ws[o + 3]!, tmp3 = ws[o + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F_1_175;
    tmp0 *= F_0_298; tmp1 *= F_2_053; tmp2 *= F_3_072; tmp3 *= F_1_501;
    z1 = -z1 * F_0_899; z2 = -z2 * F_2_562; z3 = -z3 * F_1_961 + z5; z4 = -z4 * F_0_390 + z5;
    tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
    const n = CONST_BITS + PASS1_BITS + 3;
    out[o] = rangeLimit(descale(tmp10 + tmp3, n));
    out[o + 7] = rangeLimit(descale(tmp10 - tmp3, n));
    out[o + 1] = rangeLimit(descale(tmp11 + tmp2, n));
    out[o + 6] = rangeLimit(descale(tmp11 - tmp2, n));
    out[o + 2] = rangeLimit(descale(tmp12 + tmp1, n));
    out[o + 5] = rangeLimit(descale(tmp12 - tmp1, n));
    out[o + 3] = rangeLimit(descale(tmp13 + tmp0, n));
    out[o + 4] = rangeLimit(descale(tmp13 - tmp0, n));
  }
}

/**
 * Encode then decode one plane already padded to whole blocks (pw × ph, multiples of 8):
 * level shift, FDCT, quantise, dequantise, IDCT. Returns the decoded plane (pw × ph).
 */
function roundTripPlane(plane: Uint8Array, pw: number, ph: number, qt: Int32Array): Uint8Array {
  const div = Array.from(qt, (q) => reciprocal(q * 8));
  const recip = Float64Array.from(div, (d) => d.recip);
  const corr = Float64Array.from(div, (d) => d.corr);
  const scale = Float64Array.from(div, (d) => 2 ** -d.shift);
  const out = new Uint8Array(pw * ph);
  const blk = new Int32Array(64);
  const coef = new Int32Array(64);
  const ws = new Int32Array(64);
  const samples = new Uint8Array(64);
  for (let by = 0; by < ph; by += 8) {
    for (let bx = 0; bx < pw; bx += 8) {
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) blk[y * 8 + x] = plane[(by + y) * pw + bx + x]! - 128;
      fdctIslow(blk);
      for (let i = 0; i < 64; i++) {
        const t = blk[i]!;
        const a = t < 0 ? -t : t;
        // ((a + corr) · recip) >> shift: the product is below 2^32, exact in a double.
        const q = Math.floor((a + corr[i]!) * recip[i]! * scale[i]!);
        coef[i] = (t < 0 ? -q : q) * qt[i]!;
      }
      idctIslow(coef, samples, ws);
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) out[(by + y) * pw + bx + x] = samples[y * 8 + x]!;
    }
  }
  return out;
}

/** A plane of w × h padded to pw × ph by repeating the last column and row. */
function padPlane(src: Uint8Array, w: number, h: number, pw: number, ph: number): Uint8Array {
  const out = new Uint8Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    const sy = (y < h ? y : h - 1) * w;
    for (let x = 0; x < pw; x++) out[y * pw + x] = src[sy + (x < w ? x : w - 1)]!;
  }
  return out;
}

const FIX = (x: number): number => Math.floor(x * 65536 + 0.5);
const ONE_HALF = 1 << 15;

/** JPEG round trip of an HWC uint8 image (1 or 3 channels) at `quality`. */
export function jpegRoundTrip(data: Uint8Array, w: number, h: number, channels: 1 | 3, quality: number): Uint8Array {
  const lq = quantTable(LUMA, quality);
  const bw = Math.ceil(w / 8) * 8;
  const bh = Math.ceil(h / 8) * 8;
  if (channels === 1) {
    const dec = roundTripPlane(padPlane(data, w, h, bw, bh), bw, bh, lq);
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) out.set(dec.subarray(y * bw, y * bw + w), y * w);
    return out;
  }
  const cq = quantTable(CHROMA, quality);
  const n = w * h;
  const Y = new Uint8Array(n);
  const Cb = new Uint8Array(n);
  const Cr = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = data[3 * i]!, g = data[3 * i + 1]!, b = data[3 * i + 2]!;
    Y[i] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + ONE_HALF) >> 16;
    Cb[i] = (-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.5) * b + (128 << 16) + ONE_HALF - 1) >> 16;
    Cr[i] = (FIX(0.5) * r - FIX(0.41869) * g - FIX(0.08131) * b + (128 << 16) + ONE_HALF - 1) >> 16;
  }
  const yDec = roundTripPlane(padPlane(Y, w, h, bw, bh), bw, bh, lq);
  // Chroma: downsampled size, blocks, h2v2 downsampling of the edge-extended full-res plane.
  const cw = Math.ceil(w / 2);
  const ch = Math.ceil(h / 2);
  const cpw = Math.ceil(cw / 8) * 8;
  const cph = Math.ceil(ch / 8) * 8;
  const down = (full: Uint8Array): Uint8Array => {
    const out = new Uint8Array(cpw * cph);
    for (let j = 0; j < cph; j++) {
      const jj = j < ch ? j : ch - 1;
      const r0 = Math.min(2 * jj, h - 1) * w;
      const r1 = Math.min(2 * jj + 1, h - 1) * w;
      let bias = 1;
      for (let i = 0; i < cpw; i++) {
        const c0 = Math.min(2 * i, w - 1);
        const c1 = Math.min(2 * i + 1, w - 1);
        out[j * cpw + i] = (full[r0 + c0]! + full[r0 + c1]! + full[r1 + c0]! + full[r1 + c1]! + bias) >> 2;
        bias ^= 3;
      }
    }
    return out;
  };
  const cbDec = roundTripPlane(down(Cb), cpw, cph, cq);
  const crDec = roundTripPlane(down(Cr), cpw, cph, cq);
  // h2v2 fancy upsampling into 2cw × 2ch, cropped to w × h.
  const up = (p: Uint8Array): Uint8Array => {
    const out = new Uint8Array(n);
    const colsum = new Int32Array(Math.max(cw, 2));
    for (let j = 0; j < ch; j++) {
      for (let v = 0; v < 2; v++) {
        const oy = 2 * j + v;
        if (oy >= h) break;
        const far = v === 0 ? Math.max(j - 1, 0) : Math.min(j + 1, ch - 1);
        const ncols = Math.max(cw, 2);
        for (let i = 0; i < ncols; i++) colsum[i] = p[j * cpw + i]! * 3 + p[far * cpw + i]!;
        const row = new Uint8Array(2 * ncols);
        let o = 0;
        row[o++] = (colsum[0]! * 4 + 8) >> 4;
        row[o++] = (colsum[0]! * 3 + colsum[1]! + 7) >> 4;
        for (let i = 1; i < cw - 1; i++) {
          row[o++] = (colsum[i]! * 3 + colsum[i - 1]! + 8) >> 4;
          row[o++] = (colsum[i]! * 3 + colsum[i + 1]! + 7) >> 4;
        }
        const last = cw >= 2 ? cw - 1 : 1;
        const prev = last - 1;
        row[o++] = (colsum[last]! * 3 + colsum[prev]! + 8) >> 4;
        row[o++] = (colsum[last]! * 4 + 7) >> 4;
        // For cw = 1 the row holds 4 values (libjpeg writes past the last real column); keep w.
        for (let x = 0; x < w; x++) out[oy * w + x] = row[x]!;
      }
    }
    return out;
  };
  const cbUp = up(cbDec);
  const crUp = up(crDec);
  const out = new Uint8Array(n * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const yy = yDec[y * bw + x]!;
      const cb = cbUp[i]! - 128;
      const cr = crUp[i]! - 128;
      const r = yy + ((FIX(1.402) * cr + ONE_HALF) >> 16);
      const g = yy + ((-FIX(0.34414) * cb + ONE_HALF + -FIX(0.71414) * cr) >> 16);
      const b = yy + ((FIX(1.772) * cb + ONE_HALF) >> 16);
      out[3 * i] = r < 0 ? 0 : r > 255 ? 255 : r;
      out[3 * i + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
      out[3 * i + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
  return out;
}
