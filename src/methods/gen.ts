/**
 * GEN — generalized entropy (Liu, Lochman & Zach, "GEN: Pushing the Limits of Softmax-Based
 * Out-of-Distribution Detection", CVPR 2023; OpenOOD's GENPostprocessor).
 *
 *   S_GEN(x) = − Σ_{j ∈ top-M} p_j^γ (1 − p_j)^γ,   p = softmax(f(x)),
 *
 * over the M largest probabilities (all K when M ≥ K). Needs: logits. Defaults: γ = 0.1, M = 100.
 */
import type { MethodDefinition } from '../types.js';
import { selectKthLargest, softmaxRows } from './common.js';
import { requireLogits } from './needs.js';

export function genKernel(logits: Float32Array, n: number, k: number, gamma: number, m: number): Float64Array {
  const probs = softmaxRows(logits, n, k);
  const out = new Float64Array(n);
  const top = Math.min(m, k);
  const scratch = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const row = probs.subarray(i * k, (i + 1) * k);
    let sum = 0;
    if (top === k) {
      for (let j = 0; j < k; j++) sum += Math.pow(row[j], gamma) * Math.pow(1 - row[j], gamma);
    } else {
      scratch.set(row);
      const threshold = selectKthLargest(scratch, k, top);
      let taken = 0;
      for (let j = 0; j < k; j++) if (row[j] > threshold) { sum += Math.pow(row[j], gamma) * Math.pow(1 - row[j], gamma); taken++; }
      // Values equal to the threshold fill the remaining places (equal values give equal terms).
      sum += (top - taken) * Math.pow(threshold, gamma) * Math.pow(1 - threshold, gamma);
    }
    out[i] = -sum;
  }
  return out;
}

export const gen: MethodDefinition<undefined> = {
  name: 'gen',
  summary: 'negative generalized entropy of the M largest softmax probabilities',
  source: 'Liu et al., CVPR 2023; OpenOOD GENPostprocessor',
  needs: ['logits'],
  params: {
    // γ → 0 counts the non-zero probabilities, γ ≫ 1 underflows every term to 0 (all scores tie).
    gamma: { default: 0.1, min: 1e-3, max: 10, doc: 'exponent γ' },
    m: { default: 100, min: 1, max: 1_000_000, integer: true, doc: 'number M of largest probabilities used' },
  },
  score(batch, ctx) {
    const f = requireLogits(batch, 'gen');
    return genKernel(f.data, batch.n, f.k, ctx.params.gamma, ctx.params.m);
  },
};
