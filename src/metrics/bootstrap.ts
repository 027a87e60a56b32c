/**
 * Bootstrap confidence intervals for FPR95 and AUROC.
 *
 * Stratified resampling: each replicate draws nId ID scores and nOod OOD scores with replacement,
 * separately (so both sets keep their sizes). A resample of a sorted array is that sorted array
 * with multiplicity counts, so each replicate is n uniform indices → counts (random.ts) plus one
 * O(n) weighted merge pass (binary.ts) — no re-sorting. The interval is the percentile interval:
 * numpy-default (linear) quantiles α and 1 − α of the replicate values, α = (1 − confidence) / 2.
 *
 * Draw order (fixed, so a seed gives the same interval everywhere, mirrored by
 * tools/golden_metrics.py): one xoshiro128** stream seeded with `seed`; for each replicate, nId
 * draws for the ID counts, then nOod draws for the OOD counts.
 */
import { NapoodError } from '../errors.js';
import { aurocSorted, fpr95Sorted, sortScores } from './binary.js';
import { quantileSorted } from '../math/percentile.js';
import { Xoshiro128, resampleCounts } from '../math/random.js';

export interface BootstrapOptions {
  /** Number of replicates (default 1000). */
  readonly iterations?: number;
  /** PRNG seed, an integer in [0, 2^32) (default 0). */
  readonly seed?: number;
  /** Coverage of the interval, in (0, 1) (default 0.95). */
  readonly confidence?: number;
}

export interface BootstrapResult {
  readonly fpr95: [number, number];
  readonly auroc: [number, number];
}

/** Percentile bootstrap intervals of FPR95 and AUROC (fractions in [0, 1]). */
export function bootstrapCI(id: Float64Array, ood: Float64Array, options: BootstrapOptions = {}): BootstrapResult {
  const iterations = options.iterations ?? 1000;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new NapoodError('iterations', 'a positive integer', String(iterations));
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new NapoodError('confidence', 'a number in (0, 1)', String(confidence));
  }
  const rng = new Xoshiro128(seed);
  const s = sortScores(id, ood);
  const idCounts = new Uint32Array(s.id.length);
  const oodCounts = new Uint32Array(s.ood.length);
  const fprs = new Float64Array(iterations);
  const aucs = new Float64Array(iterations);
  for (let r = 0; r < iterations; r++) {
    resampleCounts(rng, idCounts);
    resampleCounts(rng, oodCounts);
    fprs[r] = fpr95Sorted(s.id, s.ood, idCounts, oodCounts);
    aucs[r] = aurocSorted(s.id, s.ood, idCounts, oodCounts);
  }
  fprs.sort();
  aucs.sort();
  const alpha = (1 - confidence) / 2;
  return {
    fpr95: [quantileSorted(fprs, alpha), quantileSorted(fprs, 1 - alpha)],
    auroc: [quantileSorted(aucs, alpha), quantileSorted(aucs, 1 - alpha)],
  };
}
