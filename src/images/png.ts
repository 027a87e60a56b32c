/**
 * A PNG decoder for the common case, in TypeScript (SPEC §4.2 decoding), giving the
 * same 8-bit pixels as napood's sharp path (libspng, then `removeAlpha()` and
 * `toColourspace('b-w' | 'srgb')`), which are also Pillow's `convert('L' | 'RGB')` pixels:
 *
 * - colour types 0 (grey, 1/2/4/8 bits; low depths scaled to 0..255 as ×255, ×85, ×17),
 *   2 (RGB, 8 or 16 bits), 3 (palette, 1/2/4/8 bits), 4 (grey + alpha, 8 bits) and
 *   6 (RGBA, 8 or 16 bits); not interlaced;
 * - grey files (types 0, 4) give 1 channel, the others 3; alpha is dropped (not composited) and
 *   tRNS ignored; 16 bits keep the high byte (what libvips does for RGB16);
 * - ancillary chunks (iCCP, gAMA, sBIT, cHRM, sRGB, text...) are ignored, as napood's sharp
 *   path does (`ignoreIcc`, no gamma handling).
 *
 * Everything else is left to sharp: `decodePng` returns `{ fallback: reason }` for Adam7
 * interlacing, 16-bit grey (libvips converts grey16 to 8 bits through its colour pipeline, not
 * by taking the high byte), palette indices past the end of PLTE (libspng gives black, Pillow
 * its grey ramp), and for any file that is not clean: a truncated or oversized chunk, a critical
 * chunk (IHDR, PLTE, IDAT, IEND) whose CRC is wrong, chunks out of order, an unknown critical
 * chunk, a zlib stream that fails, ends early or holds more than the image, an unknown filter
 * type. The caller then decodes the file with sharp, which either decodes it (libvips tolerates
 * some damage, e.g. wrong CRCs) or fails with its own message, exactly as before this decoder
 * existed: the fast path never changes which files are skipped or what they decode to.
 *
 * Runtime-neutral: the zlib inflate step is injected (`PngZlib`; Node passes zlib.inflateSync,
 * src/node/images/zlib.ts; a browser may pass a JS inflate such as fflate's). CRC-32 is computed
 * here unless the caller passes a faster one.
 *
 * Here: the chunk walk, the header, the checks and the inflate step; the filters and the pixel
 * conversions are in png-pixels.ts.
 */
import { SAMPLES, convertRows, expandPalette, unfilter } from './png-pixels.js';

/**
 * Inflates a whole zlib stream (RFC 1950). `maxOutputLength` is the size of the image data: an
 * inflate may throw past it (its message is reported as `zlib: MESSAGE`). Return the output, or
 * the output and how many input bytes the stream took (`consumed`: input bytes after the end of
 * the stream then leave the file to the fallback decoder, as libspng refuses them). The output
 * is unfiltered in place: return a fresh array.
 */
export type Inflate = (stream: Uint8Array, maxOutputLength: number) => Uint8Array | { readonly data: Uint8Array; readonly consumed: number };

/** What decodePng needs from a zlib implementation. */
export interface PngZlib {
  readonly inflate: Inflate;
  /** CRC-32 (ISO 3309) of a byte range; default: a table-driven one in JS. */
  readonly crc32?: (bytes: Uint8Array) => number;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 as in PNG chunks (polynomial 0xEDB88320, reflected). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = ~0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 255]! ^ (c >>> 8);
  return ~c >>> 0;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The IHDR fields and what the chunks before the first IDAT say. */
export interface PngHeader {
  readonly width: number;
  readonly height: number;
  /** 1, 2, 4, 8 or 16. */
  readonly bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  readonly colorType: number;
  readonly interlaced: boolean;
  /** Grey file (colour type 0 or 4): napood decodes it to 1 channel. */
  readonly grey: boolean;
  /** An alpha channel (colour type 4 or 6) or a valid tRNS chunk (libvips then reports alpha). */
  readonly alpha: boolean;
}

export interface PngPixels {
  /** Interleaved HWC uint8. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Allowed bit depths by colour type (PNG spec, table 11.1). */
const DEPTHS: Readonly<Record<number, readonly number[]>> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
// Chunk type codes as big-endian uint32.
const IHDR = 0x49484452;
const PLTE = 0x504c5445;
const IDAT = 0x49444154;
const IEND = 0x49454e44;
const TRNS = 0x74524e53;

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** True when the buffer starts with the PNG signature. */
export function isPng(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== SIGNATURE[i]) return false;
  return true;
}

/**
 * The header of a PNG: IHDR (which must be the first chunk), then a walk over the chunk headers
 * up to the first IDAT for PLTE and tRNS. `undefined` when anything looks wrong (bad IHDR,
 * truncated before IDAT, palette without PLTE): the caller then asks libvips, whose error
 * message is the one to report.
 */
