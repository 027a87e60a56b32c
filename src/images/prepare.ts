/**
 * One image through the preprocessing (SPEC §4.2), runtime-neutral: from the bytes of a file
 * (with an `ImageDecoder`) or from pixels already decoded, to uint8 pixels at the model's size
 * (`prepareImageBytes`, `prepareDecodedImage`) or to the float32 tensor (`preprocessImage`).
 *
 * From bytes:
 * 1. The first bytes must say PNG, JPEG or WebP (a file name's extension is not trusted).
 * 2. The header (width × height, grey, alpha, CMYK) is read in JS (header.ts), or by the
 *    decoder's `probe` when header.ts is unsure; images over `maxPixels` are refused before
 *    anything is decoded (decompression bombs).
 * 3. The decoder decodes (decoder.ts says what it must give, to match Pillow).
 * 4. Channel conversion as PIL's convert (alpha dropped, RGB → L with Pillow's luma, L → RGB
 *    replicated) before resizing, then resample.ts (Pillow's `Image.resize`, bit-exact) to
 *    torchvision's Resize + CenterCrop geometry (pixels.ts `resizeGeometry`). With
 *    `resampler: "sharp"` the decoder resizes (`decodeResized`, Node's libvips), then channels
 *    are converted.
 * 5. `preprocessImage` normalises into float32 (pixels.ts `normalizeInto`, as torchvision).
 *
 * Failures of one image (not an image, too large, damaged) throw `ImageSkip` with the reason;
 * usage errors (a channel mismatch with `channelMismatch: 'error'`, a decoder that cannot do what
 * the settings ask) throw NapoodError.
 */
import { NapoodError, describe } from '../errors.js';
import { ImageSkip, type DecodedImage, type ImageDecoder, type ImageInfo } from './decoder.js';
import { readImageHeader } from './header.js';
import { byteCount, describeBytes, groupDigits, sniffFormat, type ImageFormat } from './items.js';
import { convertChannels, normalizeInto, resizeGeometry } from './pixels.js';
import { imageShape, type Preprocess } from './preprocess.js';
import { resamplePil } from './resample.js';

/** Default pixel limit: 40 megapixels (a 7300 × 5500 photo); Pillow warns at 89 MP. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * Default limit on the size of one image file: 256 MiB. A file is also refused when it is far
 * larger than its header's pixels can need (`maxImageFileBytes`).
 */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** Slack for metadata (EXIF, ICC profiles, XMP, text chunks) in `maxImageFileBytes`. */
const METADATA_SLACK = 16 * 1024 * 1024;

/**
 * The most bytes a file with this header can reasonably hold: twice its raw pixel data (PNG:
 * the filtered rows at the file's bit depth; JPEG: one byte per component; WebP: RGBA), plus
 * 16 MiB of metadata. Compressed image data is smaller than the raw pixels (stored, i.e.
 * uncompressed, deflate blocks add 5 bytes per 64 KiB), so a larger file is padded, or not the
 * image its header says.
 */
export function maxImageFileBytes(info: Pick<ImageInfo, 'format' | 'width' | 'height' | 'grey' | 'alpha' | 'cmyk' | 'png'>): number {
  const { width, height } = info;
  let rowBytes: number;
  if (info.png) {
    const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[info.png.colorType] ?? 4;
    rowBytes = Math.ceil((width * samples * info.png.bitDepth) / 8) + 1;
  } else if (info.format === 'jpeg') {
    rowBytes = width * (info.cmyk ? 4 : info.grey ? 1 : 3);
  } else {
    rowBytes = width * 8;
  }
  return 2 * rowBytes * height + METADATA_SLACK;
}

/**
 * Pixels a caller already has: interleaved HWC uint8. A browser's `ImageData` (RGBA,
 * Uint8ClampedArray, no `channels`) fits as it is; without `channels` it is data.length / (w · h).
 */
export interface DecodedPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly channels?: 1 | 3 | 4;
}

/** One image: the bytes of a PNG / JPEG / WebP file, or decoded pixels. */
export type ImageInput = Uint8Array | ArrayBuffer | DecodedPixels;

export interface PrepareImageOptions {
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS); files only. */
  readonly maxPixels?: number;
  /**
   * An image whose channel count differs from the model's: 'convert' (default; as PIL convert),
   * 'skip' it (ImageSkip), or 'error' (NapoodError naming the image).
   */
  readonly channelMismatch?: 'convert' | 'skip' | 'error';
  /** The image's name in messages (a path, a URL): default "image". */
  readonly name?: string;
}

export interface PreparedImage {
  /** HWC uint8 at pp.size with pp.channels channels. */
  readonly pixels: Uint8Array;
  /** Channels of the image (1 grey or 3 colour) before conversion. */
  readonly sourceChannels: 1 | 3;
  readonly width: number;
  readonly height: number;
}

