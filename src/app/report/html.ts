/**
 * index.html of a report: one self-contained page (inline CSS and inline SVG figures; no script,
 * no external URL, nothing fetched when it is viewed). Built from the report's results and the
 * figures already rendered to SVG text (src/node/report-render.ts). First the section across
 * backbones (the claims matrix, the tuned w), then one section per model.
 */
import { reportColumns, type EvalReport } from '../report.js';
import type { ModelResult, ReverseFprRow } from './analyse.js';
import { significanceNote } from './claims.js';
import type { Figure } from './figures.js';
import { claimsSummaryHtml, type ClaimsSummary } from './summary.js';
import { modelTableList } from './tables.js';
import { tunedWHtml, tunedWSummaryHtml, type TunedWSummary } from './tuned.js';

export interface RenderedFigure extends Figure {
  readonly svg: string;
}

export interface HtmlInput {
  readonly title: string;
  readonly version: string;
  readonly summary: readonly string[];
  readonly models: readonly { readonly result: ModelResult; readonly figures: readonly RenderedFigure[] }[];
  /** Across the models: the claims matrix, and the tuned-w table when some model was tuned (the page's first section). */
  readonly claimsSummary: ClaimsSummary;
  readonly tunedWSummary?: TunedWSummary;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(2));

const CSS = `body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 16px}
h1{font-size:24px}h2{font-size:20px;border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:40px}h3{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:12px;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4}td.m,th.m{text-align:left;white-space:nowrap}.ci{color:#777;font-size:10px;display:block}
.holds{color:#176b2c;font-weight:bold}.fails{color:#a11;font-weight:bold}.nm{color:#777}
figure{margin:16px 0 28px;overflow-x:auto}figcaption{font-size:12px;color:#555;max-width:1000px}
.note{font-size:12px;color:#555}.key{display:block;font-size:11px;color:#333;margin-top:2px}th.oracle{background:#fbeee0}nav a{margin-right:12px}.scroll{overflow-x:auto}`;


function cell(x: number, interval: [number, number] | undefined): string {
  return `<td>${num(x)}${interval ? `<span class="ci">[${num(interval[0])}, ${num(interval[1])}]</span>` : ''}</td>`;
}

export function evalTableHtml(report: EvalReport): string {
  const cols = reportColumns(report);
  const acc = report.methods.some((m) => m.id_accuracy !== undefined);
  const head1 = `<tr><th class="m" rowspan="2">Method</th>${cols.map((c) => `<th colspan="2">${esc(c.name)}</th>`).join('')}${acc ? '<th rowspan="2">ID acc</th>' : ''}</tr>`;
  const head2 = `<tr>${cols.map(() => '<th>FPR95↓</th><th>AUROC↑</th>').join('')}</tr>`;
  const rows = report.methods.map((m) => `<tr><td class="m">${esc(m.method)}</td>${cols.map((c) => {
    const r = c.of(m);
    return cell(r.fpr95, r.fpr95_ci) + cell(r.auroc, r.auroc_ci);
  }).join('')}${acc ? `<td>${m.id_accuracy !== undefined ? num(m.id_accuracy) : ''}</td>` : ''}</tr>`);
  return `<div class="scroll"><table>${head1}${head2}${rows.join('')}</table></div>`;
}

