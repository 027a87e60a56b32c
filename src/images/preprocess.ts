/**
 * Image preprocessing as a model expects it (SPEC §4.2): the settings (size, resize then centre
 * crop, mean / std, grayscale or RGB, NCHW or NHWC), their parsing from a JSON object or text
 * with validation, presets, a default inferred from the model's input shape; the pure kernels
 * from decoded uint8 pixels to the float32 tensor are in pixels.ts. Runtime-neutral: reading a
 * settings file and the command-line flags are in src/node/images/preprocess-flags.ts.
 *
 * Conventions follow torchvision on PIL images, the usual training pipeline:
 * - `resize: r` is `transforms.Resize(r)`: the shorter side becomes r, the longer side
 *   int(r · long / short) (truncated); then `CenterCrop(size)` with top = round((H − h) / 2) and
 *   left = round((W − w) / 2), Python's round (half to even). Without `resize` the image is resized
 *   straight to `size` (`Resize((h, w))`, aspect ratio not kept).
 * - Channel conversion as Pillow's `convert`: RGB → L is L = (19595 R + 38470 G + 7471 B + 2^15)
 *   >> 16 (ITU-R 601-2 luma), L → RGB replicates, CMYK → RGB is Pillow's naive formula (no ICC);
 *   alpha is dropped, never composited. Conversion
 *   happens before resizing (as `Image.open(f).convert(mode)` then the transforms).
 * - Values: `ToTensor` then `Normalize`, in float32 exactly as torch computes them:
 *   x = fl(fl(u / 255) − mean) / std with mean, std rounded to float32 (`maxValue: 255` skips the
 *   division: x = fl(u − mean) / std, for Caffe-style models).
 */
import { NapoodError, describe, jsonSyntaxError, shapeString } from '../errors.js';
import type { PilFilter } from './resample.js';

export type Interpolation = PilFilter;
export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'box', 'hamming', 'lanczos'];
import type { Layout } from '../types.js';
export type { Layout };
/** `pil`: napood's exact port of Pillow's resampling (default). `sharp`: libvips, faster, approximate. */
export type Resampler = 'pil' | 'sharp';
export type ChannelOrder = 'rgb' | 'bgr';

export interface Preprocess {
  /** Output [h, w]. */
  readonly size: readonly [number, number];
  /** Shorter side resized to this before the centre crop; absent: resize straight to `size`. */
  readonly resize?: number;
  /** Per channel (length = channels), applied to values scaled to [0, maxValue]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** 1 = grayscale, 3 = colour. */
  readonly channels: 1 | 3;
  /** Order of the 3 colour channels in the tensor (rgb for torchvision, bgr for Caffe/OpenCV models). */
  readonly channelOrder: ChannelOrder;
  readonly layout: Layout;
  readonly interpolation: Interpolation;
  readonly resampler: Resampler;
  /** Pixel values are scaled to [0, maxValue] before mean/std: 1 (torchvision ToTensor) or 255. */
  readonly maxValue: 1 | 255;
}

/** A partial description, as in a JSON file (may name a preset to start from). */
export interface PreprocessInput {
  readonly preset?: string;
  readonly size?: number | readonly number[];
  readonly resize?: number | null;
  readonly mean?: number | readonly number[];
  readonly std?: number | readonly number[];
  readonly channels?: 1 | 3 | 'gray' | 'grayscale' | 'rgb' | 'bgr';
  readonly channelOrder?: ChannelOrder;
  readonly layout?: Layout;
  readonly interpolation?: Interpolation;
  readonly resampler?: Resampler;
  readonly maxValue?: 1 | 255;
}

const BASE = { channelOrder: 'rgb', layout: 'nchw', interpolation: 'bilinear', resampler: 'pil', maxValue: 1 } as const;

/**
 * Presets (all NCHW, bilinear, values in [0, 1] before mean/std):
 * - `imagenet`: Resize(256) + CenterCrop(224), RGB, the torchvision ImageNet mean/std (the
 *   evaluation transform of every torchvision classifier and of the NAP/ReAct/ASH ImageNet code).
 * - `cifar`: 32×32 RGB, mean (125.3, 123.0, 113.9)/255, std (63.0, 62.1, 66.7)/255, as the
 *   ReAct / DICE / ASH CIFAR code that the NAP paper follows (other repositories use slightly
 *   different CIFAR statistics: set --mean/--std to yours).
 * - `mnist`: 28×28 grayscale, mean 0.1307, std 0.3081 (pytorch/examples mnist). Models trained
 *   with Normalize(0.5, 0.5) or with no normalisation need --mean/--std.
 */
