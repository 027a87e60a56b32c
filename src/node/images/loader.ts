/**
 * Images in Node (SPEC §4.2): the Node decoder behind the `ImageDecoder` interface
 * (src/images/decoder.ts), the reading of files, and batches over file paths. The per-image
 * pipeline itself (header check and pixel limit, channel conversion, Pillow-exact resize,
 * normalisation) is runtime-neutral: src/images/prepare.ts and batches.ts.
 *
 * Per file:
 * 1. Open the file, only if it is a regular file (files.ts: a FIFO, a folder, a dangling link or a
 *    link loop is skipped with the reason, never opened or waited on), and read its first 64 KiB
 *    (`readImageFile`); they must say PNG, JPEG or WebP (the extension is not trusted; the bytes
 *    of other files are described, never quoted in messages).
 * 2. Read the header (width × height, grey, alpha, CMYK) from those bytes in JS (header.ts: PNG
 *    IHDR, JPEG SOF, WebP VP8/VP8L/VP8X) and refuse, before reading the rest, images above
 *    `maxPixels` (decompression bombs), files over `maxFileBytes` (256 MiB) and files far larger
 *    than their pixels can need (prepare.ts `maxImageFileBytes`). Then the rest of the file is
 *    read; libvips' metadata (the decoder's `probe`) is asked only when header.ts is unsure, and
 *    sharp's `limitInputPixels` guards the decode as well.
 * 3. Decode to 8 bits per channel, as PIL `Image.open(f).convert('RGB')` does: grayscale files
 *    (with or without alpha) to 1 channel, all others to 3 channels; alpha is dropped (not
 *    composited), embedded ICC profiles are ignored, EXIF orientation is not applied, CMYK JPEGs
 *    use Pillow's naive CMYK → RGB, 16-bit RGB keeps the high byte. Differences from Pillow:
 *    16-bit grayscale PNGs go through libvips' grey16 → 8-bit conversion (within one level of
 *    the high byte; Pillow clips them to 255); animated files give their first frame.
 *    PNGs up to PNG_FAST_MAX_PIXELS are decoded by png.ts (node:zlib + unfiltering, on the main
 *    thread; the same pixels as libvips), which leaves interlaced, 16-bit grey and damaged files
 *    to libvips; everything else is decoded by libvips (`nodeImageDecoder` = png.ts in front of
 *    `sharpDecoder`).
 * 4. Resize and crop (pixels.ts `resizeGeometry`):
 *    - resampler "pil" (default): channel conversion first (RGB → L with Pillow's luma formula,
 *      L → RGB replicated), then resample.ts, a bit-exact port of Pillow's `Image.resize`; the
 *      pixels equal torchvision's PIL pipeline (Resize + CenterCrop) whenever the decoder gives the
 *      same pixels as Pillow's: always for PNG; JPEG (libjpeg-turbo in both) and WebP (libwebp)
 *      matched Pillow 9.4 exactly on the test fixtures, other decoder builds may differ slightly.
 *    - resampler "sharp": libvips resizes (the decoder's `decodeResized`: `fit: 'fill'` to the
 *      torchvision resize size, then `extract` of the centre crop, no shrink-on-load), then
 *      channel conversion. libvips's kernels are close to Pillow's when reducing but not equal (a
 *      few grey levels), and when enlarging libvips samples with a half-pixel offset from
 *      Pillow's (differences of a hundred levels at edges), so models trained with torchvision
 *      should keep "pil".
 * 5. Normalise into the batch (pixels.ts `normalizeInto`, float32 as torchvision).
 *
 * A few images are decoded concurrently (sharp works in libuv's thread pool) while the output
 * order stays the input order. Files that cannot be read or decoded, or that are too large, are
 * skipped: each is reported through `onSkip(path, reason)` (default: a line on stderr) and
 * counted, never dropped silently. No image left → NapoodError.
 */
