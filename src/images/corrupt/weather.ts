/**
 * Weather corruptions (ImageNet-C family "weather": snow, frost, fog, brightness; plus the extra
 * spatter), after hendrycks/robustness `corruptions.py` (ImageNet-C) and `make_cifar_c.py`
 * (CIFAR-10-C).
 *
 *   snow (loc, scale, zoom, threshold, blur radius, blur σ, mix)
 *     CIFAR (.1,.2,1,.6,8,3,.95) (.1,.2,1,.5,10,4,.9) (.15,.3,1.75,.55,10,4,.9) (.25,.3,2.25,.6,12,6,.85) (.3,.3,1.25,.65,14,12,.8)
 *     ImageNet (.1,.3,3,.5,10,4,.8) (.2,.3,2,.5,12,4,.7) (.55,.3,4,.9,12,8,.7) (.55,.3,4.5,.85,12,8,.65) (.55,.3,2.5,.85,12,12,.55)
 *     A normal layer N(loc, scale) of H × W, clipped_zoom by `zoom`, values < threshold set to 0,
 *     np.uint8(clip·255), ImageMagick motion blur at an angle uniform in [−135°, −45°) (the
 *     reference's Wand call; common.motionBlurMagick), / 255; the image mixed with its brightened
 *     grey, mix·x + (1 − mix)·max(x, 1.5·gray + 0.5) (cv2 RGB2GRAY in float32), plus the layer and
 *     the layer rotated by 180°, clipped. float32 / float64 as the reference.
 *   frost (image weight, frost weight)  CIFAR (1,.2) (1,.3) (.9,.4) (.85,.4) (.75,.45) · ImageNet (1,.4) (.8,.6) (.7,.7) (.65,.7) (.6,.75)
 *     clip(a·x + b·frost, 0, 255) over uint8 pixels. DEVIATION: the reference crops one of six frost
 *     photos (frost1–6 in the imagenet_c package; CIFAR: scaled by 0.2 first); they are not
 *     reachable here, so `frostTexture` grows a seeded procedural stand-in of the same kind
 *     (hexagonal ice dendrites over a fractal haze, blue-white), at the photos' feature scale
 *     (CIFAR: 0.2 of ImageNet's). Its statistics approximate the photos', nothing more.
 *   fog (amount, decay)  CIFAR (.2,3) (.5,3) (.75,2.5) (1,2) (1.5,1.75) · ImageNet (1.5,2) (2,2) (2.5,1.7) (2.5,1.5) (3,1.4)
 *     x + amount·plasma, · max(x) / (max(x) + amount), clipped; `plasmaFractal` is the reference's
 *     diamond-square (same operations, same order of the uniform draws) of side 32 (CIFAR) or
 *     256 (ImageNet) — the next power of two ≥ the image's longer side where that is larger (the
 *     reference only crops [:32, :32] / [:224, :224]).
 *   brightness (added to V)  CIFAR .05 .1 .15 .2 .3 · ImageNet .1 .2 .3 .4 .5
 *     skimage rgb2hsv, V = clip(V + c, 0, 1), hsv2rgb.
 *   spatter (loc, scale, σ, threshold, intensity, mud?)
 *     CIFAR (.62,.1,.7,.7,.5,0) (.65,.1,.8,.7,.5,0) (.65,.3,1,.69,.5,0) (.65,.1,.7,.69,.6,1) (.65,.1,.5,.68,.6,1)
 *     ImageNet (.65,.3,4,.69,.6,0) (.65,.3,3,.68,.6,0) (.65,.3,2,.68,.5,0) (.65,.3,1,.65,1.5,1) (.67,.4,1,.65,1.5,1)
 *     A normal "liquid" layer, gaussian(σ), values < threshold set to 0; water (mud = 0):
 *     np.uint8(layer·255) (which wraps above 255, as numpy's cast does on x86), cv2.Canny(50, 150),
 *     distanceTransform(L2, 5) of its complement, truncated at 20, blur 3×3, uint8, equalizeHist,
 *     filter2D with [[−2,−1,0],[−1,1,1],[0,1,2]], blur 3×3; m = layer·dist / max, · intensity;
 *     x + m·(175, 238, 238)/255, clipped. Mud (mud = 1): m = gaussian(layer > threshold, intensity),
 *     values < 0.8 set to 0, x·(1 − m) + m·(63, 42, 20)/255. DEVIATION: where the water layer is
 *     empty (max 0) the reference divides 0 by 0 and returns a black image; here m = 0 (the image
 *     unchanged).
 *
 * Grey images: snow, frost, brightness and spatter are colour operations, applied to the grey
 * image replicated to RGB and converted back with Pillow's convert('L') (common.viaRgb); fog is
 * the same on every channel and runs on the one channel.
 */
