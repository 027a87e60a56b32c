/**
 * Image headers read in JS (SPEC §4.2 step 2), so that the loader need not ask libvips
 * (`sharp().metadata()`, ~0.2–0.5 ms per image) for the size and channels of each file:
 *
 * - PNG: IHDR, and the chunk headers before the first IDAT (tRNS: libvips reports alpha);
 * - JPEG: the markers up to the first SOF0/1/2 (8-bit baseline, extended, progressive): size and
 *   components (1 grey, 3 colour, 4 CMYK/YCCK: libvips reports both as CMYK; the Adobe APP14
 *   transform only matters to the decoder, which stays libvips);
 * - WebP: the first chunk, VP8 (lossy, no alpha), VP8L (lossless, alpha-is-used bit) or VP8X
 *   (canvas size and alpha flag; also animations, whose first frame napood decodes at canvas size).
 *
 * The answers equal what libvips' metadata gives (width, height, grey, alpha, cmyk), checked by
 * test/images/header.test.ts on the fixtures and variants of each format. `undefined` means
 * "not sure" (an unusual or damaged header): the loader then falls back to libvips' metadata,
 * whose error message is the one reported for damaged files.
 */
import { readPngHeader, type PngHeader } from './png.js';
import type { ImageFormat } from './items.js';

export interface ImageHeader {
  readonly width: number;
  readonly height: number;
  /** 1-channel file (grey, or grey + alpha): decoded to 1 channel. */
  readonly grey: boolean;
  /** An alpha channel (or a PNG tRNS chunk). */
  readonly alpha: boolean;
  /** A 4-component (CMYK or YCCK) JPEG. */
  readonly cmyk: boolean;
  /** PNG only: the IHDR fields, for the PNG decoder. */
  readonly png?: PngHeader;
}

function u16be(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u16le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

function u24le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
}

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function fourcc(b: Uint8Array, i: number): string {
  return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
}

/** JPEG: walk the marker segments to the first SOF. */
export function readJpegHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let pos = 2;
  for (;;) {
    if (pos + 2 > b.length || b[pos] !== 0xff) return undefined;
    // Fill bytes: any number of 0xFF before the marker code.
    while (pos + 1 < b.length && b[pos + 1] === 0xff) pos++;
    if (pos + 2 > b.length) return undefined;
    const m = b[pos + 1]!;
    pos += 2;
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // TEM, RSTn: no length
    if (m === 0xd8 || m === 0xd9 || m === 0xda || m === 0x00) return undefined; // SOI again, EOI or SOS before SOF
    if (pos + 2 > b.length) return undefined;
    const len = u16be(b, pos);
    if (len < 2 || pos + len > b.length) return undefined;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      // SOFn. Only 8-bit Huffman baseline / extended / progressive: the others (lossless,
      // arithmetic, 12-bit) are left to libvips, which may or may not decode them.
      if (m > 0xc2 || len < 8) return undefined;
      const precision = b[pos + 2]!;
      const height = u16be(b, pos + 3);
      const width = u16be(b, pos + 5);
      const comps = b[pos + 7]!;
      if (precision !== 8 || width === 0 || height === 0 || len !== 8 + 3 * comps) return undefined;
      if (comps !== 1 && comps !== 3 && comps !== 4) return undefined;
      return { width, height, grey: comps === 1, alpha: false, cmyk: comps === 4 };
    }
    pos += len;
  }
}

/**
 * WebP: RIFF header and the first chunk (VP8, VP8L or VP8X). `fileSize` is the size of the whole
 * file when `b` holds only its first bytes (the fields read are in the first 30 bytes).
 */
export function readWebpHeader(b: Uint8Array, fileSize = b.length): ImageHeader | undefined {
  if (b.length < 30 || fourcc(b, 0) !== 'RIFF' || fourcc(b, 8) !== 'WEBP') return undefined;
  const riffSize = u32le(b, 4);
  if (riffSize < 4 + 8 + 10 || riffSize + 8 > fileSize) return undefined;
  const kind = fourcc(b, 12);
  const size = u32le(b, 16);
  if (size + 20 > fileSize) return undefined;
  const d = 20;
  if (kind === 'VP8 ') {
    // Frame tag (3 bytes: bit 0 = 0 for a key frame), start code 9d 01 2a, 14-bit sizes.
    if (size < 10 || (b[d]! & 1) !== 0 || b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a) return undefined;
    const width = u16le(b, d + 6) & 0x3fff;
    const height = u16le(b, d + 8) & 0x3fff;
    if (width === 0 || height === 0) return undefined;
    return { width, height, grey: false, alpha: false, cmyk: false };
  }
  if (kind === 'VP8L') {
    // Signature 0x2f, then 14 bits width − 1, 14 bits height − 1, 1 bit alpha, 3 bits version 0.
    if (size < 5 || b[d] !== 0x2f) return undefined;
    const bits = u32le(b, d + 1);
    if (bits >>> 29 !== 0) return undefined;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, grey: false, alpha: ((bits >>> 28) & 1) === 1, cmyk: false };
  }
  if (kind === 'VP8X') {
    // Flags (ICC 0x20, alpha 0x10, EXIF 0x08, XMP 0x04, animation 0x02), 3 reserved bytes,
    // 24 bits canvas width − 1, 24 bits canvas height − 1.
    if (size < 10) return undefined;
    const flags = b[d]!;
    return { width: u24le(b, d + 4) + 1, height: u24le(b, d + 7) + 1, grey: false, alpha: (flags & 0x10) !== 0, cmyk: false };
  }
  return undefined;
}

/**
 * The header of a sniffed PNG / JPEG / WebP file, or undefined when unsure (ask libvips). `b` may
 * be the first bytes of a file of `fileSize` bytes: PNG and JPEG headers then need every chunk or
 * segment before the pixel data to lie in `b` (else: undefined, read more).
 */
export function readImageHeader(b: Uint8Array, format: ImageFormat, fileSize = b.length): ImageHeader | undefined {
  if (format === 'png') {
    const png = readPngHeader(b);
    return png && { width: png.width, height: png.height, grey: png.grey, alpha: png.alpha, cmyk: false, png };
  }
  if (format === 'jpeg') return readJpegHeader(b);
  return readWebpHeader(b, fileSize);
}
