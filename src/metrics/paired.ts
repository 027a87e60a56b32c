/**
 * Paired bootstrap: several score vectors over the same samples (methods, sweep points, layers)
 * evaluated on the same resamples, so that differences between them (NAP-E − Energy in FPR95,
 * the w at which a sweep is best) get intervals that account for their correlation.
 *
 * Each replicate draws, stratified as `bootstrapCI`, n_ID indices with replacement for the ID set
 * and n_OOD for every OOD set (one xoshiro128** stream seeded with `seed`: ID counts first, then
 * each OOD set in order), then for every method computes FPR95 and AUROC on that resample and
 * averages them over the OOD sets. A resample of original rows is each method's sorted array
 * with the counts carried through its sort permutation, so a replicate costs O(n) per method.
 */
import { NapoodError } from '../errors.js';
import { quantileSorted } from '../math/percentile.js';
import { Xoshiro128, resampleCounts } from '../math/random.js';
import { aurocSorted, fpr95Sorted, sortChecked } from './binary.js';

export interface PairedScores {
  /** ID scores per method (all of the same length). */
  readonly id: readonly Float64Array[];
  /** Per OOD set, the scores per method (each set's vectors of one length). */
  readonly ood: readonly (readonly Float64Array[])[];
}

export interface PairedReplicates {
  /** [method][replicate]: FPR95 averaged over the OOD sets, a fraction. */
  readonly fpr95: Float64Array[];
  /** [method][replicate]: AUROC averaged over the OOD sets, a fraction. */
  readonly auroc: Float64Array[];
}

interface Sorted {
  readonly values: Float64Array;
  readonly order: Uint32Array;
}

function sortWithOrder(name: string, scores: Float64Array): Sorted {
  const values = sortChecked(name, scores);
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b] || a - b);
  return { values, order };
}

function permute(counts: Uint32Array, order: Uint32Array, out: Uint32Array): Uint32Array {
  for (let k = 0; k < order.length; k++) out[k] = counts[order[k]];
  return out;
}

/** Replicates of the OOD-set-averaged FPR95 and AUROC of every method on shared resamples. */
export function pairedBootstrap(scores: PairedScores, options: { iterations?: number; seed?: number } = {}): PairedReplicates {
  const iterations = options.iterations ?? 1000;
  if (!Number.isInteger(iterations) || iterations < 1) throw new NapoodError('iterations', 'a positive integer', String(iterations));
  const methods = scores.id.length;
  if (methods === 0) throw new NapoodError('scores', 'at least one method', 'none');
  if (scores.ood.length === 0) throw new NapoodError('scores', 'at least one OOD set', 'none');
  const nId = scores.id[0].length;
  for (const v of scores.id) if (v.length !== nId) throw new NapoodError('scores.id', `${nId} scores for every method`, String(v.length));
  scores.ood.forEach((set, s) => {
    if (set.length !== methods) throw new NapoodError(`scores.ood[${s}]`, `${methods} methods`, String(set.length));
    for (const v of set) if (v.length !== set[0].length) throw new NapoodError(`scores.ood[${s}]`, `${set[0].length} scores for every method`, String(v.length));
  });
  const idSorted = scores.id.map((v) => sortWithOrder('id', v));
  const oodSorted = scores.ood.map((set) => set.map((v) => sortWithOrder('ood', v)));
  const rng = new Xoshiro128(options.seed ?? 0);
  const idCounts = new Uint32Array(nId);
  const idPerm = new Uint32Array(nId);
  const oodCounts = scores.ood.map((set) => new Uint32Array(set[0].length));
  const oodPerm = scores.ood.map((set) => new Uint32Array(set[0].length));
  const fpr95 = Array.from({ length: methods }, () => new Float64Array(iterations));
  const auroc = Array.from({ length: methods }, () => new Float64Array(iterations));
  const sets = scores.ood.length;
  for (let r = 0; r < iterations; r++) {
    resampleCounts(rng, idCounts);
    for (const c of oodCounts) resampleCounts(rng, c);
    for (let m = 0; m < methods; m++) {
      const idc = permute(idCounts, idSorted[m].order, idPerm);
      let f = 0;
      let a = 0;
      for (let s = 0; s < sets; s++) {
        const o = oodSorted[s][m];
        const oc = permute(oodCounts[s], o.order, oodPerm[s]);
        f += fpr95Sorted(idSorted[m].values, o.values, idc, oc);
        a += aurocSorted(idSorted[m].values, o.values, idc, oc);
      }
      fpr95[m][r] = f / sets;
      auroc[m][r] = a / sets;
    }
  }
  return { fpr95, auroc };
}

/** The percentile interval (numpy-linear quantiles) of replicate values; NaN-free input. */
export function percentileInterval(values: Float64Array, confidence = 0.95): [number, number] {
  const sorted = new Float64Array(values).sort();
  const alpha = (1 - confidence) / 2;
  return [quantileSorted(sorted, alpha), quantileSorted(sorted, 1 - alpha)];
}

/**
 * Bootstrap interval of a proportion (e.g. ID accuracy: `hits` correct of `n` rows): each
 * replicate resamples the n rows with replacement (rows ordered hits first) and counts hits.
 */
export function proportionInterval(hits: number, n: number, options: { iterations?: number; seed?: number; confidence?: number } = {}): [number, number] {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(hits) && hits >= 0 && hits <= n)) throw new NapoodError('proportion', 'integers 0 ≤ hits ≤ n, n ≥ 1', `${hits} of ${n}`);
  const iterations = options.iterations ?? 1000;
  const rng = new Xoshiro128(options.seed ?? 0);
  const reps = new Float64Array(iterations);
  for (let r = 0; r < iterations; r++) {
    let c = 0;
    for (let k = 0; k < n; k++) if (rng.nextInt(n) < hits) c++;
    reps[r] = c / n;
  }
  return percentileInterval(reps, options.confidence);
}
