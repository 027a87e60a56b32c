/**
 * Digital corruptions (ImageNet-C family "digital": contrast, elastic_transform, pixelate,
 * jpeg_compression; plus the extra saturate), after hendrycks/robustness `corruptions.py`
 * (ImageNet-C) and `make_cifar_c.py` (CIFAR-10-C).
 *
 *   contrast c  CIFAR .75 .5 .4 .3 .15 · ImageNet .4 .3 .2 .1 .05
 *     (x − mean) · c + mean, mean per channel over the image, clipped. numpy's sum order: a
 *     (H, W, 3) reduction over axes (0, 1) runs sequentially per channel, a (H, W, 1) one is
 *     contiguous and pairwise (both reproduced). Grey: its one channel.
 *   elastic_transform (α, σ, affine)  CIFAR (0,0,.08) (.05,.2,.07) (.08,.06,.06) (.1,.04,.05) (.1,.03,.03) × IMSIZE
 *     · ImageNet (2,.7,.1) (2,.08,.2) (.05,.01,.02) (.07,.01,.02) (.12,.01,.02) × 244
 *     A random affine warp (three points at the centre ± min(H, W) // 3 moved by uniform(±affine),
 *     cv2.getAffineTransform + cv2.warpAffine, REFLECT_101), then displacement fields
 *     dx, dy = gaussian(uniform(−1, 1), σ, 'reflect', truncate 3) · α (float32) and
 *     scipy map_coordinates(order 1, 'reflect'); float32 as the reference. The constants are
 *     multiples of the image size in the reference (CIFAR: IMSIZE = 32; ImageNet: 244, "should
 *     have been 224"); GENERALISED: IMSIZE = min(H, W) for CIFAR and 244 · min(H, W) / 224 for
 *     ImageNet, equal to the reference at 32 and 224.
 *   pixelate c  CIFAR .95 .9 .85 .75 .65 · ImageNet .6 .5 .4 .3 .25
 *     Pillow BOX resize to (int(W·c), int(H·c)) and back (resample.ts, Pillow-exact); the
 *     reference uses 32 / 224 for both sides.
 *   jpeg_compression quality  CIFAR 80 65 58 50 40 · ImageNet 25 18 15 10 7
 *     jpeg.ts (DEVIATION: a TypeScript re-implementation of libjpeg-turbo's lossy steps, not
 *     Pillow's codec; grey images as a one-component JPEG like Pillow's mode L).
 *   saturate (×, +) on S  CIFAR (.3,0) (.1,0) (1.5,0) (2,.1) (2.5,.2) · ImageNet (.3,0) (.1,0) (2,0) (5,.1) (20,.2)
 *     skimage rgb2hsv, S = clip(S·a + b, 0, 1), hsv2rgb. Grey: via RGB (common.viaRgb).
 */
import {
  borderReflect, f32, mapHsv, npPairwiseSum, to01, to01F32, toUint8From01, toUint8From01F32, type ParamSet,
  type PixelImage,
} from './common.js';
import { gaussianFilter } from './filters.js';
import { affineTransform, warpAffineF32 } from './cv.js';
import { jpegRoundTrip } from './jpeg.js';
import { resamplePil } from '../resample.js';

export const CONTRAST = { cifar: [0.75, 0.5, 0.4, 0.3, 0.15], imagenet: [0.4, 0.3, 0.2, 0.1, 0.05] } as const;
export const ELASTIC = {
  cifar: [[0, 0, 0.08], [0.05, 0.2, 0.07], [0.08, 0.06, 0.06], [0.1, 0.04, 0.05], [0.1, 0.03, 0.03]],
  imagenet: [[2, 0.7, 0.1], [2, 0.08, 0.2], [0.05, 0.01, 0.02], [0.07, 0.01, 0.02], [0.12, 0.01, 0.02]],
} as const;
export const PIXELATE = { cifar: [0.95, 0.9, 0.85, 0.75, 0.65], imagenet: [0.6, 0.5, 0.4, 0.3, 0.25] } as const;
export const JPEG_QUALITY = { cifar: [80, 65, 58, 50, 40], imagenet: [25, 18, 15, 10, 7] } as const;
export const SATURATE = {
  cifar: [[0.3, 0], [0.1, 0], [1.5, 0], [2, 0.1], [2.5, 0.2]],
  imagenet: [[0.3, 0], [0.1, 0], [2, 0], [5, 0.1], [20, 0.2]],
} as const;

export function contrastWith(image: PixelImage, c: number): Uint8Array {
  const { channels: ch } = image;
  const x = to01(image.data);
  const n = x.length / ch;
  const means = new Float64Array(ch);
  if (ch === 1) means[0] = npPairwiseSum(x) / n;
  else {
    for (let i = 0; i < n; i++) for (let k = 0; k < ch; k++) means[k]! += x[i * ch + k]!;
    for (let k = 0; k < ch; k++) means[k]! /= n;
  }
  for (let i = 0; i < x.length; i++) {
    const m = means[i % ch]!;
    x[i] = (x[i]! - m) * c + m;
  }
  return toUint8From01(x);
}

