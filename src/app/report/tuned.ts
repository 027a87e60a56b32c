/**
 * The report's "w: tuned (pseudo-OOD, no OOD data) vs the paper's vs oracle" table (config
 * `tune`): per NAP-X, the w chosen by `napood tune`'s search (app/tune.ts: ID-val against
 * pseudo-OOD made by corrupting ID-val, no OOD data), the average FPR95 / AUROC over the OOD
 * test sets at that w (ID test vs each OOD test set, from the report's pass: S_X and S_NAP
 * blended at the tuned w), the configured (paper's) w with its averages from the main table, and
 * per OOD test set the oracle w (the w best for ID-val against that very test set) with its
 * FPR95 — research only: the test sets never choose anything.
 */
import { NAPX_INNER } from '../../methods/napx.js';
import { parseMethodSpec, type MethodSpec } from '../../run/spec.js';
import type { TuneReport } from '../tune.js';
import { rowsReport, type ModelResult, type ScoreRow } from './analyse.js';
import { blendSweep, type ModelScores, type NapxPlan } from './compute.js';
import type { ReportConfig } from './config.js';

export const TUNED_W_TITLE = 'w: tuned (pseudo-OOD, no OOD data) vs the paper\'s vs oracle';
export const ORACLE_NOTE = 'oracle columns: research only — the w best (by the search criterion) for ID-val against each OOD test set; never used to choose w';

export interface TunedWRow {
  /** The configured NAP-X (the main table's row). */
  readonly method: string;
  /** Tuned on ID-val vs pseudo-OOD. */
  readonly tuned_w: number;
  /** ID-val vs pseudo-OOD at the tuned w (percent). */
  readonly pseudo: { readonly auroc: number; readonly fpr95: number };
  /** Average over the OOD test sets (ID test vs each) at the tuned w. */
  readonly tuned: { readonly fpr95: number; readonly auroc: number };
  readonly paper_w: number;
  /** The main table's average at the configured (paper's) w. */
  readonly paper: { readonly fpr95: number; readonly auroc: number };
  /** Research only: per OOD test set, the w best for ID-val against it and the FPR95 there. */
  readonly oracle: Record<string, { readonly w: number; readonly fpr95: number }>;
}

export interface TunedWTable {
  readonly title: string;
  readonly note: string;
  readonly criterion: string;
  readonly val: { readonly path: string; readonly n: number };
  readonly pseudo_ood: Readonly<Record<string, unknown>>;
  readonly ood: readonly string[];
  readonly rows: readonly TunedWRow[];
  /** napood tune's report (every candidate, its w search, the oracle columns). */
  readonly tune: TuneReport;
}

/** The candidates of the search: each configured NAP-X (single layer) with w left to tune. */
export function tuneCandidates(plan: readonly NapxPlan[]): { plan: NapxPlan; spec: MethodSpec }[] {
  return plan.filter((p) => !p.spec.layers && p.spec.name in NAPX_INNER).map((p) => {
    const given = Object.entries(p.spec.given).filter(([k]) => k !== 'w').map(([k, v]) => `${k}=${v}`);
    return { plan: p, spec: parseMethodSpec(given.length ? `${p.spec.name}:${given.join(',')}` : p.spec.name, 'tune') };
  });
}

