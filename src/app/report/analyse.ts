/**
 * From the scores of one model's pass (compute.ts) to the report's numbers: the paper's tables as
 * EvalReports (app/report.ts: per OOD set FPR95 / AUROC / AUPR with bootstrap intervals, near /
 * far group averages, the average, ID accuracy), the w sweeps, NAP's (p, ε) grid, the percentile
 * sweeps, the layers, OpenOOD's reverse FPR, and the claims (claims.ts).
 *
 * Nothing here is tuned on the OOD test sets: every NAP-X row uses its configured w (the paper's
 * defaults), and the sweeps only describe how the metrics move with w, p, ε, the percentile and
 * the layer.
 */
import { buildReport } from '../evaluate.js';
import type { EvalReport } from '../report.js';
import { fprAt95OodRecall } from '../../metrics/reverse-fpr.js';
import type { FittedMethod, MethodResult, ScoreRun } from '../../run/pipeline.js';
import type { MethodSpec } from '../../run/spec.js';
import type { NapoodEvents } from '../../types.js';
import type { ReportConfig } from './config.js';
import { parseMethodSpec } from '../../run/spec.js';
import { accuracyOf, blendSweep, scoresOf, specKey, type ModelScores, type SetScores } from './compute.js';
import { claimsOf, type Claim } from './claims.js';
import type { TunedWTable } from './tuned.js';

/** One row of a table: a name, its scores on ID and on each OOD set. */
export interface ScoreRow {
  readonly text: string;
  readonly params: Readonly<Record<string, number>>;
  readonly id: Float64Array;
  readonly ood: readonly Float64Array[];
  readonly accuracy?: { correct: number; total: number };
  readonly diagnostics?: Readonly<Record<string, number>>;
}

export interface WSweep {
  readonly method: string;
  readonly inner: string;
  readonly nap: string;
  /** The configured w (the paper's), not chosen on the test sets. */
  readonly w: number;
  readonly grid: readonly number[];
  readonly report: EvalReport;
}

export interface ReverseFprRow {
  readonly method: string;
  /** OpenOOD v1.5 FPR@95 (ID FPR at 95 % OOD recall), percent, per OOD set. */
  readonly results: Record<string, number>;
  readonly groups: Record<string, number>;
  readonly average: number;
}

export interface LayerInfo {
  readonly label: string;
  readonly tensor: string;
  readonly penultimate: boolean;
}

export interface ModelTables {
  /** Tables 1 / 2: every configured method. */
  readonly main: EvalReport;
  /** Table 3: NAP alone against MSP and Energy. */
  readonly napAlone: EvalReport;
  /** Tables 5 / 6: X against NAP-X per OOD set (X with NAP-X's own parameters for X, e.g. ReAct's percentile). */
  readonly pairs: EvalReport;
  /** Tables 4 / 8 / 9: the w sweep of each NAP-X. */
  readonly wSweeps: readonly WSweep[];
  readonly napGrid: EvalReport;
  readonly percentile: readonly { readonly method: string; readonly report: EvalReport }[];
  /** Table 7: NAP at single layers and combined (geometric mean of the per-layer scores). */
  readonly layers: EvalReport;
  readonly layerInfo: readonly LayerInfo[];
  readonly reverseFpr: readonly ReverseFprRow[];
}

export interface ModelResult {
  readonly name: string;
  readonly model: string;
  readonly featureMap: string;
  readonly tables: ModelTables;
  readonly claims: readonly Claim[];
  /** |blend at the configured w − the NAP-X scored directly|, max over rows and sets (0: the sweep reuses the same scores exactly). */
  readonly consistency: Record<string, number>;
  readonly notes: readonly string[];
  /** Config `tune`: w tuned on ID-val vs pseudo-OOD against the paper's and the oracle's (tuned.ts). */
  readonly tunedW?: TunedWTable;
}