/** The elastic constants (α, σ, affine) in pixels for an image of this size. */
export function elasticConstants(p: readonly number[], w: number, h: number, set: ParamSet): [number, number, number] {
  const side = Math.min(w, h);
  if (set === 'cifar') return [side * p[0]!, side * p[1]!, side * p[2]!];
  const s = side / 224;
  return [244 * p[0]! * s, 244 * p[1]! * s, 244 * p[2]! * s];
}

/** scipy map_coordinate for mode 'reflect' (the coordinate folded before the spline taps). */
function reflectCoordinate(v: number, len: number): number {
  let c = v;
  if (c < 0) {
    const sz2 = 2 * len;
    if (c < -sz2) c = sz2 * Math.trunc(-c / sz2) + c;
    c = c < -len ? c + sz2 : -c - 1;
  }
  if (c > len - 1) {
    const sz2 = 2 * len;
    c -= sz2 * Math.trunc(c / sz2);
    if (c >= len) c = sz2 - c - 1;
  }
  return c;
}

/**
 * elastic_transform with its random fields: `affineU` 6 uniforms (the (3, 2) perturbation, row
 * major), `dxU`, `dyU` H × W uniforms for the displacement fields; constants in pixels.
 */
export function elasticWith(image: PixelImage, alpha: number, sigma: number, affine: number, affineU: ArrayLike<number>, dxU: ArrayLike<number>, dyU: ArrayLike<number>): Uint8Array {
  const { width: w, height: h, channels: c } = image;
  const img = to01F32(image.data);
  const cy = Math.floor(f32(h) / 2);
  const cx = Math.floor(f32(w) / 2);
  const sq = Math.floor(Math.min(h, w) / 3);
  const pts1: [number, number][] = [[cy + sq, cx + sq], [cy + sq, cx - sq], [cy - sq, cx - sq]];
  const pts2 = pts1.map(([a, b], i): [number, number] => [
    f32(a + f32(-affine + (affine - -affine) * affineU[2 * i]!)),
    f32(b + f32(-affine + (affine - -affine) * affineU[2 * i + 1]!)),
  ]);
  const M = affineTransform(pts1, pts2);
  const warped = warpAffineF32(img, w, h, c, M);
  const field = (u: ArrayLike<number>): Float32Array => {
    const raw = new Float64Array(w * h);
    for (let i = 0; i < raw.length; i++) raw[i] = -1 + (1 - -1) * u[i]!;
    const g = gaussianFilter(raw, h, w, 1, sigma, 'reflect', 3);
    const out = new Float32Array(w * h);
    for (let i = 0; i < out.length; i++) out[i] = g[i]! * alpha;
    return out;
  };
  const dx = field(dxU);
  const dy = field(dyU);
  const out = new Float32Array(img.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const cyy = reflectCoordinate(y + dy[p]!, h);
      const cxx = reflectCoordinate(x + dx[p]!, w);
      const y0 = Math.floor(cyy);
      const x0 = Math.floor(cxx);
      const ty = cyy - y0;
      const tx = cxx - x0;
      const wy0 = 1 - ty;
      const wx0 = 1 - tx;
      const r0 = borderReflect(y0, h) * w;
      const r1 = borderReflect(y0 + 1, h) * w;
      const c0 = borderReflect(x0, w);
      const c1 = borderReflect(x0 + 1, w);
      for (let ch = 0; ch < c; ch++) {
        let t = 0;
        t += warped[(r0 + c0) * c + ch]! * wy0 * wx0;
        t += warped[(r0 + c1) * c + ch]! * wy0 * tx;
        t += warped[(r1 + c0) * c + ch]! * ty * wx0;
        t += warped[(r1 + c1) * c + ch]! * ty * tx;
        out[p * c + ch] = t;
      }
    }
  }
  return toUint8From01F32(out);
}

export function pixelateWith(image: PixelImage, c: number): Uint8Array {
  const { width: w, height: h, channels: ch } = image;
  const sw = Math.max(1, Math.trunc(w * c));
  const sh = Math.max(1, Math.trunc(h * c));
  const small = resamplePil(image.data, w, h, ch, 'box', { resizeW: sw, resizeH: sh });
  return resamplePil(small, sw, sh, ch, 'box', { resizeW: w, resizeH: h });
}

export function jpegWith(image: PixelImage, quality: number): Uint8Array {
  return jpegRoundTrip(image.data, image.width, image.height, image.channels, quality);
}

export function saturateWith(image: PixelImage, a: number, b: number): Uint8Array {
  return mapHsv(image, (hsv) => {
    const s = hsv[1]! * a + b;
    hsv[1] = s < 0 ? 0 : s > 1 ? 1 : s;
  });
}