/** The table from the report's pass (model), its main table (result) and the search (tune). */
export function tunedWTable(model: ModelScores, result: ModelResult, tune: TuneReport, cfg: Pick<ReportConfig, 'seed'>): TunedWTable {
  const candidates = tuneCandidates(model.plan.napx);
  const rows = candidates.map(({ plan, spec }): TunedWRow => {
    const c = tune.candidates.find((x) => x.method === spec.text);
    if (!c) throw new Error(`report: ${spec.text} was not tuned`);
    const w = c.params.w!;
    const sets = [model.id, ...model.oods].map((s) => blendSweep(model, s, plan, [w]).scores[0]);
    const row: ScoreRow = { text: `${plan.spec.name}:w=${w}`, params: { ...plan.spec.params, w }, id: sets[0], ood: sets.slice(1) };
    const at = rowsReport([row], model, { bootstrap: 0, seed: cfg.seed }).methods[0]!.average;
    const main = result.tables.main.methods.find((m) => m.method === plan.spec.text)!.average;
    const oracle: TunedWRow['oracle'] = {};
    for (const [name, o] of Object.entries(c.oracle ?? {})) oracle[name] = { w: o.best_w!, fpr95: o.at_best_w!.fpr95 };
    return {
      method: plan.spec.text, tuned_w: w, pseudo: { auroc: c.auroc, fpr95: c.fpr95 },
      tuned: { fpr95: at.fpr95, auroc: at.auroc }, paper_w: plan.spec.params.w!, paper: { fpr95: main.fpr95, auroc: main.auroc }, oracle,
    };
  });
  return {
    title: TUNED_W_TITLE, note: ORACLE_NOTE, criterion: tune.criterion, val: tune.val, pseudo_ood: tune.pseudo_ood,
    ood: model.oods.map((o) => o.name), rows, tune,
  };
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** Header and cells (strings), shared by Markdown and HTML. */
export function tunedWCells(t: TunedWTable): { header: string[]; rows: string[][] } {
  const header = ['NAP-X', 'tuned w', 'tuned: avg FPR95↓', 'tuned: avg AUROC↑', 'paper w', 'paper: avg FPR95↓', 'paper: avg AUROC↑',
    ...t.ood.flatMap((o) => [`oracle w ${o} (research only)`, `oracle FPR95 ${o} (research only)`])];
  const rows = t.rows.map((r) => [r.method, String(r.tuned_w), f2(r.tuned.fpr95), f2(r.tuned.auroc), String(r.paper_w), f2(r.paper.fpr95), f2(r.paper.auroc),
    ...t.ood.flatMap((o) => (r.oracle[o] ? [String(r.oracle[o].w), f2(r.oracle[o].fpr95)] : ['', '']))]);
  return { header, rows };
}

function describeSets(t: TunedWTable): string {
  const p = t.pseudo_ood as { n?: number; assignment?: string; severities?: number[] };
  return `w tuned by napood tune's search (criterion ${t.criterion}) on ID-val ${t.val.path} (${t.val.n}) against pseudo-OOD: its images corrupted (${p.n ?? '?'} images, severities ${(p.severities ?? []).join(', ')}, assignment ${p.assignment ?? '?'}); no OOD data. Averages: ID test against each OOD test set, percent. The paper's w and its averages are the main table's.`;
}

/** A Markdown table whose first `text` columns are left-aligned, the others (numbers) right-aligned. */
const mdTable = (header: string[], rows: string[][], text = 1) => {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i >= text ? '---:' : '---'))), ...rows.map(line)].join('\n') + '\n';
};
const csvEsc = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const oracleCsvHeader = (ood: readonly string[]) => ood.flatMap((o) => [`oracle_w_${o}_research_only`, `oracle_fpr95_${o}_research_only`]);
const oracleCsv = (r: TunedWRow, ood: readonly string[]) => ood.flatMap((o) => (r.oracle[o] ? [String(r.oracle[o].w), String(r.oracle[o].fpr95)] : ['', '']));

