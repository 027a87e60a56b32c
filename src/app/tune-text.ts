/** The tune report as a text table (what `napood tune` prints); JSON is the report itself. */
import { percent as fractionPercent } from '../metrics/format.js';

/** Report values are percent already. */
const percent = (x: number): string => fractionPercent(x / 100);
import type { TuneReport } from './tune.js';

function table(rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((cell, j) => (right.has(j) ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!))).join('  ').trimEnd());
}

export function tuneText(r: TuneReport): string {
  const p = r.pseudo_ood;
  const made = Array.isArray(p.corruptions)
    ? `${p.n} corrupted copies (${(p.corruptions as unknown[]).length} corruptions, severities ${(p.severities as number[]).join(',')}, ${p.assignment === 'all' ? 'all combinations' : 'one random per image'}, seed ${p.seed})`
    : `${p.n} rows of ${String(p.path)}`;
  const crit = r.criterion === 'auroc' ? 'AUROC (higher is better)' : 'FPR95 (lower is better)';
  const lines = [
    `ID-val: ${r.val.path} (${r.val.n})   pseudo-OOD: ${made}`,
    `criterion: ${crit} of ID-val vs pseudo-OOD; w on a grid of step ${r.search.grid_step}, then golden-section to ${r.search.tolerance}${r.search.nap_p ? `; NAP p in ${r.search.nap_p.join(', ')}` : ''}`,
    '',
  ];
  const rows: string[][] = [['rank', 'method', 'tuned', 'AUROC↑', 'FPR95↓', 'as asked: AUROC', 'FPR95']];
  r.candidates.forEach((c, i) => rows.push([String(i + 1), c.method, c.tuned, percent(c.auroc), percent(c.fpr95), percent(c.as_given.auroc), percent(c.as_given.fpr95)]));
  lines.push(...table(rows, new Set([0, 3, 4, 5, 6])), '', `chosen: ${r.chosen}`);
  if (r.left_out?.length) lines.push(`left out: ${r.left_out.map((l) => l.method).join(', ')} (the sets cannot score them)`);
  if (r.oracle) {
    lines.push('', `oracle — ${r.oracle.note}:`);
    const o: string[][] = [['method', 'set', 'AUROC at tuned', 'FPR95 at tuned', 'oracle w', 'AUROC at oracle w', 'FPR95 at oracle w']];
    for (const c of r.candidates) {
      for (const [name, v] of Object.entries(c.oracle ?? {})) {
        o.push([c.tuned, name, percent(v.at_tuned.auroc), percent(v.at_tuned.fpr95), v.best_w === undefined ? '' : String(v.best_w), v.at_best_w ? percent(v.at_best_w.auroc) : '', v.at_best_w ? percent(v.at_best_w.fpr95) : '']);
      }
    }
    lines.push(...table(o, new Set([2, 3, 4, 5, 6])));
  }
  return lines.join('\n') + '\n';
}