import sharp from 'sharp';
import { NapoodError, describe } from '../../errors.js';
import { concatBatches, imageSourceBatches, type BatchOptions, type ImageBatch, type ImageSource, type LoadStats, type LoadSummary, type SkippedImage } from '../../images/batches.js';
import { ImageSkip, withPngFastPath, type DecodedImage, type DecodeRequest, type ImageDecoder, type ImageInfo, type ResizeRequest } from '../../images/decoder.js';
import { readImageHeader } from '../../images/header.js';
import { sniffFormat, type ImageFormat, type ImageItem } from '../../images/items.js';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, checkImageHead, decodeImageBytes, prepareImageBytes, type PrepareImageOptions, type PreparedImage } from '../../images/prepare.js';
import { cmykToRgb } from '../../images/pixels.js';
import { SHARP_KERNELS, type Preprocess } from '../../images/preprocess.js';
import { OpenFailure, openFailure, openRegularFile, readFully } from './files.js';
import { nodeZlib } from './zlib.js';

export { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, ImageSkip, type DecodedImage, type ImageBatch, type LoadStats, type LoadSummary, type PreparedImage, type SkippedImage };

/**
 * PNGs up to this many pixels are decoded by png.ts on the main thread, larger ones by libvips
 * in the thread pool. libvips costs ~1.3 ms per image however small, png.ts ~0.07 ms for 32 × 32
 * but more per pixel than libvips (JS unfiltering, node's zlib), and it takes the main thread,
 * where libvips decodes 4 images at a time in the pool. imageBatches on photo-like PNGs written
 * by Pillow (ad hoc, 2-core EPYC; one core / two): png.ts 2.4× / 1.9× faster than libvips at
 * 64 × 64, 1.4× / 1.5× at 192 × 192, 1.1× faster / 1.1× slower at 256 × 256.
 */
export const PNG_FAST_MAX_PIXELS = 40_000;

export interface SharpDecoderOptions {
  /**
   * 'warning' (default): any decoder warning (truncated data, corrupt JPEG segments) fails the
   * image. 'error': only hard errors do; damaged files may decode partly (PIL is similar for
   * minor JPEG warnings).
   */
  readonly failOn?: 'warning' | 'error';
}

export interface DecodeOptions extends SharpDecoderOptions, ReadImageOptions {
  /** The decoder (default: `nodeImageDecoder({ failOn })`; `failOn` is then not used). */
  readonly decoder?: ImageDecoder;
}

