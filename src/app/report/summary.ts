/**
 * The paper's claims across backbones: one matrix, claim × model. Each cell is the model's own
 * claim (claims.ts) — its verdict, whether the interval excludes 0, and its key numbers read from
 * `Claim.numbers`, nothing recomputed — or n/a where the model makes no such claim (a NAP-X left
 * out of its methods, e.g. NAP-D on a head that is not one linear layer). As Markdown, CSV (one
 * line per cell), HTML and the compact text the CLI prints.
 */
import { significanceNote, type Claim } from './claims.js';
import type { ModelResult } from './analyse.js';

export const CLAIMS_SUMMARY_TITLE = 'The paper\'s claims across backbones';
export const CLAIMS_SUMMARY_NOTE = 'Each cell is that backbone\'s claim as its own section states it (verdict on the point estimates; numbers in percent: the two compared, Δ = first − second, [95 % paired-bootstrap interval of Δ]); n/a: the backbone makes no such claim (the method is not among its methods; see its notes)';

export interface ClaimCell {
  readonly verdict: Claim['verdict'] | 'n/a';
  /** The claim's: the 95 % interval of Δ excludes 0 in the claimed direction. */
  readonly significant?: boolean;
  /** The key numbers in words (percent, two decimals), or why the claim is n/a / not measured. */
  readonly key: string;
  /** What is compared (methods, `w = …`, layer labels) and the two values (percent). */
  readonly compared?: readonly [string, string];
  readonly values?: readonly [number, number];
  /** values[0] − values[1]: below 0 goes the claim's way (ID accuracy: 0 is the claim). */
  readonly delta?: number;
  readonly delta_ci?: readonly [number, number];
}

export interface ClaimsSummaryRow {
  readonly id: string;
  readonly claim: string;
  /** Per model name. */
  readonly cells: Readonly<Record<string, ClaimCell>>;
}

export interface ClaimsSummary {
  readonly title: string;
  readonly note: string;
  readonly models: readonly string[];
  readonly rows: readonly ClaimsSummaryRow[];
}

type Interval = [number, number] | undefined;
const f2 = (x: number) => x.toFixed(2);
const signed = (x: number) => `${x > 0 ? '+' : ''}${f2(x)}`;
const ciText = (c: Interval) => (c ? ` [${f2(c[0])}, ${f2(c[1])}]` : '');

function numbersCell(c: Claim, compared: [string, string], values: [number, number], delta: number, ci: Interval, key?: string): ClaimCell {
  return {
    verdict: c.verdict, ...(c.significant !== undefined ? { significant: c.significant } : {}),
    key: key ?? `${f2(values[0])} vs ${f2(values[1])}, Δ ${signed(delta)}${ciText(ci)}`,
    compared, values, delta, ...(ci ? { delta_ci: ci } : {}),
  };
}

