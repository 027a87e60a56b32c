/**
 * Calibration of a detector on held-out ID data (never the data it was fitted or tuned on): the
 * score threshold at a target ID true-positive rate, and a conformal p-value for every input, so
 * that a false-positive budget can be chosen at run time without refitting.
 *
 * Conventions (higher score = more ID, SPEC §1). With the n calibration scores s_1 … s_n of ID
 * inputs, sorted ascending as s_(1) ≤ … ≤ s_(n):
 *
 *   p(s) = (1 + #{i : s_i ≤ s}) / (n + 1)
 *
 * A low p-value is OOD-like. If s comes from the same distribution as the calibration scores
 * (exchangeable), P(p(s) ≤ α) ≤ α for every α: the rank of s among the n + 1 scores, counting
 * ties against s, is at least uniform on {1 … n + 1}. The verdict at level α is OOD iff
 * p(s) ≤ α, so at most a share α of ID inputs is flagged (in expectation over calibration sets).
 *
 * The threshold for a target TPR τ is that verdict at α = 1 − τ written as a score. With
 * k = ⌊α (n + 1)⌋:  p(s) ≤ α  ⟺  #{s_i ≤ s} ≤ k − 1  ⟺  s < s_(k).  So inputs with s ≥ t = s_(k)
 * are ID, and the expected TPR on new ID data is 1 − k / (n + 1) ≥ τ. On the calibration set
 * itself it is #{s_i ≥ s_(k)} / n ≥ (n − k + 1) / n > τ.
 *
 * Minimum n: the threshold exists only when k ≥ 1, i.e. α (n + 1) ≥ 1, n ≥ 1/α − 1 = τ / (1 − τ)
 * (19 for τ = 95 %, 99 for 99 %, 999 for 99.9 %). With fewer scores no input can be called OOD
 * at that level, so such a set is refused with the number needed. (k is computed as
 * ⌊α (n + 1) + 1e-9⌋ so that 0.05 · 20 counts as 1 despite rounding.)
 *
 * The realised TPR of the threshold on the calibration set comes with a percentile bootstrap
 * interval (the share of a resample at or above t; resamples of n with replacement, xoshiro128**
 * seeded, numpy-linear 2.5 % / 97.5 % quantiles).
 *
 * Finite-sample guarantees (the calibration summary states both, with their assumptions):
 * - Marginal (exchangeable ID data): P(s ≥ t) ≥ 1 − k/(n + 1) = ⌈τ (n + 1)⌉/(n + 1), on average
 *   over calibration sets (`expectedTpr`; equality for scores without ties).
 * - Calibration-conditional (i.i.d. ID data; Vovk 2012, "Conditional validity of inductive
 *   conformal predictors"; Angelopoulos & Bates 2021, "A gentle introduction to conformal
 *   prediction", on the distribution of coverage): the TPR of the threshold, C = P(s ≥ s_(k) | calibration set),
 *   is Beta(n + 1 − k, k) distributed for continuous scores and stochastically larger with ties
 *   (a randomised probability transform U_i of the scores keeps their order, so
 *   1 − F(s_(k)−) ≥ 1 − U_(k) ~ Beta(n + 1 − k, k)). So with probability ≥ 1 − δ over the
 *   calibration draw, C ≥ the δ-quantile of Beta(n + 1 − k, k) (`tprLowerBound`, δ = 0.05),
 *   computed through P(Beta(n + 1 − k, k) ≤ x) = P(Binomial(n, 1 − x) ≤ k − 1) by bisection.
 *   A rate realised on m test images varies around C by a further binomial √(C(1 − C)/m).
 *
 * Runtime-neutral, pure.
 */
import { NapoodError } from '../errors.js';
import { quantileSorted } from '../math/percentile.js';
import { Xoshiro128 } from '../math/random.js';

/** Slack in ⌊α (n + 1)⌋ for binary fractions (0.05 · 20 = 1.0000000000000002 or 0.9999…). */
const FLOOR_SLACK = 1e-9;

export interface CalibrationOptions {
  /** Target ID true-positive rate in (0, 1) (default 0.95). */
  readonly tpr?: number;
  /** Bootstrap replicates for the interval of the realised TPR (default 1000; 0 = none). */
  readonly bootstrap?: number;
  readonly seed?: number;
  /** The set's name in messages (default "calibration set"). */
  readonly argument?: string;
}