/** EvalReport of rows already scored (buildReport over a synthetic run). */
export function rowsReport(rows: readonly ScoreRow[], model: ModelScores, cfg: Pick<ReportConfig, 'bootstrap' | 'seed'>): EvalReport {
  const fitted: FittedMethod[] = rows.map((r) => ({ spec: { text: r.text, params: r.params } as MethodSpec, state: undefined }));
  const result = (r: ScoreRow, scores: Float64Array, withAcc: boolean): MethodResult => ({
    spec: { text: r.text, params: r.params } as MethodSpec, scores, diagnostics: { ...(withAcc ? r.diagnostics : {}) }, ...(withAcc && r.accuracy ? { accuracy: r.accuracy } : {}),
  });
  const idRun: ScoreRun = { n: model.id.run.n, results: rows.map((r) => result(r, r.id, true)), accuracy: model.id.run.accuracy };
  const oods = model.oods.map((o, s) => ({
    name: o.name, path: o.path, group: o.group,
    run: { n: o.run.n, results: rows.map((r) => result(r, r.ood[s], false)) } as ScoreRun,
  }));
  return buildReport(fitted, { path: model.id.path, run: idRun }, oods, { bootstrap: cfg.bootstrap, seed: cfg.seed, model: model.input.file });
}

/** A planned spec as a row (accuracy only for methods that change the logits, as in `napood eval`). */
export function specRow(model: ModelScores, spec: MethodSpec, text = spec.text): ScoreRow {
  const i = model.fitted.findIndex((f) => specKey(f.spec) === specKey(spec));
  const diag = i >= 0 ? model.id.run.results[i].diagnostics : undefined;
  return {
    text, params: spec.params,
    id: scoresOf(model, model.id, spec), ood: model.oods.map((o) => scoresOf(model, o, spec)),
    ...(spec.def.changesLogits ? { accuracy: accuracyOf(model, spec) } : {}),
    ...(diag ? { diagnostics: diag } : {}),
  };
}

function geometricMean(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts[0].length);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (const p of parts) s += Math.log(p[i]);
    out[i] = Math.exp(s / parts.length);
  }
  return out;
}

/** Layer rows: each single layer, then the combinations (default: cumulative from the deepest). */
export function layerRows(model: ModelScores, combos?: readonly (readonly string[])[]): { rows: ScoreRow[]; info: LayerInfo[] } {
  const tensors = [...model.input.layers, model.input.featureMap];
  const info = tensors.map((t, i) => ({ label: `L${i + 1}`, tensor: t, penultimate: i === tensors.length - 1 }));
  const scores = (set: SetScores, l: number) => set.collector.layers[l];
  const row = (ls: number[]): ScoreRow => ({
    text: `nap[${ls.map((l) => info[l].label).join('+')}]`, params: {},
    id: ls.length === 1 ? scores(model.id, ls[0]) : geometricMean(ls.map((l) => scores(model.id, l))),
    ood: model.oods.map((o) => (ls.length === 1 ? scores(o, ls[0]) : geometricMean(ls.map((l) => scores(o, l))))),
  });
  const rows = tensors.map((_, l) => row([l]));
  const last = tensors.length - 1;
  const sets: number[][] = combos
    ? combos.map((c) => c.map((name) => {
      const l = tensors.indexOf(name);
      if (l < 0) throw new Error(`layerCombos: ${name} is not among the layers`);
      return l;
    }))
    : Array.from({ length: last }, (_, k) => Array.from({ length: k + 2 }, (_, j) => last - k - 1 + j));
  for (const ls of sets) rows.push(row(ls));
  return { rows, info };
}

function reverseFprRows(rows: readonly ScoreRow[], model: ModelScores): ReverseFprRow[] {
  return rows.map((r) => {
    const results: Record<string, number> = {};
    model.oods.forEach((o, s) => { results[o.name] = 100 * fprAt95OodRecall(r.id, r.ood[s]); });
    const groups: Record<string, number> = {};
    for (const g of ['near', 'far'] as const) {
      const names = model.oods.filter((o) => o.group === g).map((o) => o.name);
      if (names.length) groups[g] = names.reduce((a, n) => a + results[n], 0) / names.length;
    }
    const vals = Object.values(results);
    return { method: r.text, results, groups, average: vals.reduce((a, b) => a + b, 0) / vals.length };
  });
}

