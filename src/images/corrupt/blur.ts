/**
 * Blur corruptions (ImageNet-C family "blur", plus the extra gaussian_blur), after
 * hendrycks/robustness `corruptions.py` (ImageNet-C) and `make_cifar_c.py` (CIFAR-10-C).
 *
 *   defocus_blur  (radius, alias_blur)  CIFAR (.3,.4) (.4,.5) (.5,.6) (1,.2) (1.5,.1) · ImageNet (3,.1) (4,.5) (6,.5) (8,.5) (10,.5)
 *     cv2.filter2D (correlation, BORDER_REFLECT_101) of x / 255 with the reference's `disk`: the
 *     aliased disk X² + Y² ≤ r² on a 17×17 grid (r ≤ 8) or (2r+1)² (r > 8), normalised in float32,
 *     then cv2.GaussianBlur (3×3 or 5×5, σ = alias_blur, OpenCV's bit-exact Gaussian taps cast to
 *     float32, float32 separable passes, REFLECT_101). Each channel alone (the reference loops
 *     over 3; a grey image is its one channel).
 *   glass_blur    (σ, max_delta, iterations)  CIFAR (.05,1,1) (.25,1,1) (.4,1,1) (.25,1,2) (.4,1,2) · ImageNet (.7,1,2) (.9,2,1) (1,2,3) (1.1,3,2) (1.5,4,2)
 *     np.uint8(gaussian(x, σ)·255), then for each iteration, h = H−d … d+1 and w = W−d … d+1
 *     (descending; the reference hard-codes 32 / 224 for H and W), (dx, dy) uniform in [−d, d)
 *     (np.random.randint(−d, d, 2)), the "swap" x[h, w], x[h+dy, w+dx] = x[h+dy, w+dx], x[h, w] —
 *     which on numpy pixel views copies x[h+dy, w+dx] into x[h, w] and leaves the other pixel as
 *     it is; kept as the reference does it (grey images too: their pixels are 1-channel views).
 *     Then gaussian(·/255, σ), clipped.
 *   motion_blur   (radius, σ)  CIFAR (6,1) (6,1.5) (6,2) (8,2) (9,2.5) · ImageNet (10,3) (15,5) (15,8) (15,12) (20,15)
 *     ImageMagick's MotionBlurImage at an angle uniform in [−45°, 45°) (see
 *     common.motionBlurMagick: the reference's Wand call, re-implemented; the golden test runs
 *     Wand itself). Grey images: blurred as grey (the reference's grey PNG path).
 *   zoom_blur     zoom factors  CIFAR arange(1, 1.06 … 1.26, .01) · ImageNet arange(1, 1.11, .01),
 *     (1, 1.16, .01), (1, 1.21, .02), (1, 1.26, .02), (1, 1.31, .03)
 *     (x + Σ_z clipped_zoom(x, z)) / (count + 1) in float32, as the reference.
 *   gaussian_blur σ  CIFAR .4 .6 .7 .8 1 · ImageNet 1 2 3 4 6   (skimage gaussian, mode 'nearest', truncate 4)
 */
import {
  borderReflect101, f32, npArange, to01, to01F32, toUint8From01, toUint8From01F32, truncU8, type PixelImage,
} from './common.js';
import { clippedZoom, gaussianFilter, motionBlurMagick } from './filters.js';

export const DEFOCUS_BLUR = {
  cifar: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]],
  imagenet: [[3, 0.1], [4, 0.5], [6, 0.5], [8, 0.5], [10, 0.5]],
} as const;
export const GLASS_BLUR = {
  cifar: [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]],
  imagenet: [[0.7, 1, 2], [0.9, 2, 1], [1, 2, 3], [1.1, 3, 2], [1.5, 4, 2]],
} as const;
export const MOTION_BLUR = {
  cifar: [[6, 1], [6, 1.5], [6, 2], [8, 2], [9, 2.5]],
  imagenet: [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]],
} as const;
export const ZOOM_BLUR = {
  cifar: [[1, 1.06, 0.01], [1, 1.11, 0.01], [1, 1.16, 0.01], [1, 1.21, 0.01], [1, 1.26, 0.01]],
  imagenet: [[1, 1.11, 0.01], [1, 1.16, 0.01], [1, 1.21, 0.02], [1, 1.26, 0.02], [1, 1.31, 0.03]],
} as const;
export const GAUSSIAN_BLUR = { cifar: [0.4, 0.6, 0.7, 0.8, 1], imagenet: [1, 2, 3, 4, 6] } as const;

