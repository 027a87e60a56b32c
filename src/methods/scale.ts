/**
 * SCALE (Xu et al., "Scaling for Training Time and Post-hoc Out-of-distribution Detection
 * Enhancement", ICLR 2024; OpenOOD's ScalePostprocessor), applied to the pooled vector z.
 *
 *   k = C − round(C·p/100),  s1 = Σ_c z_c,  s2 = sum of the k largest z_c
 *   z' = z · exp(s1 / s2)   (nothing is pruned; s2 = 0 → factor 1)
 *   S_SCALE(x) = logsumexp(head(z'))
 *
 * Needs: pooled z, head. Defaults: p = 85 (OpenOOD's setting).
 */
import type { FeatureBatch, MethodDefinition, ScoreContext } from '../types.js';
import { SHAPING_PERCENTILE_RANGE, keptCount } from './ash.js';
import { logSumExpRows, topKMask } from './common.js';
import { requireHead, requirePooled } from './needs.js';

export function scaleKernel(z: Float32Array, n: number, c: number, p: number): Float32Array {
  const out = new Float32Array(n * c);
  const k = keptCount(c, p);
  const mask = new Uint8Array(c);
  const scratch = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * c, (i + 1) * c);
    topKMask(row, k, mask, scratch);
    let s1 = 0, s2 = 0;
    for (let j = 0; j < c; j++) { s1 += row[j]; if (mask[j]) s2 += row[j]; }
    const factor = s2 !== 0 ? Math.exp(s1 / s2) : 1;
    for (let j = 0; j < c; j++) out[i * c + j] = row[j] * factor;
  }
  return out;
}

async function scaledLogits(batch: FeatureBatch, ctx: ScoreContext<undefined>): Promise<Float32Array> {
  const z = requirePooled(batch, 'scale');
  const head = requireHead(ctx.head, 'scale');
  return head.forward(scaleKernel(z.data, batch.n, z.c, ctx.params.p), batch.n);
}

export const scale: MethodDefinition<undefined> = {
  name: 'scale',
  summary: 'scale z by exp(sum / top-k sum), then energy of the head',
  source: 'Xu et al., ICLR 2024; OpenOOD ScalePostprocessor',
  needs: ['pooled', 'head'],
  params: { p: { default: 85, ...SHAPING_PERCENTILE_RANGE, doc: 'percentile that sets the top-k' } },
  async score(batch, ctx) {
    const logits = await scaledLogits(batch, ctx);
    ctx.onLogits?.(logits);
    return logSumExpRows(logits, batch.n, ctx.head!.k);
  },
  changesLogits: true,
};
