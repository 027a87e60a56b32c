/**
 * Percentiles exactly as numpy's default (`np.percentile` / `np.quantile`, method "linear",
 * numpy 1.24): virtual index h = (n − 1) · q, then _lerp(x[⌊h⌋], x[⌊h⌋ + 1], γ = h − ⌊h⌋) with
 * numpy's two-sided formula (a + (b − a)·γ for γ < ½, b − (b − a)·(1 − γ) otherwise); indices at or
 * past the end take the last value. `percentile` divides by 100 first, as numpy does.
 */
import { NapoodError } from '../errors.js';

/** Quantile q ∈ [0, 1] of an ascending-sorted, non-empty array without NaN. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new NapoodError('values', 'a non-empty array', 'an empty array');
  if (!(q >= 0 && q <= 1)) throw new NapoodError('q', 'a quantile in [0, 1]', String(q));
  const h = (n - 1) * q;
  if (h >= n - 1) return sorted[n - 1];
  const lo = Math.floor(h);
  const gamma = h - lo;
  const a = sorted[lo];
  const b = sorted[lo + 1];
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** Percentile p ∈ [0, 100] of an ascending-sorted array (numpy default, linear). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new NapoodError('p', 'a percentile in [0, 100]', String(p));
  return quantileSorted(sorted, p / 100);
}

/** Percentile p ∈ [0, 100] of any array (sorts a float64 copy; NaN is refused). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length > 0 && Number.isNaN(sorted[sorted.length - 1])) {
    throw new NapoodError('values', 'numbers without NaN', 'NaN');
  }
  return percentileSorted(sorted, p);
}