// ---------------------------------------------------------------------------------------------
// defocus_blur

/** OpenCV getGaussianKernel(n, σ, CV_32F) for σ > 0 (getGaussianKernelBitExact, then float). */
function cvGaussianKernel(n: number, sigma: number): Float64Array {
  const scale2X = -0.125 / (sigma * sigma);
  const n2 = (n - 1) >> 1;
  const values = new Float64Array(n2);
  let sum = 0;
  for (let i = 0, x = 1 - n; i < n2; i++, x += 2) {
    values[i] = Math.exp(x * x * scale2X);
    sum += values[i]!;
  }
  sum = sum * 2 + 1;
  const mul1 = 1 / sum;
  const k = new Float64Array(n);
  for (let i = 0; i < n2; i++) {
    const t = f32(values[i]! * mul1);
    k[i] = t;
    k[n - 1 - i] = t;
  }
  k[n2] = f32(mul1);
  return k;
}

const diskCache = new Map<string, { size: number; k: Float64Array }>();

/** The reference's disk(radius, alias_blur) kernel (float32 values, row-major size × size). */
export function diskKernel(radius: number, aliasBlur: number): { size: number; k: Float64Array } {
  const key = `${radius}|${aliasBlur}`;
  const hit = diskCache.get(key);
  if (hit) return hit;
  const half = radius <= 8 ? 8 : Math.trunc(radius);
  const ksize = radius <= 8 ? 3 : 5;
  const size = 2 * half + 1;
  const r2 = radius * radius;
  let count = 0;
  const d = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const X = j - half;
      const Y = i - half;
      if (X * X + Y * Y <= r2) {
        d[i * size + j] = 1;
        count++;
      }
    }
  }
  const one = f32(1 / count);
  for (let i = 0; i < d.length; i++) if (d[i]) d[i] = one;
  // cv2.GaussianBlur(float32, (ksize, ksize), σ): row pass then column pass, float32, REFLECT_101.
  const g = cvGaussianKernel(ksize, aliasBlur);
  const a = ksize >> 1;
  const rowPass = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let s = f32(d[i * size + j]! * g[a]!);
      for (let t = 1; t <= a; t++) {
        const pair = f32(d[i * size + borderReflect101(j - t, size)]! + d[i * size + borderReflect101(j + t, size)]!);
        s = f32(s + f32(pair * g[a + t]!));
      }
      rowPass[i * size + j] = s;
    }
  }
  const k = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let s = f32(rowPass[i * size + j]! * g[a]!);
      for (let t = 1; t <= a; t++) {
        const pair = f32(rowPass[borderReflect101(i - t, size) * size + j]! + rowPass[borderReflect101(i + t, size) * size + j]!);
        s = f32(s + f32(pair * g[a + t]!));
      }
      k[i * size + j] = s;
    }
  }
  const res = { size, k };
  diskCache.set(key, res);
  return res;
}

export function defocusBlurWith(image: PixelImage, radius: number, aliasBlur: number): Uint8Array {
  const { width: w, height: h, channels: c } = image;
  const { size, k } = diskKernel(radius, aliasBlur);
  const half = size >> 1;
  // The image / 255 padded by `half` on every side with REFLECT_101, so every tap is an offset.
  const pw = w + 2 * half;
  const ph = h + 2 * half;
  const src = image.data;
  const pad = new Float64Array(pw * ph * c);
  for (let y = 0; y < ph; y++) {
    const sy = borderReflect101(y - half, h) * w;
    for (let x = 0; x < pw; x++) {
      const si = (sy + borderReflect101(x - half, w)) * c;
      const di = (y * pw + x) * c;
      for (let ch = 0; ch < c; ch++) pad[di + ch] = src[si + ch]! / 255;
    }
  }
  const offs: number[] = [];
  const wts: number[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const v = k[i * size + j]!;
      if (v === 0) continue;
      offs.push((i * pw + j) * c);
      wts.push(v);
    }
  }
  const off = Int32Array.from(offs);
  const wt = Float64Array.from(wts);
  const nt = off.length;
  const out = new Float64Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = (y * pw + x) * c;
      const o = (y * w + x) * c;
      if (c === 3) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        for (let t = 0; t < nt; t++) {
          const p = base + off[t]!;
          const q = wt[t]!;
          s0 += q * pad[p]!;
          s1 += q * pad[p + 1]!;
          s2 += q * pad[p + 2]!;
        }
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
      } else {
        let s0 = 0;
        for (let t = 0; t < nt; t++) s0 += wt[t]! * pad[base + off[t]!]!;
        out[o] = s0;
      }
    }
  }
  return toUint8From01(out);
}

