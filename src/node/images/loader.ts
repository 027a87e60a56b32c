/**
 * Decodes images with sharp (libvips) or, for small PNGs, png.ts, and yields preprocessed
 * batches (SPEC §4.2).
 *
 * Per image:
 * 1. Read the file; its first bytes must say PNG, JPEG or WebP (the extension is not trusted).
 * 2. Read the header (width × height, grey, alpha, CMYK) in JS (header.ts: PNG IHDR, JPEG SOF,
 *    WebP VP8/VP8L/VP8X; libvips' metadata only when that is unsure) and refuse images above
 *    `maxPixels` (decompression bombs) before decoding anything; sharp's `limitInputPixels`
 *    guards the decode as well.
 * 3. Decode to 8 bits per channel, as PIL `Image.open(f).convert('RGB')` does: grayscale files
 *    (with or without alpha) to 1 channel, all others to 3 channels; alpha is dropped (not
 *    composited), embedded ICC profiles are ignored, EXIF orientation is not applied, CMYK JPEGs
 *    use Pillow's naive CMYK → RGB, 16-bit RGB keeps the high byte. Differences from Pillow:
 *    16-bit grayscale PNGs go through libvips' grey16 → 8-bit conversion (within one level of
 *    the high byte; Pillow clips them to 255); animated files give their first frame.
 *    PNGs up to PNG_FAST_MAX_PIXELS are decoded by png.ts (node:zlib + unfiltering, on the main
 *    thread; the same pixels as libvips), which leaves interlaced, 16-bit grey and damaged files
 *    to libvips; everything else is decoded by libvips.
 * 4. Resize and crop (preprocess.ts `resizeGeometry`):
 *    - resampler "pil" (default): channel conversion first (RGB → L with Pillow's luma formula,
 *      L → RGB replicated), then resample.ts, a bit-exact port of Pillow's `Image.resize`; the
 *      pixels equal torchvision's PIL pipeline (Resize + CenterCrop) whenever the decoder gives the
 *      same pixels as Pillow's: always for PNG; JPEG (libjpeg-turbo in both) and WebP (libwebp)
 *      matched Pillow 9.4 exactly on the test fixtures, other decoder builds may differ slightly.
 *    - resampler "sharp": libvips resizes (`fit: 'fill'` to the torchvision resize size, then
 *      `extract` of the centre crop, no shrink-on-load), then channel conversion. libvips's
 *      kernels are close to Pillow's when reducing but not equal (a few grey levels), and when
 *      enlarging libvips samples with a half-pixel offset from Pillow's (differences of a hundred
 *      levels at edges), so models trained with torchvision should keep "pil".
 * 5. Normalise into the batch (preprocess.ts `normalizeInto`, float32 as torchvision).
 *
 * A few images are decoded concurrently (sharp works in libuv's thread pool) while the output
 * order stays the input order. Files that cannot be read or decoded, or that are too large, are
 * skipped: each is reported through `onSkip(path, reason)` (default: a line on stderr) and
 * counted, never dropped silently. No image left → NapoodError.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { NapoodError, describe } from '../../errors.js';
import { readImageHeader } from '../../images/header.js';
import { decodePng, type PngHeader } from '../../images/png.js';
import { cmykToRgb, convertChannels, imageShape, normalizeInto, resizeGeometry, SHARP_KERNELS, type Preprocess } from '../../images/preprocess.js';
import { resamplePil } from '../../images/resample.js';
import { sniffFormat, type ImageFormat, type ImageItem } from './sources.js';

/** Default pixel limit: 40 megapixels (a 7300 × 5500 photo); Pillow warns at 89 MP. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * PNGs up to this many pixels are decoded by png.ts on the main thread, larger ones by libvips
 * in the thread pool. libvips costs ~1.3 ms per image however small, png.ts ~0.07 ms for 32 × 32
 * but more per pixel than libvips (JS unfiltering, node's zlib), and it takes the main thread,
 * where libvips decodes 4 images at a time in the pool. imageBatches on photo-like PNGs written
 * by Pillow (ad hoc, 2-core EPYC; one core / two): png.ts 2.4× / 1.9× faster than libvips at
 * 64 × 64, 1.4× / 1.5× at 192 × 192, 1.1× faster / 1.1× slower at 256 × 256.
 */
