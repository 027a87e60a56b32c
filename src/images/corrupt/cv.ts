/**
 * The OpenCV 4 operations that spatter and elastic_transform call in hendrycks/robustness,
 * re-implemented on typed arrays (single channel unless said otherwise):
 *
 * - `canny` = cv2.Canny(u8, low, high) (aperture 3, L1 gradient): Sobel dx / dy with
 *   BORDER_REPLICATE, |dx| + |dy|, non-maximum suppression with OpenCV's integer sector test
 *   (tan 22.5° as 13573 / 2¹⁵; horizontal: m > left and m ≥ right; vertical: m > up and m ≥ down;
 *   diagonals: both strict), m > low to be a candidate, m > high to seed, 8-connected hysteresis.
 * - `distanceTransform5` = cv2.distanceTransform(u8, DIST_L2, 5): the 5×5 chamfer with OpenCV's
 *   weights 1, 1.4, 2.1969 in 16-bit fixed point, a forward and a backward pass.
 * - `boxBlur3F32` / `boxBlur3U8` = cv2.blur(·, (3, 3)) (BORDER_REFLECT_101): float32 from double
 *   sums; uint8 as ⌊(sum + 4) / 9⌋ (OpenCV's fixed-point divide, equal to rounding s / 9).
 * - `equalizeHist` = cv2.equalizeHist (float scale (255 / (total − first bin count)), cvRound).
 * - `filter2DU8` = cv2.filter2D(u8, CV_8U, integer kernel) (correlation, REFLECT_101, saturate).
 * - `affineTransform` / `warpAffineF32` = cv2.getAffineTransform and cv2.warpAffine(float32,
 *   INTER_LINEAR, BORDER_REFLECT_101): the inverse map evaluated in 10-bit fixed point and
 *   rounded to 1/32 pixel (INTER_BITS = 5), OpenCV's float bilinear table for that 1/32 grid.
 */
import { borderNearest, borderReflect101, f32 } from './common.js';

/** cvRound for a float: round half to even. */
function cvRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

export function canny(src: Uint8Array, w: number, h: number, low: number, high: number): Uint8Array {
  const lo = Math.floor(Math.min(low, high));
  const hi = Math.floor(Math.max(low, high));
  const n = w * h;
  const dx = new Int32Array(n);
  const dy = new Int32Array(n);
  const mag = new Int32Array(n);
  for (let y = 0; y < h; y++) {
    const ym = borderNearest(y - 1, h) * w;
    const y0 = y * w;
    const yp = borderNearest(y + 1, h) * w;
    for (let x = 0; x < w; x++) {
      const xm = borderNearest(x - 1, w);
      const xp = borderNearest(x + 1, w);
      const gx = (src[ym + xp]! - src[ym + xm]!) + 2 * (src[y0 + xp]! - src[y0 + xm]!) + (src[yp + xp]! - src[yp + xm]!);
      const gy = (src[yp + xm]! + 2 * src[yp + x]! + src[yp + xp]!) - (src[ym + xm]! + 2 * src[ym + x]! + src[ym + xp]!);
      dx[y0 + x] = gx;
      dy[y0 + x] = gy;
      mag[y0 + x] = Math.abs(gx) + Math.abs(gy);
    }
  }
  const at = (y: number, x: number): number => (y < 0 || y >= h || x < 0 || x >= w ? 0 : mag[y * w + x]!);
  // 0: weak candidate, 1: not an edge, 2: edge.
  const map = new Uint8Array(n).fill(1);
  const stack: number[] = [];
  const TG22 = 13573;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const m = mag[i]!;
      if (!(m > lo)) continue;
      const xs = dx[i]!;
      const ys = dy[i]!;
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * 32768;
      const tg22x = ax * TG22;
      let keep: boolean;
      if (ay < tg22x) {
        keep = m > at(y, x - 1) && m >= at(y, x + 1);
      } else {
        const tg67x = tg22x + ax * 65536;
        if (ay > tg67x) {
          keep = m > at(y - 1, x) && m >= at(y + 1, x);
        } else {
          const s = (xs < 0) !== (ys < 0) ? -1 : 1;
          keep = m > at(y - 1, x - s) && m > at(y + 1, x + s);
        }
      }
      if (!keep) continue;
      if (m > hi) {
        map[i] = 2;
        stack.push(i);
      } else {
        map[i] = 0;
      }
    }
  }
  while (stack.length) {
    const i = stack.pop()!;
    const y = (i / w) | 0;
    const x = i - y * w;
    for (let oy = -1; oy <= 1; oy++) {
      const yy = y + oy;
      if (yy < 0 || yy >= h) continue;
      for (let ox = -1; ox <= 1; ox++) {
        const xx = x + ox;
        if (xx < 0 || xx >= w) continue;
        const j = yy * w + xx;
        if (map[j] === 0) {
          map[j] = 2;
          stack.push(j);
        }
      }
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (map[i] === 2) out[i] = 255;
  return out;
}

/** cv2.distanceTransform(src, DIST_L2, 5) → float32 distances (as a Float64Array of float32 values). */
export function distanceTransform5(src: Uint8Array, w: number, h: number): Float64Array {
  const SHIFT = 16;
  const HV = cvRound(1 * (1 << SHIFT));
  const DIAG = cvRound(f32(1.4) * (1 << SHIFT));
  const LONG = cvRound(f32(2.1969) * (1 << SHIFT));
  const INIT = 0x7fffffff;
  const B = 2;
  const tw = w + 2 * B;
  const th = h + 2 * B;
  const t = new Float64Array(tw * th).fill(INIT);
  const idx = (y: number, x: number): number => (y + B) * tw + (x + B);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const j = idx(y, x);
      if (!src[y * w + x]) {
        t[j] = 0;
        continue;
      }
      let t0 = t[j - 2 * tw - 1]! + LONG;
      let v = t[j - 2 * tw + 1]! + LONG; if (t0 > v) t0 = v;
      v = t[j - tw - 2]! + LONG; if (t0 > v) t0 = v;
      v = t[j - tw - 1]! + DIAG; if (t0 > v) t0 = v;
      v = t[j - tw]! + HV; if (t0 > v) t0 = v;
      v = t[j - tw + 1]! + DIAG; if (t0 > v) t0 = v;
      v = t[j - tw + 2]! + LONG; if (t0 > v) t0 = v;
      v = t[j - 1]! + HV; if (t0 > v) t0 = v;
      t[j] = t0;
    }
  }
  const out = new Float64Array(w * h);
  const scale = f32(1 / (1 << SHIFT));
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const j = idx(y, x);
      let t0 = t[j]!;
      if (t0 > HV) {
        let v = t[j + 2 * tw + 1]! + LONG; if (t0 > v) t0 = v;
        v = t[j + 2 * tw - 1]! + LONG; if (t0 > v) t0 = v;
        v = t[j + tw + 2]! + LONG; if (t0 > v) t0 = v;
        v = t[j + tw + 1]! + DIAG; if (t0 > v) t0 = v;
        v = t[j + tw]! + HV; if (t0 > v) t0 = v;
        v = t[j + tw - 1]! + DIAG; if (t0 > v) t0 = v;
        v = t[j + tw - 2]! + LONG; if (t0 > v) t0 = v;
        v = t[j + 1]! + HV; if (t0 > v) t0 = v;
        t[j] = t0;
      }
      out[y * w + x] = f32(f32(t0 >>> 0) * scale);
    }
  }
  return out;
}

