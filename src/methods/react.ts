/**
 * ReAct — rectified activations (Sun, Guo & Li, "ReAct: Out-of-distribution Detection With
 * Rectified Activations", NeurIPS 2021).
 *
 *   c = p-th percentile of all ID-train values of z (numpy linear interpolation)
 *   S_ReAct(x) = logsumexp(head(min(z, c)))
 *
 * Needs: pooled z, head; fit: ID-train pooled z. Defaults: p = 90.
 * The fit is exact with bounded memory: two streaming passes over the training features
 * (a histogram of the float32 bit patterns, then the exact values inside the needed bins).
 */
import { StreamingPercentile } from '../math/percentile.js';
import type { FeatureBatch, Fitter, MethodDefinition, ScoreContext, StateCheckContext, StateProblem } from '../types.js';
import { StateChecker } from './state-check.js';
import { logSumExpRows } from './common.js';
import { requireHead, requirePooled } from './needs.js';

export interface ReactState {
  /** Clipping threshold c. */
  readonly threshold: number;
  /** Percentile it was taken at, and over how many values. */
  readonly percentile: number;
  readonly count: number;
}

export function clipKernel(z: Float32Array, threshold: number): Float32Array {
  const out = new Float32Array(z.length);
  for (let j = 0; j < z.length; j++) out[j] = z[j] < threshold ? z[j] : threshold;
  return out;
}

export function reactFitter(p: number): Fitter<ReactState> {
  const stream = new StreamingPercentile(p);
  let count = 0;
  return {
    passes: 2,
    update(batch, pass) {
      const z = requirePooled(batch, 'react (fit)');
      if (pass === 0) { stream.observePass1(z.data); count += z.data.length; } else stream.observePass2(z.data);
    },
    endPass(pass) { if (pass === 0) stream.endPass1(); },
    finish: () => ({ threshold: stream.result(), percentile: p, count }),
  };
}

export async function reactLogits(batch: FeatureBatch, head: ScoreContext['head'], threshold: number, name: string): Promise<Float32Array> {
  const z = requirePooled(batch, name);
  return requireHead(head, name).forward(clipKernel(z.data, threshold), batch.n);
}

/** A loaded react state: a finite threshold, taken at the spec's percentile. */
export function checkReactState(state: unknown, ctx: StateCheckContext): StateProblem | undefined {
  const s = new StateChecker('react', state);
  s.finite('threshold');
  s.optionalEquals('percentile', ctx.params.p, `react:p=${ctx.params.p}`);
  return s.problem;
}

export const react: MethodDefinition<ReactState> = {
  name: 'react',
  summary: 'energy of the head after clipping z at the p-th percentile of ID-train activations',
  source: 'Sun et al., NeurIPS 2021',
  needs: ['pooled', 'head'],
  fitNeeds: ['pooled'],
  params: { p: { default: 90, min: 0, max: 100, doc: 'percentile of ID-train activations used as the clip' } },
  fit: (params) => reactFitter(params.p),
  checkState: checkReactState,
  async score(batch, ctx) {
    const logits = await reactLogits(batch, ctx.head, ctx.state.threshold, 'react');
    ctx.onLogits?.(logits);
    return logSumExpRows(logits, batch.n, ctx.head!.k);
  },
  changesLogits: true,
};
