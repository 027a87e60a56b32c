/**
 * Formatting of metrics for tables (SPEC §1: percent with two decimals, like the paper's tables).
 * `toFixed` rounds the exact binary value of x·100, as Python's "%.2f" does.
 */

/** A fraction in [0, 1] as percent with `digits` decimals: 0.1234 → "12.34"; NaN → "NaN". */
export function percent(x: number, digits = 2): string {
  if (Number.isNaN(x)) return 'NaN';
  const s = (x * 100).toFixed(digits);
  // Avoid "-0.00" for tiny negative rounding noise.
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}
