/**
 * Percentiles with numpy.percentile's default method ("linear", Hyndman & Fan type 7; numpy 1.22+):
 *
 *   r = (N − 1) · (q / 100),  i = floor(r),  t = r − i,  a = x_(i), b = x_(i+1)  (sorted, 0-based)
 *   result = a + (b − a) · t       if t < 0.5
 *          = b − (b − a) · (1 − t) if t ≥ 0.5      (numpy's _lerp, same operation order)
 *   r ≥ N − 1 gives the maximum.
 *
 * `percentile` selects the two order statistics of a copy in O(N) (quickselect, median-of-3 Hoare
 * partition, falling back to a sort of the remaining range if it degenerates).
 *
 * `StreamingPercentile` is exact for float32 data of any size in bounded memory (two passes):
 * each float32 is mapped to a uint32 key whose unsigned order is the numeric order (negative: all
 * bits flipped; positive: sign bit set). Pass 1 counts the top 16 bits of the keys (65 536 bins)
 * and so finds the bin(s) holding the ranks i and i + 1; pass 2 counts the low 16 bits of the keys
 * in those bins, which gives the two float32 values exactly. The interpolation is then done in
 * float64, so the result equals numpy.percentile(x.astype(float64), q).
 *
 * NaN input is an error (numpy would return NaN). With ±Infinity present numpy returns NaN at every
 * q; here the interpolation returns the order statistic itself when t = 0 or a = b, else the formula.
 */
import { NapoodError, describe } from '../errors.js';

function checkQ(argument: string, q: number): void {
  if (typeof q !== 'number' || !(q >= 0 && q <= 100)) throw new NapoodError(argument, 'a percentile q in [0, 100]', describe(q));
}

/** numpy's _lerp in float64 (see the header). */
function interpolate(a: number, b: number, t: number): number {
  if (t === 0 || a === b) return a;
  const diff = b - a;
  return t < 0.5 ? a + diff * t : b - diff * (1 - t);
}

/**
 * Ranks (0-based) of the two order statistics and the interpolation weight, as numpy computes them
 * for percentile q (np.percentile divides by 100 first; np.quantile passes the fraction itself).
 */
function ranks(n: number, q: number, fraction = q / 100): { lo: number; hi: number; t: number } {
  const r = (n - 1) * fraction;
  if (r >= n - 1) return { lo: n - 1, hi: n - 1, t: 0 };
  const lo = Math.floor(r);
  return { lo, hi: lo + 1, t: r - lo };
}

type Sortable = Float32Array | Float64Array;

/** Rearranges a so that a[k] is the k-th smallest (0-based), a[< k] ≤ a[k] ≤ a[> k]; O(n) expected. */
export function selectInPlace(a: Sortable, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  let budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 16;
  while (hi > lo) {
    if (hi - lo < 16) {
      // Insertion sort of the small remaining range.
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i];
        let j = i - 1;
        while (j >= lo && a[j] > v) {
          a[j + 1] = a[j];
          j--;
        }
        a[j + 1] = v;
      }
      return;
    }
    if (budget-- === 0) {
      a.subarray(lo, hi + 1).sort();
      return;
    }
    const mid = (lo + hi) >>> 1;
    // Median of three into a[mid].
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // a[lo..j] ≤ pivot, a[i..hi] ≥ pivot, a[j+1..i−1] = pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Sortable, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * The q-th percentile (q in [0, 100]) of the values, equal to numpy.percentile(values, q) with the
 * default linear method, computed in float64. The input is not modified. NaN → NapoodError.
 */
export function percentile(values: Float64Array | Float32Array, q: number): number {
  checkQ('percentile q', q);
  const n = values.length;
  if (n === 0) throw new NapoodError('percentile values', 'at least one value', 'an empty array');
  const copy = values instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) throw new NapoodError('percentile values', 'no NaN', `NaN at index ${i}`);
    copy[i] = v;
  }
  const { lo, hi, t } = ranks(n, q);
  selectInPlace(copy, lo);
  const a = copy[lo];
  if (hi === lo) return a;
  // x_(lo+1) is the smallest value right of lo.
  let b = copy[lo + 1];
  for (let i = lo + 2; i < n; i++) if (copy[i] < b) b = copy[i];
  return interpolate(a, b, t);
}

/**
 * Quantile (fraction in [0, 1]) of an ascending-sorted, non-empty array, as numpy.quantile
 * (linear); `percentileSorted` takes q in [0, 100] as numpy.percentile.
 */
export function quantileSorted(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) throw new NapoodError('quantile values', 'a non-empty array', 'an empty array');
  if (!(fraction >= 0 && fraction <= 1)) throw new NapoodError('quantile q', 'a quantile in [0, 1]', describe(fraction));
  const { lo, hi, t } = ranks(sorted.length, fraction * 100, fraction);
  return hi === lo ? sorted[lo] : interpolate(sorted[lo], sorted[hi], t);
}

export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  checkQ('percentile q', q);
  if (sorted.length === 0) throw new NapoodError('percentile values', 'a non-empty array', 'an empty array');
  const { lo, hi, t } = ranks(sorted.length, q);
  return hi === lo ? sorted[lo] : interpolate(sorted[lo], sorted[hi], t);
}

