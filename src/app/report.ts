/**
 * The evaluation report: metrics per method and OOD set, as the paper's tables lay them out
 * (per OOD set FPR95 / AUROC, then the average), in text, Markdown, CSV and JSON.
 * Metric values are percentages (the paper's unit); the text and Markdown tables round to two
 * decimals, JSON and CSV keep full precision.
 */
import { percent } from '../metrics/format.js';

export interface SetMetrics {
  fpr95: number;
  auroc: number;
  aupr_in: number;
  aupr_out: number;
  detection_error: number;
  fpr95_ci?: [number, number];
  auroc_ci?: [number, number];
  /** True when some scores of this pair were not finite: the numbers are NaN, not metrics. */
  invalid?: boolean;
}

/** Scores of a method on a set that were NaN or ±Inf. */
export interface NonFiniteScores {
  method: string;
  set: string;
  count: number;
  of: number;
  first_row: number;
}

export interface MethodReport {
  method: string;
  params: Record<string, number>;
  /** ID accuracy (percent) of the method's changed logits; only for methods that change logits. */
  id_accuracy?: number;
  results: Record<string, SetMetrics>;
  /** Averages over the OOD sets of each group (e.g. near / far), when sets have groups. */
  groups?: Record<string, SetMetrics>;
  average: SetMetrics;
  /** Counters raised while scoring, per set ("id" and OOD names). */
  diagnostics: Record<string, Record<string, number>>;
}

export interface EvalReport {
  napood: string;
  units: 'percent';
  model?: string;
  id: { path: string; n: number; accuracy?: number; labelled?: number };
  ood: { name: string; path: string; n: number; group?: string }[];
  bootstrap?: { iterations: number; seed: number; confidence: number };
  methods: MethodReport[];
  /** Present when some scores were not finite: those cells are NaN (front ends fail after printing). */
  nonFinite?: NonFiniteScores[];
}

const COLUMN = 15;

/** A metric cell: percent with two decimals, "n/a" where scores were not finite. */
function cell(x: number): string {
  return Number.isNaN(x) ? 'n/a' : percent(x / 100);
}

/** Table columns: every OOD set, then each group's average, then the average of all sets. */
export function reportColumns(report: EvalReport): { name: string; of: (m: MethodReport) => SetMetrics }[] {
  const groups = [...new Set(report.ood.map((o) => o.group).filter((g): g is string => g !== undefined))];
  return [
    ...report.ood.map((o) => ({ name: o.name, of: (m: MethodReport) => m.results[o.name] })),
    ...groups.map((g) => ({ name: `${g} (avg)`, of: (m: MethodReport) => m.groups![g] })),
    { name: 'Average', of: (m: MethodReport) => m.average },
  ];
}

export function textTable(report: EvalReport): string {
  const cols = reportColumns(report);
  const names = cols.map((c) => c.name);
  const methodWidth = Math.max(6, ...report.methods.map((m) => m.method.length)) + 2;
  const showAcc = report.methods.some((m) => m.id_accuracy !== undefined);
  const head1 = ''.padEnd(methodWidth) + names.map((n) => fit(n, COLUMN - 1).padEnd(COLUMN)).join('') + (showAcc ? 'ID acc' : '');
  const head2 = 'Method'.padEnd(methodWidth) + names.map(() => 'FPR95↓ AUROC↑'.padEnd(COLUMN)).join('');
  const lines = [head1.trimEnd(), head2.trimEnd()];
  for (const m of report.methods) {
    const cells = cols.map((c) => {
      const r = c.of(m);
      return `${cell(r.fpr95).padStart(6)} ${cell(r.auroc).padStart(6)}`.padEnd(COLUMN);
    });
    const acc = m.id_accuracy !== undefined ? percent(m.id_accuracy / 100) : '';
    lines.push((m.method.padEnd(methodWidth) + cells.join('') + acc).trimEnd());
  }
  const notes = notesOf(report);
  if (report.id.accuracy !== undefined) notes.unshift(`ID accuracy of the unchanged logits: ${percent(report.id.accuracy / 100)}%`);
  const setLine = `ID: ${report.id.path} (${report.id.n})   OOD: ${report.ood.map((o) => `${o.name} (${o.n})`).join(', ')}`;
  return [setLine, '', ...lines, ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width - 1) + '…';
}

function notesOf(report: EvalReport): string[] {
  const notes: string[] = [];
  for (const b of report.nonFinite ?? []) {
    notes.push(`${b.method}: ${b.count} of ${b.of} scores on ${b.set === 'id' ? 'the ID set' : b.set} are not finite (first at row ${b.first_row}); its metrics there are n/a, not results.`);
  }
  for (const m of report.methods) {
    const idDiag = m.diagnostics.id ?? {};
    if (idDiag.nonPositiveX) notes.push(`${m.method}: ${idDiag.nonPositiveX} of ${report.id.n} ID samples had S_X ≤ 0 and were scored 0 (most OOD).`);
    const neg = Object.values(m.diagnostics).reduce((s, d) => s + (d.negativeActivations ?? 0), 0);
    if (neg) notes.push(`${m.method}: ${neg} negative activations in the feature maps (NAP assumes post-ReLU maps).`);
  }
  return notes;
}

export function markdownTable(report: EvalReport): string {
  const cols = reportColumns(report);
  const names = cols.map((c) => c.name);
  const showAcc = report.methods.some((m) => m.id_accuracy !== undefined);
  const header = ['Method', ...names.flatMap((n) => [`${n} FPR95↓`, `${n} AUROC↑`]), ...(showAcc ? ['ID acc'] : [])];
  const rows = report.methods.map((m) => [
    m.method,
    ...cols.flatMap((c) => {
      const r = c.of(m);
      return [cell(r.fpr95), cell(r.auroc)];
    }),
    ...(showAcc ? [m.id_accuracy !== undefined ? percent(m.id_accuracy / 100) : ''] : []),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const notes = notesOf(report);
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line), ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : [])].join('\n') + '\n';
}

export function csvTable(report: EvalReport): string {
  const cols = ['method', 'ood', 'fpr95', 'auroc', 'aupr_in', 'aupr_out', 'detection_error', 'fpr95_lo', 'fpr95_hi', 'auroc_lo', 'auroc_hi', 'id_accuracy'];
  const esc = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : String(x));
  const lines = [cols.join(',')];
  for (const m of report.methods) {
    for (const [name, r] of [...Object.entries(m.results), ...Object.entries(m.groups ?? {}).map(([g, v]) => [`${g} (avg)`, v] as const), ['Average', m.average] as const]) {
      lines.push([esc(m.method), esc(name), num(r.fpr95), num(r.auroc), num(r.aupr_in), num(r.aupr_out), num(r.detection_error),
        num(r.fpr95_ci?.[0]), num(r.fpr95_ci?.[1]), num(r.auroc_ci?.[0]), num(r.auroc_ci?.[1]), num(m.id_accuracy)].join(','));
    }
  }
  return lines.join('\n') + '\n';
}