export const PNG_FAST_MAX_PIXELS = 40_000;

/** Why an image was skipped (an expected, per-file failure). */
export class ImageSkip extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(reason);
    this.name = 'ImageSkip';
    this.path = path;
  }
}

export interface DecodedImage {
  /** Interleaved HWC uint8. */
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** 1 for grayscale files, 3 for colour. */
  readonly channels: 1 | 3;
  readonly format: ImageFormat;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS). */
  readonly maxPixels?: number;
  /**
   * 'warning' (default): any decoder warning (truncated data, corrupt JPEG segments) skips the
   * image. 'error': only hard errors skip; damaged files may decode partly (PIL is similar for
   * minor JPEG warnings).
   */
  readonly failOn?: 'warning' | 'error';
}

interface Header {
  readonly buffer: Buffer;
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  readonly grey: boolean;
  readonly alpha: boolean;
  readonly cmyk: boolean;
  /** PNG: the IHDR fields when the header was read in JS (png.ts may decode the file). */
  readonly png?: PngHeader;
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file';
  if (err?.code) return `cannot read the file (${err.code})`;
  const text = String(err?.message ?? e).trim().replace(/\s+/g, ' ');
  // libvips reports the warning itself or only this (which one depends on timing).
  if (/Warning treated as error/.test(text)) return 'damaged or truncated data: a decoder warning, treated as an error';
  return text;
}

function hexHead(buf: Uint8Array): string {
  const head = buf.subarray(0, 8);
  const text = Buffer.from(head).toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) ? JSON.stringify(text) : [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

async function readHeader(path: string, maxPixels: number): Promise<Header> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (e) {
    throw new ImageSkip(path, errorText(e));
  }
  const format = sniffFormat(buffer);
  if (!format) {
    throw new ImageSkip(path, buffer.length === 0 ? 'not a PNG, JPEG or WebP image (empty file)' : `not a PNG, JPEG or WebP image (starts with ${hexHead(buffer)})`);
  }
  // The header read in JS (header.ts); libvips' metadata when that is unsure (unusual or
  // damaged headers: its error message is then the one reported).
  let h: Header;
  const parsed = readImageHeader(buffer, format);
  if (parsed) {
    h = { buffer, format, width: parsed.width, height: parsed.height, grey: parsed.grey, alpha: parsed.alpha, cmyk: parsed.cmyk, png: parsed.png };
  } else {
    let meta: sharp.Metadata;
    try {
      meta = await sharp(buffer, { limitInputPixels: false }).metadata();
    } catch (e) {
      throw new ImageSkip(path, `corrupt ${format.toUpperCase()} (${errorText(e)})`);
    }
    const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
    h = { buffer, format, width: meta.width ?? 0, height: meta.height ?? 0, grey, alpha: meta.hasAlpha === true, cmyk: meta.space === 'cmyk' };
  }
  const { width, height } = h;
  if (!(width > 0 && height > 0)) throw new ImageSkip(path, `corrupt ${format.toUpperCase()} (no image size in the header)`);
  if (width * height > maxPixels) {
    throw new ImageSkip(path, `${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} pixels (a decompression bomb? raise the pixel limit to accept it)`);
  }
  return h;
}

function sharpOptions(opts: DecodeOptions, maxPixels: number): sharp.SharpOptions {
  return { limitInputPixels: maxPixels, failOn: opts.failOn ?? 'warning', ignoreIcc: true, autoOrient: false };
}

