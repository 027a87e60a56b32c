/**
 * Image items and formats, without touching files: the extensions napood reads, the {path, label}
 * items a set expands to, format sniffing from the first bytes, Python-order string comparison
 * and the seeded sample of a set. Runtime-neutral (the Node file walker is src/node/images/sources.ts).
 */
import { NapoodError, describe } from '../errors.js';
import { Xoshiro128 } from '../math/random.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp'];

export interface ImageItem {
  readonly path: string;
  /** Class index; −1 when unknown. */
  readonly label: number;
}

export interface ImageList {
  readonly items: readonly ImageItem[];
  /** Class names, index = label (empty when no input gave labels). */
  readonly classes: readonly string[];
  /** Non-image files met inside folders (left out). */
  readonly ignored: readonly string[];
  /** Class folder names or list labels not in `classes` (their images got label −1). */
  readonly unknownClasses: readonly string[];
}

/** Compare by Unicode code point (UTF-8 byte order), as Python sorts strings. */
export function compareCodePoints(a: string, b: string): number {
  // UTF-16 code units order surrogate pairs below U+E000..U+FFFF; compare whole code points.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
}

export function hasImageExtension(name: string): boolean {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(base.slice(dot).toLowerCase());
}

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** Format from the first bytes (magic numbers), or undefined. */
export function sniffFormat(head: Uint8Array): ImageFormat | undefined {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47 && head[4] === 0x0d && head[5] === 0x0a && head[6] === 0x1a && head[7] === 0x0a) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 12 && String.fromCharCode(...head.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...head.subarray(8, 12)) === 'WEBP') return 'webp';
  return undefined;
}

/** A count with thousands separators (1,234,567), independent of locale. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A byte count for messages: "1 byte", "1,234 bytes". */
export function byteCount(n: number): string {
  return n === 1 ? '1 byte' : `${groupDigits(n)} bytes`;
}

function ascii(b: Uint8Array, at: number, text: string): boolean {
  if (b.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Other formats people hand in by mistake, by their magic bytes (never shown: only the name). */
const OTHER_SIGNATURES: readonly (readonly [string, (b: Uint8Array) => boolean])[] = [
  ['a GIF image', (b) => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')],
  ['a BMP image', (b) => b.length >= 14 && ascii(b, 0, 'BM') && b[6] === 0 && b[7] === 0 && b[8] === 0 && b[9] === 0],
  ['a TIFF image', (b) => (ascii(b, 0, 'II') && b[2] === 42 && b[3] === 0) || (ascii(b, 0, 'MM') && b[2] === 0 && b[3] === 42)],
  ['an AVIF or HEIF image', (b) => ascii(b, 4, 'ftyp') && ['avif', 'avis', 'heic', 'heix', 'mif1', 'msf1'].some((brand) => ascii(b, 8, brand))],
  ['a JPEG 2000 image', (b) => ascii(b, 4, 'jP  ') || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)],
  ['a PDF document', (b) => ascii(b, 0, '%PDF-')],
  ['a ZIP archive', (b) => ascii(b, 0, 'PK') && b[2] === 3 && b[3] === 4],
  ['a gzip file', (b) => b[0] === 0x1f && b[1] === 0x8b],
  ['a .npy array', (b) => b[0] === 0x93 && ascii(b, 1, 'NUMPY')],
  ['an ELF executable', (b) => b[0] === 0x7f && ascii(b, 1, 'ELF')],
];

/** True when the bytes read as UTF-8 text without control characters other than tab, CR, LF, FF, ESC. */
function looksLikeText(b: Uint8Array): boolean {
  const sample = b.subarray(0, 4096);
  for (const c of sample) {
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d && c !== 0x1b) return false;
    if (c === 0x7f) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * What the first bytes of a file that is not a PNG, JPEG or WebP image look like, for messages,
 * without quoting them (a list can name any file, and its bytes must not leak into logs):
 * "a GIF image, 1,234 bytes", "text, 56 bytes", "unknown signature, 2,048 bytes", "empty file".
 * `size` is the file's size (default: the bytes given).
 */
export function describeBytes(head: Uint8Array, size = head.length): string {
  if (size === 0) return 'empty file';
  const known = OTHER_SIGNATURES.find(([, test]) => test(head));
  const what = known ? known[0] : looksLikeText(head) ? 'text' : 'unknown signature';
  return `${what}, ${byteCount(size)}`;
}

/** Label names for messages: "cat (0)" or "−1". */
export function labelName(list: Pick<ImageList, 'classes'>, label: number): string {
  return label >= 0 && label < list.classes.length ? `${list.classes[label]} (${label})` : String(label);
}

/**
 * A seeded random sample of `n` items (without replacement), kept in input order: the first n of
 * a Fisher–Yates shuffle drawn with xoshiro128** (src/metrics/random.ts), so one seed gives the same
 * images on every machine. All items when n ≥ their count.
 */
export function sampleItems<T>(items: readonly T[], n: number, seed: number): T[] {
  if (!Number.isInteger(n) || n < 1) throw new NapoodError('sample size', 'a positive integer', describe(n));
  if (n >= items.length) return [...items];
  const rng = new Xoshiro128(seed);
  const order = Array.from(items.keys());
  for (let i = 0; i < n; i++) {
    const j = i + rng.nextInt(order.length - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, n).sort((a, b) => a - b).map((i) => items[i]!);
}