const BINS = 65536;

/** Order-preserving key of a float32 bit pattern: top 16 bits. */
function coarseKey(u: number): number {
  return u >>> 31 ? ~u >>> 16 : (u >>> 16) | 0x8000;
}

/** Float32 value of a 32-bit key (inverse of the order-preserving transform). */
function keyToFloat(key: number, scratch: Uint32Array, view: Float32Array): number {
  scratch[0] = key >>> 31 ? key & 0x7fffffff : ~key >>> 0;
  return view[0];
}

/**
 * Exact two-pass percentile of float32 data streamed in chunks (bounded memory: three 65 536-bin
 * histograms). Call observePass1 on every chunk, endPass1, observePass2 on the same chunks
 * (any order), then result().
 */
export class StreamingPercentile {
  readonly q: number;
  private phase: 1 | 2 = 1;
  private count = 0;
  private count2 = 0;
  private readonly coarse = new Float64Array(BINS);
  private lo = 0;
  private hi = 0;
  private t = 0;
  private binLo = -1;
  private binHi = -1;
  /** Rank of the wanted order statistic inside its bin. */
  private offLo = 0;
  private offHi = 0;
  private fineLo: Float64Array | null = null;
  private fineHi: Float64Array | null = null;

  constructor(q: number) {
    checkQ('StreamingPercentile q', q);
    this.q = q;
  }

  /** Number of values seen in pass 1. */
  get size(): number {
    return this.count;
  }

  observePass1(values: Float32Array): void {
    if (this.phase !== 1) throw new NapoodError('StreamingPercentile.observePass1', 'a call before endPass1()', 'pass 1 already ended');
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    const coarse = this.coarse;
    for (let i = 0; i < bits.length; i++) {
      const u = bits[i];
      if ((u & 0x7fffffff) > 0x7f800000) throw new NapoodError('StreamingPercentile values', 'no NaN', `NaN at index ${i} of a pass-1 chunk`);
      coarse[coarseKey(u)]++;
    }
    this.count += bits.length;
  }

  endPass1(): void {
    if (this.phase !== 1) throw new NapoodError('StreamingPercentile.endPass1', 'one call after pass 1', 'a second call');
    if (this.count === 0) throw new NapoodError('StreamingPercentile values', 'at least one value in pass 1', 'none');
    const { lo, hi, t } = ranks(this.count, this.q);
    this.lo = lo;
    this.hi = hi;
    this.t = t;
    let before = 0;
    for (let b = 0; b < BINS; b++) {
      const n = this.coarse[b];
      if (n === 0) continue;
      if (this.binLo < 0 && lo < before + n) {
        this.binLo = b;
        this.offLo = lo - before;
      }
      if (hi < before + n) {
        this.binHi = b;
        this.offHi = hi - before;
        break;
      }
      before += n;
    }
    this.fineLo = new Float64Array(BINS);
    this.fineHi = this.binHi === this.binLo ? this.fineLo : new Float64Array(BINS);
    this.phase = 2;
  }

  observePass2(values: Float32Array): void {
    if (this.phase !== 2) throw new NapoodError('StreamingPercentile.observePass2', 'a call after endPass1()', 'pass 1 not ended');
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    const binLo = this.binLo;
    const binHi = this.binHi;
    const fineLo = this.fineLo!;
    const fineHi = this.fineHi!;
    for (let i = 0; i < bits.length; i++) {
      const u = bits[i];
      const key = u >>> 31 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
      const top = key >>> 16;
      if (top === binLo) fineLo[key & 0xffff]++;
      else if (top === binHi) fineHi[key & 0xffff]++;
    }
    this.count2 += bits.length;
  }

  /** The percentile, equal to numpy.percentile(all values as float64, q). */
  result(): number {
    if (this.phase !== 2) throw new NapoodError('StreamingPercentile.result', 'a call after both passes', 'pass 1 not ended');
    if (this.count2 !== this.count) {
      throw new NapoodError('StreamingPercentile.observePass2', `the same ${this.count} values as pass 1`, `${this.count2} values`);
    }
    const scratch = new Uint32Array(1);
    const view = new Float32Array(scratch.buffer);
    const find = (bin: number, fine: Float64Array, offset: number): number => {
      let before = 0;
      let total = 0;
      for (let b = 0; b < BINS; b++) total += fine[b];
      if (total !== this.coarse[bin]) {
        throw new NapoodError('StreamingPercentile.observePass2', `the same values as pass 1 (${this.coarse[bin]} in bin ${bin})`, `${total}`);
      }
      for (let b = 0; b < BINS; b++) {
        before += fine[b];
        if (offset < before) return keyToFloat(((bin << 16) | b) >>> 0, scratch, view);
      }
      throw new NapoodError('StreamingPercentile', 'consistent histograms', `rank ${offset} beyond bin ${bin}`);
    };
    const a = find(this.binLo, this.fineLo!, this.offLo);
    if (this.hi === this.lo) return a;
    const b = find(this.binHi, this.fineHi!, this.offHi);
    return interpolate(a, b, this.t);
  }
}
