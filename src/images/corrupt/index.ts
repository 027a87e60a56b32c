/**
 * ImageNet-C / CIFAR-10-C corruptions (Hendrycks & Dietterich 2019; hendrycks/robustness
 * `ImageNet-C/imagenet_c/imagenet_c/corruptions.py` and `ImageNet-C/create_c/make_cifar_c.py`)
 * as pure pixel kernels over decoded images, for making pseudo-OOD data from ID validation images
 * (SPEC §3, "Choosing w without OOD data").
 *
 * - The 15 benchmark corruptions and the 4 extras, severities 1–5, one frozen registry
 *   (`CORRUPTIONS`; registering a name twice throws).
 * - Input and output: HWC uint8, 1 (grey) or 3 (RGB) channels, any size; the output has the
 *   input's size and channels.
 * - Parameters: CIFAR-10-C's for images whose longer side is ≤ 64 (`CIFAR_MAX_SIDE`), ImageNet-C's
 *   above (`params: 'auto'`), or either one forced.
 * - Randomness: a seeded xoshiro128** stream per (seed, image index, corruption, severity)
 *   (random.ts) — deterministic, not numpy's stream.
 * - What differs from the reference and why: README.md beside this file, and the header of each
 *   family file (noise.ts, blur.ts, weather.ts, digital.ts, jpeg.ts).
 *
 * Runtime-neutral (no node: import).
 */
import { NapoodError, describe } from '../../errors.js';
import type { NapoodEvents } from '../../types.js';
import {
  checkImage, paramSetFor, viaRgb, type ParamSet, type PixelImage,
} from './common.js';
import { CorruptRandom, streamSeed } from './random.js';
import {
  GAUSSIAN_NOISE, IMPULSE_NOISE, SHOT_NOISE, SPECKLE_NOISE, gaussianNoiseWith, impulseNoiseWith, shotNoiseWith, speckleNoiseWith,
} from './noise.js';
import {
  DEFOCUS_BLUR, GAUSSIAN_BLUR, GLASS_BLUR, MOTION_BLUR, ZOOM_BLUR, defocusBlurWith, drawGlassOffsets, gaussianBlurWith, glassBlurWith,
  motionBlurWith, zoomBlurWith, zoomFactors,
} from './blur.js';
import {
  BRIGHTNESS, FOG, FROST, SNOW, SPATTER, brightnessWith, fogWith, frostTexture, frostWith, plasmaFractal, plasmaSize, snowWith, spatterWith,
} from './weather.js';
import {
  CONTRAST, ELASTIC, JPEG_QUALITY, PIXELATE, SATURATE, contrastWith, elasticConstants, elasticWith, jpegWith, pixelateWith, saturateWith,
} from './digital.js';

export { CIFAR_MAX_SIDE, paramSetFor, type ParamSet, type PixelImage } from './common.js';

/** The 15 ImageNet-C / CIFAR-10-C benchmark corruptions, in the paper's order. */
export const BENCHMARK_CORRUPTIONS = [
  'gaussian_noise', 'shot_noise', 'impulse_noise',
  'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur',
  'snow', 'frost', 'fog', 'brightness',
  'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression',
] as const;
/** The 4 extra corruptions (held out in the reference for validation). */
export const EXTRA_CORRUPTIONS = ['speckle_noise', 'gaussian_blur', 'spatter', 'saturate'] as const;

export type CorruptionName = (typeof BENCHMARK_CORRUPTIONS)[number] | (typeof EXTRA_CORRUPTIONS)[number];
export type CorruptionFamily = 'noise' | 'blur' | 'weather' | 'digital';

export const SEVERITIES = [1, 2, 3, 4, 5] as const;

export interface Corruption {
  readonly name: CorruptionName;
  readonly family: CorruptionFamily;
  /** One of the 4 extras rather than the 15 benchmark corruptions. */
  readonly extra: boolean;
  /** The reference's severity table (index severity − 1) for each parameter set. */
  readonly params: { readonly cifar: readonly unknown[]; readonly imagenet: readonly unknown[] };
  /** Corrupt one checked image with severity parameters `p`; returns the HWC uint8 pixels. */
  run(image: PixelImage, p: unknown, set: ParamSet, rng: CorruptRandom): Uint8Array;
}