export const PRESETS: Readonly<Record<string, Preprocess>> = Object.freeze({
  imagenet: { ...BASE, size: [224, 224], resize: 256, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channels: 3 },
  cifar: { ...BASE, size: [32, 32], mean: [125.3 / 255, 123.0 / 255, 113.9 / 255], std: [63.0 / 255, 62.1 / 255, 66.7 / 255], channels: 3 },
  mnist: { ...BASE, size: [28, 28], mean: [0.1307], std: [0.3081], channels: 1 },
});

/**
 * The default for a model whose input is [C, H, W]: size H×W, C channels, no crop, mean 0 and
 * std 1 (values in [0, 1]). The mean/std a model was trained with cannot be read from an ONNX
 * file: callers should tell the user to set them (or a preset) when this default is used.
 */
export function preprocessForModel(inputChw: readonly number[], argument = 'model input', layout: Layout = 'nchw'): Preprocess {
  if (inputChw.length !== 3 || !inputChw.every((d) => Number.isInteger(d) && d > 0)) {
    throw new NapoodError(argument, 'a fixed image shape [C, H, W]', shapeString(inputChw));
  }
  const [c, h, w] = inputChw as [number, number, number];
  if (c !== 1 && c !== 3) throw new NapoodError(argument, '1 (grayscale) or 3 (RGB) channels in [C, H, W]', `${shapeString(inputChw)}`);
  return { ...BASE, size: [h, w], mean: new Array<number>(c).fill(0), std: new Array<number>(c).fill(1), channels: c, layout };
}

/** The tensor shape of one image: [C, H, W] (nchw) or [H, W, C] (nhwc). */
export function imageShape(pp: Preprocess): [number, number, number] {
  const [h, w] = pp.size;
  return pp.layout === 'nchw' ? [pp.channels, h, w] : [h, w, pp.channels];
}

