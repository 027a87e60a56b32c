/**
 * ODIN (Liang et al., "Enhancing the Reliability of Out-of-distribution Image Detection in Neural
 * Networks", ICLR 2018).
 *
 *   x' = x − η · sign(−∇ₓ log softmax_ŷ(f(x)/T))   (gradient scaled per input channel by 1/std)
 *   S_ODIN(x) = max_k softmax(f(x') / T)_k
 *
 * Needs: logits; the input perturbation (η > 0) also needs the model's input gradient, which only
 * the model adapter can give (ctx.model, over batch.input: see onnx/odin.ts for the gradient). On
 * feature dumps only the temperature part runs, and the user must ask for it explicitly with
 * `odin:noise=0` — napood never silently drops the perturbation.
 * Defaults: T = 1000, η = 0.0014.
 */
import { NapoodError } from '../errors.js';
import type { MethodDefinition } from '../types.js';
import { TEMPERATURE_RANGE, maxSoftmaxRows } from './common.js';
import { requireLogits } from './needs.js';

export const odin: MethodDefinition<undefined> = {
  name: 'odin',
  summary: 'max softmax(f(x′)/T) of a gradient-perturbed input; temperature part alone with noise=0',
  source: 'Liang et al., ICLR 2018',
  needs: ['logits'],
  params: {
    t: { default: 1000, ...TEMPERATURE_RANGE, doc: 'temperature T' },
    // η moves normalised inputs (the paper's grid: 0 … 0.004); above 1 the input is no longer the image.
    noise: { default: 0.0014, min: 0, max: 1, doc: 'input perturbation magnitude η (needs a model; 0 on feature dumps)' },
  },
  needsFor: (params) => (params.noise !== 0 ? ['logits', 'model'] : ['logits']),
  score(batch, ctx) {
    if (ctx.params.noise !== 0) {
      if (ctx.model && batch.input) return ctx.model.odinScores(batch.input, batch.n, ctx.params.t, ctx.params.noise);
      throw new NapoodError(
        'odin:noise',
        'noise=0 on feature dumps (the input perturbation needs the model\'s gradient: use --model), e.g. --methods odin:noise=0',
        `noise=${ctx.params.noise} without a model`,
      );
    }
    const f = requireLogits(batch, 'odin');
    return maxSoftmaxRows(f.data, batch.n, f.k, ctx.params.t);
  },
};
