/**
 * ViM — virtual-logit matching (Wang et al., "ViM: Out-Of-Distribution with Virtual-logit
 * Matching", CVPR 2022; the authors' repository).
 *
 *   u = −pinv(W) b;  X = z − u;  Σ = (1/N) XᵀX over ID-train (centred at u);
 *   NS = eigenvectors of Σ beyond the `dim` largest eigenvalues (the residual space)
 *   α = mean_train(max_k f_k) / mean_train(‖X NS‖)
 *   S_ViM(x) = −α ‖(z − u) NS‖ + logsumexp(W z + b)
 *
 * Needs: pooled z, linear head; fit: ID-train pooled z (two streaming passes: Σ, then α).
 * Defaults: dim = 0 means the repository's rule (1000 if C ≥ 2048, 512 if C ≥ 768, else C/2).
 * Logits are W z + b from the head (as in the repository), not the dump's logits.
 */
import { NapoodError } from '../errors.js';
import { covarianceAccumulator } from '../math/covariance.js';
import { symmetricEigen } from '../math/eigen.js';
import { pinv } from '../math/linalg.js';
import type { Fitter, LinearHead, MethodDefinition, StateCheckContext, StateProblem } from '../types.js';
import { StateChecker } from './state-check.js';
import { linearForward, logSumExpRows, maxRows } from './common.js';
import { requireLinearHead, requirePooled } from './needs.js';

export interface VimState {
  readonly c: number;
  readonly dim: number;
  /** Origin u (C). */
  readonly origin: Float64Array;
  /** Residual basis NS, C × (C − dim), row-major. */
  readonly residualBasis: Float64Array;
  readonly alpha: number;
}

export function vimDimension(c: number, dim: number): number {
  const d = dim > 0 ? dim : c >= 2048 ? 1000 : c >= 768 ? 512 : Math.floor(c / 2);
  if (d >= c) throw new NapoodError('vim:dim', `a principal dimension below the feature size C = ${c}`, String(d));
  return d;
}

/** ‖(z − u) NS‖ per row. */
export function residualNorms(z: Float32Array, n: number, c: number, origin: Float64Array, basis: Float64Array, width: number): Float64Array {
  const out = new Float64Array(n);
  const x = new Float64Array(c);
  const proj = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < c; a++) x[a] = z[i * c + a] - origin[a];
    proj.fill(0);
    for (let a = 0; a < c; a++) {
      const xa = x[a];
      const row = a * width;
      for (let j = 0; j < width; j++) proj[j] += xa * basis[row + j];
    }
    let s = 0;
    for (let j = 0; j < width; j++) s += proj[j] * proj[j];
    out[i] = Math.sqrt(s);
  }
  return out;
}