export interface Calibration {
  /** Calibration scores, sorted ascending (float64). */
  readonly scores: Float64Array;
  readonly n: number;
  /** Target TPR τ and α = 1 − τ. */
  readonly tpr: number;
  readonly alpha: number;
  /** k = ⌊α (n + 1)⌋: the threshold is the k-th smallest score. */
  readonly k: number;
  /** Score threshold: ID iff score ≥ threshold. */
  readonly threshold: number;
  /** Share of the calibration scores ≥ threshold. */
  readonly realisedTpr: number;
  /** Percentile bootstrap 95 % interval of realisedTpr (absent with bootstrap 0). */
  readonly realisedTprCi?: readonly [number, number];
  readonly bootstrap?: { readonly iterations: number; readonly seed: number };
  /** 1 − k / (n + 1): the expected TPR on new exchangeable ID data (a lower bound with ties). */
  readonly expectedTpr: number;
  /** With probability ≥ `confidence` over the calibration draw (i.i.d. ID data), the TPR on new ID data is ≥ `tpr`. */
  readonly tprLowerBound: { readonly confidence: number; readonly tpr: number };
}

/** The calibration-conditional TPR bound in the summary holds with probability 1 − δ = 95 %. */
export const TPR_BOUND_DELTA = 0.05;

/** log P(Binomial(n, q) ≤ m) for 0 < q < 1, 0 ≤ m < n (terms summed in log space). */
function logBinomialCdf(n: number, q: number, m: number): number {
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  let term = n * l1q;
  let max = term;
  let sum = 1;
  for (let j = 1; j <= m; j++) {
    term += Math.log((n - j + 1) / j) + lq - l1q;
    if (term > max) { sum = sum * Math.exp(max - term) + 1; max = term; } else sum += Math.exp(term - max);
  }
  return max + Math.log(sum);
}

/**
 * The δ-quantile of Beta(n + 1 − k, k), the distribution of the TPR of the threshold s_(k) over
 * calibration sets of n i.i.d. continuous scores (see the header): the x with
 * P(Binomial(n, 1 − x) ≤ k − 1) = δ, by bisection to 1e-12.
 */
export function tprLowerBound(n: number, k: number, delta = TPR_BOUND_DELTA): number {
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(k) || k < 1 || k > n) throw new NapoodError('k', `an order index from 1 to n = ${n}`, String(k));
  if (!(delta > 0 && delta < 1)) throw new NapoodError('delta', 'a probability in (0, 1)', String(delta));
  const logDelta = Math.log(delta);
  // F(q) = P(Binomial(n, q) ≤ k − 1) falls from 1 at q = 0 to 0 at q = 1: find F(q) = δ.
  let lo = 0;
  let hi = 1;
  while (hi - lo > 1e-12) {
    const q = (lo + hi) / 2;
    if (logBinomialCdf(n, q, k - 1) > logDelta) lo = q;
    else hi = q;
  }
  return 1 - (lo + hi) / 2;
}

/** k = ⌊α (n + 1)⌋ (with the rounding slack). */
export function orderIndex(alpha: number, n: number): number {
  return Math.floor(alpha * (n + 1) + FLOOR_SLACK);
}

/** The fewest calibration scores for which a threshold at level α exists: n ≥ 1/α − 1. */
export function minCalibrationSize(alpha: number): number {
  checkAlpha(alpha, 'alpha');
  let n = Math.max(0, Math.ceil(1 / alpha - 1 - 1e-6));
  while (orderIndex(alpha, n) < 1) n++;
  while (n > 0 && orderIndex(alpha, n - 1) >= 1) n--;
  return n;
}

function checkAlpha(alpha: number, argument: string): void {
  if (!(alpha > 0 && alpha < 1)) throw new NapoodError(argument, 'a level α in (0, 1), e.g. 0.05', String(alpha));
}

/** The target TPR as α, checked. */
export function alphaOfTpr(tpr: number, argument = 'tpr'): number {
  if (!(tpr > 0 && tpr < 1)) throw new NapoodError(argument, 'a target ID true-positive rate in (0, 1), e.g. 0.95', String(tpr));
  // 1 − 0.95 is 0.050000000000000044 in binary: keep 12 significant digits (orderIndex has slack).
  return Number((1 - tpr).toPrecision(12));
}

