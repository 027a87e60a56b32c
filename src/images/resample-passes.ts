/**
 * The horizontal and vertical passes of Pillow's resampling (resample.ts), hand-written for speed
 * and bit-exactness.
 *
 * The passes are Pillow's ImagingResampleHorizontal_8bpc / Vertical_8bpc: per output byte an int32
 * sum starting at 1 << 21 of input byte × weight, then clip8 = clamp(sum >> 22, 0, 255). The sums
 * stay inside int32, partial sums included: |sum| ≤ 255 · Σ|k| + 2^21 < 2^31, as Pillow's C `int`
 * needs (Σ|k| < 1.6 · 2^22, the largest being lanczos on few taps). So Math.imul is the exact
 * product, `| 0` never wraps, and `>> 22` of an unrolled sum (added exactly, then ToInt32) is
 * Pillow's arithmetic shift; a sum outside int32 would wrap as two's complement in both.
 *
 * Speed: the tap loops have fixed lengths (resample-coeffs.ts pads every output to the same tap
 * count) and are unrolled for up to 8 (horizontal, RGB) or 16 (vertical) taps; sums stay in int32
 * registers (Math.imul, no float64); the horizontal pass does two RGB rows (four grey rows) per
 * weight load.
 */
import { HALF, PRECISION_BITS, type Coeffs } from './resample-coeffs.js';

/**
 * Rows [row0, row0 + rows) of `src` (`stride` bytes a row, `ch` channels), resampled horizontally
 * to `outW` columns, written to `out` from byte 0 on.
 */
export function horizontalPass(src: Uint8Array, stride: number, ch: number, hc: Coeffs, row0: number, rows: number, out: Uint8Array, outW: number): void {
  if (ch === 3) horizontal3(src, stride, hc.n, hc.start, hc.k, row0, rows, out, outW);
  else if (ch === 1) horizontal1(src, stride, hc.n, hc.start, hc.k, row0, rows, out, outW);
  else horizontalN(src, stride, ch, hc.n, hc.start, hc.k, row0, rows, out, outW);
}

/**
 * 3 channels, two rows at a time (each weight loaded once for six sums): for n ≤ 4 and n ≤ 8 taps
 * with the tap loop unrolled (the padding taps reread the first input with weight 0), otherwise a
 * tap loop; an odd last row by itself.
 */
function horizontal3(src: Uint8Array, stride: number, n: number, start: Int32Array, k: Int32Array, row0: number, rows: number, out: Uint8Array, outW: number): void {
  let y = 0;
  if (n <= 8) {
    if (n <= 4) horizontal3x4(src, stride, n, start, k, row0, rows, out, outW);
    else horizontal3x8(src, stride, n, start, k, row0, rows, out, outW);
    y = rows - (rows % 2);
  }
  const ob = outW * 3;
  for (; y + 1 < rows; y += 2) {
    const rowIn = (row0 + y) * stride;
    let o = y * ob;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n, o += 3) {
      let a0 = HALF;
      let a1 = HALF;
      let a2 = HALF;
      let b0 = HALF;
      let b1 = HALF;
      let b2 = HALF;
      let p = rowIn + start[xx]! * 3;
      for (let j = kb, e = kb + n; j < e; j++, p += 3) {
        const kx = k[j]!;
        const q = p + stride;
        a0 = (a0 + Math.imul(src[p]!, kx)) | 0;
        a1 = (a1 + Math.imul(src[p + 1]!, kx)) | 0;
        a2 = (a2 + Math.imul(src[p + 2]!, kx)) | 0;
        b0 = (b0 + Math.imul(src[q]!, kx)) | 0;
        b1 = (b1 + Math.imul(src[q + 1]!, kx)) | 0;
        b2 = (b2 + Math.imul(src[q + 2]!, kx)) | 0;
      }
      a0 >>= PRECISION_BITS;
      a1 >>= PRECISION_BITS;
      a2 >>= PRECISION_BITS;
      b0 >>= PRECISION_BITS;
      b1 >>= PRECISION_BITS;
      b2 >>= PRECISION_BITS;
      out[o] = a0 < 0 ? 0 : a0 > 255 ? 255 : a0;
      out[o + 1] = a1 < 0 ? 0 : a1 > 255 ? 255 : a1;
      out[o + 2] = a2 < 0 ? 0 : a2 > 255 ? 255 : a2;
      out[o + ob] = b0 < 0 ? 0 : b0 > 255 ? 255 : b0;
      out[o + ob + 1] = b1 < 0 ? 0 : b1 > 255 ? 255 : b1;
      out[o + ob + 2] = b2 < 0 ? 0 : b2 > 255 ? 255 : b2;
    }
  }
  if (y < rows) {
    const rowIn = (row0 + y) * stride;
    let o = y * ob;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n, o += 3) {
      let a0 = HALF;
      let a1 = HALF;
      let a2 = HALF;
      let p = rowIn + start[xx]! * 3;
      for (let j = kb, e = kb + n; j < e; j++, p += 3) {
        const kx = k[j]!;
        a0 = (a0 + Math.imul(src[p]!, kx)) | 0;
        a1 = (a1 + Math.imul(src[p + 1]!, kx)) | 0;
        a2 = (a2 + Math.imul(src[p + 2]!, kx)) | 0;
      }
      a0 >>= PRECISION_BITS;
      a1 >>= PRECISION_BITS;
      a2 >>= PRECISION_BITS;
      out[o] = a0 < 0 ? 0 : a0 > 255 ? 255 : a0;
      out[o + 1] = a1 < 0 ? 0 : a1 > 255 ? 255 : a1;
      out[o + 2] = a2 < 0 ? 0 : a2 > 255 ? 255 : a2;
    }
  }
}

