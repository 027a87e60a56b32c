/**
 * The data behind the report's figures, from one model's pass (compute.ts) and tables
 * (analyse.ts): plain arrays of records, small enough to inline (scatter plots use the seeded
 * sample of rows that the collector kept; ROC curves keep their corners, thinned to at most 200 points).
 */
import { auroc } from '../../metrics/binary.js';
import { parseMethodSpec } from '../../run/spec.js';
import type { ModelResult } from './analyse.js';
import { scoresOf, specKey, type ModelScores, type SetScores } from './compute.js';

export type Row = Record<string, string | number | boolean>;

export interface FigureData {
  readonly prior: { readonly rows: Row[]; readonly channel: number; readonly channelAuroc: number };
  readonly energyNap: Row[];
  readonly pareto: Row[];
  readonly depths: { readonly rows: Row[]; readonly layers: readonly string[] };
  readonly wCurves: Row[];
  readonly roc: readonly { readonly set: string; readonly rows: Row[] }[];
  readonly hist: readonly { readonly set: string; readonly rows: Row[] }[];
}

const setLabel = (s: SetScores, isId: boolean) => (isId ? `ID (${s.name})` : s.name);

function allSets(model: ModelScores): { s: SetScores; isId: boolean }[] {
  return [{ s: model.id, isId: true }, ...model.oods.map((s) => ({ s, isId: false }))];
}

/** Figure 1: the channel whose max/(mean+1) separates sampled ID from sampled OOD rows best (on the test sets: illustrative only). */
function priorRows(model: ModelScores): FigureData['prior'] {
  const id = model.id.collector.sample;
  const ood = model.oods.map((o) => o.collector.sample);
  const c = id.channelMax[0]?.length ?? 0;
  let best = 0;
  let bestAuc = -1;
  for (let ch = 0; ch < c; ch++) {
    const ratio = (smp: typeof id) => Float64Array.from(smp.rows, (_, k) => smp.channelMax[k][ch] / (smp.channelMean[k][ch] + 1));
    const a = ratio(id);
    const b = ood.map(ratio);
    const all = new Float64Array(b.reduce((n, x) => n + x.length, 0));
    let off = 0;
    for (const x of b) { all.set(x, off); off += x.length; }
    if (a.length === 0 || all.length === 0) break;
    const auc = auroc(a, all);
    if (auc > bestAuc) { bestAuc = auc; best = ch; }
  }
  const rows: Row[] = [];
  for (const { s, isId } of allSets(model)) {
    const smp = s.collector.sample;
    const last = smp.layerMax.length - 1;
    smp.rows.forEach((_, k) => {
      rows.push({ set: setLabel(s, isId), id: isId, panel: `channel ${best} (chosen on the test sets: illustrative)`, mean: smp.channelMean[k][best], max: smp.channelMax[k][best] });
      rows.push({ set: setLabel(s, isId), id: isId, panel: 'average over channels', mean: smp.layerMean[last][k], max: smp.layerMax[last][k] });
    });
  }
  return { rows, channel: best, channelAuroc: bestAuc };
}

function findSpec(model: ModelScores, text: string) {
  const key = specKey(parseMethodSpec(text, 'methods'));
  return model.plan.all.find((s) => specKey(s) === key)!;
}

/** Figure 2: S_Energy against S_NAP per sampled row. */
function energyNapRows(model: ModelScores): Row[] {
  const energy = findSpec(model, 'energy');
  const nap = findSpec(model, 'nap');
  const rows: Row[] = [];
  for (const { s, isId } of allSets(model)) {
    const e = scoresOf(model, s, energy);
    const n = scoresOf(model, s, nap);
    for (const r of s.collector.sample.rows) rows.push({ set: setLabel(s, isId), energy: e[r], nap: n[r] });
  }
  return rows;
}

/** Figure 3: ID accuracy against average AUROC; `front` marks the methods no other beats on both. */
function paretoRows(result: ModelResult, baseAccuracy: number | undefined): Row[] {
  if (baseAccuracy === undefined) return [];
  const pts = result.tables.main.methods.map((m) => ({ method: m.method, accuracy: m.id_accuracy ?? baseAccuracy, auroc: m.average.auroc }));
  return pts.filter((p) => Number.isFinite(p.auroc)).map((p, _, all) => ({
    ...p,
    front: !all.some((q) => q !== p && q.accuracy >= p.accuracy && q.auroc >= p.auroc && (q.accuracy > p.accuracy || q.auroc > p.auroc)),
  }));
}

