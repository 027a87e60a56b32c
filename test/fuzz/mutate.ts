/**
 * Seeded mutations of byte strings for the fuzzer (test/fuzz/fuzz.test.ts): bit flips, bytes
 * set to interesting values (0, 0xff, 0x7f, 0x80, …), truncation, chunk duplication, and edits
 * of length fields whose places the format knows. Random numbers: napood's xoshiro128**, seeded
 * per input from (run seed, input index), so one input is reproduced from its index alone.
 */
import { Xoshiro128 } from '../../src/math/random.js';

export class Rng {
  private readonly x: Xoshiro128;
  constructor(seed: number) {
    this.x = new Xoshiro128(seed >>> 0);
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.x.nextDouble() * n);
  }
  chance(p: number): boolean {
    return this.x.nextDouble() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

/** Seed of input `index` of a run seeded `seed` (murmur3 fmix32 of both). */
export function inputSeed(seed: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x20, 0x0a];
export const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
/** Decimal texts put in place of numbers in text headers. */
export const INTERESTING_NUMBERS = ['0', '1', '-1', '-10', '255', '65536', '2147483647', '2147483648', '4294967296', '100000',
  '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551616', '99999999999999999999999', '1e400', '1.5', '-0', '1e6', '00'];

/** A length field of a format: `size` bytes at `offset`, little- or big-endian. */
export interface LengthField {
  readonly offset: number;
  readonly size: 2 | 4 | 8;
  readonly littleEndian: boolean;
}

export function bitFlip(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  if (b.length === 0) return [b, 'bitflip(empty)'];
  const out = b.slice();
  const i = rng.int(out.length);
  const bit = rng.int(8);
  out[i] ^= 1 << bit;
  return [out, `bitflip@${i}.${bit}`];
}

export function byteSet(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  if (b.length === 0) return [b, 'byteset(empty)'];
  const out = b.slice();
  const i = rng.int(out.length);
  const v = rng.chance(0.8) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
  const run = rng.chance(0.2) ? 1 + rng.int(16) : 1;
  for (let k = 0; k < run && i + k < out.length; k++) out[i + k] = v;
  return [out, `byteset@${i}x${run}=${v}`];
}

export function truncate(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  const n = rng.chance(0.5) ? rng.int(b.length + 1) : Math.max(0, b.length - 1 - rng.int(16));
  return [b.slice(0, n), `truncate@${n}`];
}

export function duplicateChunk(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  if (b.length === 0) return [b, 'dup(empty)'];
  const start = rng.int(b.length);
  const len = 1 + rng.int(Math.min(b.length - start, rng.chance(0.5) ? 16 : 4096));
  const at = rng.int(b.length + 1);
  const chunk = b.subarray(start, start + len);
  const out = new Uint8Array(b.length + len);
  out.set(b.subarray(0, at), 0);
  out.set(chunk, at);
  out.set(b.subarray(at), at + len);
  return [out, `dup[${start},+${len}]@${at}`];
}

/** Overwrite a length field with an interesting value or a small change of its own. */
export function editLength(b: Uint8Array, f: LengthField, rng: Rng): [Uint8Array, string] {
  if (f.offset + f.size > b.length) return [b, 'length(out of range)'];
  const out = b.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.length);
  const read = (): bigint => (f.size === 2 ? BigInt(dv.getUint16(f.offset, f.littleEndian)) : f.size === 4 ? BigInt(dv.getUint32(f.offset, f.littleEndian)) : dv.getBigUint64(f.offset, f.littleEndian));
  const old = read();
  let v: bigint;
  const r = rng.int(4);
  if (r === 0) v = old + BigInt(1 + rng.int(8));
  else if (r === 1) v = old - BigInt(1 + rng.int(8));
  else if (r === 2 && f.size === 8) v = rng.pick([1n << 63n, (1n << 64n) - 1n, 1n << 53n, (1n << 32n) + old, 100_000_001n]);
  else v = BigInt(rng.pick(INTERESTING_U32));
  const mask = (1n << BigInt(f.size * 8)) - 1n;
  v &= mask;
  if (f.size === 2) dv.setUint16(f.offset, Number(v), f.littleEndian);
  else if (f.size === 4) dv.setUint32(f.offset, Number(v), f.littleEndian);
  else dv.setBigUint64(f.offset, v, f.littleEndian);
  return [out, `length@${f.offset}:${old}->${v}`];
}

/** Replace one run of ASCII digits (optionally signed) inside [from, to) with an interesting number. */
export function editNumberText(text: string, rng: Rng): [string, string] {
  const runs: [number, number][] = [];
  const re = /-?[0-9]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) runs.push([m.index, m.index + m[0].length]);
  if (runs.length === 0) return [text, 'number(none)'];
  const [s, e] = rng.pick(runs);
  const v = rng.pick(INTERESTING_NUMBERS);
  return [text.slice(0, s) + v + text.slice(e), `number@${s}:${text.slice(s, e)}->${v}`];
}

/** Replace one occurrence of a token from `swaps` (keys) with one of its replacements. */
export function swapToken(text: string, swaps: Readonly<Record<string, readonly string[]>>, rng: Rng): [string, string] {
  const present = Object.keys(swaps).filter((k) => text.includes(k));
  if (present.length === 0) return [text, 'swap(none)'];
  const k = rng.pick(present);
  const at: number[] = [];
  for (let i = text.indexOf(k); i >= 0; i = text.indexOf(k, i + 1)) at.push(i);
  const i = rng.pick(at);
  const v = rng.pick(swaps[k]!);
  return [text.slice(0, i) + v + text.slice(i + k.length), `swap@${i}:${k}->${v}`];
}

/** The generic mutations, each applied with equal odds. */
export const GENERIC: readonly ((b: Uint8Array, rng: Rng) => [Uint8Array, string])[] = [bitFlip, byteSet, truncate, duplicateChunk];