function htmlTable(header: string[], rows: string[][], oracleFrom: number, esc: (s: string) => string, cls: string, text = 1): string {
  const th = header.map((h, i) => `<th${i < text ? ' class="m"' : i >= oracleFrom ? ' class="oracle"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${i < text ? ' class="m"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<div class="scroll"><table class="${cls}">${th ? `<tr>${th}</tr>` : ''}${body}</table></div>`;
}

export function tunedWMarkdown(t: TunedWTable): string {
  const { header, rows } = tunedWCells(t);
  return `${describeSets(t)} ${t.note}.\n\n${mdTable(header, rows)}`;
}

export function tunedWCsv(t: TunedWTable): string {
  const lines = ['method,tuned_w,tuned_avg_fpr95,tuned_avg_auroc,paper_w,paper_avg_fpr95,paper_avg_auroc,pseudo_auroc,pseudo_fpr95,' + oracleCsvHeader(t.ood).join(',')];
  for (const r of t.rows) {
    lines.push([csvEsc(r.method), r.tuned_w, r.tuned.fpr95, r.tuned.auroc, r.paper_w, r.paper.fpr95, r.paper.auroc, r.pseudo.auroc, r.pseudo.fpr95, ...oracleCsv(r, t.ood)].join(','));
  }
  return lines.join('\n') + '\n';
}

export function tunedWHtml(t: TunedWTable, esc: (s: string) => string): string {
  const { header, rows } = tunedWCells(t);
  return `<p class="note">${esc(describeSets(t))} <b>${esc(t.note)}.</b></p>${htmlTable(header, rows, 7, esc, 'tuned-w')}`;
}

export const TUNED_W_SUMMARY_TITLE = 'w across backbones: tuned (pseudo-OOD, no OOD data) vs the paper\'s vs oracle';
export const TUNED_W_SUMMARY_NOTE = 'Per backbone and configured NAP-X, from its own tuned-w table: the w tuned on that backbone\'s ID-val against pseudo-OOD (its images corrupted; no OOD data) and the average FPR95 over its OOD test sets (ID test against each) at that w; the configured (paper\'s) w and the main table\'s average at it; tuned − paper: the difference of the two averages (point estimates). Oracle, research only: per OOD test set the w best for ID-val against that set, here the range of those w and the mean over the sets of the FPR95 each has at its own best w (ID-val, not ID test) — a bound no one could choose by, never used to choose w. Percent';

export interface TunedWSummaryRow extends TunedWRow {
  readonly model: string;
  /** Research only: the oracle w's range over the model's OOD sets and the mean of each set's FPR95 at its own oracle w. */
  readonly oracle_over_sets?: { readonly w_min: number; readonly w_max: number; readonly mean_fpr95: number; readonly sets: number };
}

export interface TunedWSummary {
  readonly title: string;
  readonly note: string;
  /** The models with a tuned-w table (config `tune`), in the report's order. */
  readonly models: readonly string[];
  /** Every OOD set name of those models (the CSV's per-set oracle columns). */
  readonly ood: readonly string[];
  readonly rows: readonly TunedWSummaryRow[];
}

/** The rows of every model's tuned-w table, one table; undefined when no model has one. */
export function tunedWSummary(models: readonly ModelResult[]): TunedWSummary | undefined {
  const tuned = models.filter((m) => m.tunedW);
  if (tuned.length === 0) return undefined;
  const rows = tuned.flatMap((m) => m.tunedW!.rows.map((r): TunedWSummaryRow => {
    const o = Object.values(r.oracle);
    const ws = o.map((x) => x.w);
    return { model: m.name, ...r, ...(o.length ? { oracle_over_sets: { w_min: Math.min(...ws), w_max: Math.max(...ws), mean_fpr95: o.reduce((a, x) => a + x.fpr95, 0) / o.length, sets: o.length } } : {}) };
  }));
  const criteria = [...new Set(tuned.map((m) => m.tunedW!.criterion))];
  const criterion = criteria.length === 1 ? `${criteria[0]} for every backbone` : tuned.map((m) => `${m.name} ${m.tunedW!.criterion}`).join(', ');
  return { title: TUNED_W_SUMMARY_TITLE, note: `${TUNED_W_SUMMARY_NOTE}. The search's criterion: ${criterion}`, models: tuned.map((m) => m.name), ood: [...new Set(tuned.flatMap((m) => m.tunedW!.ood))], rows };
}

export function tunedWSummaryCells(t: TunedWSummary): { header: string[]; rows: string[][] } {
  const header = ['backbone', 'NAP-X', 'tuned w', 'tuned: avg FPR95↓', 'paper w', 'paper: avg FPR95↓', 'tuned − paper: avg FPR95', 'oracle w over the OOD sets (research only)', 'oracle: mean FPR95↓ over the OOD sets (research only)'];
  const rows = t.rows.map((r) => {
    const o = r.oracle_over_sets;
    const d = r.tuned.fpr95 - r.paper.fpr95;
    return [r.model, r.method, String(r.tuned_w), f2(r.tuned.fpr95), String(r.paper_w), f2(r.paper.fpr95), Number.isFinite(d) && d > 0 ? `+${f2(d)}` : f2(d),
      o ? (o.w_min === o.w_max ? String(o.w_min) : `${o.w_min}–${o.w_max}`) : '', o ? f2(o.mean_fpr95) : ''];
  });
  return { header, rows };
}

export function tunedWSummaryMarkdown(t: TunedWSummary): string {
  const { header, rows } = tunedWSummaryCells(t);
  return `${t.note}.\n\n${mdTable(header, rows, 2)}`;
}

export function tunedWSummaryCsv(t: TunedWSummary): string {
  const lines = ['model,method,tuned_w,tuned_avg_fpr95,tuned_avg_auroc,paper_w,paper_avg_fpr95,paper_avg_auroc,pseudo_auroc,pseudo_fpr95,oracle_w_min_research_only,oracle_w_max_research_only,oracle_mean_fpr95_research_only,' + oracleCsvHeader(t.ood).join(',')];
  for (const r of t.rows) {
    const o = r.oracle_over_sets;
    lines.push([csvEsc(r.model), csvEsc(r.method), r.tuned_w, r.tuned.fpr95, r.tuned.auroc, r.paper_w, r.paper.fpr95, r.paper.auroc, r.pseudo.auroc, r.pseudo.fpr95,
      ...(o ? [o.w_min, o.w_max, o.mean_fpr95] : ['', '', '']), ...oracleCsv(r, t.ood)].join(','));
  }
  return lines.join('\n') + '\n';
}

export function tunedWSummaryHtml(t: TunedWSummary, esc: (s: string) => string): string {
  const { header, rows } = tunedWSummaryCells(t);
  return `<p class="note">${esc(t.note)}.</p>${htmlTable(header, rows, 7, esc, 'tuned-w-summary', 2)}`;
}
