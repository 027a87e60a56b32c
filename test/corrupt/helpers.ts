/** Shared pieces of the corruption tests: fixtures of tools/golden_corruptions.py, field replay. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixturesDir } from '../helpers.js';
import { readNpy } from '../../src/node/io/npy.js';
import { Xoshiro128 } from '../../src/math/random.js';
import {
  CORRUPTIONS, brightnessWith, contrastWith, defocusBlurWith, drawGlassOffsets, elasticConstants, elasticWith, fogWith, frostWith,
  gaussianBlurWith, gaussianNoiseWith, glassBlurWith, impulseNoiseWith, jpegWith, motionBlurWith, pixelateWith, plasmaFractal, plasmaSize,
  saturateWith, shotNoiseWith, snowWith, spatterWith, speckleNoiseWith, zoomBlurWith, zoomFactors, type CorruptionName,
} from '../../src/images/corrupt/index.js';
import { viaRgb, type ParamSet, type PixelImage } from '../../src/images/corrupt/common.js';

export const CORRUPT = path.join(fixturesDir, 'corrupt');

export interface GoldenImage {
  readonly name: string;
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly params: ParamSet;
  readonly severities: number[];
}

export interface Manifest {
  readonly corruptions: CorruptionName[];
  readonly images: GoldenImage[];
  readonly jpeg: { width: number; height: number; qualities: number[] };
}

export const manifest: Manifest = JSON.parse(fs.readFileSync(path.join(CORRUPT, 'manifest.json'), 'utf8'));

export function npy(file: string): { shape: number[]; data: Float32Array } {
  return readNpy(path.join(CORRUPT, file));
}

export function u8(a: Float32Array): Uint8Array {
  return Uint8Array.from(a);
}

export function loadImage(g: GoldenImage): PixelImage {
  return { width: g.width, height: g.height, channels: g.channels, data: u8(npy(`${g.name}.npy`).data) };
}

/** tools/golden_corruptions.py stream_seed. */
export function goldenSeed(image: number, corruption: number, severity: number): number {
  return (7919 * (image + 1) + 104729 * (corruption + 1) + 31 * severity) >>> 0;
}

/**
 * One corruption with the golden tool's random fields: uniforms from the xoshiro stream of
 * goldenSeed, normals from z (H × W × 3 float32), the same draws in the same order as the tool.
 */
export function runGolden(name: CorruptionName, img: PixelImage, severity: number, set: ParamSet, imageIndex: number, z: Float32Array): Uint8Array {
  const { width: w, height: h, channels: c } = img;
  const stream = new Xoshiro128(goldenSeed(imageIndex, manifest.corruptions.indexOf(name), severity));
  const uni = (): number => stream.nextDouble();
  const uniforms = (n: number): Float64Array => Float64Array.from({ length: n }, uni);
  const n = w * h;
  const zc = new Float64Array(n * c);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) zc[i * c + ch] = z[i * 3 + ch]!;
  const plane = (k: number): Float64Array => Float64Array.from({ length: n }, (_, i) => z[i * 3 + k]!);
  const p = CORRUPTIONS[name].params[set][severity - 1] as number & readonly number[];
  switch (name) {
    case 'gaussian_noise': return gaussianNoiseWith(img, p, zc);
    case 'shot_noise': return shotNoiseWith(img, p, uniforms(n * c));
    case 'impulse_noise': {
      const flip = uniforms(n * c);
      return impulseNoiseWith(img, p, flip, uniforms(n * c));
    }
    case 'speckle_noise': return speckleNoiseWith(img, p, zc);
    case 'defocus_blur': return defocusBlurWith(img, p[0]!, p[1]!);
    case 'glass_blur': return glassBlurWith(img, p[0]!, p[1]!, drawGlassOffsets(uni, w, h, p[1]!, p[2]!));
    case 'motion_blur': return motionBlurWith(img, p[0]!, p[1]!, -45 + (45 - -45) * uni());
    case 'zoom_blur': return zoomBlurWith(img, zoomFactors(p));
    case 'gaussian_blur': return gaussianBlurWith(img, p);
    case 'snow': return viaRgb(img, (rgb) => snowWith(rgb, p, plane(0), -135 + (-45 - -135) * uni()));
    case 'frost': return viaRgb(img, (rgb) => frostWith(rgb, p[0]!, p[1]!, Uint8Array.from(uniforms(n * 3), (v) => Math.floor(v * 256))));
    case 'fog': {
      const size = plasmaSize(w, h, set);
      return fogWith(img, p[0]!, plasmaFractal(size, p[1]!, uni), size);
    }
    case 'brightness': return viaRgb(img, (rgb) => brightnessWith(rgb, p));
    case 'spatter': return viaRgb(img, (rgb) => spatterWith(rgb, p, plane(1)));
    case 'contrast': return contrastWith(img, p);
    case 'elastic_transform': {
      const [alpha, sigma, affine] = elasticConstants(p, w, h, set);
      const a = uniforms(6);
      const dx = uniforms(n);
      return elasticWith(img, alpha, sigma, affine, a, dx, uniforms(n));
    }
    case 'pixelate': return pixelateWith(img, p);
    case 'jpeg_compression': return jpegWith(img, p);
    case 'saturate': return viaRgb(img, (rgb) => saturateWith(rgb, p[0]!, p[1]!));
  }
}

/** Largest |a − b|, the count of differing values, and the count differing by more than 1. */
export function diffU8(a: Uint8Array, b: ArrayLike<number>): { max: number; count: number; over1: number } {
  let max = 0;
  let count = 0;
  let over1 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d) count++;
    if (d > 1) over1++;
    if (d > max) max = d;
  }
  return { max, count, over1 };
}