/** Figure 5: channel-averaged max and mean at four depths (evenly spaced among the chosen layers, the last being the feature map). */
function depthRows(model: ModelScores, result: ModelResult): FigureData['depths'] {
  const count = model.id.collector.layers.length;
  const pick = count <= 4 ? Array.from({ length: count }, (_, i) => i) : [0, 1, 2, 3].map((k) => Math.round((k * (count - 1)) / 3));
  const labels = pick.map((l) => `${result.tables.layerInfo[l].label}${l === count - 1 ? ' (penultimate)' : ''}`);
  const rows: Row[] = [];
  for (const { s, isId } of allSets(model)) {
    const smp = s.collector.sample;
    pick.forEach((l, k) => smp.rows.forEach((_, j) => rows.push({ set: setLabel(s, isId), layer: labels[k], mean: smp.layerMean[l][j], max: smp.layerMax[l][j] })));
  }
  return { rows, layers: labels };
}

function wCurveRows(result: ModelResult): Row[] {
  return result.tables.wSweeps.flatMap((s) => s.report.methods.map((m, k) => ({
    method: s.method.split(':')[0], w: s.grid[k], fpr95: m.average.fpr95, auroc: m.average.auroc, configured: s.grid[k] === s.w,
  })));
}

/** ROC (ID positive: TPR = share of ID accepted, FPR = share of OOD accepted): its corners (no point inside a vertical or horizontal run), thinned to ≤ 200 points. */
export function rocPoints(id: Float64Array, ood: Float64Array, max = 200): { fpr: number; tpr: number }[] {
  const a = new Float64Array(id).sort().reverse();
  const b = new Float64Array(ood).sort().reverse();
  const pts = [{ fpr: 0, tpr: 0 }];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const t = j >= b.length || (i < a.length && a[i] >= b[j]) ? a[i] : b[j];
    while (i < a.length && a[i] === t) i++;
    while (j < b.length && b[j] === t) j++;
    const p = { fpr: j / b.length, tpr: i / a.length };
    // A point inside a vertical or horizontal run changes nothing in the drawn curve: replace it.
    const q = pts[pts.length - 1], r = pts[pts.length - 2];
    if (r && ((r.fpr === q.fpr && q.fpr === p.fpr) || (r.tpr === q.tpr && q.tpr === p.tpr))) pts[pts.length - 1] = p;
    else pts.push(p);
  }
  if (pts.length <= max) return pts;
  const step = (pts.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => pts[Math.round(k * step)]);
}

function histRows(name: string, id: Float64Array, ood: Float64Array, idLabel: string, oodLabel: string, bins = 30): Row[] {
  const all = Float64Array.from([...id, ...ood].filter(Number.isFinite)).sort();
  if (all.length === 0) return [];
  const lo = all[Math.floor(0.005 * (all.length - 1))];
  const hi = all[Math.ceil(0.995 * (all.length - 1))];
  const width = hi > lo ? (hi - lo) / bins : 1;
  const rows: Row[] = [];
  for (const [label, v] of [[idLabel, id], [oodLabel, ood]] as const) {
    const counts = new Float64Array(bins);
    for (const x of v) if (Number.isFinite(x)) counts[Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / width)))]++;
    counts.forEach((c, k) => rows.push({ method: name, set: label, start: lo + k * width, end: lo + (k + 1) * width, share: c / v.length }));
  }
  return rows;
}

export function figureData(model: ModelScores, result: ModelResult): FigureData {
  const base = model.id.run.accuracy;
  const mainSpecs = model.plan.methods;
  const roc = model.oods.map((o) => ({
    set: o.name,
    rows: mainSpecs.flatMap((spec) => rocPoints(scoresOf(model, model.id, spec), scoresOf(model, o, spec)).map((p) => ({ method: spec.text, ...p }))),
  }));
  const hist = model.oods.map((o) => ({
    set: o.name,
    rows: mainSpecs.flatMap((spec) => histRows(spec.text, scoresOf(model, model.id, spec), scoresOf(model, o, spec), `ID (${model.id.name})`, o.name)),
  }));
  return {
    prior: priorRows(model), energyNap: energyNapRows(model),
    pareto: paretoRows(result, base && base.total > 0 ? (100 * base.correct) / base.total : undefined),
    depths: depthRows(model, result), wCurves: wCurveRows(result), roc, hist,
  };
}