/** cv2.blur(float32, (3, 3)) with REFLECT_101: float32(sum · (1/9)). */
export function boxBlur3F32(src: ArrayLike<number>, w: number, h: number): Float64Array {
  const rows = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      rows[y * w + x] = src[y * w + borderReflect101(x - 1, w)]! + src[y * w + x]! + src[y * w + borderReflect101(x + 1, w)]!;
    }
  }
  const out = new Float64Array(w * h);
  const scale = 1 / 9;
  for (let y = 0; y < h; y++) {
    const a = borderReflect101(y - 1, h) * w;
    const c = borderReflect101(y + 1, h) * w;
    for (let x = 0; x < w; x++) out[y * w + x] = f32((rows[a + x]! + rows[y * w + x]! + rows[c + x]!) * scale);
  }
  return out;
}

/** cv2.blur(uint8, (3, 3)) with REFLECT_101. */
export function boxBlur3U8(src: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const a = borderReflect101(y - 1, h) * w;
    const b = y * w;
    const c = borderReflect101(y + 1, h) * w;
    for (let x = 0; x < w; x++) {
      const xm = borderReflect101(x - 1, w);
      const xp = borderReflect101(x + 1, w);
      const s = src[a + xm]! + src[a + x]! + src[a + xp]! + src[b + xm]! + src[b + x]! + src[b + xp]! + src[c + xm]! + src[c + x]! + src[c + xp]!;
      out[b + x] = Math.floor((s + 4) / 9);
    }
  }
  return out;
}

export function equalizeHist(src: Uint8Array): Uint8Array {
  const hist = new Int32Array(256);
  for (let i = 0; i < src.length; i++) hist[src[i]!]!++;
  let i = 0;
  while (!hist[i]) i++;
  const total = src.length;
  const out = new Uint8Array(src.length);
  if (hist[i] === total) return out.fill(i);
  const scale = f32(255 / (total - hist[i]!));
  const lut = new Uint8Array(256);
  let sum = 0;
  lut[i++] = 0;
  for (; i < 256; i++) {
    sum += hist[i]!;
    const v = cvRound(f32(sum * scale));
    lut[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  for (let k = 0; k < src.length; k++) out[k] = lut[src[k]!]!;
  return out;
}

/** cv2.filter2D(u8, CV_8U, 3×3 integer kernel) — correlation, REFLECT_101, clamped. */
export function filter2DU8(src: Uint8Array, w: number, h: number, k: readonly number[]): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const rows = [borderReflect101(y - 1, h) * w, y * w, borderReflect101(y + 1, h) * w];
    for (let x = 0; x < w; x++) {
      const cols = [borderReflect101(x - 1, w), x, borderReflect101(x + 1, w)];
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += k[i * 3 + j]! * src[rows[i]! + cols[j]!]!;
      out[y * w + x] = s < 0 ? 0 : s > 255 ? 255 : s;
    }
  }
  return out;
}

