/**
 * Binary OOD-detection metrics (SPEC §1). Scores are "higher = more in-distribution" and ID is the
 * positive class everywhere. All results are fractions in [0, 1] (the CLI prints percent).
 *
 *  - FPR95 (ReAct / ASH evaluation code): sort the ID scores ascending (0-based),
 *      t = sortedId[roundHalfEven(0.05 · nId)],  FPR95 = share of OOD scores strictly greater than t.
 *  - AUROC with ID = 1, ties count one half: P(s_id > s_ood) + ½ P(s_id = s_ood)
 *    (equal to sklearn `roc_auc_score(y = ID, score)`).
 *  - AUPR-In  = sklearn `average_precision_score(y = ID, score)`,
 *    AUPR-Out = sklearn `average_precision_score(y = OOD, −score)`:
 *      AP = Σ_thresholds (R_k − R_{k−1}) · P_k over the distinct score values (no interpolation).
 *  - Detection error = min over every threshold t ∈ ℝ ∪ {±∞} of
 *      ½ · (1 − TPR(t)) + ½ · FPR(t),  TPR(t) = share of ID with score ≥ t,
 *                                      FPR(t) = share of OOD with score ≥ t.
 *    Both shares only change at data values, so the minimum is taken over the distinct score values
 *    plus t = +∞ (accept nothing: ½); t = −∞ (accept everything) also gives ½.
 *
 * Speed: ID and OOD are sorted separately with the native `Float64Array.prototype.sort()` (no
 * comparator), then every metric is one linear merge pass over the two sorted arrays. The merge
 * kernels (`*Sorted`) take optional integer counts per sorted position, so that a bootstrap
 * replicate — a resample with replacement of a sorted array is the same sorted array with
 * multiplicities — costs O(n) and no re-sort. All counting is done on integers held in float64
 * (exact up to 2^53), so AUROC is exact up to its final division.
 */
import { NapoodError } from '../errors.js';

/** The five binary metrics, as fractions in [0, 1]. */
export interface BinaryMetrics {
  readonly fpr95: number;
  readonly auroc: number;
  readonly auprIn: number;
  readonly auprOut: number;
  readonly detectionError: number;
}

/** The rank metrics that come out of one merge pass (everything except FPR95). */
export interface RankMetrics {
  readonly auroc: number;
  readonly auprIn: number;
  readonly auprOut: number;
  readonly detectionError: number;
}

/** ID and OOD scores, each sorted ascending. */
export interface SortedScores {
  readonly id: Float64Array;
  readonly ood: Float64Array;
}

/** Multiplicity of each sorted position (a bootstrap resample); undefined means all ones. */
export type Counts = Uint32Array;

import { roundHalfEven } from '../math/rounding.js';
export { roundHalfEven };

/**
 * Check one score set (non-empty, no NaN) and return a sorted ascending copy.
 * `name` is the argument named in errors ("id" / "ood").
 */
export function sortChecked(name: string, scores: Float64Array): Float64Array {
  if (scores.length === 0) {
    throw new NapoodError(name, 'a non-empty set of scores', 'an empty set (0 scores)');
  }
  const sorted = new Float64Array(scores).sort();
  // The native sort puts NaN last, so one look at the end tells whether to search for it.
  if (Number.isNaN(sorted[sorted.length - 1])) {
    let first = 0;
    while (!Number.isNaN(scores[first])) first++;
    throw new NapoodError(`${name}[${first}]`, 'a score that is a number', `NaN (the first NaN of ${name}, which has ${scores.length} scores)`);
  }
  return sorted;
}

/** Check and sort ID and OOD scores (copies; the inputs are not changed). */
export function sortScores(id: Float64Array, ood: Float64Array): SortedScores {
  return { id: sortChecked('id', id), ood: sortChecked('ood', ood) };
}