import {
  f32, mapHsv, to01, to01F32, toUint8From01, toUint8From01F32, truncU8, type ParamSet, type PixelImage,
} from './common.js';
import { clippedZoom, gaussianFilter, motionBlurMagick } from './filters.js';
import { boxBlur3F32, boxBlur3U8, canny, distanceTransform5, equalizeHist, filter2DU8 } from './cv.js';

export const SNOW = {
  cifar: [[0.1, 0.2, 1, 0.6, 8, 3, 0.95], [0.1, 0.2, 1, 0.5, 10, 4, 0.9], [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9], [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85], [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8]],
  imagenet: [[0.1, 0.3, 3, 0.5, 10, 4, 0.8], [0.2, 0.3, 2, 0.5, 12, 4, 0.7], [0.55, 0.3, 4, 0.9, 12, 8, 0.7], [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65], [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55]],
} as const;
export const FROST = {
  cifar: [[1, 0.2], [1, 0.3], [0.9, 0.4], [0.85, 0.4], [0.75, 0.45]],
  imagenet: [[1, 0.4], [0.8, 0.6], [0.7, 0.7], [0.65, 0.7], [0.6, 0.75]],
} as const;
export const FOG = {
  cifar: [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]],
  imagenet: [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]],
} as const;
export const BRIGHTNESS = { cifar: [0.05, 0.1, 0.15, 0.2, 0.3], imagenet: [0.1, 0.2, 0.3, 0.4, 0.5] } as const;
export const SPATTER = {
  cifar: [[0.62, 0.1, 0.7, 0.7, 0.5, 0], [0.65, 0.1, 0.8, 0.7, 0.5, 0], [0.65, 0.3, 1, 0.69, 0.5, 0], [0.65, 0.1, 0.7, 0.69, 0.6, 1], [0.65, 0.1, 0.5, 0.68, 0.6, 1]],
  imagenet: [[0.65, 0.3, 4, 0.69, 0.6, 0], [0.65, 0.3, 3, 0.68, 0.6, 0], [0.65, 0.3, 2, 0.68, 0.5, 0], [0.65, 0.3, 1, 0.65, 1.5, 1], [0.67, 0.4, 1, 0.65, 1.5, 1]],
} as const;

// ---------------------------------------------------------------------------------------------
// snow

const R2Y = f32(0.299);
const G2Y = f32(0.587);
const B2Y = f32(0.114);

/**
 * cv2.cvtColor(RGB2GRAY) of one float32 pixel: OpenCV's SIMD path computes
 * fma(B, 0.114f, fma(G, 0.587f, R · 0.299f)) (measured: equal on every case tried; the plain
 * left-to-right sum differs in ~20 % of pixels by an ulp).
 */
function grayF32(r: number, g: number, b: number): number {
  return f32(b * B2Y + f32(g * G2Y + f32(r * R2Y)));
}