/** A libvips message on one line; libvips reports a warning itself or only this (which one depends on timing). */
function sharpMessage(e: unknown): string {
  const text = String((e as Error)?.message ?? e).trim().replace(/\s+/g, ' ');
  if (/Warning treated as error/.test(text)) return 'damaged or truncated data: a decoder warning, treated as an error';
  return text;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** libvips' metadata as napood's header fields. */
async function sharpInfo(bytes: Uint8Array, format: ImageFormat): Promise<ImageInfo> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(asBuffer(bytes), { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new Error(sharpMessage(e));
  }
  const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
  return { format, width: meta.width ?? 0, height: meta.height ?? 0, grey, alpha: meta.hasAlpha === true, cmyk: meta.space === 'cmyk' };
}

/**
 * The sharp (libvips) decoder: decodes to 8 bits per channel with `ignoreIcc`, no EXIF
 * orientation, alpha removed (not composited), 1 channel for grey files and 3 (sRGB) for the
 * others, CMYK JPEGs as their raw CMYK values through Pillow's naive CMYK → RGB; `probe` is
 * libvips' metadata; `decodeResized` resizes in libvips (`fit: 'fill'` to the torchvision
 * resize size, then `extract` of the centre crop, no shrink-on-load).
 */
export function sharpDecoder(opts: SharpDecoderOptions = {}): ImageDecoder {
  const failOn = opts.failOn ?? 'warning';
  const options = (maxPixels: number): sharp.SharpOptions => ({ limitInputPixels: maxPixels, failOn, ignoreIcc: true, autoOrient: false });
  const infoOf = async (bytes: Uint8Array, req: DecodeRequest): Promise<ImageInfo> => {
    if (req.info) return req.info;
    const format = sniffFormat(bytes);
    if (!format) throw new Error('not a PNG, JPEG or WebP image');
    const h = readImageHeader(bytes, format);
    return h ? { format, ...h } : sharpInfo(bytes, format);
  };
  /** A pipeline giving 1 (grey) or 3 (sRGB) channels; not for CMYK files (see decodeRaw). */
  const open = (bytes: Uint8Array, channels: 1 | 3, maxPixels: number): sharp.Sharp =>
    sharp(asBuffer(bytes), options(maxPixels)).removeAlpha().toColourspace(channels === 1 ? 'b-w' : 'srgb');
  const toRaw = async (img: sharp.Sharp, channels: number): Promise<DecodedImage> => {
    try {
      const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: channels as 1 | 3 | 4 };
    } catch (e) {
      throw new Error(sharpMessage(e));
    }
  };
  /** Decode to interleaved uint8, 1 channel for grey files and 3 for the others. */
  const decodeRaw = async (bytes: Uint8Array, info: ImageInfo, channels: 1 | 3, maxPixels: number): Promise<DecodedImage> => {
    if (info.cmyk) {
      // The raw CMYK values (no ICC transform), then Pillow's naive CMYK → RGB.
      const raw = await toRaw(sharp(asBuffer(bytes), options(maxPixels)).pipelineColourspace('cmyk').toColourspace('cmyk'), 4);
      return { data: cmykToRgb(raw.data, raw.width * raw.height), width: raw.width, height: raw.height, channels: 3, format: info.format };
    }
    return { ...(await toRaw(open(bytes, channels, maxPixels), channels)), format: info.format };
  };
  return {
    probe: sharpInfo,
    async decode(bytes, req) {
      const info = await infoOf(bytes, req);
      return decodeRaw(bytes, info, req.channels ?? (info.grey ? 1 : 3), req.maxPixels);
    },
    async decodeResized(bytes, req: ResizeRequest) {
      const { info, geometry: g, channels: from, maxPixels } = req;
      const kernel = SHARP_KERNELS[req.interpolation];
      if (!kernel) throw new NapoodError('interpolation', `one of ${Object.keys(SHARP_KERNELS).join(', ')} with resampler "sharp"`, describe(req.interpolation));
      // libvips resizes premultiplied colours when there is alpha, PIL drops alpha first; CMYK
      // needs Pillow's conversion: both decode to raw pixels first.
      let img: sharp.Sharp;
      if (info.alpha || info.cmyk) {
        const flat = await decodeRaw(bytes, info, from, maxPixels);
        img = sharp(flat.data, { raw: { width: flat.width, height: flat.height, channels: from } }).toColourspace(from === 1 ? 'b-w' : 'srgb');
      } else {
        img = open(bytes, from, maxPixels);
      }
      if (g.resizeW !== info.width || g.resizeH !== info.height) {
        img = img.resize({ width: g.resizeW, height: g.resizeH, fit: 'fill', kernel, fastShrinkOnLoad: false });
      }
      if (g.left !== 0 || g.top !== 0 || g.outW !== g.resizeW || g.outH !== g.resizeH) {
        img = img.extract({ left: g.left, top: g.top, width: g.outW, height: g.outH });
      }
      return toRaw(img, from);
    },
  };
}

/** Node's decoder: png.ts (node:zlib) for PNGs up to PNG_FAST_MAX_PIXELS, sharp for the rest. */
export function nodeImageDecoder(opts: SharpDecoderOptions = {}): ImageDecoder {
  return withPngFastPath(sharpDecoder(opts), nodeZlib, PNG_FAST_MAX_PIXELS);
}

const defaultDecoders = { warning: nodeImageDecoder({ failOn: 'warning' }), error: nodeImageDecoder({ failOn: 'error' }) };

function decoderOf(opts: DecodeOptions): ImageDecoder {
  return opts.decoder ?? defaultDecoders[opts.failOn ?? 'warning'];
}

/** First bytes read of each file: enough for the header of nearly every PNG, JPEG and WebP. */
export const IMAGE_HEAD_BYTES = 64 * 1024;
/** When the header is not within the first IMAGE_HEAD_BYTES (long metadata first), this many are tried. */
const IMAGE_HEAD_MORE_BYTES = 1024 * 1024;

export interface ReadImageOptions {
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS), before reading their data. */
  readonly maxPixels?: number;
  /** Refuse files larger than this (default DEFAULT_MAX_FILE_BYTES, 256 MiB), before reading them. */
  readonly maxFileBytes?: number;
}