type Nums = readonly number[];

const DEFS: readonly Corruption[] = [
  {
    name: 'gaussian_noise', family: 'noise', extra: false, params: GAUSSIAN_NOISE,
    run: (im, p, _s, rng) => gaussianNoiseWith(im, p as number, rng.normals(im.data.length)),
  },
  {
    name: 'shot_noise', family: 'noise', extra: false, params: SHOT_NOISE,
    run: (im, p, _s, rng) => shotNoiseWith(im, p as number, rng.uniforms(im.data.length)),
  },
  {
    name: 'impulse_noise', family: 'noise', extra: false, params: IMPULSE_NOISE,
    run: (im, p, _s, rng) => {
      const flip = rng.uniforms(im.data.length);
      return impulseNoiseWith(im, p as number, flip, rng.uniforms(im.data.length));
    },
  },
  {
    name: 'defocus_blur', family: 'blur', extra: false, params: DEFOCUS_BLUR,
    run: (im, p) => defocusBlurWith(im, (p as Nums)[0]!, (p as Nums)[1]!),
  },
  {
    name: 'glass_blur', family: 'blur', extra: false, params: GLASS_BLUR,
    run: (im, p, _s, rng) => {
      const [sigma, d, it] = p as [number, number, number];
      return glassBlurWith(im, sigma, d, drawGlassOffsets(() => rng.uniform(), im.width, im.height, d, it));
    },
  },
  {
    name: 'motion_blur', family: 'blur', extra: false, params: MOTION_BLUR,
    run: (im, p, _s, rng) => motionBlurWith(im, (p as Nums)[0]!, (p as Nums)[1]!, rng.between(-45, 45)),
  },
  {
    name: 'zoom_blur', family: 'blur', extra: false, params: ZOOM_BLUR,
    run: (im, p) => zoomBlurWith(im, zoomFactors(p as Nums)),
  },
  {
    name: 'snow', family: 'weather', extra: false, params: SNOW,
    run: (im, p, _s, rng) => viaRgb(im, (rgb) => {
      const z = rng.normals(im.width * im.height);
      return snowWith(rgb, p as Nums, z, rng.between(-135, -45));
    }),
  },
  {
    name: 'frost', family: 'weather', extra: false, params: FROST,
    run: (im, p, set, rng) => viaRgb(im, (rgb) => {
      const tex = frostTexture(() => rng.uniform(), im.width, im.height, set === 'cifar' ? 0.2 : 1);
      return frostWith(rgb, (p as Nums)[0]!, (p as Nums)[1]!, tex);
    }),
  },
  {
    name: 'fog', family: 'weather', extra: false, params: FOG,
    run: (im, p, set, rng) => {
      const size = plasmaSize(im.width, im.height, set);
      return fogWith(im, (p as Nums)[0]!, plasmaFractal(size, (p as Nums)[1]!, () => rng.uniform()), size);
    },
  },
  {
    name: 'brightness', family: 'weather', extra: false, params: BRIGHTNESS,
    run: (im, p) => viaRgb(im, (rgb) => brightnessWith(rgb, p as number)),
  },
  {
    name: 'contrast', family: 'digital', extra: false, params: CONTRAST,
    run: (im, p) => contrastWith(im, p as number),
  },
  {
    name: 'elastic_transform', family: 'digital', extra: false, params: ELASTIC,
    run: (im, p, set, rng) => {
      const [alpha, sigma, affine] = elasticConstants(p as Nums, im.width, im.height, set);
      const a = rng.uniforms(6);
      const dx = rng.uniforms(im.width * im.height);
      const dy = rng.uniforms(im.width * im.height);
      return elasticWith(im, alpha, sigma, affine, a, dx, dy);
    },
  },
  {
    name: 'pixelate', family: 'digital', extra: false, params: PIXELATE,
    run: (im, p) => pixelateWith(im, p as number),
  },
  {
    name: 'jpeg_compression', family: 'digital', extra: false, params: JPEG_QUALITY,
    run: (im, p) => jpegWith(im, p as number),
  },
  {
    name: 'speckle_noise', family: 'noise', extra: true, params: SPECKLE_NOISE,
    run: (im, p, _s, rng) => speckleNoiseWith(im, p as number, rng.normals(im.data.length)),
  },
  {
    name: 'gaussian_blur', family: 'blur', extra: true, params: GAUSSIAN_BLUR,
    run: (im, p) => gaussianBlurWith(im, p as number),
  },
  {
    name: 'spatter', family: 'weather', extra: true, params: SPATTER,
    run: (im, p, _s, rng) => viaRgb(im, (rgb) => spatterWith(rgb, p as Nums, rng.normals(im.width * im.height))),
  },
  {
    name: 'saturate', family: 'digital', extra: true, params: SATURATE,
    run: (im, p) => viaRgb(im, (rgb) => saturateWith(rgb, (p as Nums)[0]!, (p as Nums)[1]!)),
  },
];