/** snow on an RGB image with its normal field z (H × W standard normals) and blur angle. */
export function snowWith(image: PixelImage, p: readonly number[], z: ArrayLike<number>, angleDeg: number): Uint8Array {
  const { width: w, height: h } = image;
  const [loc, scale, zoom, thr, radius, sigma, mix] = p as [number, number, number, number, number, number, number];
  let layer = new Float64Array(w * h);
  for (let i = 0; i < layer.length; i++) layer[i] = loc + scale * z[i]!;
  layer = clippedZoom(layer, h, w, 1, zoom);
  const s8 = new Uint8Array(w * h);
  for (let i = 0; i < layer.length; i++) {
    const v = layer[i]! < thr ? 0 : layer[i]!;
    s8[i] = truncU8((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
  }
  const blurred = motionBlurMagick(s8, w, h, 1, radius, sigma, angleDeg);
  const x = to01F32(image.data);
  const a = f32(mix);
  const b = f32(1 - mix);
  const out = new Float64Array(x.length);
  const n = w * h;
  for (let i = 0; i < n; i++) {
    const r = x[3 * i]!;
    const g = x[3 * i + 1]!;
    const bl = x[3 * i + 2]!;
    const bright = f32(f32(grayF32(r, g, bl) * 1.5) + 0.5);
    for (let ch = 0; ch < 3; ch++) {
      const v = x[3 * i + ch]!;
      const mixed = f32(f32(a * v) + f32(b * (v > bright ? v : bright)));
      const sa = mixed + blurred[i]! / 255;
      out[3 * i + ch] = sa + blurred[n - 1 - i]! / 255;
    }
  }
  return toUint8From01(out);
}

// ---------------------------------------------------------------------------------------------
// frost

/** clip(a·x + b·frost, 0, 255) → uint8; `frost` is H × W × 3 uint8. */
export function frostWith(image: PixelImage, a: number, b: number, frost: Uint8Array): Uint8Array {
  const src = image.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = truncU8(a * src[i]! + b * frost[i]!);
  return out;
}

/**
 * A seeded procedural frost texture, H × W × 3 uint8 (the stand-in for the reference's frost
 * photos): a diamond-square haze (0.12–0.42) plus ice dendrites — straight-ish strokes grown
 * from random seeds with side branches at ±60° (ice's hexagonal habit), up to three levels,
 * splatted bilinearly and softened by a Gaussian — tinted blue-white (R 0.84, G 0.92, B 1.0).
 * `scale` is the feature scale in pixels relative to ImageNet-C's crops (CIFAR: 0.2, as the
 * reference shrinks the photos by 0.2 for 32×32 images).
 */
export function frostTexture(uniform: () => number, w: number, h: number, scale: number): Uint8Array {
  let mapsize = 2;
  while (mapsize < Math.max(w, h, 8)) mapsize *= 2;
  const haze = plasmaFractal(mapsize, 2.2, uniform);
  const n = w * h;
  const ice = new Float64Array(n);
  const splat = (x: number, y: number, v: number): void => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const put = (xx: number, yy: number, wt: number): void => {
      if (xx >= 0 && xx < w && yy >= 0 && yy < h) ice[yy * w + xx]! += v * wt;
    };
    put(x0, y0, (1 - fx) * (1 - fy));
    put(x0 + 1, y0, fx * (1 - fy));
    put(x0, y0 + 1, (1 - fx) * fy);
    put(x0 + 1, y0 + 1, fx * fy);
  };
  const step = Math.min(0.5, 0.5 * Math.max(scale, 0.2) * 2);
  const grow = (x: number, y: number, angle: number, length: number, strength: number, depth: number): void => {
    let px = x;
    let py = y;
    let a = angle;
    const nextBranch = (): number => length * (0.15 + 0.25 * uniform());
    let untilBranch = nextBranch();
    for (let t = 0; t < length; t += step) {
      splat(px, py, strength * (1 - 0.6 * (t / length)) * step * 1.6);
      a += (uniform() - 0.5) * 0.08;
      px += Math.cos(a) * step;
      py += Math.sin(a) * step;
      untilBranch -= step;
      if (untilBranch <= 0 && depth < 3) {
        const side = uniform() < 0.5 ? -1 : 1;
        grow(px, py, a + side * (Math.PI / 3), (length - t) * (0.35 + 0.3 * uniform()), strength * 0.8, depth + 1);
        if (uniform() < 0.5) grow(px, py, a - side * (Math.PI / 3), (length - t) * (0.3 + 0.3 * uniform()), strength * 0.75, depth + 1);
        untilBranch = nextBranch();
      }
    }
  };
  const cell = 38 * scale;
  const seeds = Math.max(2, Math.round((w * h) / (cell * cell)));
  for (let s = 0; s < seeds; s++) {
    const x = uniform() * w;
    const y = uniform() * h;
    const arms = 2 + Math.floor(uniform() * 4);
    const a0 = uniform() * 2 * Math.PI;
    const len = (25 + 55 * uniform()) * scale;
    for (let k = 0; k < arms; k++) grow(x, y, a0 + (k * Math.PI) / 3 + (uniform() - 0.5) * 0.3, len * (0.6 + 0.4 * uniform()), 0.55 + 0.4 * uniform(), 0);
  }
  const soft = gaussianFilter(ice, h, w, 1, Math.max(0.35, 0.7 * scale), 'reflect', 3);
  const out = new Uint8Array(n * 3);
  const tint = [0.84, 0.92, 1.0];
  const lift = [0.02, 0.05, 0.1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = 0.12 + 0.3 * haze[y * mapsize + x]! + Math.min(1, soft[i]!) * 0.7;
      for (let ch = 0; ch < 3; ch++) {
        const t = (v * tint[ch]! + lift[ch]!) * 255;
        out[3 * i + ch] = t >= 255 ? 255 : t <= 0 ? 0 : Math.round(t);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// fog

/** The side of the plasma map the reference draws for an image (see the header). */
export function plasmaSize(w: number, h: number, set: ParamSet): number {
  let size = set === 'cifar' ? 32 : 256;
  while (size < Math.max(w, h)) size *= 2;
  return size;
}

/**
 * The reference's plasma_fractal(mapsize, wibbledecay): diamond-square with
 * wibbledmean(a) = a / 4 + wibble · uniform(−wibble, wibble), the uniforms drawn in numpy's order
 * (squares, then the two diamond sets, each in C order; mapsize² − 1 draws), normalised to
 * [0, 1]. Row-major mapsize × mapsize.
 */
export function plasmaFractal(mapsize: number, wibbledecay: number, uniform: () => number): Float64Array {
  const n = mapsize;
  const m = new Float64Array(n * n);
  let step = n;
  let wibble = 100;
  const wm = (v: number): number => v / 4 + wibble * (-wibble + (wibble - -wibble) * uniform());
  while (step >= 2) {
    const half = step >> 1;
    const k = n / step;
    // fillsquares: corners (i·step, j·step); sum of the 4 corners (wrapping) → centre.
    const sq = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const i1 = (i + 1) % k;
        sq[i * k + j] = m[i * step * n + j * step]! + m[i1 * step * n + j * step]!;
      }
    }
    const sq2 = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sq2[i * k + j] = sq[i * k + j]! + sq[i * k + ((j + 1) % k)]!;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[(i * step + half) * n + j * step + half] = wm(sq2[i * k + j]!);
    // filldiamonds.
    const dr = (i: number, j: number): number => m[(i * step + half) * n + j * step + half]!;
    const ul = (i: number, j: number): number => m[i * step * n + j * step]!;
    const lt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const ldr = dr(i, j) + dr((i - 1 + k) % k, j);
        const lul = ul(i, j) + ul(i, (j + 1) % k);
        lt[i * k + j] = ldr + lul;
      }
    }
    const tt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const tdr = dr(i, j) + dr(i, (j - 1 + k) % k);
        const tul = ul(i, j) + ul((i + 1) % k, j);
        tt[i * k + j] = tdr + tul;
      }
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[i * step * n + j * step + half] = wm(lt[i * k + j]!);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[(i * step + half) * n + j * step] = wm(tt[i * k + j]!);
    step = half;
    wibble /= wibbledecay;
  }
  let mn = Infinity;
  for (let i = 0; i < m.length; i++) if (m[i]! < mn) mn = m[i]!;
  let mx = -Infinity;
  for (let i = 0; i < m.length; i++) {
    m[i]! -= mn;
    if (m[i]! > mx) mx = m[i]!;
  }
  for (let i = 0; i < m.length; i++) m[i]! /= mx;
  return m;
}

