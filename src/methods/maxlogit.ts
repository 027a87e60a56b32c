/**
 * MaxLogit (Hendrycks et al., "Scaling Out-of-Distribution Detection for Real-World Settings",
 * ICML 2022).
 *
 *   S(x) = max_k f_k(x)
 *
 * Needs: logits. No parameters.
 */
import type { MethodDefinition } from '../types.js';
import { maxRows } from './common.js';
import { requireLogits } from './needs.js';

export const maxlogit: MethodDefinition<undefined> = {
  name: 'maxlogit',
  summary: 'largest logit',
  source: 'Hendrycks et al., ICML 2022',
  needs: ['logits'],
  params: {},
  score(batch) {
    const f = requireLogits(batch, 'maxlogit');
    return maxRows(f.data, batch.n, f.k);
  },
};