/** A pipeline giving 1 (grey) or 3 (sRGB) channels; not for CMYK files (see decodeRaw). */
function open(h: Header, opts: DecodeOptions, maxPixels: number): sharp.Sharp {
  return sharp(h.buffer, sharpOptions(opts, maxPixels)).removeAlpha().toColourspace(h.grey ? 'b-w' : 'srgb');
}

async function toRaw(path: string, h: Header, img: sharp.Sharp, channels: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  try {
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new ImageSkip(path, `corrupt ${h.format.toUpperCase()} (${errorText(e)})`);
  }
}

/** Decode to interleaved uint8, 1 channel for grey files and 3 for the others. Throws ImageSkip. */
async function decodeRaw(path: string, h: Header, opts: DecodeOptions, maxPixels: number): Promise<{ data: Uint8Array; width: number; height: number; channels: 1 | 3 }> {
  if (h.cmyk) {
    // The raw CMYK values (no ICC transform), then Pillow's naive CMYK → RGB.
    const img = sharp(h.buffer, sharpOptions(opts, maxPixels)).pipelineColourspace('cmyk').toColourspace('cmyk');
    const raw = await toRaw(path, h, img, 4);
    return { data: cmykToRgb(raw.data, raw.width * raw.height), width: raw.width, height: raw.height, channels: 3 };
  }
  if (h.png && h.width * h.height <= PNG_FAST_MAX_PIXELS) {
    // png.ts decodes clean, common PNGs to the same pixels; it leaves the others to sharp.
    const px = decodePng(h.buffer, h.png);
    if (!('fallback' in px)) return px;
  }
  const channels = h.grey ? 1 : 3;
  const raw = await toRaw(path, h, open(h, opts, maxPixels), channels);
  return { ...raw, channels };
}

/** Decode one file to 8-bit pixels (1 channel for grayscale files, else 3). Throws ImageSkip. */
export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const h = await readHeader(path, maxPixels);
  const raw = await decodeRaw(path, h, opts, maxPixels);
  return { pixels: raw.data, width: raw.width, height: raw.height, channels: raw.channels, format: h.format };
}

export interface PrepareOptions extends DecodeOptions {
  /**
   * An image whose channel count differs from the model's: 'convert' (default; as PIL convert),
   * 'skip' it (reported), or 'error' (NapoodError naming the file).
   */
  readonly channelMismatch?: 'convert' | 'skip' | 'error';
}

export interface PreparedImage {
  /** HWC uint8 at pp.size with pp.channels channels. */
  readonly pixels: Uint8Array;
  /** Channels of the file (1 or 3) before conversion. */
  readonly sourceChannels: 1 | 3;
  readonly width: number;
  readonly height: number;
}

function channelName(c: number): string {
  return c === 1 ? '1 channel (grayscale)' : `${c} channels (colour)`;
}