/** Sum of the counts (total sample size), checked against the array it weights. */
function totalCount(name: string, counts: Counts | undefined, n: number): number {
  if (counts === undefined) return n;
  if (counts.length !== n) {
    throw new NapoodError(name, `one count per sorted score (${n})`, `${counts.length} counts`);
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i];
  if (total === 0) throw new NapoodError(name, 'counts with a positive total', 'all counts 0');
  return total;
}

/** First index j with sorted[j] > t (sorted ascending). */
function upperBound(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * FPR95 from sorted scores (optionally weighted by counts per position): the ID threshold is the
 * element at 0-based rank roundHalfEven(0.05 · nId) of the (expanded) sorted ID scores.
 */
export function fpr95Sorted(sortedId: Float64Array, sortedOod: Float64Array, idCounts?: Counts, oodCounts?: Counts): number {
  const nA = sortedId.length;
  const nB = sortedOod.length;
  const totalA = totalCount('idCounts', idCounts, nA);
  const totalB = totalCount('oodCounts', oodCounts, nB);
  const rank = roundHalfEven(0.05 * totalA);
  let k = rank;
  if (idCounts !== undefined) {
    let cum = 0;
    k = 0;
    for (; k < nA; k++) {
      cum += idCounts[k];
      if (cum > rank) break;
    }
  }
  const t = sortedId[k];
  const j0 = upperBound(sortedOod, t);
  let above: number;
  if (oodCounts === undefined) {
    above = nB - j0;
  } else {
    above = 0;
    for (let j = j0; j < nB; j++) above += oodCounts[j];
  }
  return above / totalB;
}

/**
 * AUROC (ID positive, ties ½) from sorted scores, optionally weighted: one merge pass over the
 * distinct values v, adding count_id(v) · (count_ood(< v) + ½ count_ood(= v)).
 */
export function aurocSorted(sortedId: Float64Array, sortedOod: Float64Array, idCounts?: Counts, oodCounts?: Counts): number {
  const a = sortedId;
  const b = sortedOod;
  const nA = a.length;
  const nB = b.length;
  const totalA = totalCount('idCounts', idCounts, nA);
  const totalB = totalCount('oodCounts', oodCounts, nB);
  let i = 0;
  let j = 0;
  let lessB = 0;
  let twiceWins = 0; // 2 · (wins + ½ ties): integers, exact in float64 up to 2^53
  while (i < nA) {
    const v = a[i];
    // OOD strictly below v.
    if (oodCounts === undefined) {
      const s = j;
      while (j < nB && b[j] < v) j++;
      lessB += j - s;
    } else {
      while (j < nB && b[j] < v) lessB += oodCounts[j++];
    }
    // ID equal to v.
    let ca: number;
    if (idCounts === undefined) {
      const s = i;
      while (i < nA && a[i] === v) i++;
      ca = i - s;
    } else {
      ca = 0;
      while (i < nA && a[i] === v) ca += idCounts[i++];
    }
    // OOD equal to v (not consumed: the next ID value is larger, they count as "below" then).
    let cb = 0;
    let jj = j;
    if (oodCounts === undefined) {
      while (jj < nB && b[jj] === v) jj++;
      cb = jj - j;
    } else {
      while (jj < nB && b[jj] === v) cb += oodCounts[jj++];
    }
    twiceWins += ca * (2 * lessB + cb);
  }
  return twiceWins / (2 * totalA * totalB);
}

/**
 * AUROC, AUPR-In, AUPR-Out and detection error in one ascending merge pass over the distinct values
 * of both sorted arrays (optionally weighted by counts per position).
 */
export function rankMetricsSorted(sortedId: Float64Array, sortedOod: Float64Array, idCounts?: Counts, oodCounts?: Counts): RankMetrics {
  const a = sortedId;
  const b = sortedOod;
  const nA = a.length;
  const nB = b.length;
  const totalA = totalCount('idCounts', idCounts, nA);
  const totalB = totalCount('oodCounts', oodCounts, nB);
  let i = 0;
  let j = 0;
  let lessA = 0; // ID weight strictly below the current value
  let lessB = 0; // OOD weight strictly below the current value
  let twiceWins = 0;
  let apIn = 0;
  let apOut = 0;
  let minErr = 0.5; // t = ±∞
  const halfInvA = 0.5 / totalA;
  const halfInvB = 0.5 / totalB;
  while (i < nA || j < nB) {
    let v: number;
    if (i < nA) v = j < nB && b[j] < a[i] ? b[j] : a[i];
    else v = b[j];
    let ca: number;
    if (idCounts === undefined) {
      const s = i;
      while (i < nA && a[i] === v) i++;
      ca = i - s;
    } else {
      ca = 0;
      while (i < nA && a[i] === v) ca += idCounts[i++];
    }
    let cb: number;
    if (oodCounts === undefined) {
      const s = j;
      while (j < nB && b[j] === v) j++;
      cb = j - s;
    } else {
      cb = 0;
      while (j < nB && b[j] === v) cb += oodCounts[j++];
    }
    // Threshold t = v: TPR = (totalA − lessA)/totalA, FPR = (totalB − lessB)/totalB.
    const err = halfInvA * lessA + halfInvB * (totalB - lessB);
    if (err < minErr) minErr = err;
    if (ca > 0) {
      twiceWins += ca * (2 * lessB + cb);
      // AUPR-In: threshold "score ≥ v"; tp = ID ≥ v, fp = OOD ≥ v; recall step = ca / totalA.
      const tp = totalA - lessA;
      apIn += (ca * tp) / (tp + totalB - lessB);
    }
    lessA += ca;
    lessB += cb;
    if (cb > 0) {
      // AUPR-Out: threshold "−score ≥ −v"; tp = OOD ≤ v, fp = ID ≤ v; recall step = cb / totalB.
      apOut += (cb * lessB) / (lessB + lessA);
    }
  }
  return {
    auroc: twiceWins / (2 * totalA * totalB),
    auprIn: apIn / totalA,
    auprOut: apOut / totalB,
    detectionError: minErr,
  };
}

/** All five metrics from sorted (optionally weighted) scores. */
export function evaluateSorted(sortedId: Float64Array, sortedOod: Float64Array, idCounts?: Counts, oodCounts?: Counts): BinaryMetrics {
  const rank = rankMetricsSorted(sortedId, sortedOod, idCounts, oodCounts);
  return {
    fpr95: fpr95Sorted(sortedId, sortedOod, idCounts, oodCounts),
    auroc: rank.auroc,
    auprIn: rank.auprIn,
    auprOut: rank.auprOut,
    detectionError: rank.detectionError,
  };
}

/** All five metrics of ID vs OOD scores (higher = ID). Throws NapoodError on empty sets or NaN. */
export function evaluateBinary(id: Float64Array, ood: Float64Array): BinaryMetrics {
  const s = sortScores(id, ood);
  return evaluateSorted(s.id, s.ood);
}

/** FPR at 95% ID recall (ReAct / ASH definition, see header). */
export function fpr95(id: Float64Array, ood: Float64Array): number {
  const s = sortScores(id, ood);
  return fpr95Sorted(s.id, s.ood);
}

/** AUROC with ID positive, ties ½. */
export function auroc(id: Float64Array, ood: Float64Array): number {
  const s = sortScores(id, ood);
  return aurocSorted(s.id, s.ood);
}

/** Average precision with ID positive (sklearn `average_precision_score(y=ID, score)`). */
export function auprIn(id: Float64Array, ood: Float64Array): number {
  const s = sortScores(id, ood);
  return rankMetricsSorted(s.id, s.ood).auprIn;
}

/** Average precision with OOD positive (sklearn `average_precision_score(y=OOD, −score)`). */
export function auprOut(id: Float64Array, ood: Float64Array): number {
  const s = sortScores(id, ood);
  return rankMetricsSorted(s.id, s.ood).auprOut;
}

/** Minimum over thresholds of ½(1 − TPR) + ½ FPR (see header). */
export function detectionError(id: Float64Array, ood: Float64Array): number {
  const s = sortScores(id, ood);
  return rankMetricsSorted(s.id, s.ood).detectionError;
}