export function vimFitter(dimParam: number, head: LinearHead): Fitter<VimState> {
  const { c, k } = head;
  const dim = vimDimension(c, dimParam);
  const width = c - dim;
  const pw = pinv(head.weight, k, c); // C × K
  const origin = new Float64Array(c);
  for (let a = 0; a < c; a++) {
    let s = 0;
    for (let r = 0; r < k; r++) s += pw[a * k + r] * head.bias[r];
    origin[a] = -s;
  }
  const acc = covarianceAccumulator(c);
  let basis = new Float64Array(0);
  let rows = 0, sumMaxLogit = 0, sumNorm = 0;
  return {
    passes: 2,
    update(batch, pass) {
      const z = requirePooled(batch, 'vim (fit)');
      if (z.c !== c) throw new NapoodError('--fit', `pooled features with ${c} channels (the head's)`, `${z.c}`);
      if (pass === 0) {
        acc.update(z.data, batch.n);
        rows += batch.n;
      } else {
        const logits = linearForward(z.data, batch.n, c, head.weight, head.bias, k);
        const maxLogit = maxRows(logits, batch.n, k);
        const norms = residualNorms(z.data, batch.n, c, origin, basis, width);
        for (let i = 0; i < batch.n; i++) { sumMaxLogit += maxLogit[i]; sumNorm += norms[i]; }
      }
    },
    endPass(pass) {
      if (pass !== 0) return;
      const cov = acc.finish(origin); // (1/N) Σ (z − u)(z − u)ᵀ
      const { vectors } = symmetricEigen(cov, c); // ascending eigenvalues: the residual space is the first c − dim columns
      basis = new Float64Array(c * width);
      for (let a = 0; a < c; a++) for (let j = 0; j < width; j++) basis[a * width + j] = vectors[a * c + j];
    },
    finish() {
      if (rows === 0) throw new NapoodError('--fit', 'ID-train rows for vim', 'none');
      const alpha = sumMaxLogit / rows / (sumNorm / rows);
      if (!Number.isFinite(alpha)) {
        // Every ID-train row lies in the principal space (or the features are not finite): the
        // residual norm, α's denominator, is 0, and every score would be NaN or −∞.
        throw new NapoodError('--fit', `ID-train features with a residual outside the ${dim}-dimensional principal space (vim:dim below their rank)`, `a mean residual norm of ${sumNorm / rows} and a mean max logit of ${sumMaxLogit / rows} (α = ${alpha})`);
      }
      return { c, dim, origin, residualBasis: basis, alpha };
    },
  };
}

/** A loaded vim state: C (the linear head's), dim as the parameters give it, u (C), NS (C × (C − dim)), α. */
export function checkVimState(state: unknown, ctx: StateCheckContext): StateProblem | undefined {
  const s = new StateChecker('vim', state);
  const c = s.integer('c', 2);
  const lin = ctx.head?.linear;
  if (!s.problem && lin && lin.c !== c) s.fail(`a state fitted with a linear head of ${lin.c} channels (the run's head)`, `a state of ${c} channels`);
  s.channels(c, ctx);
  const dim = s.integer('dim', 1, Number.isNaN(c) ? 1 : c - 1);
  if (!s.problem) {
    let want: number | undefined;
    try { want = vimDimension(c, ctx.params.dim); } catch { want = undefined; }
    if (want !== dim) s.fail(`"dim" ${want ?? `below C = ${c}`} (vim:dim=${ctx.params.dim} for C = ${c})`, `${dim}`);
  }
  s.typed('origin', Float64Array, c, `C = ${c}`);
  s.typed('residualBasis', Float64Array, c * (c - dim), `C × (C − dim) = ${c} × ${c - dim}`);
  s.finite('alpha');
  return s.problem;
}

export const vim: MethodDefinition<VimState> = {
  name: 'vim',
  summary: 'energy minus α × the norm of z in the residual space of ID-train features',
  source: 'Wang et al., CVPR 2022',
  needs: ['pooled', 'linearHead'],
  fitNeeds: ['pooled'],
  params: { dim: { default: 0, min: 0, max: 1_000_000, integer: true, doc: 'principal-space dimension (0 = auto: the repository\'s rule; below C)', defaultText: 'auto' } },
  fit: (params, head) => vimFitter(params.dim, requireLinearHead(head, 'vim')),
  checkState: checkVimState,
  score(batch, ctx) {
    const z = requirePooled(batch, 'vim');
    const head = requireLinearHead(ctx.head, 'vim');
    const { c, dim, origin, residualBasis, alpha } = ctx.state;
    if (z.c !== c) throw new NapoodError('vim', `pooled features with ${c} channels (as its fitted state: --fit or --state)`, `${z.c}`);
    if (head.c !== c) throw new NapoodError('vim', `a linear head of ${c} channels (as its fitted state: --fit or --state)`, `${head.c}`);
    const energy = logSumExpRows(linearForward(z.data, batch.n, c, head.weight, head.bias, head.k), batch.n, head.k);
    const norms = residualNorms(z.data, batch.n, c, origin, residualBasis, c - dim);
    for (let i = 0; i < batch.n; i++) energy[i] -= alpha * norms[i];
    return energy;
  },
};