/** 3 channels, n ≤ 4 taps (padded to 4 with weight 0 on the first input), row pairs [0, rows − rows % 2). */
function horizontal3x4(src: Uint8Array, stride: number, n: number, start: Int32Array, k: Int32Array, row0: number, rows: number, out: Uint8Array, outW: number): void {
  const ob = outW * 3;
  const d1 = n > 1 ? 3 : 0;
  const d2 = n > 2 ? 6 : 0;
  const d3 = n > 3 ? 9 : 0;
  for (let y = 0; y + 1 < rows; y += 2) {
    const rowIn = (row0 + y) * stride;
    let o = y * ob;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n, o += 3) {
      const p0 = rowIn + start[xx]! * 3;
      const p1 = p0 + d1;
      const p2 = p0 + d2;
      const p3 = p0 + d3;
      const k0 = k[kb]!;
      const k1 = n > 1 ? k[kb + 1]! : 0;
      const k2 = n > 2 ? k[kb + 2]! : 0;
      const k3 = n > 3 ? k[kb + 3]! : 0;
      const a0 =
        (HALF +
          Math.imul(src[p0]!, k0) + Math.imul(src[p1]!, k1) + Math.imul(src[p2]!, k2) + Math.imul(src[p3]!, k3)) >>
        PRECISION_BITS;
      const a1 =
        (HALF +
          Math.imul(src[p0 + 1]!, k0) + Math.imul(src[p1 + 1]!, k1) + Math.imul(src[p2 + 1]!, k2) + Math.imul(src[p3 + 1]!, k3)) >>
        PRECISION_BITS;
      const a2 =
        (HALF +
          Math.imul(src[p0 + 2]!, k0) + Math.imul(src[p1 + 2]!, k1) + Math.imul(src[p2 + 2]!, k2) + Math.imul(src[p3 + 2]!, k3)) >>
        PRECISION_BITS;
      const b0 =
        (HALF +
          Math.imul(src[p0 + stride]!, k0) + Math.imul(src[p1 + stride]!, k1) + Math.imul(src[p2 + stride]!, k2) + Math.imul(src[p3 + stride]!, k3)) >>
        PRECISION_BITS;
      const b1 =
        (HALF +
          Math.imul(src[p0 + stride + 1]!, k0) + Math.imul(src[p1 + stride + 1]!, k1) + Math.imul(src[p2 + stride + 1]!, k2) + Math.imul(src[p3 + stride + 1]!, k3)) >>
        PRECISION_BITS;
      const b2 =
        (HALF +
          Math.imul(src[p0 + stride + 2]!, k0) + Math.imul(src[p1 + stride + 2]!, k1) + Math.imul(src[p2 + stride + 2]!, k2) + Math.imul(src[p3 + stride + 2]!, k3)) >>
        PRECISION_BITS;
      out[o] = a0 < 0 ? 0 : a0 > 255 ? 255 : a0;
      out[o + 1] = a1 < 0 ? 0 : a1 > 255 ? 255 : a1;
      out[o + 2] = a2 < 0 ? 0 : a2 > 255 ? 255 : a2;
      out[o + ob] = b0 < 0 ? 0 : b0 > 255 ? 255 : b0;
      out[o + ob + 1] = b1 < 0 ? 0 : b1 > 255 ? 255 : b1;
      out[o + ob + 2] = b2 < 0 ? 0 : b2 > 255 ? 255 : b2;
    }
  }
}