function channelName(c: number): string {
  return c === 1 ? '1 channel (grayscale)' : `${c} channels (colour)`;
}


/** A decoder's message, on one line. */
function reasonOf(e: unknown): string {
  return String((e as Error)?.message ?? e).trim().replace(/\s+/g, ' ');
}

/** Run a decoder step: its failures become `corrupt FORMAT (reason)` skips, NapoodErrors pass. */
async function decoderStep<T>(name: string, format: ImageFormat, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof NapoodError) throw e;
    if (e instanceof ImageSkip) throw new ImageSkip(name, e.message);
    throw new ImageSkip(name, `corrupt ${format.toUpperCase()} (${reasonOf(e)})`);
  }
}

/**
 * Steps 1–2: the format and header of a file's bytes, with the pixel limit. Throws ImageSkip
 * (not an image, no size, over the limit, or a header neither header.ts nor the decoder reads).
 */
export async function readImageInfo(bytes: Uint8Array, decoder: Pick<ImageDecoder, 'probe'> | undefined, opts: Pick<PrepareImageOptions, 'maxPixels' | 'name'> = {}): Promise<ImageInfo> {
  const name = opts.name ?? 'image';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = imageFormatOf(bytes, bytes.length, name);
  // The header read in JS; the decoder's own reading when that is unsure (unusual or damaged
  // headers: its error message is then the one reported).
  const parsed = readImageHeader(bytes, format);
  let info: ImageInfo;
  if (parsed) {
    info = { format, ...parsed };
  } else if (decoder?.probe) {
    info = await decoderStep(name, format, () => decoder.probe!(bytes, format));
  } else {
    throw new ImageSkip(name, `corrupt ${format.toUpperCase()} (a header napood does not read, and the decoder has no probe)`);
  }
  checkPixels(info, maxPixels, name);
  return info;
}

/** The format from the first bytes; ImageSkip saying what they look like (never quoting them) when none. */
function imageFormatOf(head: Uint8Array, size: number, name: string): ImageFormat {
  const format = sniffFormat(head);
  if (!format) throw new ImageSkip(name, `not a PNG, JPEG or WebP image (${describeBytes(head, size)})`);
  return format;
}

function checkPixels(info: ImageInfo, maxPixels: number, name: string): void {
  const { width, height, format } = info;
  if (!(width > 0 && height > 0)) throw new ImageSkip(name, `corrupt ${format.toUpperCase()} (no image size in the header)`);
  if (width * height > maxPixels) {
    throw new ImageSkip(name, `${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} pixels (a decompression bomb? raise the pixel limit to accept it)`);
  }
}

export interface ImageHeadOptions extends Pick<PrepareImageOptions, 'maxPixels' | 'name'> {
  /** Refuse files larger than this (default DEFAULT_MAX_FILE_BYTES). */
  readonly maxFileBytes?: number;
}

/**
 * Check a file from its first bytes, before the rest is read: `head` holds the first bytes of a
 * file of `fileSize` bytes. Throws ImageSkip when the file is not a PNG, JPEG or WebP image
 * (saying what the bytes look like, never quoting them), when it is larger than
 * `maxFileBytes`, when its header says more pixels than `maxPixels`, or when the file is far
 * larger than those pixels can need (`maxImageFileBytes`: padded, or not what its header says).
 * Returns the header, or undefined when the head is too short to be sure (a PNG or JPEG with
 * long metadata before the image data): read more, or the whole file (it is under
 * `maxFileBytes`), and let `readImageInfo` decide.
 */
export function checkImageHead(head: Uint8Array, fileSize: number, opts: ImageHeadOptions = {}): ImageInfo | undefined {
  const name = opts.name ?? 'image';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const format = imageFormatOf(head, fileSize, name);
  const parsed = readImageHeader(head, format, fileSize);
  const info: ImageInfo | undefined = parsed && { format, ...parsed };
  if (info) checkPixels(info, maxPixels, name);
  if (fileSize > maxFileBytes) {
    throw new ImageSkip(name, `a file of ${byteCount(fileSize)}, over the limit of ${groupDigits(maxFileBytes)} bytes for one image file`);
  }
  if (info) {
    const most = maxImageFileBytes(info);
    if (fileSize > most) {
      throw new ImageSkip(name, `a file of ${byteCount(fileSize)}, more than a ${info.width}×${info.height} ${format.toUpperCase()} can need (at most ${groupDigits(most)} bytes): padded, or not the image its header says`);
    }
  }
  return info;
}

