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