/** Check the settings against the model's input shape for one image (same layout as `pp`). */
export function checkAgainstModel(pp: Preprocess, modelShape: readonly number[], argument = 'preprocessing'): void {
  const mine = imageShape(pp);
  if (modelShape.length !== 3 || mine.some((d, i) => d !== modelShape[i])) {
    const what = pp.layout === 'nchw' ? '[C, H, W]' : '[H, W, C]';
    throw new NapoodError(argument, `images of the model's input shape ${what} = ${shapeString(modelShape)}`, `${shapeString(mine)} (channels ${pp.channels}, size ${pp.size[0]}×${pp.size[1]}, layout ${pp.layout})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation

/** Names a field in messages: `prep.json: size` for a file, `--size` for a flag. */
type FieldName = (field: string) => string;

/** A value for a message: strings quoted, lists as [a, b], objects as JSON. */
function show(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const j = JSON.stringify(v);
    return j.length > 80 ? j.slice(0, 77) + '...' : j;
  }
  return describe(v);
}

/** `found` is the text for the message (pass values through `describe`). */
function fail(name: FieldName, field: string, expected: string, found: string): never {
  throw new NapoodError(name(field), expected, found);
}

/** Output pixels (H×W) of the preprocessing: the bound napood puts on decoded images (images/prepare.ts DEFAULT_MAX_PIXELS). */
const MAX_SIZE_PIXELS = 40_000_000;
/** |mean| bound: far beyond any pixel scale, far below float32's range. */
const MAX_MEAN = 1e30;
/** The smallest std: below it 255 / std (or (|mean| + 255) / std) leaves float32's range. */
const MIN_STD = 1e-30;
const FLT_MAX = 3.4028234663852886e38;

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;
}

function numberList(v: unknown): number[] | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as number[];
  return undefined;
}

const KNOWN_FIELDS = ['preset', 'size', 'resize', 'mean', 'std', 'channels', 'channelOrder', 'layout', 'interpolation', 'resampler', 'maxValue'];

type Draft = { -readonly [K in keyof Preprocess]?: Preprocess[K] };

/**
 * Apply a partial description (a parsed JSON object) on top of `base`, or of the preset it
 * names, validating each field. `where` names the source in messages: with `where` = "prep.json"
 * a bad size reads `prep.json: size: expected …, found …`.
 */
export function parsePreprocess(input: unknown, where = 'preprocessing', base?: Preprocess): Preprocess {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new NapoodError(where, 'a JSON object of preprocessing settings', describe(input));
  }
  return parseWith(input as Record<string, unknown>, (f) => `${where}: ${f}`, base);
}

function parseWith(o: Readonly<Record<string, unknown>>, name: FieldName, base: Preprocess | undefined): Preprocess {
  for (const key of Object.keys(o)) {
    if (!KNOWN_FIELDS.includes(key)) fail(name, key, `one of the fields ${KNOWN_FIELDS.join(', ')}`, 'an unknown field');
  }
  let start: Partial<Preprocess> = base ?? {};
  if (o.preset !== undefined) {
    if (typeof o.preset !== 'string' || !Object.hasOwn(PRESETS, o.preset)) fail(name, 'preset', `one of ${Object.keys(PRESETS).join(', ')}`, show(o.preset));
    start = PRESETS[o.preset]!;
  }
  const r: Draft = { ...BASE, ...start };

  if (o.size !== undefined) {
    const s = typeof o.size === 'number' ? [o.size, o.size] : o.size;
    if (!Array.isArray(s) || (s.length !== 1 && s.length !== 2) || !s.every(positiveInt)) {
      fail(name, 'size', 'a positive integer or [height, width] (at most 65535)', show(o.size));
    }
    r.size = s.length === 1 ? [s[0], s[0]] : [s[0], s[1]];
    const [h, w] = r.size;
    if (h * w > MAX_SIZE_PIXELS) {
      fail(name, 'size', `an output of at most ${MAX_SIZE_PIXELS.toLocaleString('en-US')} pixels (height × width, as decoded images)`, `${show(o.size)}: ${(h * w).toLocaleString('en-US')} pixels`);
    }
  }
  if (o.resize !== undefined) {
    if (o.resize === null) delete r.resize;
    else if (!positiveInt(o.resize)) fail(name, 'resize', 'a positive integer (the shorter side before the centre crop) or null', show(o.resize));
    else if (o.resize * o.resize > MAX_SIZE_PIXELS) {
      fail(name, 'resize', `a shorter side of at most ${Math.floor(Math.sqrt(MAX_SIZE_PIXELS))} (the resized image, before the crop, has at least resize² pixels; at most ${MAX_SIZE_PIXELS.toLocaleString('en-US')})`, show(o.resize));
    } else r.resize = o.resize;
  }
  if (o.channels !== undefined) {
    switch (o.channels) {
      case 1: case 'gray': case 'grayscale': case 'l': r.channels = 1; break;
      case 3: case 'rgb': r.channels = 3; r.channelOrder = 'rgb'; break;
      case 'bgr': r.channels = 3; r.channelOrder = 'bgr'; break;
      default: fail(name, 'channels', '1, 3, "gray", "rgb" or "bgr"', show(o.channels));
    }
  }
  if (o.channelOrder !== undefined) {
    if (o.channelOrder !== 'rgb' && o.channelOrder !== 'bgr') fail(name, 'channelOrder', '"rgb" or "bgr"', show(o.channelOrder));
    r.channelOrder = o.channelOrder;
  }
  if (o.layout !== undefined) {
    if (o.layout !== 'nchw' && o.layout !== 'nhwc') fail(name, 'layout', '"nchw" or "nhwc"', show(o.layout));
    r.layout = o.layout;
  }
  if (o.interpolation !== undefined) {
    if (!INTERPOLATIONS.includes(o.interpolation as Interpolation)) fail(name, 'interpolation', `one of ${INTERPOLATIONS.join(', ')}`, show(o.interpolation));
    r.interpolation = o.interpolation as Interpolation;
  }
  if (o.resampler !== undefined) {
    if (o.resampler !== 'pil' && o.resampler !== 'sharp') fail(name, 'resampler', '"pil" (exact Pillow) or "sharp" (libvips)', show(o.resampler));
    r.resampler = o.resampler;
  }
  if (o.maxValue !== undefined) {
    if (o.maxValue !== 1 && o.maxValue !== 255) fail(name, 'maxValue', '1 (values in [0, 1], torchvision) or 255', show(o.maxValue));
    r.maxValue = o.maxValue;
  }
  for (const field of ['mean', 'std'] as const) {
    if (o[field] === undefined) continue;
    const list = numberList(o[field]);
    if (!list) fail(name, field, 'a number or a non-empty list of finite numbers', show(o[field]));
    if (field === 'std' && list.some((x) => x <= 0)) fail(name, field, 'positive values', show(o[field]));
    // the values are used in float32: each must stay finite and (std) non-zero there
    if (field === 'mean' && list.some((x) => Math.abs(x) > MAX_MEAN)) {
      fail(name, field, `values of magnitude at most ${MAX_MEAN.toExponential(0)} (used in float32)`, show(o[field]));
    }
    if (field === 'std' && list.some((x) => Math.fround(x) < MIN_STD || !Number.isFinite(Math.fround(x)))) {
      fail(name, field, `values from ${MIN_STD.toExponential(0)} to ${FLT_MAX.toExponential(2)} (used in float32: smaller ones divide to Inf or by 0)`, show(o[field]));
    }
    r[field] = list;
  }
  return finish(r, name);
}

/** Fill what is still missing, broadcast single mean/std values and check the whole. */
function finish(r: Draft, name: FieldName): Preprocess {
  if (!r.size) fail(name, 'size', 'an output size (or a preset, or a model to take it from)', 'none');
  if (!r.channels) fail(name, 'channels', '1 or 3 (or a preset, or a model to take it from)', 'none');
  const c = r.channels;
  const per = (field: 'mean' | 'std', dflt: number): number[] => {
    const v = r[field] ?? [dflt];
    if (v.length === 1) return new Array<number>(c).fill(v[0]!);
    if (v.length !== c) fail(name, field, `1 or ${c} values (one per channel; channels = ${c})`, `${v.length} values ${describe(v)}`);
    return [...v];
  };
  const mean = per('mean', 0);
  const std = per('std', 1);
  // every normalised value, x = (u − mean) / std in float32 for u in [0, maxValue], finite
  const top = r.maxValue ?? 1;
  for (let k = 0; k < c; k++) {
    const m = Math.fround(mean[k]!);
    const s = Math.fround(std[k]!);
    const worst = Math.max(Math.abs(Math.fround(0 - m)), Math.abs(Math.fround(top - m)));
    if (!Number.isFinite(Math.fround(worst / s))) {
      fail(name, r.std !== undefined ? 'std' : 'mean', `values that keep (pixel − mean) / std finite in float32 (channel ${k}: |pixel − mean| up to ${worst.toExponential(3)}, std ${s.toExponential(3)})`, show(r.std ?? r.mean));
    }
  }
  const crop = Math.max(r.size[0], r.size[1]);
  if (r.resize !== undefined && r.resize < crop) {
    fail(name, 'resize', `at least the crop size ${crop} (the shorter side is resized to it, then ${r.size[0]}×${r.size[1]} is cropped)`, show(r.resize));
  }
  const interpolation = r.interpolation ?? 'bilinear';
  const resampler = r.resampler ?? 'pil';
  if (resampler === 'sharp' && SHARP_KERNELS[interpolation] === undefined) {
    fail(name, 'interpolation', `one of ${Object.keys(SHARP_KERNELS).join(', ')} with resampler "sharp"`, show(interpolation));
  }
  const size: readonly [number, number] = Object.freeze([r.size[0], r.size[1]] as [number, number]);
  return Object.freeze({
    size,
    ...(r.resize !== undefined ? { resize: r.resize } : {}),
    mean: Object.freeze(mean),
    std: Object.freeze(std),
    channels: c,
    channelOrder: c === 1 ? 'rgb' : (r.channelOrder ?? 'rgb'),
    layout: r.layout ?? 'nchw',
    interpolation,
    resampler,
    maxValue: r.maxValue ?? 1,
  });
}

/** libvips kernels used with `resampler: "sharp"`. */
export const SHARP_KERNELS: Readonly<Partial<Record<Interpolation, 'nearest' | 'linear' | 'cubic' | 'lanczos3'>>> = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

/**
 * Parse settings from JSON text (a settings file's contents): `where` names the source in
 * messages (`prep.json: expected valid JSON, found …`, `prep.json: size: …`). The Node reader
 * of a file is src/node/images/preprocess-flags.ts `readPreprocessFile`.
 */
export function parsePreprocessText(text: string, where = 'preprocessing', base?: Preprocess): Preprocess {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NapoodError(where, 'valid JSON', jsonSyntaxError(e, text));
  }
  return parsePreprocess(json, where, base);
}

/**
 * Apply fields (the keys of `PreprocessInput`) on top of `base` or of the preset they name, with
 * messages naming each field through `fieldName` (e.g. `(f) => '--' + f` for command-line
 * flags). `parsePreprocess` is this with `where: field` names.
 */
export function parsePreprocessFields(fields: Readonly<Record<string, unknown>>, fieldName: (field: string) => string, base?: Preprocess): Preprocess {
  return parseWith(fields, fieldName, base);
}