/**
 * A file's bytes, read in bounded steps: only regular files are opened (files.ts); the first
 * IMAGE_HEAD_BYTES are read and checked (`checkImageHead`: PNG / JPEG / WebP signature, the
 * header's pixel limit, the file size against the limit and against what its pixels can need),
 * and only then the rest. Every failure is an ImageSkip with the reason.
 */
export async function readImageFile(path: string, opts: ReadImageOptions = {}): Promise<Uint8Array> {
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(path);
  } catch (e) {
    if (e instanceof OpenFailure) throw new ImageSkip(path, e.reason);
    throw e;
  }
  const { handle, size } = opened;
  const check = { maxPixels: opts.maxPixels, maxFileBytes: opts.maxFileBytes, name: path };
  try {
    let buf = Buffer.allocUnsafe(Math.min(size, IMAGE_HEAD_BYTES));
    let got = await readFully(handle, buf, 0, buf.length, 0);
    let info = checkImageHead(buf.subarray(0, got), size, check);
    if (!info && got === IMAGE_HEAD_BYTES && size > got) {
      const more = Buffer.allocUnsafe(Math.min(size, IMAGE_HEAD_MORE_BYTES));
      more.set(buf.subarray(0, got));
      got += await readFully(handle, more, got, more.length - got, got);
      buf = more;
      info = checkImageHead(buf.subarray(0, got), size, check);
    }
    if (got < buf.length || got >= size) return buf.subarray(0, got);
    // The header is fine (or unsure and the file under the size limit): the rest.
    const all = Buffer.allocUnsafe(size);
    all.set(buf.subarray(0, got));
    const total = got + (await readFully(handle, all, got, size - got, got));
    return all.subarray(0, total);
  } catch (e) {
    if (e instanceof ImageSkip || e instanceof NapoodError) throw e;
    throw new ImageSkip(path, await openFailure(path, e));
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Decode one file to 8-bit pixels (1 channel for grayscale files, else 3). Throws ImageSkip. */
export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<DecodedImage & { readonly channels: 1 | 3; readonly format: ImageFormat }> {
  return decodeImageBytes(await readImageFile(path, opts), decoderOf(opts), { maxPixels: opts.maxPixels, name: path });
}

export interface PrepareOptions extends DecodeOptions, Pick<PrepareImageOptions, 'channelMismatch'> {}

/** Decode, resize, crop and convert one file to pp.size × pp.channels uint8. Throws ImageSkip. */
export async function prepareImage(path: string, pp: Preprocess, opts: PrepareOptions = {}): Promise<PreparedImage> {
  return prepareImageBytes(await readImageFile(path, opts), pp, decoderOf(opts), { maxPixels: opts.maxPixels, channelMismatch: opts.channelMismatch, name: path });
}

export interface LoadOptions extends PrepareOptions, Omit<BatchOptions, 'decoder' | 'maxPixels' | 'channelMismatch'> {
  /** Called for each skipped file, in input order. Default: `napood: skipped PATH: REASON` on stderr. */
  readonly onSkip?: (path: string, reason: string) => void;
}

/** The files as batch sources (each read when its turn comes, header first: readImageFile). */
function fileSources(items: readonly ImageItem[], opts: ReadImageOptions): ImageSource[] {
  return items.map((item) => ({ name: item.path, label: item.label, image: () => readImageFile(item.path, opts) }));
}

/**
 * Batches of preprocessed images in input order. Returns (as the generator's return value) the
 * summary; `opts.stats` is kept up to date for `for await` callers.
 */
export function imageBatches(items: readonly ImageItem[], pp: Preprocess, opts: LoadOptions = {}): AsyncGenerator<ImageBatch, LoadSummary, undefined> {
  const onSkip = opts.onSkip ?? ((path: string, reason: string) => process.stderr.write(`napood: skipped ${path}: ${reason}\n`));
  return imageSourceBatches(fileSources(items, opts), pp, { ...opts, decoder: decoderOf(opts), onSkip });
}

/** All images in one tensor (convenience for small sets). */
export async function loadImages(items: readonly ImageItem[], pp: Preprocess, opts: LoadOptions = {}): Promise<ImageBatch & { summary: LoadSummary }> {
  return concatBatches(imageBatches(items, pp, opts), pp);
}