/** Decode, resize, crop and convert one image to pp.size × pp.channels uint8. Throws ImageSkip. */
export async function prepareImage(path: string, pp: Preprocess, opts: PrepareOptions = {}): Promise<PreparedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const h = await readHeader(path, maxPixels);
  const from: 1 | 3 = h.grey ? 1 : 3;
  if (from !== pp.channels && opts.channelMismatch && opts.channelMismatch !== 'convert') {
    const reason = `has ${channelName(from)}, expected ${channelName(pp.channels)} (the model input)`;
    if (opts.channelMismatch === 'error') throw new NapoodError(path, `an image with ${channelName(pp.channels)}`, `${channelName(from)}`);
    throw new ImageSkip(path, reason);
  }
  const g = resizeGeometry(h.width, h.height, pp);
  const count = g.outW * g.outH;
  if (pp.resampler === 'sharp') {
    const kernel = SHARP_KERNELS[pp.interpolation];
    if (!kernel) throw new NapoodError('interpolation', `one of ${Object.keys(SHARP_KERNELS).join(', ')} with resampler "sharp"`, describe(pp.interpolation));
    // libvips resizes premultiplied colours when there is alpha, PIL drops alpha first; CMYK
    // needs Pillow's conversion: both decode to raw pixels first.
    let img: sharp.Sharp;
    if (h.alpha || h.cmyk) {
      const flat = await decodeRaw(path, h, opts, maxPixels);
      img = sharp(flat.data, { raw: { width: flat.width, height: flat.height, channels: from } }).toColourspace(from === 1 ? 'b-w' : 'srgb');
    } else {
      img = open(h, opts, maxPixels);
    }
    if (g.resizeW !== h.width || g.resizeH !== h.height) {
      img = img.resize({ width: g.resizeW, height: g.resizeH, fit: 'fill', kernel, fastShrinkOnLoad: false });
    }
    if (g.left !== 0 || g.top !== 0 || g.outW !== g.resizeW || g.outH !== g.resizeH) {
      img = img.extract({ left: g.left, top: g.top, width: g.outW, height: g.outH });
    }
    const raw = await toRaw(path, h, img, from);
    if (raw.width !== g.outW || raw.height !== g.outH) throw new ImageSkip(path, `resized to ${raw.width}×${raw.height}, expected ${g.outW}×${g.outH}`);
    return { pixels: convertChannels(raw.data, count, from, pp.channels), sourceChannels: from, width: h.width, height: h.height };
  }
  const raw = await decodeRaw(path, h, opts, maxPixels);
  if (raw.width !== h.width || raw.height !== h.height) throw new ImageSkip(path, `decoded to ${raw.width}×${raw.height}, header says ${h.width}×${h.height}`);
  // Convert first (PIL convert, then transforms); RGB → L before resizing also saves work.
  const src = pp.channels === 1 ? convertChannels(raw.data, h.width * h.height, from, 1) : raw.data;
  const ch = pp.channels === 1 ? 1 : from;
  const out = resamplePil(src, h.width, h.height, ch, pp.interpolation, g);
  return { pixels: ch === pp.channels ? out : convertChannels(out, count, 1, 3), sourceChannels: from, width: h.width, height: h.height };
}

export interface ImageBatch {
  readonly n: number;
  /** n images, float32, in pp.layout. */
  readonly data: Float32Array;
  /** [n, C, H, W] (nchw) or [n, H, W, C] (nhwc). */
  readonly shape: readonly [number, number, number, number];
  /** −1 where unknown. */
  readonly labels: Int32Array;
  readonly paths: string[];
}

export interface LoadStats {
  /** Images in the batches so far. */
  loaded: number;
  /** Images skipped so far (each was reported through onSkip). */
  skipped: number;
  /** Images whose channel count was converted (grayscale → RGB or RGB → grayscale). */
  converted: number;
}

export interface SkippedImage {
  readonly path: string;
  readonly reason: string;
}

export interface LoadSummary extends LoadStats {
  readonly skippedImages: readonly SkippedImage[];
}

export interface LoadOptions extends PrepareOptions {
  /** Images per batch (default 32). */
  readonly batchSize?: number;
  /** Images decoded at the same time (default 4). */
  readonly concurrency?: number;
  /** Called for each skipped file, in input order. Default: `napood: skipped PATH: REASON` on stderr. */
  readonly onSkip?: (path: string, reason: string) => void;
  /** Called after each image (loaded or skipped): (done, total, "images"). */
  readonly onProgress?: (done: number, total: number, what: string) => void;
  /** Counters updated as batches are produced (for callers that iterate with for await). */
  readonly stats?: LoadStats;
  /** Argument name for messages (default "images"). */
  readonly argument?: string;
}

function positiveInteger(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new NapoodError(name, 'a positive integer', describe(v));
  return v;
}

type Outcome = { ok: PreparedImage } | { skip: ImageSkip } | { error: unknown };

/**
 * Batches of preprocessed images in input order. Returns (as the generator's return value) the
 * summary; `opts.stats` is kept up to date for `for await` callers.
 */