function reverseTableHtml(rows: readonly ReverseFprRow[]): string {
  if (!rows.length) return '';
  const sets = Object.keys(rows[0].results);
  const groups = Object.keys(rows[0].groups);
  const head = `<tr><th class="m">Method</th>${[...sets, ...groups.map((g) => `${g} (avg)`), 'Average'].map((s) => `<th>${esc(s)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr><td class="m">${esc(r.method)}</td>${[...sets.map((s) => r.results[s]), ...groups.map((g) => r.groups[g]), r.average].map((x) => `<td>${num(x)}</td>`).join('')}</tr>`);
  return `<div class="scroll"><table>${head}${body.join('')}</table></div>`;
}

function claimsHtml(r: ModelResult): string {
  const rows = r.claims.map((c) => {
    const cls = c.verdict === 'holds' ? 'holds' : c.verdict === 'does not hold' ? 'fails' : 'nm';
    const sig = significanceNote(c) ? `<span class="ci">${significanceNote(c)}</span>` : '';
    return `<tr><td class="m" style="white-space:normal">${esc(c.claim)}</td><td class="m ${cls}">${esc(c.verdict)}${sig}</td><td class="m" style="white-space:normal">${esc(c.measured)}</td></tr>`;
  });
  return `<table class="claims"><tr><th class="m">Claim (paper)</th><th class="m">Verdict</th><th class="m">Measured (percent; [95 % paired-bootstrap interval])</th></tr>${rows.join('')}</table>`;
}

function figureHtml(f: RenderedFigure): string {
  return `<figure id="fig-${esc(f.id)}" class="figure" data-figure="${esc(f.id)}">${f.svg}<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} <i>(${esc(f.id)}.png, ${esc(f.id)}.svg)</i></figcaption></figure>`;
}

function modelHtml(m: HtmlInput['models'][number]): string {
  const r = m.result;
  const main = r.tables.main;
  const parts = [
    `<h2 id="model-${esc(r.name)}">${esc(r.name)}</h2>`,
    `<p class="note">Model ${esc(r.model)}; feature map ${esc(r.featureMap)}; ID ${esc(main.id.path)} (${main.id.n}${main.id.accuracy !== undefined ? `, accuracy ${num(main.id.accuracy)} %` : ''}); OOD ${main.ood.map((o) => `${esc(o.name)} (${o.n}${o.group ? `, ${o.group}` : ''})`).join(', ')}.</p>`,
    ...r.notes.map((n) => `<p class="note">${esc(n)}</p>`),
    '<h3>The paper\'s claims, measured</h3>', claimsHtml(r),
  ];
  const figs = new Map(m.figures.map((f) => [f.id.slice(r.name.length + 1), f]));
  const take = (key: string) => { const f = figs.get(key); figs.delete(key); return f ? figureHtml(f) : ''; };
  for (const t of modelTableList(r)) {
    parts.push(`<h3>${esc(t.title)}</h3>`, t.report ? evalTableHtml(t.report) : reverseTableHtml(t.reverse!));
    if (t.key === 'main') parts.push(take('pareto'));
    if (t.key === 'main' && r.tunedW) parts.push(`<h3 id="tuned-w-${esc(r.name)}">${esc(r.tunedW.title)}</h3>`, tunedWHtml(r.tunedW, esc));
    if (t.key === 'nap-alone') parts.push(take('energy-nap'));
    if (t.key === 'layers') parts.push(take('depths'));
    if (t.key.startsWith('w-') && t.key === `w-${r.tables.wSweeps[r.tables.wSweeps.length - 1]?.method.split(':')[0]}`) parts.push(take('w-curves'));
  }
  parts.push('<h3>Figures</h3>', take('prior'), ...[...figs.values()].map(figureHtml));
  const consistency = Object.entries(r.consistency);
  if (consistency.length) parts.push(`<p class="note">Sweep check: |geometricBlend(S_X, S_NAP, w) − the NAP-X scored directly| at the configured w, max over samples: ${consistency.map(([k, v]) => `${esc(k)} ${v}`).join(', ')}.</p>`);
  return parts.join('\n');
}

/** The first section: the claims across backbones, then the tuned w across backbones. */
function acrossHtml(input: HtmlInput): string {
  const c = input.claimsSummary;
  const t = input.tunedWSummary;
  return [`<h2 id="across">Across backbones</h2>`, `<h3 id="claims-summary">${esc(c.title)}</h3>`, claimsSummaryHtml(c, esc),
    ...(t ? [`<h3 id="tuned-w-summary">${esc(t.title)}</h3>`, tunedWSummaryHtml(t, esc)] : [])].join('\n');
}

export function reportHtml(input: HtmlInput): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title><style>${CSS}</style></head><body>
<h1>${esc(input.title)}</h1>
<p class="note">napood ${esc(input.version)} — post-hoc OOD detection with the Neural Activation Prior (arXiv 2402.18162). Scores: higher = more in-distribution; ID is the positive class; FPR95 as the ReAct / ASH code (t = sorted ID scores at round(0.05·n), share of OOD above it); percent, two decimals; [95 % bootstrap intervals]. NAP-X rows use the configured w (the paper's), never w chosen on the test sets; sweeps and the best layer are descriptive. Every number is in report.json; tables as Markdown and CSV in tables/, figures as PNG and SVG in figures/.</p>
${input.summary.map((s) => `<p class="note">${esc(s)}</p>`).join('\n')}
<nav><a href="#across">across backbones</a>${input.models.map((m) => `<a href="#model-${esc(m.result.name)}">${esc(m.result.name)}</a>`).join('')}</nav>
${acrossHtml(input)}
${input.models.map(modelHtml).join('\n')}
</body></html>
`;
}
