/**
 * The image-decoder interface (SPEC §4.2 step 3), runtime-neutral: a decoder turns the bytes of
 * a PNG, JPEG or WebP file into 8-bit pixels. napood's per-image pipeline (prepare.ts: header
 * check, pixel limit, channel conversion, Pillow-exact resize, normalisation) takes one, so the
 * same code serves Node (src/node/images/loader.ts: sharp, with napood's PNG decoder for small
 * PNGs) and a browser (a decoder over createImageBitmap / OffscreenCanvas, or png.ts with a JS
 * inflate), and callers that already hold decoded pixels skip the decoder altogether.
 *
 * What a decoder must give, to match Pillow's `Image.open(f).convert('RGB' | 'L')` (the
 * torchvision pipeline): the stored 8-bit samples, without colour management (no ICC transform),
 * without applying EXIF orientation, without premultiplying or compositing alpha, CMYK JPEGs
 * through Pillow's naive CMYK → RGB (pixels.ts `cmykToRgb`), 16-bit samples as their high
 * byte, the first frame of an animation. It may give 1 (grey), 3 (RGB) or 4 (RGBA) channels
 * whatever the file holds: the pipeline drops alpha (never composites it) and converts between
 * grey and RGB as Pillow does, which is exact for grey files decoded to R = G = B.
 */
import { readImageHeader, type ImageHeader } from './header.js';
import type { ImageFormat } from './items.js';
import { decodePng, type PngZlib } from './png.js';
import type { ResizeGeometry } from './pixels.js';
import type { Interpolation } from './preprocess.js';

/** Decoded pixels: interleaved HWC uint8, width · height · channels bytes. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 3 RGB, 4 RGBA (alpha is dropped, never composited). */
  readonly channels: 1 | 3 | 4;
  readonly data: Uint8Array;
  /** The file's format, when the pixels were decoded from a file. */
  readonly format?: ImageFormat;
}

/**
 * What an image file's header says: from header.ts (PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X), or
 * from a decoder's `probe` when header.ts is unsure.
 */
export interface ImageInfo extends ImageHeader {
  readonly format: ImageFormat;
}
export interface DecodeRequest {
  /** Refuse images with more pixels than this (guards the decode itself; the pipeline also checks the header first). */
  readonly maxPixels: number;
  /**
   * The channels napood wants: 1 for a grey file, 3 for the others (the file's mode after
   * Pillow's convert). A decoder may give 3 or 4 instead; the pipeline converts.
   */
  readonly channels?: 1 | 3;
  /** The header, as the pipeline read it from the same bytes; absent: the decoder reads it. */
  readonly info?: ImageInfo;
}

/** Decode, resize and crop in the decoder (the `resampler: "sharp"` setting: libvips resizes). */
export interface ResizeRequest extends DecodeRequest {
  readonly channels: 1 | 3;
  readonly info: ImageInfo;
  /** Resize to geometry.resizeW × resizeH, then crop outW × outH at (left, top). */
  readonly geometry: ResizeGeometry;
  readonly interpolation: Interpolation;
}

export interface ImageDecoder {
  /**
   * Decode the bytes of one file. Reject (any Error) for a file it cannot decode: its message is
   * the reason reported (`corrupt PNG (MESSAGE)`); a NapoodError is a usage error and stops the
   * whole run instead of skipping the image.
   */
  decode(bytes: Uint8Array, request: DecodeRequest): Promise<DecodedImage>;
  /**
   * The header of a file whose header header.ts cannot read (unusual or damaged). Without it such
   * files are skipped; with it, its error message is the reason reported for damaged files.
   */
  probe?(bytes: Uint8Array, format: ImageFormat): Promise<ImageInfo>;
  /** Decode and resize (required by `resampler: "sharp"` only). */
  decodeResized?(bytes: Uint8Array, request: ResizeRequest): Promise<DecodedImage>;
}

/** Why an image was skipped (an expected, per-image failure). */
export class ImageSkip extends Error {
  /** The image's name in messages: its path, or the name a caller gave it. */
  readonly path: string;
  constructor(path: string, reason: string) {
    super(reason);
    this.name = 'ImageSkip';
    this.path = path;
  }
}

/**
 * A decoder that decodes PNGs itself with png.ts (inflating with `zlib`), exactly as libspng +
 * libvips and Pillow do, and hands every other file, and the PNGs png.ts leaves aside
 * (interlaced, 16-bit grey, damaged: see png.ts), to `fallback`. PNGs over `maxFastPixels` go to
 * the fallback too when there is one (Node: libvips is faster on large images). Without a
 * fallback, only the PNGs png.ts decodes can be decoded.
 */
export function withPngFastPath(fallback: ImageDecoder | undefined, zlib: PngZlib, maxFastPixels = Infinity): ImageDecoder {
  return {
    async decode(bytes, request) {
      const info = request.info ?? (bytes.length >= 8 ? pngInfo(bytes) : undefined);
      if (info?.png && (!fallback || info.width * info.height <= maxFastPixels)) {
        const px = decodePng(bytes, info.png, zlib);
        if (!('fallback' in px)) return { data: px.data, width: px.width, height: px.height, channels: px.channels, format: 'png' };
        if (!fallback) throw new Error(`napood's PNG decoder leaves this file to another decoder (${px.fallback}), and there is none`);
      }
      if (!fallback) throw new Error(`no decoder for ${info ? info.format.toUpperCase() : 'this file'}: napood's PNG decoder only`);
      return fallback.decode(bytes, request);
    },
    ...(fallback?.probe ? { probe: fallback.probe.bind(fallback) } : {}),
    ...(fallback?.decodeResized ? { decodeResized: fallback.decodeResized.bind(fallback) } : {}),
  };
}

function pngInfo(bytes: Uint8Array): ImageInfo | undefined {
  const h = readImageHeader(bytes, 'png');
  return h && { format: 'png', ...h };
}
