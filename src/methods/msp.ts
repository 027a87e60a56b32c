/**
 * MSP — maximum softmax probability (Hendrycks & Gimpel, "A Baseline for Detecting Misclassified
 * and Out-of-Distribution Examples", ICLR 2017).
 *
 *   S_MSP(x) = max_k softmax(f(x) / T)_k
 *
 * Needs: logits. Defaults: T = 1.
 */
import type { MethodDefinition } from '../types.js';
import { TEMPERATURE_RANGE, maxSoftmaxRows } from './common.js';
import { requireLogits } from './needs.js';

export const msp: MethodDefinition<undefined> = {
  name: 'msp',
  summary: 'maximum softmax probability of f/T',
  source: 'Hendrycks & Gimpel, ICLR 2017',
  needs: ['logits'],
  params: { t: { default: 1, ...TEMPERATURE_RANGE, doc: 'temperature T' } },
  score(batch, ctx) {
    const f = requireLogits(batch, 'msp');
    return maxSoftmaxRows(f.data, batch.n, f.k, ctx.params.t);
  },
};