// ---------------------------------------------------------------------------------------------
// glass_blur

/** Per iteration, per pixel (h·W + w) offsets; only the positions the loops visit are used. */
export interface GlassOffsets {
  readonly iterations: number;
  readonly dx: Int8Array;
  readonly dy: Int8Array;
}

/** The offsets the reference's loops draw, in their order (dx then dy at each position). */
export function drawGlassOffsets(uniform: () => number, w: number, h: number, maxDelta: number, iterations: number): GlassOffsets {
  const n = w * h;
  const dx = new Int8Array(iterations * n);
  const dy = new Int8Array(iterations * n);
  const d = maxDelta;
  for (let it = 0; it < iterations; it++) {
    for (let y = h - d; y > d; y--) {
      for (let x = w - d; x > d; x--) {
        dx[it * n + y * w + x] = Math.floor(uniform() * 2 * d) - d;
        dy[it * n + y * w + x] = Math.floor(uniform() * 2 * d) - d;
      }
    }
  }
  return { iterations, dx, dy };
}

export function glassBlurWith(image: PixelImage, sigma: number, maxDelta: number, offsets: GlassOffsets): Uint8Array {
  const { width: w, height: h, channels: c } = image;
  const g = gaussianFilter(to01(image.data), h, w, c, sigma, 'nearest', 4);
  const u8 = new Uint8Array(g.length);
  for (let i = 0; i < g.length; i++) u8[i] = truncU8(g[i]! * 255);
  const n = w * h;
  const d = maxDelta;
  for (let it = 0; it < offsets.iterations; it++) {
    for (let y = h - d; y > d; y--) {
      for (let x = w - d; x > d; x--) {
        const q = it * n + y * w + x;
        const from = ((y + offsets.dy[q]!) * w + (x + offsets.dx[q]!)) * c;
        const to = (y * w + x) * c;
        for (let ch = 0; ch < c; ch++) u8[to + ch] = u8[from + ch]!;
      }
    }
  }
  const back = new Float64Array(u8.length);
  for (let i = 0; i < u8.length; i++) back[i] = u8[i]! / 255;
  return toUint8From01(gaussianFilter(back, h, w, c, sigma, 'nearest', 4));
}

// ---------------------------------------------------------------------------------------------
// motion_blur, zoom_blur, gaussian_blur

export function motionBlurWith(image: PixelImage, radius: number, sigma: number, angleDeg: number): Uint8Array {
  return motionBlurMagick(image.data, image.width, image.height, image.channels, radius, sigma, angleDeg);
}

/** The zoom factors of one severity: numpy's arange(start, stop, step). */
export function zoomFactors(spec: readonly [number, number, number] | readonly number[]): number[] {
  return npArange(spec[0]!, spec[1]!, spec[2]!);
}

export function zoomBlurWith(image: PixelImage, factors: readonly number[]): Uint8Array {
  const { width: w, height: h, channels: c } = image;
  const x = to01F32(image.data);
  const acc = new Float32Array(x.length);
  for (const z of factors) {
    const zoomed = clippedZoom(x, h, w, c, z);
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + zoomed[i]!;
  }
  const n = factors.length + 1;
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f32(x[i]! + acc[i]!) / n;
  return toUint8From01F32(out);
}

export function gaussianBlurWith(image: PixelImage, sigma: number): Uint8Array {
  const { width: w, height: h, channels: c } = image;
  return toUint8From01(gaussianFilter(to01(image.data), h, w, c, sigma, 'nearest', 4));
}