/** What is wrong with pixels (sizes, channels, byte count), or undefined. */
function pixelProblem(d: DecodedPixels): string | undefined {
  const { width, height } = d;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) return `a size of ${describe(width)}×${describe(height)}`;
  if (!(d.data instanceof Uint8Array || d.data instanceof Uint8ClampedArray)) return `data that is not a Uint8Array (${describe(d.data)})`;
  const channels = d.channels ?? d.data.length / (width * height);
  if (channels !== 1 && channels !== 3 && channels !== 4) return `${d.data.length} bytes for ${width}×${height} (${d.channels === undefined ? 'not 1, 3 or 4 channels' : `channels ${describe(d.channels)}`})`;
  if (d.data.length !== width * height * channels) return `${d.data.length} bytes for ${width}×${height}×${channels}`;
  return undefined;
}

function asDecoded(d: DecodedPixels): DecodedImage {
  const channels = (d.channels ?? d.data.length / (d.width * d.height)) as 1 | 3 | 4;
  const data = d.data instanceof Uint8Array ? d.data : new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.length);
  return { width: d.width, height: d.height, channels, data };
}

/** RGBA → RGB (alpha dropped, as PIL convert('RGB')); 1 and 3 channels as they are. */
function dropAlpha(d: DecodedImage): { data: Uint8Array; channels: 1 | 3 } {
  if (d.channels !== 4) return { data: d.data, channels: d.channels };
  const n = d.width * d.height;
  const out = new Uint8Array(n * 3);
  const src = d.data;
  for (let i = 0, p = 0, q = 0; i < n; i++, p += 4, q += 3) {
    out[q] = src[p]!;
    out[q + 1] = src[p + 1]!;
    out[q + 2] = src[p + 2]!;
  }
  return { data: out, channels: 3 };
}

/** Decoder output for a file: checked (a decoder fault is a skip of that file, not a usage error). */
function decoded(d: DecodedImage, name: string, info: ImageInfo): DecodedImage {
  const problem = pixelProblem(d);
  if (problem) throw new ImageSkip(name, `corrupt ${info.format.toUpperCase()} (the decoder gave ${problem})`);
  return d;
}

function checkChannels(from: 1 | 3, pp: Preprocess, opts: PrepareImageOptions, name: string): void {
  if (from !== pp.channels && opts.channelMismatch && opts.channelMismatch !== 'convert') {
    if (opts.channelMismatch === 'error') throw new NapoodError(name, `an image with ${channelName(pp.channels)}`, `${channelName(from)}`);
    throw new ImageSkip(name, `has ${channelName(from)}, expected ${channelName(pp.channels)} (the model input)`);
  }
}

/** Steps 3–4 after decoding: channels as PIL convert, then Pillow's resize and the crop. */
function resizePil(d: DecodedImage, pp: Preprocess): Uint8Array {
  const { width, height } = d;
  const g = resizeGeometry(width, height, pp);
  const flat = dropAlpha(d);
  // Convert first (PIL convert, then transforms); RGB → L before resizing also saves work.
  const src = pp.channels === 1 ? convertChannels(flat.data, width * height, flat.channels, 1) : flat.data;
  const ch = pp.channels === 1 ? 1 : flat.channels;
  const out = resamplePil(src, width, height, ch, pp.interpolation, g);
  return ch === pp.channels ? out : convertChannels(out, g.outW * g.outH, 1, 3);
}

/**
 * Decode one file's bytes (steps 1–3) to 8-bit pixels, 1 channel for grey files and 3 for the
 * others (alpha dropped). Throws ImageSkip.
 */
export async function decodeImageBytes(bytes: Uint8Array, decoder: ImageDecoder, opts: Pick<PrepareImageOptions, 'maxPixels' | 'name'> = {}): Promise<DecodedImage & { readonly channels: 1 | 3; readonly format: ImageFormat }> {
  const name = opts.name ?? 'image';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await readImageInfo(bytes, decoder, { maxPixels, name });
  const channels: 1 | 3 = info.grey ? 1 : 3;
  const d = decoded(await decoderStep(name, info.format, () => decoder.decode(bytes, { maxPixels, channels, info })), name, info);
  const flat = dropAlpha(d);
  return { data: flat.data, width: d.width, height: d.height, channels: flat.channels, format: info.format };
}