/** #{i : sorted[i] ≤ s} by binary search. */
export function countAtMost(sorted: Float64Array, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Conformal p-value (1 + #{s_i ≤ s}) / (n + 1) against sorted calibration scores. */
export function conformalPValue(sorted: Float64Array, s: number): number {
  return (1 + countAtMost(sorted, s)) / (sorted.length + 1);
}

/**
 * OOD at level α: p(s) ≤ α, decided in integers (1 + #{s_i ≤ s} ≤ ⌊α (n + 1)⌋) so that it agrees
 * exactly with the threshold s_(k).
 */
export function isOodAt(sorted: Float64Array, s: number, alpha: number): boolean {
  return 1 + countAtMost(sorted, s) <= orderIndex(alpha, sorted.length);
}

/** Refuse a level no input can reach with n calibration scores (p ≥ 1 / (n + 1)). */
export function checkLevel(alpha: number, n: number, argument = '--alpha'): void {
  checkAlpha(alpha, argument);
  if (orderIndex(alpha, n) < 1) {
    throw new NapoodError(argument, `a level α ≥ 1/(n + 1) = ${(1 / (n + 1)).toPrecision(3)} for the ${n} calibration scores of this detector (the smallest p-value is 1/(n + 1))`, String(alpha));
  }
}

/** The threshold s_(k) at level α (undefined when k = 0). */
export function thresholdAt(sorted: Float64Array, alpha: number): number | undefined {
  const k = orderIndex(alpha, sorted.length);
  return k >= 1 ? sorted[k - 1] : undefined;
}

/** Calibrate on ID scores: threshold at the target TPR, its realised TPR with a bootstrap interval. */
export function calibrate(scores: Float64Array, opts: CalibrationOptions = {}): Calibration {
  const argument = opts.argument ?? 'calibration set';
  const tpr = opts.tpr ?? 0.95;
  const alpha = alphaOfTpr(tpr);
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) throw new NapoodError(argument, 'finite scores', `a non-finite score at row ${i}`);
  }
  const k = orderIndex(alpha, n);
  if (k < 1) {
    const need = minCalibrationSize(alpha);
    throw new NapoodError(argument, `at least ${need} ID images for a threshold at TPR ${pct(tpr)} (n ≥ 1/(1 − TPR) − 1: with fewer, the smallest conformal p-value 1/(n + 1) is above ${fmt(alpha)} and no input could be called OOD)`, `${n}`);
  }
  const sorted = Float64Array.from(scores).sort();
  const threshold = sorted[k - 1]!;
  const firstId = countBelow(sorted, threshold); // rows at or above the threshold start here
  const idCount = n - firstId;
  const iterations = opts.bootstrap ?? 1000;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(iterations) || iterations < 0) throw new NapoodError('bootstrap', 'a non-negative integer', String(iterations));
  let ci: [number, number] | undefined;
  if (iterations > 0) {
    const rng = new Xoshiro128(seed);
    const shares = new Float64Array(iterations);
    for (let r = 0; r < iterations; r++) {
      let hits = 0;
      for (let m = 0; m < n; m++) if (rng.nextInt(n) >= firstId) hits++;
      shares[r] = hits / n;
    }
    shares.sort();
    ci = [quantileSorted(shares, 0.025), quantileSorted(shares, 0.975)];
  }
  return {
    scores: sorted, n, tpr, alpha, k, threshold, realisedTpr: idCount / n,
    ...(ci ? { realisedTprCi: ci, bootstrap: { iterations, seed } } : {}),
    expectedTpr: 1 - k / (n + 1),
    tprLowerBound: { confidence: 1 - TPR_BOUND_DELTA, tpr: tprLowerBound(n, k) },
  };
}

/** #{i : sorted[i] < s}. */
function countBelow(sorted: Float64Array, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function pct(x: number): string {
  return `${fmt(100 * x)} %`;
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** The calibration as a plain summary (JSON; the scores themselves are stored as a tensor). */
export function calibrationSummary(c: Calibration): Record<string, unknown> {
  return {
    n: c.n, tpr: c.tpr, alpha: c.alpha, k: c.k, threshold: c.threshold, realised_tpr: c.realisedTpr,
    ...(c.realisedTprCi ? { realised_tpr_ci95: [...c.realisedTprCi], bootstrap: c.bootstrap } : {}),
    expected_tpr: c.expectedTpr,
    guarantee: {
      expected_tpr: `P(score >= threshold) >= 1 - k/(n + 1) = ceil(tpr (n + 1))/(n + 1) = ${c.expectedTpr} for a new ID input exchangeable with the calibration set (on average over calibration sets)`,
      tpr_lower_bound: c.tprLowerBound,
      tpr_lower_bound_rule: `with probability >= ${c.tprLowerBound.confidence} over the calibration draw (i.i.d. ID data), the TPR on new ID data is >= ${c.tprLowerBound.tpr} (the quantile of Beta(n + 1 - k, k) at 1 - ${c.tprLowerBound.confidence}); a rate realised on m test inputs varies further by about sqrt(TPR (1 - TPR) / m)`,
      not_covered: 'ID data that differ from the calibration set (another split, source or time): check the realised TPR on such data',
    },
    p_value: '(1 + #{calibration scores <= s}) / (n + 1); OOD at level alpha iff p <= alpha',
  };
}