/** 3 channels, n ≤ 8 taps (padded to 8 with weight 0 on the first input), row pairs [0, rows − rows % 2). */
function horizontal3x8(src: Uint8Array, stride: number, n: number, start: Int32Array, k: Int32Array, row0: number, rows: number, out: Uint8Array, outW: number): void {
  const ob = outW * 3;
  const d1 = n > 1 ? 3 : 0;
  const d2 = n > 2 ? 6 : 0;
  const d3 = n > 3 ? 9 : 0;
  const d4 = n > 4 ? 12 : 0;
  const d5 = n > 5 ? 15 : 0;
  const d6 = n > 6 ? 18 : 0;
  const d7 = n > 7 ? 21 : 0;
  for (let y = 0; y + 1 < rows; y += 2) {
    const rowIn = (row0 + y) * stride;
    let o = y * ob;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n, o += 3) {
      const p0 = rowIn + start[xx]! * 3;
      const p1 = p0 + d1;
      const p2 = p0 + d2;
      const p3 = p0 + d3;
      const p4 = p0 + d4;
      const p5 = p0 + d5;
      const p6 = p0 + d6;
      const p7 = p0 + d7;
      const k0 = k[kb]!;
      const k1 = n > 1 ? k[kb + 1]! : 0;
      const k2 = n > 2 ? k[kb + 2]! : 0;
      const k3 = n > 3 ? k[kb + 3]! : 0;
      const k4 = n > 4 ? k[kb + 4]! : 0;
      const k5 = n > 5 ? k[kb + 5]! : 0;
      const k6 = n > 6 ? k[kb + 6]! : 0;
      const k7 = n > 7 ? k[kb + 7]! : 0;
      const a0 =
        (HALF +
          Math.imul(src[p0]!, k0) + Math.imul(src[p1]!, k1) + Math.imul(src[p2]!, k2) + Math.imul(src[p3]!, k3) +
          Math.imul(src[p4]!, k4) + Math.imul(src[p5]!, k5) + Math.imul(src[p6]!, k6) + Math.imul(src[p7]!, k7)) >>
        PRECISION_BITS;
      const a1 =
        (HALF +
          Math.imul(src[p0 + 1]!, k0) + Math.imul(src[p1 + 1]!, k1) + Math.imul(src[p2 + 1]!, k2) + Math.imul(src[p3 + 1]!, k3) +
          Math.imul(src[p4 + 1]!, k4) + Math.imul(src[p5 + 1]!, k5) + Math.imul(src[p6 + 1]!, k6) + Math.imul(src[p7 + 1]!, k7)) >>
        PRECISION_BITS;
      const a2 =
        (HALF +
          Math.imul(src[p0 + 2]!, k0) + Math.imul(src[p1 + 2]!, k1) + Math.imul(src[p2 + 2]!, k2) + Math.imul(src[p3 + 2]!, k3) +
          Math.imul(src[p4 + 2]!, k4) + Math.imul(src[p5 + 2]!, k5) + Math.imul(src[p6 + 2]!, k6) + Math.imul(src[p7 + 2]!, k7)) >>
        PRECISION_BITS;
      const b0 =
        (HALF +
          Math.imul(src[p0 + stride]!, k0) + Math.imul(src[p1 + stride]!, k1) + Math.imul(src[p2 + stride]!, k2) + Math.imul(src[p3 + stride]!, k3) +
          Math.imul(src[p4 + stride]!, k4) + Math.imul(src[p5 + stride]!, k5) + Math.imul(src[p6 + stride]!, k6) + Math.imul(src[p7 + stride]!, k7)) >>
        PRECISION_BITS;
      const b1 =
        (HALF +
          Math.imul(src[p0 + stride + 1]!, k0) + Math.imul(src[p1 + stride + 1]!, k1) + Math.imul(src[p2 + stride + 1]!, k2) + Math.imul(src[p3 + stride + 1]!, k3) +
          Math.imul(src[p4 + stride + 1]!, k4) + Math.imul(src[p5 + stride + 1]!, k5) + Math.imul(src[p6 + stride + 1]!, k6) + Math.imul(src[p7 + stride + 1]!, k7)) >>
        PRECISION_BITS;
      const b2 =
        (HALF +
          Math.imul(src[p0 + stride + 2]!, k0) + Math.imul(src[p1 + stride + 2]!, k1) + Math.imul(src[p2 + stride + 2]!, k2) + Math.imul(src[p3 + stride + 2]!, k3) +
          Math.imul(src[p4 + stride + 2]!, k4) + Math.imul(src[p5 + stride + 2]!, k5) + Math.imul(src[p6 + stride + 2]!, k6) + Math.imul(src[p7 + stride + 2]!, k7)) >>
        PRECISION_BITS;
      out[o] = a0 < 0 ? 0 : a0 > 255 ? 255 : a0;
      out[o + 1] = a1 < 0 ? 0 : a1 > 255 ? 255 : a1;
      out[o + 2] = a2 < 0 ? 0 : a2 > 255 ? 255 : a2;
      out[o + ob] = b0 < 0 ? 0 : b0 > 255 ? 255 : b0;
      out[o + ob + 1] = b1 < 0 ? 0 : b1 > 255 ? 255 : b1;
      out[o + ob + 2] = b2 < 0 ? 0 : b2 > 255 ? 255 : b2;
    }
  }
}

