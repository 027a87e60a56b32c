/**
 * The search behind `napood tune` (SPEC §3, "Choosing w without OOD data"), pure:
 *
 * - The criterion is AUROC of ID-val against pseudo-OOD (maximised; ties count one half) or
 *   FPR95 (minimised), computed as in metrics/binary.ts (one sort, both metrics).
 * - w of a NAP-X method is searched on [0, 1]: first a grid (step 0.05 by default: 0, 0.05, …, 1),
 *   the first best grid point in ascending w winning ties; then a golden-section search on
 *   [w* − step, w* + step] ∩ [0, 1] until the bracket is narrower than the tolerance (1e-3),
 *   every point rounded to 4 decimals (so the tuned spec text, e.g. `nap-e:w=0.5532`, scores
 *   exactly what was measured). A refined point replaces the grid point only when strictly
 *   better, so the result is never worse than the grid and equals a brute-force grid search
 *   when the refinement finds nothing better. The criterion is a step function of w (it changes
 *   only when two samples swap ranks), so the refinement is a local polish, not a global search.
 * - S_X and S_NAP are scored once per set; each w is one geometricBlend of the two arrays.
 */
import { NapoodError } from '../errors.js';
import { aurocSorted, fpr95Sorted } from '../metrics/binary.js';
import { geometricBlend } from '../methods/napx.js';

export type Criterion = 'auroc' | 'fpr95';

export interface SearchOptions {
  /** Grid step on [0, 1] (default 0.05; at most 0.5). */
  readonly gridStep?: number;
  /** Golden-section stops when the bracket is narrower than this (default 1e-3; 0 = no refinement). */
  readonly tolerance?: number;
}

/** Both metrics of one ID / OOD pair, as fractions. */
export interface PairMetrics {
  readonly auroc: number;
  readonly fpr95: number;
}

export interface WeightPoint extends PairMetrics {
  readonly w: number;
}

export interface WeightSearch {
  /** The tuned w and its metrics. */
  readonly best: WeightPoint;
  /** Every grid point, ascending w. */
  readonly grid: readonly WeightPoint[];
  readonly gridBest: WeightPoint;
  readonly refinement: { readonly interval: readonly [number, number]; readonly evaluations: number; readonly improved: boolean };
}

const DECIMALS = 1e4;

/** w rounded to 4 decimals, in [0, 1]. */
export function roundWeight(w: number): number {
  return Math.min(1, Math.max(0, Math.round(w * DECIMALS) / DECIMALS));
}

/** The grid 0, step, 2·step, …, 1 (1 always included), each rounded to 4 decimals. */
export function weightGrid(step = 0.05): number[] {
  if (!(step > 0 && step <= 0.5)) throw new NapoodError('gridStep', 'a grid step in (0, 0.5], e.g. 0.05', String(step));
  const out: number[] = [];
  for (let i = 0; i * step < 1 - 1e-9; i++) out.push(roundWeight(i * step));
  out.push(1);
  return [...new Set(out)];
}

function sortedCopy(scores: Float64Array, what: string): Float64Array {
  const s = Float64Array.from(scores).sort();
  if (s.length === 0) throw new NapoodError(what, 'at least one score', 'none');
  if (Number.isNaN(s[s.length - 1])) throw new NapoodError(what, 'finite scores', 'NaN');
  return s;
}

/** AUROC and FPR95 of one pair (fractions). */
export function pairMetrics(id: Float64Array, ood: Float64Array): PairMetrics {
  const a = sortedCopy(id, 'ID scores');
  const b = sortedCopy(ood, 'OOD scores');
  return { auroc: aurocSorted(a, b), fpr95: fpr95Sorted(a, b) };
}

/** The criterion as "higher is better". */
export function criterionValue(m: PairMetrics, criterion: Criterion): number {
  return criterion === 'auroc' ? m.auroc : -m.fpr95;
}

/** Scores of one component (S_X or S_NAP) on ID-val and on the OOD set. */
export interface PairScores {
  readonly id: Float64Array;
  readonly ood: Float64Array;
}

/** A function of w giving the pair's metrics for the blend S_X^w · S_NAP^(1−w), with reused buffers. */
export function blendEvaluator(x: PairScores, nap: PairScores): (w: number) => PairMetrics {
  const idOut = new Float64Array(x.id.length);
  const oodOut = new Float64Array(x.ood.length);
  return (w) => {
    geometricBlend(x.id, nap.id, w, idOut);
    geometricBlend(x.ood, nap.ood, w, oodOut);
    return pairMetrics(idOut, oodOut);
  };
}

/** Grid search on [0, 1], then golden-section refinement around the best grid point (see the header). */
export function searchWeight(evaluate: (w: number) => PairMetrics, criterion: Criterion, opts: SearchOptions = {}): WeightSearch {
  const step = opts.gridStep ?? 0.05;
  const tolerance = opts.tolerance ?? 1e-3;
  if (!(tolerance >= 0)) throw new NapoodError('tolerance', 'a non-negative number', String(tolerance));
  const seen = new Map<number, WeightPoint>();
  const at = (raw: number): WeightPoint => {
    const w = roundWeight(raw);
    let p = seen.get(w);
    if (!p) {
      p = { w, ...evaluate(w) };
      seen.set(w, p);
    }
    return p;
  };
  const value = (p: WeightPoint) => criterionValue(p, criterion);
  const grid = weightGrid(step).map(at);
  let gridBest = grid[0]!;
  for (const p of grid) if (value(p) > value(gridBest)) gridBest = p;
  const lo = Math.max(0, gridBest.w - step);
  const hi = Math.min(1, gridBest.w + step);
  let best = gridBest;
  const before = seen.size;
  if (tolerance > 0 && hi - lo > tolerance) {
    const phi = (Math.sqrt(5) - 1) / 2;
    let a = lo;
    let b = hi;
    let c = b - phi * (b - a);
    let d = a + phi * (b - a);
    let fc = at(c);
    let fd = at(d);
    while (b - a > tolerance) {
      if (value(fc) >= value(fd)) {
        b = d; d = c; fd = fc; c = b - phi * (b - a); fc = at(c);
      } else {
        a = c; c = d; fc = fd; d = a + phi * (b - a); fd = at(d);
      }
    }
    // Grid points cannot beat gridBest; of the refined points the first strictly better one in evaluation order wins.
    for (const p of seen.values()) if (value(p) > value(best)) best = p;
  }
  return { best, grid, gridBest, refinement: { interval: [lo, hi], evaluations: seen.size - before, improved: best !== gridBest } };
}

/** The best of several options by the criterion; the first wins ties. */
export function bestBy<T>(items: readonly T[], metrics: (t: T) => PairMetrics, criterion: Criterion): T {
  if (items.length === 0) throw new Error('bestBy: no items');
  let best = items[0] as T;
  for (const it of items) if (criterionValue(metrics(it), criterion) > criterionValue(metrics(best), criterion)) best = it;
  return best;
}
