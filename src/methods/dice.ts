/**
 * DICE — directed sparsification (Sun & Li, "DICE: Leveraging Sparsification for
 * Out-of-Distribution Detection", ECCV 2022).
 *
 *   m = mean of ID-train z;  contrib_kj = m_j · W_kj;  M = contrib > p-th percentile of contrib
 *   S_DICE(x) = logsumexp((W ⊙ M) z + b)
 *
 * Needs: pooled z, a linear head; fit: ID-train pooled z (one streaming pass for the mean).
 * Defaults: p = 90.
 */
import { percentile } from '../math/percentile.js';
import { NapoodError } from '../errors.js';
import type { FeatureBatch, Fitter, LinearHead, MethodDefinition, ScoreContext, StateCheckContext, StateProblem } from '../types.js';
import { StateChecker } from './state-check.js';
import { linearForward, logSumExpRows } from './common.js';
import { requireLinearHead, requirePooled } from './needs.js';

export interface DiceState {
  /** Mean ID-train activation per channel (C). */
  readonly mean: Float64Array;
  readonly threshold: number;
  /** W ⊙ M, K×C. */
  readonly maskedWeight: Float32Array;
  readonly kept: number;
}

export function diceMask(head: LinearHead, mean: Float64Array, p: number): DiceState {
  const { k, c, weight } = head;
  const contrib = new Float64Array(k * c);
  for (let r = 0; r < k; r++) for (let j = 0; j < c; j++) contrib[r * c + j] = mean[j] * weight[r * c + j];
  const threshold = percentile(contrib, p);
  const maskedWeight = new Float32Array(k * c);
  let kept = 0;
  for (let i = 0; i < contrib.length; i++) if (contrib[i] > threshold) { maskedWeight[i] = weight[i]; kept++; }
  return { mean, threshold, maskedWeight, kept };
}

export function diceFitter(p: number, head: LinearHead): Fitter<DiceState> {
  const sum = new Float64Array(head.c);
  let rows = 0;
  return {
    passes: 1,
    update(batch) {
      const z = requirePooled(batch, 'dice (fit)');
      for (let i = 0; i < batch.n; i++) for (let j = 0; j < z.c; j++) sum[j] += z.data[i * z.c + j];
      rows += batch.n;
    },
    finish() {
      for (let j = 0; j < sum.length; j++) sum[j] /= rows;
      return diceMask(head, sum, p);
    },
  };
}

export function diceLogits(batch: FeatureBatch, ctx: ScoreContext<DiceState>, name: string): Float32Array {
  const z = requirePooled(batch, name);
  const head = requireLinearHead(ctx.head, name);
  const { maskedWeight, mean } = ctx.state;
  if (z.c !== head.c || mean.length !== head.c || maskedWeight.length !== head.k * head.c) {
    throw new NapoodError(name, `pooled features, a linear head and a fitted state (--fit or --state) of the same C (head [${head.k}, ${head.c}])`, `features of ${z.c} channels, a state of ${mean.length} channels and ${maskedWeight.length} masked weights`);
  }
  return linearForward(z.data, batch.n, z.c, maskedWeight, head.bias, head.k);
}

/** A loaded dice state: the mean (C), a finite threshold and the masked weight (K × C) of the run's linear head. */
export function checkDiceState(state: unknown, ctx: StateCheckContext): StateProblem | undefined {
  const s = new StateChecker('dice', state);
  const c = (state as { mean?: { length?: number } } | null)?.mean?.length ?? NaN;
  s.typed('mean', Float64Array, c, 'C');
  s.channels(c, ctx);
  s.finite('threshold');
  const lin = ctx.head?.linear;
  if (lin) {
    if (!s.problem && lin.c !== c) s.fail(`a state fitted with a linear head of ${lin.c} channels (the run's head)`, `a mean of ${c} channels`);
    s.typed('maskedWeight', Float32Array, lin.k * lin.c, `K × C = ${lin.k} × ${lin.c}`);
  } else {
    s.typed('maskedWeight', Float32Array, (state as { maskedWeight?: { length?: number } } | null)?.maskedWeight?.length ?? NaN, 'K × C');
  }
  s.integer('kept', 0);
  return s.problem;
}

export const dice: MethodDefinition<DiceState> = {
  name: 'dice',
  summary: 'energy of a linear head whose weights are masked to the largest contributions m ⊙ W',
  source: 'Sun & Li, ECCV 2022',
  needs: ['pooled', 'linearHead'],
  fitNeeds: ['pooled'],
  params: { p: { default: 90, min: 0, max: 100, doc: 'sparsity percentile of the contributions' } },
  fit: (params, head) => diceFitter(params.p, requireLinearHead(head, 'dice')),
  checkState: checkDiceState,
  score(batch, ctx) {
    const logits = diceLogits(batch, ctx, 'dice');
    ctx.onLogits?.(logits);
    return logSumExpRows(logits, batch.n, ctx.head!.k);
  },
  changesLogits: true,
};