/** 1 channel, four rows at a time. */
function horizontal1(src: Uint8Array, stride: number, n: number, start: Int32Array, k: Int32Array, row0: number, rows: number, out: Uint8Array, outW: number): void {
  let y = 0;
  for (; y + 3 < rows; y += 4) {
    const rowIn = (row0 + y) * stride;
    let o = y * outW;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n, o++) {
      let a = HALF;
      let b = HALF;
      let c = HALF;
      let d = HALF;
      let p = rowIn + start[xx]!;
      for (let j = kb, e = kb + n; j < e; j++, p++) {
        const kx = k[j]!;
        a = (a + Math.imul(src[p]!, kx)) | 0;
        b = (b + Math.imul(src[p + stride]!, kx)) | 0;
        c = (c + Math.imul(src[p + 2 * stride]!, kx)) | 0;
        d = (d + Math.imul(src[p + 3 * stride]!, kx)) | 0;
      }
      a >>= PRECISION_BITS;
      b >>= PRECISION_BITS;
      c >>= PRECISION_BITS;
      d >>= PRECISION_BITS;
      out[o] = a < 0 ? 0 : a > 255 ? 255 : a;
      out[o + outW] = b < 0 ? 0 : b > 255 ? 255 : b;
      out[o + 2 * outW] = c < 0 ? 0 : c > 255 ? 255 : c;
      out[o + 3 * outW] = d < 0 ? 0 : d > 255 ? 255 : d;
    }
  }
  for (; y < rows; y++) {
    const rowIn = (row0 + y) * stride;
    let o = y * outW;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n, o++) {
      let a = HALF;
      let p = rowIn + start[xx]!;
      for (let j = kb, e = kb + n; j < e; j++, p++) a = (a + Math.imul(src[p]!, k[j]!)) | 0;
      a >>= PRECISION_BITS;
      out[o] = a < 0 ? 0 : a > 255 ? 255 : a;
    }
  }
}

/** Any channel count (2, 4), one channel at a time. */
function horizontalN(src: Uint8Array, stride: number, ch: number, n: number, start: Int32Array, k: Int32Array, row0: number, rows: number, out: Uint8Array, outW: number): void {
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowIn = (row0 + y) * stride;
    for (let xx = 0, kb = 0; xx < outW; xx++, kb += n) {
      const p0 = rowIn + start[xx]! * ch;
      for (let c = 0; c < ch; c++) {
        let s = HALF;
        for (let j = kb, e = kb + n, p = p0 + c; j < e; j++, p += ch) s = (s + Math.imul(src[p]!, k[j]!)) | 0;
        s >>= PRECISION_BITS;
        out[o++] = s < 0 ? 0 : s > 255 ? 255 : s;
      }
    }
  }
}