/** Build a frozen name → corruption table; a name registered twice throws. */
export function buildCorruptionRegistry(defs: readonly Corruption[]): Readonly<Record<string, Corruption>> {
  const table: Record<string, Corruption> = Object.create(null);
  for (const d of defs) {
    if (table[d.name]) throw new NapoodError('corruption registry', 'each name once', `${d.name} twice`);
    table[d.name] = Object.freeze(d);
  }
  return Object.freeze(table);
}

/** The registry: every corruption by name (frozen). */
export const CORRUPTIONS: Readonly<Record<CorruptionName, Corruption>> = buildCorruptionRegistry(DEFS) as Readonly<Record<CorruptionName, Corruption>>;

/** All 19 names: the 15 benchmark corruptions, then the 4 extras. */
export const CORRUPTION_NAMES: readonly CorruptionName[] = Object.freeze([...BENCHMARK_CORRUPTIONS, ...EXTRA_CORRUPTIONS]);

/** A corruption by name, or a NapoodError listing the names. */
export function getCorruption(name: string, argument = 'corruption'): Corruption {
  const c = (CORRUPTIONS as Readonly<Record<string, Corruption>>)[name];
  if (!c) throw new NapoodError(argument, `one of ${CORRUPTION_NAMES.join(', ')}`, describe(name));
  return c;
}

/** Pixels as the image decoders return them (channels inferred from the byte count when absent). */
export interface PixelInput {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly channels?: number;
}

function toPixelImage(input: PixelInput, argument: string): PixelImage {
  const { width, height } = input;
  const data = input.data instanceof Uint8ClampedArray ? new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.length) : input.data;
  const channels = input.channels ?? (width > 0 && height > 0 ? data.length / (width * height) : NaN);
  const image = { width, height, channels, data } as PixelImage;
  checkImage(image, argument);
  return image;
}

function checkSeverity(severity: number, argument: string): void {
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) throw new NapoodError(argument, 'an integer severity in 1…5', describe(severity));
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new NapoodError('seed', 'an integer in [0, 4294967295]', describe(seed));
}

export interface CorruptOptions {
  /** Seed of the random streams (default 0). */
  readonly seed?: number;
  /** The image's index in its set: part of the stream's seed (default 0). */
  readonly index?: number;
  /** 'auto' (default): CIFAR-C parameters up to CIFAR_MAX_SIDE, ImageNet-C's above. */
  readonly params?: ParamSet | 'auto';
}

/** One corrupted copy of one image. */
export function corruptImage(image: PixelInput, corruption: CorruptionName, severity: number, options: CorruptOptions = {}): PixelImage {
  const im = toPixelImage(image, 'image');
  const def = getCorruption(corruption);
  checkSeverity(severity, 'severity');
  const seed = options.seed ?? 0;
  checkSeed(seed);
  const index = options.index ?? 0;
  if (!Number.isInteger(index) || index < 0) throw new NapoodError('index', 'a non-negative integer', describe(index));
  const set = paramSetFor(im.width, im.height, options.params);
  const rng = new CorruptRandom(streamSeed(seed, index, CORRUPTION_NAMES.indexOf(def.name), severity));
  const data = def.run(im, def.params[set][severity - 1], set, rng);
  return { width: im.width, height: im.height, channels: im.channels, data };
}