export function readPngHeader(b: Uint8Array): PngHeader | undefined {
  if (!isPng(b) || b.length < 33 || u32(b, 8) !== 13 || u32(b, 12) !== IHDR) return undefined;
  const width = u32(b, 16);
  const height = u32(b, 20);
  const bitDepth = b[24]!;
  const colorType = b[25]!;
  const interlace = b[28]!;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return undefined;
  if (!DEPTHS[colorType]?.includes(bitDepth) || b[26] !== 0 || b[27] !== 0 || interlace > 1) return undefined;
  let pos = 33;
  let paletteEntries = 0;
  let trns = false;
  for (;;) {
    if (pos + 8 > b.length) return undefined;
    const len = u32(b, pos);
    const type = u32(b, pos + 4);
    if (type === IDAT) break;
    if (len > 0x7fffffff || pos + 12 + len > b.length) return undefined;
    if (type === PLTE) {
      paletteEntries = len / 3;
    } else if (type === TRNS) {
      // libspng keeps a tRNS of the right length (after PLTE for palettes), and libvips then
      // reports alpha; it discards the others.
      if (colorType === 0 ? len === 2 : colorType === 2 ? len === 6 : colorType === 3 ? len >= 1 && len <= paletteEntries : true) trns = true;
    } else if (type === IEND || type === IHDR) {
      return undefined;
    }
    pos += 12 + len;
  }
  // libspng refuses a palette with more entries than the bit depth can index.
  if (colorType === 3 && !(paletteEntries >= 1 && paletteEntries <= 1 << bitDepth && Number.isInteger(paletteEntries))) return undefined;
  return {
    width, height, bitDepth, colorType, interlaced: interlace === 1,
    grey: colorType === 0 || colorType === 4,
    alpha: colorType === 4 || colorType === 6 || trns,
  };
}

/**
 * Most pixels `decodePng` decodes (default of its `maxPixels`): napood's image loader refuses
 * larger images (DEFAULT_MAX_PIXELS, decompression bombs) before decoding anything.
 */
export const PNG_MAX_PIXELS = 40_000_000;

/** Why `decodePng` leaves a file to sharp; undefined when it decodes this kind of file. */
export function pngFallbackReason(h: PngHeader): string | undefined {
  if (h.interlaced) return 'interlaced';
  if (h.bitDepth === 16 && h.grey) return '16-bit grey';
  return undefined;
}

/**
 * Decode a PNG whose header is `h` (from readPngHeader on the same bytes) to 8-bit pixels, 1
 * channel for grey files, 3 for the others, inflating with `z`. `{ fallback }` says why the file
 * is left to sharp (unsupported kind, or not a clean file: see the module comment; also more than
 * `maxPixels` pixels, checked before anything is allocated). Never throws on bad input.
 */
export function decodePng(b: Uint8Array, h: PngHeader, z: PngZlib, maxPixels: number = PNG_MAX_PIXELS): PngPixels | { fallback: string } {
  const why = pngFallbackReason(h);
  if (why) return { fallback: why };
  const { width, height, bitDepth: depth, colorType } = h;
  // Before anything is allocated: the inflated data and the pixels grow with width × height.
  if (width * height > maxPixels) return { fallback: `${width}×${height} pixels, over the limit of ${maxPixels}` };
  const samples = SAMPLES[colorType]!;
  const rowBytes = Math.ceil((width * samples * depth) / 8);
  const stride = rowBytes + 1;
  const expected = stride * height;
  if (!Number.isSafeInteger(expected) || expected > 0x7fffffff) return { fallback: 'too large for the fast path' };

  // Chunks: IHDR first, PLTE before the IDATs, the IDATs consecutive, then IEND.
  const crc = z.crc32 ?? crc32;
  let pos = 8;
  let plte: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatDone = false;
  let ended = false;
  while (pos + 12 <= b.length) {
    const len = u32(b, pos);
    const type = u32(b, pos + 4);
    if (len > 0x7fffffff || pos + 12 + len > b.length) return { fallback: `chunk at byte ${pos} runs past the end of the file` };
    const critical = (b[pos + 4]! & 0x20) === 0;
    if (critical) {
      if (crc(b.subarray(pos + 4, pos + 8 + len)) !== u32(b, pos + 8 + len)) return { fallback: `CRC of chunk at byte ${pos} is wrong` };
    }
    const data = b.subarray(pos + 8, pos + 8 + len);
    if (type === IDAT) {
      if (idatDone) return { fallback: 'IDAT chunks are not consecutive' };
      idat.push(data);
    } else {
      if (idat.length > 0) idatDone = true;
      if (type === IEND) {
        ended = true;
        break;
      } else if (type === IHDR) {
        if (pos !== 8) return { fallback: 'a second IHDR' };
      } else if (type === PLTE) {
        if (plte || idat.length > 0 || len === 0 || len % 3 !== 0 || len > 768 || (colorType === 3 && len > 3 << depth)) return { fallback: 'unexpected PLTE' };
        plte = data;
      } else if (critical) {
        return { fallback: 'unknown critical chunk' };
      }
    }
    pos += 12 + len;
  }
  if (!ended) return { fallback: 'no IEND chunk' };
  if (idat.length === 0) return { fallback: 'no IDAT chunk' };
  if (colorType === 3 && !plte) return { fallback: 'no PLTE chunk' };

  let raw: Uint8Array;
  try {
    const input = idat.length === 1 ? idat[0]! : concatBytes(idat);
    const r = z.inflate(input, expected);
    const out = ArrayBuffer.isView(r) ? r : r.data;
    if (out.length < expected) return { fallback: `image data ends early (${out.length} of ${expected} bytes)` };
    if (out.length > expected) return { fallback: `image data holds more than the image (${out.length} of ${expected} bytes)` };
    if (!ArrayBuffer.isView(r) && r.consumed !== input.length) return { fallback: 'bytes after the end of the zlib stream' };
    raw = out;
  } catch (e) {
    return { fallback: `zlib: ${(e as Error).message}` };
  }

  const bpp = Math.max(1, (samples * depth) >> 3);
  if (!unfilter(raw, rowBytes, height, bpp)) return { fallback: 'unknown filter type' };
  const channels: 1 | 3 = h.grey ? 1 : 3;
  const out = new Uint8Array(width * height * channels);
  if (colorType === 3) {
    if (!expandPalette(raw, stride, width, height, depth, plte!, out)) return { fallback: 'palette index past the end of PLTE' };
  } else {
    convertRows(raw, stride, width, height, colorType, depth, out);
  }
  return { data: out, width, height, channels };
}
