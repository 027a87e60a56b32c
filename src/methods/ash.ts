/**
 * ASH — activation shaping (Djurisic et al., "Extremely Simple Activation Shaping for
 * Out-of-Distribution Detection", ICLR 2023; functions ash_p / ash_b / ash_s of the authors'
 * repository, applied to the pooled vector z as OpenOOD does).
 *
 * Per sample over the C values of z, keep the k = C − round(C·p/100) largest (numpy rounding,
 * half to even; among equal values at the boundary the lower channel index is kept first):
 *   ASH-P: zero the rest.
 *   ASH-B: every kept value becomes s1/k (s1 = Σ z before pruning), the rest zero.
 *   ASH-S: zero the rest, then multiply by exp(s1/s2) (s2 = Σ z after pruning; s2 = 0 → factor 1).
 *   S_ASH(x) = logsumexp(head(z'))
 *
 * Needs: pooled z, head (any head: it is run on the shaped features). Defaults: p = 90 (the NAP
 * paper's CIFAR runs used ASH-S at p = 95). Changes the logits, so the ID accuracy is reported.
 */
import type { FeatureBatch, MethodDefinition, ScoreContext } from '../types.js';
import { logSumExpRows, roundHalfEven, topKMask } from './common.js';
import { requireHead, requirePooled } from './needs.js';

export type AshVariant = 'p' | 'b' | 's';

/**
 * The range of ASH's and SCALE's percentile: up to 99. At 100 nothing is kept (ASH scores every
 * sample the same); near it the few values kept make exp(s1/s2) overflow (float32 holds up to
 * e^88; with C = 2048 and p = 99.9, s1/s2 is ~C/2·mean/max ≈ 170 on ordinary features).
 */
export const SHAPING_PERCENTILE_RANGE = { min: 0, max: 99 } as const;

/** Number of values ASH and SCALE keep out of c at percentile p. */
export function keptCount(c: number, p: number): number {
  return c - roundHalfEven((c * p) / 100);
}

/** Pure kernel: shaped copy of the n×c features z. */
export function ashKernel(z: Float32Array, n: number, c: number, p: number, variant: AshVariant): Float32Array {
  const out = new Float32Array(n * c);
  const k = keptCount(c, p);
  const mask = new Uint8Array(c);
  const scratch = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * c, (i + 1) * c);
    topKMask(row, k, mask, scratch);
    let s1 = 0;
    for (let j = 0; j < c; j++) s1 += row[j];
    const base = i * c;
    if (variant === 'b') {
      const fill = k > 0 ? s1 / k : 0;
      for (let j = 0; j < c; j++) out[base + j] = mask[j] ? fill : 0;
      continue;
    }
    let s2 = 0;
    for (let j = 0; j < c; j++) if (mask[j]) s2 += row[j];
    const factor = variant === 's' && s2 !== 0 ? Math.exp(s1 / s2) : 1;
    for (let j = 0; j < c; j++) out[base + j] = mask[j] ? row[j] * factor : 0;
  }
  return out;
}

function makeAsh(variant: AshVariant): MethodDefinition<undefined> {
  const name = `ash-${variant}`;
  const shapedLogits = async (batch: FeatureBatch, ctx: ScoreContext<undefined>): Promise<Float32Array> => {
    const z = requirePooled(batch, name);
    const head = requireHead(ctx.head, name);
    return head.forward(ashKernel(z.data, batch.n, z.c, ctx.params.p, variant), batch.n);
  };
  const what = { p: 'prune all but the top-k', b: 'binarise the top-k to s1/k', s: 'prune and scale by exp(s1/s2)' }[variant];
  return {
    name,
    summary: `ASH-${variant.toUpperCase()}: ${what} of z, then energy of the head`,
    source: 'Djurisic et al., ICLR 2023 (ash_' + variant + ')',
    needs: ['pooled', 'head'],
    params: { p: { default: 90, ...SHAPING_PERCENTILE_RANGE, doc: 'pruning percentile' } },
    async score(batch, ctx) {
      const logits = await shapedLogits(batch, ctx);
      ctx.onLogits?.(logits);
      return logSumExpRows(logits, batch.n, ctx.head!.k);
    },
    changesLogits: true,
  };
}

export const ashP = makeAsh('p');
export const ashB = makeAsh('b');
export const ashS = makeAsh('s');
