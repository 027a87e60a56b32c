/**
 * The report's tables as files: per model, each table as Markdown and CSV (app/report.ts formats
 * the EvalReports the same way `napood eval --md / --csv` does), OpenOOD's reverse FPR, and the
 * claims; across the models, the claims matrix and the tuned-w table (summary.ts, tuned.ts).
 * Returns { name, text } pairs; src/node/report writes them under DIR/tables/.
 */
import { csvTable, markdownTable, type EvalReport } from '../report.js';
import type { ModelResult, ReverseFprRow } from './analyse.js';
import { significanceNote } from './claims.js';
import { claimsSummaryCsv, claimsSummaryMarkdown, type ClaimsSummary } from './summary.js';
import { tunedWCsv, tunedWMarkdown, tunedWSummaryCsv, tunedWSummaryMarkdown, type TunedWSummary } from './tuned.js';

export interface TableFile {
  readonly name: string;
  readonly text: string;
}

/** Every table of a model with its title (the paper's numbering where there is one). */
export function modelTableList(r: ModelResult): { key: string; title: string; report?: EvalReport; reverse?: readonly ReverseFprRow[] }[] {
  const t = r.tables;
  return [
    { key: 'main', title: 'Tables 1 / 2 — every method (FPR95 / AUROC per OOD set, near / far averages, average; ID accuracy of changed logits)', report: t.main },
    { key: 'nap-alone', title: 'Table 3 — NAP alone against MSP and Energy', report: t.napAlone },
    { key: 'pairs', title: 'Tables 5 / 6 — X against NAP-X per OOD set', report: t.pairs },
    ...t.wSweeps.map((s) => ({ key: `w-${s.method.split(':')[0]}`, title: `Tables 4 / 8 / 9 — w sweep of ${s.method} (S_X = ${s.inner}, S_NAP = ${s.nap}; configured w = ${s.w})`, report: s.report })),
    { key: 'nap-grid', title: 'NAP over its (p, ε) grid, from per-channel max and mean read once', report: t.napGrid },
    ...t.percentile.map((p) => ({ key: `percentile-${p.method}`, title: `${p.method} over its percentile`, report: p.report })),
    { key: 'layers', title: `Table 7 — NAP at single and combined layers (geometric mean of per-layer NAP); ${t.layerInfo.map((l) => `${l.label} = ${l.tensor}`).join(', ')}`, report: t.layers },
    { key: 'openood-fpr', title: 'OpenOOD v1.5 FPR@95 (the reverse definition: ID FPR at 95 % OOD recall; not the paper\'s FPR95)', reverse: t.reverseFpr },
  ];
}

function reverseMarkdown(rows: readonly ReverseFprRow[]): string {
  if (rows.length === 0) return '';
  const sets = Object.keys(rows[0].results);
  const groups = Object.keys(rows[0].groups);
  const header = ['Method', ...sets, ...groups.map((g) => `${g} (avg)`), 'Average'];
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  return [line(header), line(header.map((_, i) => (i ? '---:' : '---'))), ...rows.map((r) => line([r.method, ...sets.map((s) => f(r.results[s])), ...groups.map((g) => f(r.groups[g])), f(r.average)]))].join('\n') + '\n';
}

function reverseCsv(rows: readonly ReverseFprRow[]): string {
  const lines = ['method,ood,openood_fpr_at_95_ood_recall'];
  const esc = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  for (const r of rows) {
    for (const [k, v] of [...Object.entries(r.results), ...Object.entries(r.groups).map(([g, v]) => [`${g} (avg)`, v] as const), ['Average', r.average] as const]) lines.push(`${esc(r.method)},${esc(k)},${v}`);
  }
  return lines.join('\n') + '\n';
}

export function claimsMarkdown(r: ModelResult): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return ['| Claim | Verdict | Measured |', '|---|---|---|', ...r.claims.map((c) => `| ${esc(c.claim)} | ${c.verdict}${significanceNote(c) ? ` (${significanceNote(c)})` : ''} | ${esc(c.measured)} |`)].join('\n') + '\n';
}

export function modelTableFiles(r: ModelResult): TableFile[] {
  const files: TableFile[] = [];
  for (const t of modelTableList(r)) {
    const md = t.report ? markdownTable(t.report) : reverseMarkdown(t.reverse!);
    files.push({ name: `${r.name}-${t.key}.md`, text: `## ${r.name}: ${t.title}\n\n${md}` });
    files.push({ name: `${r.name}-${t.key}.csv`, text: t.report ? csvTable(t.report) : reverseCsv(t.reverse!) });
  }
  if (r.tunedW) {
    files.push({ name: `${r.name}-tuned-w.md`, text: `## ${r.name}: ${r.tunedW.title}\n\n${tunedWMarkdown(r.tunedW)}` });
    files.push({ name: `${r.name}-tuned-w.csv`, text: tunedWCsv(r.tunedW) });
  }
  files.push({ name: `${r.name}-claims.md`, text: `## ${r.name}: the paper's claims, measured\n\n${claimsMarkdown(r)}` });
  return files;
}

/** The tables across backbones: claims-summary.md|csv, and tuned-w-summary.md|csv when some model was tuned. */
export function summaryTableFiles(claims: ClaimsSummary, tuned: TunedWSummary | undefined): TableFile[] {
  return [
    { name: 'claims-summary.md', text: `## ${claims.title}\n\n${claimsSummaryMarkdown(claims)}` },
    { name: 'claims-summary.csv', text: claimsSummaryCsv(claims) },
    ...(tuned ? [{ name: 'tuned-w-summary.md', text: `## ${tuned.title}\n\n${tunedWSummaryMarkdown(tuned)}` }, { name: 'tuned-w-summary.csv', text: tunedWSummaryCsv(tuned) }] : []),
  ];
}