/** Decode, resize, crop and convert one file's bytes to pp.size × pp.channels uint8. Throws ImageSkip. */
export async function prepareImageBytes(bytes: Uint8Array, pp: Preprocess, decoder: ImageDecoder, opts: PrepareImageOptions = {}): Promise<PreparedImage> {
  const name = opts.name ?? 'image';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await readImageInfo(bytes, decoder, { maxPixels, name });
  const from: 1 | 3 = info.grey ? 1 : 3;
  checkChannels(from, pp, opts, name);
  const { width, height, format } = info;
  if (pp.resampler === 'sharp') {
    if (!decoder.decodeResized) {
      throw new NapoodError('resampler', '"pil" with this image decoder (only a decoder that resizes, as Node\'s sharp decoder, takes "sharp")', describe(pp.resampler));
    }
    const geometry = resizeGeometry(width, height, pp);
    const r = decoded(await decoderStep(name, format, () => decoder.decodeResized!(bytes, { maxPixels, channels: from, info, geometry, interpolation: pp.interpolation })), name, info);
    if (r.width !== geometry.outW || r.height !== geometry.outH) throw new ImageSkip(name, `resized to ${r.width}×${r.height}, expected ${geometry.outW}×${geometry.outH}`);
    const flat = dropAlpha(r);
    return { pixels: convertChannels(flat.data, r.width * r.height, flat.channels, pp.channels), sourceChannels: from, width, height };
  }
  const d = decoded(await decoderStep(name, format, () => decoder.decode(bytes, { maxPixels, channels: from, info })), name, info);
  if (d.width !== width || d.height !== height) throw new ImageSkip(name, `decoded to ${d.width}×${d.height}, header says ${width}×${height}`);
  return { pixels: resizePil(d, pp), sourceChannels: from, width, height };
}

/**
 * Resize, crop and convert pixels a caller decoded (step 4, resampler "pil" only: the "sharp"
 * resampler needs the file). Grey or RGB(A) pixels count as 1 or 3 source channels; alpha is
 * dropped. Throws NapoodError for malformed pixels, ImageSkip for `channelMismatch: 'skip'`.
 */
export function prepareDecodedImage(pixels: DecodedPixels, pp: Preprocess, opts: Omit<PrepareImageOptions, 'maxPixels'> = {}): PreparedImage {
  const name = opts.name ?? 'image';
  const problem = pixelProblem(pixels);
  if (problem) throw new NapoodError(name, 'decoded pixels: a positive integer width and height, data of width × height × channels bytes (interleaved uint8, 1, 3 or 4 channels)', problem);
  const d = asDecoded(pixels);
  if (pp.resampler !== 'pil') {
    throw new NapoodError('resampler', '"pil" for decoded pixels ("sharp" resizes in libvips, from the file)', describe(pp.resampler));
  }
  const from: 1 | 3 = d.channels === 1 ? 1 : 3;
  checkChannels(from, pp, opts, name);
  return { pixels: resizePil(d, pp), sourceChannels: from, width: d.width, height: d.height };
}

function isBytes(input: ImageInput): input is Uint8Array | ArrayBuffer {
  return ArrayBuffer.isView(input) || input instanceof ArrayBuffer || Object.prototype.toString.call(input) === '[object ArrayBuffer]';
}

export interface PreprocessImageOptions extends PrepareImageOptions {
  /** Decodes file bytes (required for bytes; not used for decoded pixels). */
  readonly decoder?: ImageDecoder;
}

/** Any one image (file bytes with `opts.decoder`, or decoded pixels) to pp.size × pp.channels uint8. */
export async function prepareImageInput(input: ImageInput, pp: Preprocess, opts: PreprocessImageOptions = {}): Promise<PreparedImage> {
  if (isBytes(input)) {
    const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
    if (!opts.decoder) throw new NapoodError(opts.name ?? 'image', 'decoded pixels, or an image decoder (option decoder) for the bytes of a file', `${bytes.length} bytes and no decoder`);
    return prepareImageBytes(bytes, pp, opts.decoder, opts);
  }
  if (input === null || typeof input !== 'object' || !('data' in input)) {
    throw new NapoodError(opts.name ?? 'image', 'the bytes of an image file or decoded pixels { width, height, data, channels }', describe(input));
  }
  return prepareDecodedImage(input, pp, opts);
}

export interface ImageTensor {
  /** float32 in pp.layout, normalised with pp.mean / pp.std. */
  readonly data: Float32Array;
  /** [1, C, H, W] (nchw) or [1, H, W, C] (nhwc). */
  readonly shape: readonly [1, number, number, number];
  /** Channels of the image (1 grey or 3 colour) before conversion. */
  readonly sourceChannels: 1 | 3;
}

/**
 * One image (the bytes of a PNG / JPEG / WebP file, with `opts.decoder`, or decoded pixels such
 * as a browser's ImageData) to the model's input tensor of one image. Throws ImageSkip for an
 * image that cannot be used (not an image, damaged, over the pixel limit), NapoodError for usage
 * errors.
 */
export async function preprocessImage(input: ImageInput, pp: Preprocess, opts: PreprocessImageOptions = {}): Promise<ImageTensor> {
  const prepared = await prepareImageInput(input, pp, opts);
  const shape = imageShape(pp);
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  normalizeInto(prepared.pixels, pp, data, 0);
  return { data, shape: [1, ...shape], sourceChannels: prepared.sourceChannels };
}
