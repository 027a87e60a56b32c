/**
 * KNN — deep nearest neighbours (Sun et al., "Out-of-Distribution Detection with Deep Nearest
 * Neighbors", ICML 2022; OpenOOD's KNNPostprocessor).
 *
 *   ẑ = z / (‖z‖₂ + 1e-10);  S_KNN(x) = −‖ẑ − b_(k)‖₂
 *
 * b_(k) is the k-th nearest L2-normalised ID-train feature. (The original code returns the
 * negative *squared* distance from faiss; napood returns the distance itself — the same ranking,
 * so every metric is identical.) Needs: pooled z; fit: ID-train pooled z (kept, normalised, as the
 * bank: the state holds N_train × C float32). Defaults: k = 50.
 */
import { NapoodError } from '../errors.js';
import { kthNearestDistance, l2Normalize, squaredNorms } from '../math/knn.js';
import type { Fitter, MethodDefinition, StateCheckContext, StateProblem } from '../types.js';
import { StateChecker } from './state-check.js';
import { requirePooled } from './needs.js';

export interface KnnState {
  readonly c: number;
  readonly rows: number;
  /** Normalised ID-train features, rows × C. */
  readonly bank: Float32Array;
  /** Squared norms of the bank rows (derived once at fit time). */
  readonly bankNorms: Float64Array;
}

export function knnFitter(): Fitter<KnnState> {
  const chunks: Float32Array[] = [];
  let c = -1;
  let rows = 0;
  return {
    passes: 1,
    update(batch) {
      const z = requirePooled(batch, 'knn (fit)');
      c = z.c;
      chunks.push(l2Normalize(z.data, batch.n, z.c));
      rows += batch.n;
    },
    finish() {
      const bank = new Float32Array(rows * Math.max(c, 0));
      let offset = 0;
      for (const chunk of chunks) { bank.set(chunk, offset); offset += chunk.length; }
      return { c, rows, bank, bankNorms: squaredNorms(bank, rows, Math.max(c, 0)) };
    },
  };
}

/** A loaded knn state: C, rows ≥ k, a bank of rows × C and its rows' squared norms. */
export function checkKnnState(state: unknown, ctx: StateCheckContext): StateProblem | undefined {
  const s = new StateChecker('knn', state);
  const c = s.integer('c', 1);
  const rows = s.integer('rows', 1);
  s.channels(c, ctx);
  s.typed('bank', Float32Array, rows * c, `rows × C = ${rows} × ${c}`);
  s.typed('bankNorms', Float64Array, rows, `rows = ${rows}`);
  if (!s.problem && ctx.params.k > rows) s.fail(`a bank of at least k = ${ctx.params.k} ID-train rows (knn:k)`, `${rows} rows`);
  return s.problem;
}

export const knn: MethodDefinition<KnnState> = {
  name: 'knn',
  summary: 'negative distance of normalised z to its k-th nearest normalised ID-train feature',
  source: 'Sun et al., ICML 2022; OpenOOD KNNPostprocessor',
  needs: ['pooled'],
  fitNeeds: ['pooled'],
  params: { k: { default: 50, min: 1, max: 1_000_000, integer: true, doc: 'which nearest neighbour (k-th; at most the ID-train rows)' } },
  fit: () => knnFitter(),
  checkState: checkKnnState,
  score(batch, ctx) {
    const z = requirePooled(batch, 'knn');
    const { bank, rows, c, bankNorms } = ctx.state;
    const k = ctx.params.k;
    if (k > rows) throw new NapoodError('knn:k', `k ≤ the number of ID-train rows (${rows})`, String(k));
    if (z.c !== c) throw new NapoodError('knn', `pooled features with ${c} channels (as its fitted state: --fit or --state)`, `${z.c}`);
    const dist = kthNearestDistance(l2Normalize(z.data, batch.n, c), batch.n, bank, rows, c, k, { bankNorms });
    for (let i = 0; i < dist.length; i++) dist[i] = -dist[i];
    return dist;
  },
};