/**
 * cv2.getAffineTransform(src, dst): the 2×3 matrix [a b c; d e f] with dst = M · (x, y, 1) for the
 * three point pairs (solved in float64 by Gaussian elimination with partial pivoting).
 */
export function affineTransform(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): Float64Array {
  const solve3 = (rhs: number[]): number[] => {
    const a = src.map(([x, y], i) => [x, y, 1, rhs[i]!]);
    for (let col = 0; col < 3; col++) {
      let piv = col;
      for (let r = col + 1; r < 3; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[piv]![col]!)) piv = r;
      [a[col], a[piv]] = [a[piv]!, a[col]!];
      for (let r = col + 1; r < 3; r++) {
        const f = a[r]![col]! / a[col]![col]!;
        for (let k = col; k < 4; k++) a[r]![k]! -= f * a[col]![k]!;
      }
    }
    const x = [0, 0, 0];
    for (let r = 2; r >= 0; r--) {
      let s = a[r]![3]!;
      for (let k = r + 1; k < 3; k++) s -= a[r]![k]! * x[k]!;
      x[r] = s / a[r]![r]!;
    }
    return x;
  };
  const p = solve3(dst.map((d) => d[0]));
  const q = solve3(dst.map((d) => d[1]));
  return Float64Array.from([p[0]!, p[1]!, p[2]!, q[0]!, q[1]!, q[2]!]);
}

/** cv2.warpAffine(float32 HWC, M, (w, h), INTER_LINEAR, BORDER_REFLECT_101) (M maps src → dst). */
export function warpAffineF32(src: Float32Array, w: number, h: number, c: number, M: Float64Array): Float32Array {
  // invertAffineTransform.
  let D = M[0]! * M[4]! - M[1]! * M[3]!;
  D = D !== 0 ? 1 / D : 0;
  const A11 = M[4]! * D;
  const A22 = M[0]! * D;
  const A12 = -M[1]! * D;
  const A21 = -M[3]! * D;
  const b1 = -A11 * M[2]! - A12 * M[5]!;
  const b2 = -A21 * M[2]! - A22 * M[5]!;
  const AB_BITS = 10;
  const AB_SCALE = 1 << AB_BITS;
  const INTER_BITS = 5;
  const TAB = 1 << INTER_BITS;
  const roundDelta = AB_SCALE / TAB / 2;
  const adelta = new Int32Array(w);
  const bdelta = new Int32Array(w);
  for (let x = 0; x < w; x++) {
    adelta[x] = cvRound(A11 * x * AB_SCALE);
    bdelta[x] = cvRound(A21 * x * AB_SCALE);
  }
  // OpenCV's float bilinear table: weights (1 − fy, fy) ⊗ (1 − fx, fx) in float.
  const tab = new Float64Array(TAB * TAB * 4);
  for (let i = 0; i < TAB; i++) {
    const fy = f32(f32(1 / TAB) * i);
    const vy0 = f32(1 - fy);
    for (let j = 0; j < TAB; j++) {
      const fx = f32(f32(1 / TAB) * j);
      const vx0 = f32(1 - fx);
      const o = (i * TAB + j) * 4;
      tab[o] = f32(vy0 * vx0);
      tab[o + 1] = f32(vy0 * fx);
      tab[o + 2] = f32(fy * vx0);
      tab[o + 3] = f32(fy * fx);
    }
  }
  const out = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const X0 = cvRound((A12 * y + b1) * AB_SCALE) + roundDelta;
    const Y0 = cvRound((A22 * y + b2) * AB_SCALE) + roundDelta;
    for (let x = 0; x < w; x++) {
      const X = (X0 + adelta[x]!) >> (AB_BITS - INTER_BITS);
      const Y = (Y0 + bdelta[x]!) >> (AB_BITS - INTER_BITS);
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      const o = ((Y & (TAB - 1)) * TAB + (X & (TAB - 1))) * 4;
      const w0 = tab[o]!;
      const w1 = tab[o + 1]!;
      const w2 = tab[o + 2]!;
      const w3 = tab[o + 3]!;
      const x0 = borderReflect101(sx, w);
      const x1 = borderReflect101(sx + 1, w);
      const y0 = borderReflect101(sy, h) * w;
      const y1 = borderReflect101(sy + 1, h) * w;
      const d = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) {
        const s00 = src[(y0 + x0) * c + ch]!;
        const s01 = src[(y0 + x1) * c + ch]!;
        const s10 = src[(y1 + x0) * c + ch]!;
        const s11 = src[(y1 + x1) * c + ch]!;
        out[d + ch] = f32(f32(f32(f32(s00 * w0) + f32(s01 * w1)) + f32(s10 * w2)) + f32(s11 * w3));
      }
    }
  }
  return out;
}
