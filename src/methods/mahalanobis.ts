/**
 * Mahalanobis distance to the closest class (Lee et al., "A Simple Unified Framework for
 * Detecting Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018; OpenOOD's MDS
 * postprocessor: penultimate features, no input preprocessing).
 *
 *   μ_k = mean of ID-train z of class k;  Σ = (1/N) Σ_i (z_i − μ_{y_i})(z_i − μ_{y_i})ᵀ
 *   P = pinvh(Σ) (SciPy's default cutoff, as sklearn's EmpiricalCovariance.precision_)
 *   S(x) = max_k −(z − μ_k)ᵀ P (z − μ_k)
 *
 * Needs: pooled z; fit: ID-train pooled z and labels (one streaming pass: class sums and
 * the covariance). Scoring uses (z − μ)ᵀP(z − μ) = zᵀPz − 2 (Pμ)ᵀz + μᵀPμ: one P·z per sample.
 */
import { NapoodError } from '../errors.js';
import { covarianceAccumulator } from '../math/covariance.js';
import { pinvh } from '../math/linalg.js';
import type { Fitter, MethodDefinition, StateCheckContext, StateProblem } from '../types.js';
import { StateChecker } from './state-check.js';
import { requireLabels, requirePooled } from './needs.js';

export interface MahalanobisState {
  readonly c: number;
  /** Class ids present in the training labels, in order. */
  readonly classes: Int32Array;
  /** Class means, classes × C. */
  readonly means: Float64Array;
  /** P, C×C. */
  readonly precision: Float64Array;
  /** P μ_k (classes × C) and μ_kᵀ P μ_k (classes). */
  readonly precisionMeans: Float64Array;
  readonly meanTerms: Float64Array;
}

export function mahalanobisFitter(): Fitter<MahalanobisState> {
  let c = -1;
  let acc: ReturnType<typeof covarianceAccumulator> | undefined;
  const sums = new Map<number, { sum: Float64Array; count: number }>();
  let rows = 0;
  return {
    passes: 1,
    update(batch) {
      const z = requirePooled(batch, 'mahalanobis (fit)');
      const labels = requireLabels(batch, 'mahalanobis (fit)');
      if (c < 0) { c = z.c; acc = covarianceAccumulator(c); }
      acc!.update(z.data, batch.n);
      for (let i = 0; i < batch.n; i++) {
        const y = labels[i];
        if (y < 0) throw new NapoodError('--fit labels', 'a class label ≥ 0 for every ID-train row (mahalanobis)', `${y} at row ${rows + i}`);
        let entry = sums.get(y);
        if (!entry) { entry = { sum: new Float64Array(c), count: 0 }; sums.set(y, entry); }
        const base = i * c;
        for (let j = 0; j < c; j++) entry.sum[j] += z.data[base + j];
        entry.count++;
      }
      rows += batch.n;
    },
    finish() {
      if (!acc || rows === 0) throw new NapoodError('--fit', 'ID-train rows for mahalanobis', 'none');
      const classes = Int32Array.from([...sums.keys()].sort((a, b) => a - b));
      const k = classes.length;
      const means = new Float64Array(k * c);
      classes.forEach((y, ci) => {
        const { sum, count } = sums.get(y)!;
        for (let j = 0; j < c; j++) means[ci * c + j] = sum[j] / count;
      });
      // Class-centred covariance from the overall one: Σ = Σ_all + μμᵀ − Σ_k (n_k/N) μ_k μ_kᵀ.
      const cov = acc.finish('mean');
      const mu = acc.mean();
      const weights = Float64Array.from(classes, (y) => sums.get(y)!.count / rows);
      for (let a = 0; a < c; a++) {
        for (let b = a; b < c; b++) {
          let between = 0;
          for (let ci = 0; ci < k; ci++) between += weights[ci] * means[ci * c + a] * means[ci * c + b];
          const v = cov[a * c + b] + mu[a] * mu[b] - between;
          cov[a * c + b] = v;
          cov[b * c + a] = v;
        }
      }
      const precision = pinvh(cov, c);
      const precisionMeans = new Float64Array(k * c);
      const meanTerms = new Float64Array(k);
      for (let ci = 0; ci < k; ci++) {
        let term = 0;
        for (let a = 0; a < c; a++) {
          let s = 0;
          for (let b = 0; b < c; b++) s += precision[a * c + b] * means[ci * c + b];
          precisionMeans[ci * c + a] = s;
          term += means[ci * c + a] * s;
        }
        meanTerms[ci] = term;
      }
      return { c, classes, means, precision, precisionMeans, meanTerms };
    },
  };
}

export function mahalanobisKernel(z: Float32Array, n: number, state: MahalanobisState): Float64Array {
  const { c, precision, precisionMeans, meanTerms } = state;
  const k = meanTerms.length;
  const out = new Float64Array(n);
  const pz = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const base = i * c;
    let quad = 0;
    for (let a = 0; a < c; a++) {
      let s = 0;
      const row = a * c;
      for (let b = 0; b < c; b++) s += precision[row + b] * z[base + b];
      pz[a] = s;
      quad += z[base + a] * s;
    }
    let best = -Infinity;
    for (let ci = 0; ci < k; ci++) {
      let cross = 0;
      const mb = ci * c;
      for (let a = 0; a < c; a++) cross += precisionMeans[mb + a] * z[base + a];
      const score = -(quad - 2 * cross + meanTerms[ci]);
      if (score > best) best = score;
    }
    out[i] = best;
  }
  return out;
}

/** A loaded mahalanobis state: C, the classes, their means, P (C × C), P μ_k and μ_kᵀ P μ_k. */
export function checkMahalanobisState(state: unknown, ctx: StateCheckContext): StateProblem | undefined {
  const s = new StateChecker('mahalanobis', state);
  const c = s.integer('c', 1);
  s.channels(c, ctx);
  const classes = s.typed('classes', Int32Array, (state as { classes?: { length?: number } } | null)?.classes?.length ?? -1, 'classes');
  const k = classes?.length ?? NaN;
  if (!s.problem && k < 1) s.fail('"classes": at least one class', 'none');
  s.typed('means', Float64Array, k * c, `classes × C = ${k} × ${c}`);
  s.typed('precision', Float64Array, c * c, `C × C = ${c} × ${c}`);
  s.typed('precisionMeans', Float64Array, k * c, `classes × C = ${k} × ${c}`);
  s.typed('meanTerms', Float64Array, k, `classes = ${k}`);
  return s.problem;
}

export const mahalanobis: MethodDefinition<MahalanobisState> = {
  name: 'mahalanobis',
  summary: 'negative Mahalanobis distance of z to the closest ID class mean (shared covariance)',
  source: 'Lee et al., NeurIPS 2018; OpenOOD MDS',
  needs: ['pooled'],
  fitNeeds: ['pooled', 'labels'],
  params: {},
  fit: () => mahalanobisFitter(),
  checkState: checkMahalanobisState,
  score(batch, ctx) {
    const z = requirePooled(batch, 'mahalanobis');
    if (z.c !== ctx.state.c) throw new NapoodError('mahalanobis', `pooled features with ${ctx.state.c} channels (as its fitted state: --fit or --state)`, `${z.c}`);
    return mahalanobisKernel(z.data, batch.n, ctx.state);
  },
};