/**
 * Vertical pass of `rowBytes` bytes a row: input row y starts at byte `base + y · stride` of
 * `buf`; output row yy goes to out[yy · rowBytes …]. The taps of an output row are summed in
 * registers, up to 4 (n ≤ 4) or 16 of them in one loop over the row; a group with fewer taps
 * repeats its first input row with weight 0. With more than 16 taps the groups' partial sums go
 * through an int32 row buffer.
 */
export function verticalPass(buf: Uint8Array, stride: number, base: number, rowBytes: number, vc: Coeffs, out: Uint8Array): void {
  if (vc.n <= 4) vertical4(buf, stride, base, rowBytes, vc.n, vc.start, vc.k, out);
  else vertical16(buf, stride, base, rowBytes, vc.n, vc.start, vc.k, out);
}

function vertical4(buf: Uint8Array, stride: number, base: number, rowBytes: number, n: number, start: Int32Array, k: Int32Array, out: Uint8Array): void {
  const outH = start.length;
  const d1 = n > 1 ? stride : 0;
  const d2 = n > 2 ? 2 * stride : 0;
  const d3 = n > 3 ? 3 * stride : 0;
  for (let yy = 0, o = 0, kb = 0; yy < outH; yy++, o += rowBytes, kb += n) {
    const r0 = base + start[yy]! * stride;
    const r1 = r0 + d1;
    const r2 = r0 + d2;
    const r3 = r0 + d3;
    const k0 = k[kb]!;
    const k1 = n > 1 ? k[kb + 1]! : 0;
    const k2 = n > 2 ? k[kb + 2]! : 0;
    const k3 = n > 3 ? k[kb + 3]! : 0;
    for (let i = 0; i < rowBytes; i++) {
      const s = (HALF + Math.imul(buf[r0 + i]!, k0) + Math.imul(buf[r1 + i]!, k1) + Math.imul(buf[r2 + i]!, k2) + Math.imul(buf[r3 + i]!, k3)) >> PRECISION_BITS;
      out[o + i] = s < 0 ? 0 : s > 255 ? 255 : s;
    }
  }
}

