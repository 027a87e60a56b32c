/**
 * Multi-layer NAP (paper Table 7): NAP at named layers of the network, combined by the geometric
 * mean of the per-layer scores,
 *
 *   S(x) = ( Π_l S_NAP^(l)(x) )^(1/L)        (computed as exp of the mean of ln S_NAP^(l))
 *
 * The paper reports NAP at several layers and their combination but does not state the rule; the
 * geometric mean is napood's choice (it is what NAP-X uses to combine scores, and it is invariant
 * to the scale of each layer's score). Written `nap[LAYER]` or `nap[L1+L2+…]` with the tensor
 * names `napood inspect` lists; every layer's map comes from the same forward pass (or dump).
 * A layer score of 0 makes the combination 0 (ranked most OOD). Higher = more in-distribution.
 */
import { NapoodError } from '../errors.js';
import type { FeatureBatch, ScoreContext } from '../types.js';
import { napKernel, type NapStats } from './nap.js';

/** NAP of every row of `batch` at each of `layers`, combined by the geometric mean. */
export function napLayersScore(batch: FeatureBatch, ctx: ScoreContext<undefined>, layers: readonly string[]): Float64Array {
  const n = batch.n;
  const logSum = new Float64Array(n);
  const one = new Float64Array(n);
  const stats: NapStats = { negatives: 0 };
  for (const layer of layers) {
    const fm = batch.featureMaps?.[layer];
    if (!fm) throw new NapoodError(`nap[${layers.join('+')}]`, `the feature map of layer ${JSON.stringify(layer)} in every batch`, Object.keys(batch.featureMaps ?? {}).length ? `only ${Object.keys(batch.featureMaps ?? {}).map((k) => JSON.stringify(k)).join(', ')}` : 'no named layers in the batch');
    napKernel(fm.data, n, fm.c, fm.h * fm.w, ctx.params.eps, ctx.params.p, one, stats);
    for (let i = 0; i < n; i++) logSum[i] += Math.log(one[i]);
  }
  if (stats.negatives > 0) ctx.diagnostics.negativeActivations = (ctx.diagnostics.negativeActivations ?? 0) + stats.negatives;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(logSum[i] / layers.length);
  return out;
}