export interface CorruptImagesOptions {
  /** Which corruptions (default: the 15 benchmark ones). */
  readonly corruptions?: readonly CorruptionName[];
  /** Which severities (default 1…5). */
  readonly severities?: readonly number[];
  /** Seed (default 0). */
  readonly seed?: number;
  readonly params?: ParamSet | 'auto';
  /**
   * 'all' (default): every image × corruption × severity; 'random': one (corruption, severity) per
   * image, drawn uniformly from the lists with the seed (a pseudo-OOD set as large as the input).
   */
  readonly assignment?: 'all' | 'random';
  readonly events?: NapoodEvents;
}

export interface CorruptedImage {
  readonly image: PixelImage;
  readonly corruption: CorruptionName;
  readonly severity: number;
  /** Index of the source image in the input list. */
  readonly source: number;
}

function resolveLists(options: CorruptImagesOptions): { names: CorruptionName[]; severities: number[] } {
  const names = [...(options.corruptions ?? BENCHMARK_CORRUPTIONS)];
  if (!names.length) throw new NapoodError('corruptions', 'at least one corruption name', 'an empty list');
  for (const n of names) getCorruption(n, 'corruptions');
  const severities = [...(options.severities ?? SEVERITIES)];
  if (!severities.length) throw new NapoodError('severities', 'at least one severity in 1…5', 'an empty list');
  for (const s of severities) checkSeverity(s, 'severities');
  return { names, severities };
}

/** The (source, corruption, severity) jobs of a corruptImages call, in output order. */
export function corruptionPlan(count: number, options: CorruptImagesOptions = {}): { source: number; corruption: CorruptionName; severity: number }[] {
  const { names, severities } = resolveLists(options);
  const seed = options.seed ?? 0;
  checkSeed(seed);
  const jobs: { source: number; corruption: CorruptionName; severity: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (options.assignment === 'random') {
      const rng = new CorruptRandom(streamSeed(seed, i, -1, 0));
      jobs.push({ source: i, corruption: names[Math.floor(rng.uniform() * names.length)]!, severity: severities[Math.floor(rng.uniform() * severities.length)]! });
      continue;
    }
    for (const corruption of names) for (const severity of severities) jobs.push({ source: i, corruption, severity });
  }
  return jobs;
}

/** Lazily corrupted copies, in corruptionPlan's order (for large sets: one copy at a time). */
export function* iterateCorruptedImages(images: readonly PixelInput[], options: CorruptImagesOptions = {}): Generator<CorruptedImage> {
  if (options.assignment !== undefined && options.assignment !== 'all' && options.assignment !== 'random') {
    throw new NapoodError('assignment', "'all' or 'random'", describe(options.assignment));
  }
  const checked = images.map((im, i) => toPixelImage(im, `images[${i}]`));
  const plan = corruptionPlan(checked.length, options);
  let done = 0;
  for (const job of plan) {
    const image = corruptImage(checked[job.source]!, job.corruption, job.severity, { seed: options.seed ?? 0, index: job.source, params: options.params });
    yield { image, corruption: job.corruption, severity: job.severity, source: job.source };
    options.events?.progress?.(++done, plan.length, 'corrupt');
  }
}

/**
 * Corrupted copies of `images` with their (corruption, severity) labels, for building pseudo-OOD
 * sets: `corruptImages(images, { corruptions, severities, seed })`.
 */
export function corruptImages(images: readonly PixelInput[], options: CorruptImagesOptions = {}): CorruptedImage[] {
  return [...iterateCorruptedImages(images, options)];
}

// The deterministic kernels with explicit random fields (golden tests, custom pipelines).
export {
  gaussianNoiseWith, impulseNoiseWith, shotNoiseWith, speckleNoiseWith,
  defocusBlurWith, drawGlassOffsets, gaussianBlurWith, glassBlurWith, motionBlurWith, zoomBlurWith, zoomFactors,
  brightnessWith, fogWith, frostTexture, frostWith, plasmaFractal, plasmaSize, snowWith, spatterWith,
  contrastWith, elasticConstants, elasticWith, jpegWith, pixelateWith, saturateWith,
};
export { jpegRoundTrip } from './jpeg.js';
export { CorruptRandom, streamSeed } from './random.js';
