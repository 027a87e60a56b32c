/**
 * NAP-X — NAP combined with another score by a weighted geometric mean (arXiv 2402.18162, §3.3;
 * napood SPEC §3):
 *
 *   S_NAP-X(x) = S_X(x)^w · S_NAP(x)^(1−w),  computed as exp(w·ln S_X + (1−w)·ln S_NAP)
 *
 * X is an energy-type score of the original or modified network: NAP-E (energy), NAP-R (ReAct),
 * NAP-A (ASH-S), NAP-D (DICE), NAP-M (MSP). w = 0 is NAP alone and w = 1 is X alone (returned
 * as they are). Otherwise S_X ≤ 0 has no real power: such a sample gets 0 (ranked most OOD) and is
 * counted in the diagnostics (`nonPositiveX`), so a run can report how many ID samples it hit.
 *
 * Parameters: w, X's own parameters under their own names (`nap-r:p=90` is ReAct's percentile),
 * and `nap_eps`, `nap_p` for NAP. Default w: the paper's ImageNet values (Energy 0.6, ASH 0.8,
 * ReAct 0.8, DICE 0.6, MSP 0.3); CIFAR-10 / CIFAR-100 values are listed in SPEC §3.
 */
import type { MethodDefinition, ParamSpec, Params, ScoreContext } from '../types.js';
import { ashS } from './ash.js';
import { dice } from './dice.js';
import { energy } from './energy.js';
import { msp } from './msp.js';
import { nap, napKernel } from './nap.js';
import { requireFeatureMap } from './needs.js';
import { react } from './react.js';

/** Pure kernel: weighted geometric mean with the S_X ≤ 0 rule; returns how many rows hit it. */
export function geometricBlend(sx: Float64Array, snap: Float64Array, w: number, out = new Float64Array(sx.length)): { scores: Float64Array; nonPositiveX: number } {
  let nonPositiveX = 0;
  if (w === 0) { out.set(snap); return { scores: out, nonPositiveX }; }
  if (w === 1) { out.set(sx); return { scores: out, nonPositiveX }; }
  for (let i = 0; i < sx.length; i++) {
    if (!(sx[i] > 0)) { out[i] = 0; nonPositiveX++; continue; }
    out[i] = Math.exp(w * Math.log(sx[i]) + (1 - w) * Math.log(snap[i]));
  }
  return { scores: out, nonPositiveX };
}

function innerParams(params: Params, inner: MethodDefinition<any>): Params {
  const out: Record<string, number> = {};
  for (const key of Object.keys(inner.params)) out[key] = params[key];
  return out;
}

function makeNapX(name: string, inner: MethodDefinition<any>, defaultW: number, label: string): MethodDefinition<unknown> {
  const params: Record<string, ParamSpec> = {
    w: { default: defaultW, min: 0, max: 1, doc: `weight of ${label} in the geometric mean (0 = NAP alone, 1 = ${label} alone)` },
    ...inner.params,
    nap_eps: { ...nap.params.eps, doc: 'NAP ε' },
    nap_p: { ...nap.params.p, doc: 'NAP exponent p' },
  };
  const needs = [...new Set([...inner.needs, 'featureMap' as const])];
  const innerContext = (ctx: ScoreContext<unknown>): ScoreContext<any> => ({
    params: innerParams(ctx.params, inner), state: ctx.state, head: ctx.head, diagnostics: ctx.diagnostics, onLogits: ctx.onLogits,
  });
  return {
    name,
    summary: `NAP × ${label}: S_${label}^w · S_NAP^(1−w)`,
    source: `arXiv 2402.18162 §3.3 (NAP) with ${inner.source}`,
    needs,
    fitNeeds: inner.fitNeeds,
    params,
    fit: inner.fit ? (p, head) => inner.fit!(innerParams(p, inner), head) : undefined,
    checkState: inner.checkState ? (state, c) => inner.checkState!(state, { ...c, params: innerParams(c.params, inner) }) : undefined,
    async score(batch, ctx) {
      const fm = requireFeatureMap(batch, name);
      const snap = napKernel(fm.data, batch.n, fm.c, fm.h * fm.w, ctx.params.nap_eps, ctx.params.nap_p);
      const sx = await inner.score(batch, innerContext(ctx));
      const { scores, nonPositiveX } = geometricBlend(sx, snap, ctx.params.w);
      if (nonPositiveX > 0) ctx.diagnostics.nonPositiveX = (ctx.diagnostics.nonPositiveX ?? 0) + nonPositiveX;
      return scores;
    },
    changesLogits: inner.changesLogits,
  };
}

export const napE = makeNapX('nap-e', energy, 0.6, 'Energy');
export const napR = makeNapX('nap-r', react, 0.8, 'ReAct');
export const napA = makeNapX('nap-a', ashS, 0.8, 'ASH-S');
export const napD = makeNapX('nap-d', dice, 0.6, 'DICE');
export const napM = makeNapX('nap-m', msp, 0.3, 'MSP');

/** The X of each NAP-X: the method whose score S_X is blended with S_NAP (sweeps reuse both). */
export const NAPX_INNER: Readonly<Record<string, string>> = Object.freeze({ 'nap-e': 'energy', 'nap-r': 'react', 'nap-a': 'ash-s', 'nap-d': 'dice', 'nap-m': 'msp' });