/** Every table and claim of one model. Progress goes through events ("<model>: tables k/n"). */
export function analyseModel(model: ModelScores, cfg: ReportConfig, combos: readonly (readonly string[])[] | undefined, events?: NapoodEvents): ModelResult {
  const { plan } = model;
  const steps = 7 + plan.napx.length + plan.percentile.length;
  let step = 0;
  const tick = () => events?.progress?.(++step, steps, `${model.input.name}: tables and bootstrap`);
  const mainRows = plan.methods.map((s) => specRow(model, s));
  const main = rowsReport(mainRows, model, cfg); tick();
  const alone = ['nap', 'msp', 'energy'].map((t) => {
    const key = specKey(parseMethodSpec(t, 'methods'));
    return specRow(model, plan.all.find((s) => specKey(s) === key)!, t);
  });
  const napAlone = rowsReport(alone, model, cfg); tick();
  const pairs = rowsReport(plan.napx.flatMap((p) => [specRow(model, p.inner), mainRows[plan.methods.indexOf(p.spec)]]), model, cfg); tick();
  const consistency: Record<string, number> = {};
  const wSweeps = plan.napx.map((p): WSweep => {
    const ws = cfg.sweeps.w;
    const sets = [model.id, ...model.oods];
    const blends = sets.map((set) => blendSweep(model, set, p, ws));
    // The configured NAP-X, scored directly in the pass, against the blend of the same S_X, S_NAP.
    let diff = 0;
    for (const set of sets) {
      const d = scoresOf(model, set, p.spec);
      const b = blendSweep(model, set, p, [p.spec.params.w]).scores[0];
      for (let i = 0; i < d.length; i++) {
        const e = Object.is(d[i], b[i]) ? 0 : Math.abs(d[i] - b[i]);
        diff = Math.max(diff, Number.isNaN(e) ? Infinity : e);
      }
    }
    consistency[p.spec.text] = diff;
    const acc = accuracyOf(model, p.inner);
    const rows: ScoreRow[] = ws.map((w, k) => ({
      text: `${p.spec.name}:w=${w}`, params: { ...p.spec.params, w },
      id: blends[0].scores[k], ood: blends.slice(1).map((b) => b.scores[k]),
      ...(acc && p.inner.def.changesLogits ? { accuracy: acc } : {}),
      diagnostics: (blends[0].nonPositiveX[k] ? { nonPositiveX: blends[0].nonPositiveX[k] } : {}) as Record<string, number>,
    }));
    const report = rowsReport(rows, model, cfg); tick();
    return { method: p.spec.text, inner: p.inner.text, nap: p.nap.text, w: p.spec.params.w, grid: ws, report };
  });
  const gridRows: ScoreRow[] = plan.grid.map((g, k) => ({
    text: `nap:eps=${g.eps},p=${g.p}`, params: { eps: g.eps, p: g.p },
    id: model.id.collector.grid[k], ood: model.oods.map((o) => o.collector.grid[k]),
  }));
  const napGrid = rowsReport(gridRows, model, cfg); tick();
  const percentile = plan.percentile.map((ps) => {
    const report = rowsReport(ps.specs.map((s) => specRow(model, s, `${ps.method}:p=${s.params.p}`)), model, cfg); tick();
    return { method: ps.method, report };
  });
  const lr = layerRows(model, combos);
  const layers = rowsReport(lr.rows, model, cfg); tick();
  const reverseFpr = reverseFprRows(mainRows, model); tick();
  const tables: ModelTables = { main, napAlone, pairs, wSweeps, napGrid, percentile, layers, layerInfo: lr.info, reverseFpr };
  const claims = claimsOf(model, tables, lr.rows, cfg); tick();
  return { name: model.input.name, model: model.input.file, featureMap: model.input.featureMap, tables, claims, consistency, notes: model.notes };
}