/** The key numbers of one claim, by its kind (the id's form in claims.ts). */
export function claimCell(c: Claim): ClaimCell {
  if (c.verdict === 'not measured') return { verdict: c.verdict, key: c.measured };
  const n = c.numbers as Record<string, unknown>;
  if (c.id === 'nap-vs-msp' || c.id.endsWith('-vs-x')) {
    const [a, b] = n.compared as [string, string];
    const f = n.fpr95 as Record<string, number> & { delta: number; delta_ci?: [number, number] };
    return numbersCell(c, [a, b], [f[a], f[b]], f.delta, f.delta_ci);
  }
  if (c.id.endsWith('-w-curve')) {
    const grid = n.grid as number[];
    const curve = n.fpr95 as number[];
    const best = grid.indexOf(n.best_w as number);
    const end = curve[0] <= curve[curve.length - 1] ? 0 : curve.length - 1;
    const cell = numbersCell(c, [`w = ${grid[best]}`, `w = ${grid[end]}`], [curve[best], curve[end]], n.gap as number, n.gap_ci as Interval);
    const vs = best === 0 || best === grid.length - 1 ? ', an end of the grid (no optimum inside)' : ` vs the better end ${f2(curve[end])} at w = ${grid[end]}`;
    return { ...cell, key: `lowest ${f2(curve[best])} at w = ${grid[best]}${vs}, Δ ${signed(cell.delta!)}${ciText(cell.delta_ci as Interval)}` };
  }
  if (c.id === 'penultimate-best') {
    const f = n.fpr95 as Record<string, number>;
    const p = n.penultimate as string;
    const o = n.other as string;
    const cell = numbersCell(c, [p, o], [f[p], f[o]], n.delta as number, n.delta_ci as Interval);
    return { ...cell, key: `penultimate ${p} ${f2(f[p])} vs ${o} ${f2(f[o])} (best other), Δ ${signed(cell.delta!)}${ciText(cell.delta_ci as Interval)}` };
  }
  if (c.id === 'accuracy-unchanged') {
    const rows = n.rows as { napx: string; x: string; acc: number; accX: number }[];
    let r = rows[0];
    for (const x of rows) if (Math.abs(x.acc - x.accX) > Math.abs(r.acc - r.accX)) r = x;
    const cell = numbersCell(c, [r.napx, r.x], [r.acc, r.accX], r.acc - r.accX, undefined);
    return { ...cell, key: `${r.napx} ${f2(r.acc)} vs ${r.x} ${f2(r.accX)} (the largest |Δ| of ${rows.length}), Δ ${signed(cell.delta!)}` };
  }
  return { verdict: c.verdict, ...(c.significant !== undefined ? { significant: c.significant } : {}), key: c.measured };
}

/** A note of compute.ts's applicableMethods without the set's argument and path: "nap-d left out of the default methods (expected …, found …)". */
function leftOut(note: string): string {
  const m = /^(.*? left out of the default methods) \((.*)\)$/s.exec(note);
  if (!m) return note;
  const k = m[2].indexOf(': expected ');
  return `${m[1]} (${k >= 0 ? m[2].slice(k + 2) : m[2]})`;
}

/** Rows: every claim id of every model, in the models' order (an id new in a later model goes after its predecessor there). */
export function claimsSummary(models: readonly ModelResult[]): ClaimsSummary {
  const ids: string[] = [];
  for (const m of models) {
    let at = -1;
    for (const c of m.claims) {
      let k = ids.indexOf(c.id);
      if (k < 0) ids.splice((k = at + 1), 0, c.id);
      at = k;
    }
  }
  const rows = ids.map((id): ClaimsSummaryRow => {
    const all = models.flatMap((m) => m.claims.filter((c) => c.id === id));
    const text = (all.find((c) => c.verdict !== 'not measured') ?? all[0]).claim;
    const cells: Record<string, ClaimCell> = {};
    for (const m of models) {
      const c = m.claims.find((x) => x.id === id);
      const method = id.endsWith('-vs-x') ? id.slice(0, -'-vs-x'.length) : id.endsWith('-w-curve') ? id.slice(0, -'-w-curve'.length) : undefined;
      const prefix = `${m.name}: ${method}`;
      const note = method ? m.notes.find((s) => s.startsWith(prefix) && /^[: ]/.test(s.slice(prefix.length)) && s.includes(' left out')) : undefined;
      cells[m.name] = c ? claimCell(c) : { verdict: 'n/a', key: note ? leftOut(note.slice(m.name.length + 2)) : 'not among this backbone\'s claims' };
    }
    return { id, claim: text, cells };
  });
  return { title: CLAIMS_SUMMARY_TITLE, note: CLAIMS_SUMMARY_NOTE, models: models.map((m) => m.name), rows };
}

function verdictText(c: ClaimCell): string {
  const sig = c.verdict === 'n/a' ? '' : significanceNote({ verdict: c.verdict, significant: c.significant });
  return `${c.verdict}${sig ? ` (${sig})` : ''}`;
}