function vertical16(buf: Uint8Array, stride: number, base: number, rowBytes: number, n: number, start: Int32Array, k: Int32Array, out: Uint8Array): void {
  const outH = start.length;
  const acc = n > 16 ? accumulator(rowBytes) : accBuf;
  for (let yy = 0, o = 0, kb = 0; yy < outH; yy++, o += rowBytes, kb += n) {
    if (n > 16) acc.fill(HALF, 0, rowBytes);
    for (let j = 0; j < n; j += 16) {
      const m = n - j < 16 ? n - j : 16;
      const r0 = base + (start[yy]! + j) * stride;
      const r1 = m > 1 ? r0 + 1 * stride : r0;
      const r2 = m > 2 ? r0 + 2 * stride : r0;
      const r3 = m > 3 ? r0 + 3 * stride : r0;
      const r4 = m > 4 ? r0 + 4 * stride : r0;
      const r5 = m > 5 ? r0 + 5 * stride : r0;
      const r6 = m > 6 ? r0 + 6 * stride : r0;
      const r7 = m > 7 ? r0 + 7 * stride : r0;
      const r8 = m > 8 ? r0 + 8 * stride : r0;
      const r9 = m > 9 ? r0 + 9 * stride : r0;
      const r10 = m > 10 ? r0 + 10 * stride : r0;
      const r11 = m > 11 ? r0 + 11 * stride : r0;
      const r12 = m > 12 ? r0 + 12 * stride : r0;
      const r13 = m > 13 ? r0 + 13 * stride : r0;
      const r14 = m > 14 ? r0 + 14 * stride : r0;
      const r15 = m > 15 ? r0 + 15 * stride : r0;
      const k0 = k[kb + j]!;
      const k1 = m > 1 ? k[kb + j + 1]! : 0;
      const k2 = m > 2 ? k[kb + j + 2]! : 0;
      const k3 = m > 3 ? k[kb + j + 3]! : 0;
      const k4 = m > 4 ? k[kb + j + 4]! : 0;
      const k5 = m > 5 ? k[kb + j + 5]! : 0;
      const k6 = m > 6 ? k[kb + j + 6]! : 0;
      const k7 = m > 7 ? k[kb + j + 7]! : 0;
      const k8 = m > 8 ? k[kb + j + 8]! : 0;
      const k9 = m > 9 ? k[kb + j + 9]! : 0;
      const k10 = m > 10 ? k[kb + j + 10]! : 0;
      const k11 = m > 11 ? k[kb + j + 11]! : 0;
      const k12 = m > 12 ? k[kb + j + 12]! : 0;
      const k13 = m > 13 ? k[kb + j + 13]! : 0;
      const k14 = m > 14 ? k[kb + j + 14]! : 0;
      const k15 = m > 15 ? k[kb + j + 15]! : 0;
      if (n <= 16) {
        for (let i = 0; i < rowBytes; i++) {
          const s =
            (HALF +
              Math.imul(buf[r0 + i]!, k0) + Math.imul(buf[r1 + i]!, k1) + Math.imul(buf[r2 + i]!, k2) + Math.imul(buf[r3 + i]!, k3) +
              Math.imul(buf[r4 + i]!, k4) + Math.imul(buf[r5 + i]!, k5) + Math.imul(buf[r6 + i]!, k6) + Math.imul(buf[r7 + i]!, k7) +
              Math.imul(buf[r8 + i]!, k8) + Math.imul(buf[r9 + i]!, k9) + Math.imul(buf[r10 + i]!, k10) + Math.imul(buf[r11 + i]!, k11) +
              Math.imul(buf[r12 + i]!, k12) + Math.imul(buf[r13 + i]!, k13) + Math.imul(buf[r14 + i]!, k14) + Math.imul(buf[r15 + i]!, k15)) >>
            PRECISION_BITS;
          out[o + i] = s < 0 ? 0 : s > 255 ? 255 : s;
        }
      } else if (j + m < n) {
        for (let i = 0; i < rowBytes; i++) {
          acc[i] =
            (acc[i]! +
              Math.imul(buf[r0 + i]!, k0) + Math.imul(buf[r1 + i]!, k1) + Math.imul(buf[r2 + i]!, k2) + Math.imul(buf[r3 + i]!, k3) +
              Math.imul(buf[r4 + i]!, k4) + Math.imul(buf[r5 + i]!, k5) + Math.imul(buf[r6 + i]!, k6) + Math.imul(buf[r7 + i]!, k7) +
              Math.imul(buf[r8 + i]!, k8) + Math.imul(buf[r9 + i]!, k9) + Math.imul(buf[r10 + i]!, k10) + Math.imul(buf[r11 + i]!, k11) +
              Math.imul(buf[r12 + i]!, k12) + Math.imul(buf[r13 + i]!, k13) + Math.imul(buf[r14 + i]!, k14) + Math.imul(buf[r15 + i]!, k15)) |
            0;
        }
      } else {
        for (let i = 0; i < rowBytes; i++) {
          const s =
            ((acc[i]! +
              Math.imul(buf[r0 + i]!, k0) + Math.imul(buf[r1 + i]!, k1) + Math.imul(buf[r2 + i]!, k2) + Math.imul(buf[r3 + i]!, k3) +
              Math.imul(buf[r4 + i]!, k4) + Math.imul(buf[r5 + i]!, k5) + Math.imul(buf[r6 + i]!, k6) + Math.imul(buf[r7 + i]!, k7) +
              Math.imul(buf[r8 + i]!, k8) + Math.imul(buf[r9 + i]!, k9) + Math.imul(buf[r10 + i]!, k10) + Math.imul(buf[r11 + i]!, k11) +
              Math.imul(buf[r12 + i]!, k12) + Math.imul(buf[r13 + i]!, k13) + Math.imul(buf[r14 + i]!, k14) + Math.imul(buf[r15 + i]!, k15)) |
              0) >>
            PRECISION_BITS;
          out[o + i] = s < 0 ? 0 : s > 255 ? 255 : s;
        }
      }
    }
  }
}

let accBuf = new Int32Array(0);

/** A module-wide int32 row buffer of at least `size` entries (contents undefined). */
function accumulator(size: number): Int32Array {
  if (accBuf.length < size) accBuf = new Int32Array(size);
  return accBuf;
}
