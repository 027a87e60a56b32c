/**
 * Deterministic seeded pseudo-random numbers for the bootstrap: xoshiro128** 1.0
 * (D. Blackman, S. Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), seeded from a 32-bit
 * integer by four successive outputs of splitmix32 (golden-ratio increment + murmur3 fmix32).
 * Only 32-bit integer operations (Math.imul, shifts), so the same seed gives the same stream on
 * every machine; `tools/golden_metrics.py` re-implements it to cross-check the bootstrap.
 *
 *   nextUint32(): the next 32-bit output
 *   nextDouble(): uniform in [0, 1) with 53 random bits: ((x1 >>> 5) · 2^26 + (x2 >>> 6)) / 2^53
 *   nextInt(n):   floor(nextDouble() · n), uniform in {0, …, n − 1}
 */
import { NapoodError } from '../errors.js';

/** One splitmix32 step from a state; returns [new state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z | 0];
}

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: an integer in [0, 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new NapoodError('seed', 'an integer in [0, 4294967295]', String(seed));
    }
    let st = seed | 0;
    let out: number;
    [st, out] = splitmix32(st);
    this.s0 = out;
    [st, out] = splitmix32(st);
    this.s1 = out;
    [st, out] = splitmix32(st);
    this.s2 = out;
    [st, out] = splitmix32(st);
    this.s3 = out;
  }

  /** Next 32-bit unsigned output. */
  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n) for a positive integer n ≤ 2^53. */
  nextInt(n: number): number {
    return Math.floor(this.nextDouble() * n);
  }
}

/**
 * Multinomial counts of n draws with replacement from n positions (one bootstrap resample):
 * counts[i] = how many of the n uniform indices fell on i. Fills and returns `counts`.
 */
export function resampleCounts(rng: Xoshiro128, counts: Uint32Array): Uint32Array {
  const n = counts.length;
  counts.fill(0);
  for (let m = 0; m < n; m++) counts[rng.nextInt(n)]++;
  return counts;
}