/** fog with the plasma map (row-major, side `mapsize`; its [:H, :W] is used). */
export function fogWith(image: PixelImage, amount: number, plasma: ArrayLike<number>, mapsize: number): Uint8Array {
  const { width: w, height: h, channels: c } = image;
  const x = to01(image.data);
  let mx = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! > mx) mx = x[i]!;
  const denom = mx + amount;
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const add = amount * plasma[y * mapsize + xx]!;
      for (let ch = 0; ch < c; ch++) {
        const i = (y * w + xx) * c + ch;
        x[i] = ((x[i]! + add) * mx) / denom;
      }
    }
  }
  return toUint8From01(x);
}

// ---------------------------------------------------------------------------------------------
// brightness

export function brightnessWith(image: PixelImage, c: number): Uint8Array {
  return mapHsv(image, (hsv) => {
    const v = hsv[2]! + c;
    hsv[2] = v < 0 ? 0 : v > 1 ? 1 : v;
  });
}

// ---------------------------------------------------------------------------------------------
// spatter

const WATER_KERNEL = [-2, -1, 0, -1, 1, 1, 0, 1, 2] as const;

/** spatter on an RGB image with its normal field z (H × W standard normals). */
export function spatterWith(image: PixelImage, p: readonly number[], z: ArrayLike<number>): Uint8Array {
  const { width: w, height: h } = image;
  const [loc, scale, sigma, thr, intensity, mud] = p as [number, number, number, number, number, number];
  const n = w * h;
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) raw[i] = loc + scale * z[i]!;
  const liquid = gaussianFilter(raw, h, w, 1, sigma, 'nearest', 4);
  for (let i = 0; i < n; i++) if (liquid[i]! < thr) liquid[i] = 0;
  const x = to01F32(image.data);
  const out = new Float32Array(x.length);
  if (mud === 0) {
    const l8 = new Uint8Array(n);
    // (liquid · 255).astype(np.uint8): truncation, wrapping modulo 256 above 255 (x86 numpy).
    for (let i = 0; i < n; i++) l8[i] = Math.trunc(liquid[i]! * 255) & 255;
    const edges = canny(l8, w, h, 50, 150);
    for (let i = 0; i < n; i++) edges[i] = 255 - edges[i]!;
    const dist = distanceTransform5(edges, w, h);
    for (let i = 0; i < n; i++) if (dist[i]! > 20) dist[i] = 20;
    const b1 = boxBlur3F32(dist, w, h);
    const d8 = new Uint8Array(n);
    for (let i = 0; i < n; i++) d8[i] = Math.trunc(b1[i]!);
    const eq = equalizeHist(d8);
    const f = filter2DU8(eq, w, h, WATER_KERNEL);
    const d2 = boxBlur3U8(f, w, h);
    const m = new Float64Array(n);
    let mx = 0;
    for (let i = 0; i < n; i++) {
      m[i] = f32(l8[i]! * d2[i]!);
      if (m[i]! > mx) mx = m[i]!;
    }
    const k = f32(intensity);
    const color = [f32(175 / 255), f32(238 / 255), f32(238 / 255)];
    for (let i = 0; i < n; i++) {
      const mi = mx > 0 ? f32(f32(m[i]! / mx) * k) : 0;
      for (let ch = 0; ch < 3; ch++) {
        const v = f32(x[3 * i + ch]! + f32(mi * color[ch]!));
        out[3 * i + ch] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
    return toUint8From01F32(out);
  }
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = liquid[i]! > thr ? 1 : 0;
  const mm = gaussianFilter(mask, h, w, 1, intensity, 'nearest', 4);
  for (let i = 0; i < n; i++) if (mm[i]! < 0.8) mm[i] = 0;
  const color = [f32(63 / 255), f32(42 / 255), f32(20 / 255)];
  for (let i = 0; i < n; i++) {
    const mi = mm[i]!;
    const keep = f32(1 - mi);
    for (let ch = 0; ch < 3; ch++) {
      const v = f32(f32(x[3 * i + ch]! * keep) + f32(color[ch]! * mi));
      out[3 * i + ch] = v;
    }
  }
  return toUint8From01F32(out);
}