export function claimsSummaryMarkdown(s: ClaimsSummary): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|');
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [`${s.note}.`, '', line(['Claim', ...s.models.map(esc)]), line(['---', ...s.models.map(() => '---')]),
    ...s.rows.map((r) => line([esc(r.claim), ...s.models.map((m) => esc(`${verdictText(r.cells[m])}: ${r.cells[m].key}`))]))].join('\n') + '\n';
}

export function claimsSummaryCsv(s: ClaimsSummary): string {
  const esc = (t: string) => (/[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
  const opt = (x: number | undefined) => (x === undefined ? '' : String(x));
  const lines = ['claim_id,claim,model,verdict,significant,first,second,first_value,second_value,delta,delta_ci_low,delta_ci_high,key'];
  for (const r of s.rows) {
    for (const m of s.models) {
      const c = r.cells[m];
      lines.push([esc(r.id), esc(r.claim), esc(m), c.verdict, c.significant === undefined ? '' : String(c.significant), esc(c.compared?.[0] ?? ''), esc(c.compared?.[1] ?? ''),
        opt(c.values?.[0]), opt(c.values?.[1]), opt(c.delta), opt(c.delta_ci?.[0]), opt(c.delta_ci?.[1]), esc(c.key)].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

export function claimsSummaryHtml(s: ClaimsSummary, esc: (t: string) => string): string {
  const head = `<tr><th class="m">Claim (paper)</th>${s.models.map((m) => `<th class="m"><a href="#model-${esc(m)}">${esc(m)}</a></th>`).join('')}</tr>`;
  const body = s.rows.map((r) => `<tr data-claim="${esc(r.id)}"><td class="m" style="white-space:normal">${esc(r.claim)}</td>${s.models.map((m) => {
    const c = r.cells[m];
    const cls = c.verdict === 'holds' ? 'holds' : c.verdict === 'does not hold' ? 'fails' : 'nm';
    const sig = c.verdict === 'n/a' ? '' : significanceNote({ verdict: c.verdict, significant: c.significant });
    return `<td class="m" style="white-space:normal" data-model="${esc(m)}" data-verdict="${esc(c.verdict)}"><span class="${cls}">${esc(c.verdict)}</span>${sig ? `<span class="ci">${esc(sig)}</span>` : ''}<span class="key">${esc(c.key)}</span></td>`;
  }).join('')}</tr>`);
  return `<p class="note">${esc(s.note)}.</p><div class="scroll"><table class="claims-summary">${head}${body.join('')}</table></div>`;
}

const MARK: Record<ClaimCell['verdict'], string> = { 'holds': '✓', 'does not hold': '✗', 'not measured': '–', 'n/a': 'n/a' };

/** The compact matrix the CLI prints: claim ids × models, ✓ / ✗ and Δ (* the interval excludes 0). */
export function claimsSummaryText(s: ClaimsSummary): string {
  const cell = (id: string, c: ClaimCell) => {
    if (c.verdict === 'n/a' || c.delta === undefined) return MARK[c.verdict];
    const at = id.endsWith('-w-curve') && c.compared ? ` (${c.compared[0].replace(/ /g, '')})` : '';
    return `${MARK[c.verdict]} ${signed(c.delta).padStart(7)}${c.significant ? '*' : ''}${at}`;
  };
  const table = [['claim', ...s.models], ...s.rows.map((r) => [r.id, ...s.models.map((m) => cell(r.id, r.cells[m]))])];
  const widths = table[0].map((_, k) => Math.max(...table.map((row) => row[k].length)) + 2);
  const lines = table.map((row) => row.map((c, k) => c.padEnd(widths[k])).join('').trimEnd());
  return [`${s.title} (✓ holds, ✗ does not hold, – not measured, n/a: no such claim; Δ in points of average FPR95 (ID accuracy for accuracy-unchanged), (w=…) the lowest point of a w curve; * the 95 % interval of Δ excludes 0 the claimed way; every number in tables/claims-summary.md):`, ...lines].join('\n') + '\n';
}