export async function* imageBatches(items: readonly ImageItem[], pp: Preprocess, opts: LoadOptions = {}): AsyncGenerator<ImageBatch, LoadSummary, undefined> {
  const argument = opts.argument ?? 'images';
  const batchSize = positiveInteger('batchSize', opts.batchSize, 32);
  const concurrency = positiveInteger('concurrency', opts.concurrency, 4);
  const maxPixels = positiveInteger('maxPixels', opts.maxPixels, DEFAULT_MAX_PIXELS);
  if (items.length === 0) throw new NapoodError(argument, 'at least one image', 'none');
  const onSkip = opts.onSkip ?? ((path: string, reason: string) => process.stderr.write(`napood: skipped ${path}: ${reason}\n`));
  const stats: LoadStats = opts.stats ?? { loaded: 0, skipped: 0, converted: 0 };
  const skippedImages: SkippedImage[] = [];
  const shape1 = imageShape(pp);
  const per = shape1[0] * shape1[1] * shape1[2];
  const prepOpts: PrepareOptions = { ...opts, maxPixels };

  const queue: Promise<Outcome>[] = [];
  let next = 0;
  const launch = (): void => {
    while (queue.length < concurrency && next < items.length) {
      const item = items[next++]!;
      queue.push(
        prepareImage(item.path, pp, prepOpts).then(
          (ok): Outcome => ({ ok }),
          (e): Outcome => (e instanceof ImageSkip ? { skip: e } : { error: e }),
        ),
      );
    }
  };

  let data = new Float32Array(batchSize * per);
  let labels = new Int32Array(batchSize);
  let paths: string[] = [];
  const emit = (n: number): ImageBatch => {
    const batch: ImageBatch = {
      n,
      data: n === batchSize ? data : data.slice(0, n * per),
      shape: [n, ...shape1],
      labels: n === batchSize ? labels : labels.slice(0, n),
      paths,
    };
    data = new Float32Array(batchSize * per);
    labels = new Int32Array(batchSize);
    paths = [];
    return batch;
  };

  launch();
  for (let i = 0; i < items.length; i++) {
    const outcome = await queue.shift()!;
    launch();
    const item = items[i]!;
    if ('error' in outcome) throw outcome.error;
    if ('skip' in outcome) {
      stats.skipped++;
      skippedImages.push({ path: item.path, reason: outcome.skip.message });
      onSkip(item.path, outcome.skip.message);
    } else {
      const n = paths.length;
      normalizeInto(outcome.ok.pixels, pp, data, n * per);
      labels[n] = item.label;
      paths.push(item.path);
      stats.loaded++;
      if (outcome.ok.sourceChannels !== pp.channels) stats.converted++;
      if (paths.length === batchSize) yield emit(batchSize);
    }
    opts.onProgress?.(i + 1, items.length, 'images');
  }
  if (paths.length > 0) yield emit(paths.length);
  if (stats.loaded === 0) {
    const first = skippedImages[0]!;
    throw new NapoodError(argument, 'at least one image that can be decoded', `none: all ${items.length} skipped (first: ${first.path}: ${first.reason})`);
  }
  return { ...stats, skippedImages };
}

/** All images in one tensor (convenience for small sets). */
export async function loadImages(items: readonly ImageItem[], pp: Preprocess, opts: LoadOptions = {}): Promise<ImageBatch & { summary: LoadSummary }> {
  const it = imageBatches(items, pp, opts);
  const parts: ImageBatch[] = [];
  let r = await it.next();
  while (!r.done) {
    parts.push(r.value);
    r = await it.next();
  }
  const summary = r.value;
  const shape1 = imageShape(pp);
  const per = shape1[0] * shape1[1] * shape1[2];
  const n = parts.reduce((s, b) => s + b.n, 0);
  const data = new Float32Array(n * per);
  const labels = new Int32Array(n);
  const paths: string[] = [];
  let k = 0;
  for (const b of parts) {
    data.set(b.data, k * per);
    labels.set(b.labels, k);
    paths.push(...b.paths);
    k += b.n;
  }
  return { n, data, shape: [n, ...shape1], labels, paths, summary };
}
