/**
 * Seeded randomness of the corruptions: xoshiro128** (src/math/random.ts) behind uniform and
 * normal draws, one stream per (seed, image index, corruption, severity) so that a corrupted
 * copy does not depend on which other copies are made or in which order. The streams are not
 * numpy's: results are deterministic per seed, never equal to a numpy run (the golden tests feed
 * the same random fields to both sides instead).
 *
 *   uniform(): [0, 1), 53 random bits (Xoshiro128.nextDouble)
 *   normal():  standard normal, Marsaglia's polar method (pairs; the second value is kept)
 */
import { Xoshiro128 } from '../../math/random.js';

/** murmur3's fmix32. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The stream seed of one corrupted copy: a 32-bit hash of its four coordinates. */
export function streamSeed(seed: number, imageIndex: number, corruptionIndex: number, severity: number): number {
  let h = fmix32((seed >>> 0) ^ 0x6a09e667);
  h = fmix32((h ^ Math.imul(imageIndex >>> 0, 0x9e3779b1)) >>> 0);
  h = fmix32((h ^ Math.imul((corruptionIndex + 1) >>> 0, 0x85ebca77)) >>> 0);
  h = fmix32((h ^ Math.imul((severity + 1) >>> 0, 0xc2b2ae3d)) >>> 0);
  return h;
}

export class CorruptRandom {
  private readonly g: Xoshiro128;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.g = new Xoshiro128(seed >>> 0);
  }

  uniform(): number {
    return this.g.nextDouble();
  }

  /** Uniform in [low, high) as numpy's uniform: low + (high − low)·u. */
  between(low: number, high: number): number {
    return low + (high - low) * this.g.nextDouble();
  }

  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.g.nextDouble() - 1;
      v = 2 * this.g.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    this.hasSpare = true;
    return u * m;
  }

  /** Fill with standard normals. */
  normals(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** Fill with uniforms in [0, 1). */
  uniforms(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.g.nextDouble();
    return out;
  }
}
