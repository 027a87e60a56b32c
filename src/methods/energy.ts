/**
 * Energy score (Liu et al., "Energy-based Out-of-distribution Detection", NeurIPS 2020).
 *
 *   S_E(x) = T · log Σ_k exp(f_k(x) / T)      (the negative free energy; higher = ID)
 *
 * Needs: logits. Defaults: T = 1. Computed max-shifted in float64 (logits of ±1000 are exact).
 */
import type { MethodDefinition } from '../types.js';
import { TEMPERATURE_RANGE, logSumExpRows } from './common.js';
import { requireLogits } from './needs.js';

export const energy: MethodDefinition<undefined> = {
  name: 'energy',
  summary: 'T · logsumexp(f/T), the negative free energy',
  source: 'Liu et al., NeurIPS 2020',
  needs: ['logits'],
  params: { t: { default: 1, ...TEMPERATURE_RANGE, doc: 'temperature T' } },
  score(batch, ctx) {
    const f = requireLogits(batch, 'energy');
    return logSumExpRows(f.data, batch.n, f.k, ctx.params.t);
  },
};
