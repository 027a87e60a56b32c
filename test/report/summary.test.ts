/**
 * The report across backbones on in-memory models (memory-source.ts): "mlp" has a head that is
 * not one linear layer (the default methods leave DICE and NAP-D out), "lin" a linear one. The
 * claims matrix's cells are each model's own claims (verdict, significance, the numbers of
 * `Claim.numbers` and of its `measured` text), n/a where the model has no such claim; the
 * Markdown, CSV, HTML and CLI text say the same; the tuned-w table across backbones is the
 * models' own tuned-w rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReportConfig } from '../../src/app/report/config.js';
import { computeModel, type ModelInput } from '../../src/app/report/compute.js';
import { analyseModel, type ModelResult } from '../../src/app/report/analyse.js';
import type { Claim } from '../../src/app/report/claims.js';
import { claimsSummary, claimsSummaryCsv, claimsSummaryMarkdown, claimsSummaryText, type ClaimCell } from '../../src/app/report/summary.js';
import { reportHtml } from '../../src/app/report/html.js';
import { summaryTableFiles } from '../../src/app/report/tables.js';
import { tunedWSummary, tunedWSummaryCsv, tunedWSummaryMarkdown, type TunedWTable } from '../../src/app/report/tuned.js';
import type { Head } from '../../src/types.js';
import { memorySet, randomHead } from './memory-source.js';

const config = parseReportConfig({
  models: [{ name: 'mlp', path: 'unused.onnx' }, { name: 'lin', path: 'unused.onnx' }],
  sets: { train: 'x', id: 'x', ood: [{ name: 'near', path: 'x', group: 'near' }, { name: 'far', path: 'x', group: 'far' }] },
  paperW: 'cifar10', bootstrap: 60, figureSample: 40,
});

async function model(name: string, seed: number, linear: boolean): Promise<ModelResult> {
  const head = randomHead(6, 12, seed);
  const set = (label: string, n: number, k: number, peak: number) => memorySet(label, n, 12, 16, head, seed * 10 + k, peak).source;
  // The same function as the linear head, without saying so: what an ONNX head of several layers looks like.
  const opaque: Head = { k: head.k, c: head.c, forward: (z, n) => head.forward(z, n) };
  const input: ModelInput = {
    name, file: `${name}.onnx`, head: linear ? head : opaque, train: set('train', 120, 1, 4),
    id: { name: 'id', path: 'id', source: set('id', 90, 2, 4) },
    oods: [{ name: 'near', path: 'near', group: 'near', source: set('near', 70, 3, 1.5) }, { name: 'far', path: 'far', group: 'far', source: set('far', 60, 4, 0.2) }],
    layers: [], featureMap: 'featureMap',
  };
  return analyseModel(await computeModel(config, input), config, undefined);
}

const models = [await model('mlp', 1, false), await model('lin', 2, true)];
const summary = claimsSummary(models);
const pct = (x: number) => x.toFixed(2);

/** The numbers a cell must carry, read from the claim's own numbers (as claims.ts writes them). */
function expected(c: Claim): { values: [number, number]; delta: number; ci?: [number, number] } {
  const n = c.numbers as Record<string, any>;
  if (c.id === 'accuracy-unchanged') {
    let r = n.rows[0];
    for (const x of n.rows) if (Math.abs(x.acc - x.accX) > Math.abs(r.acc - r.accX)) r = x;
    return { values: [r.acc, r.accX], delta: r.acc - r.accX };
  }
  if (c.id.endsWith('-w-curve')) {
    const best = n.grid.indexOf(n.best_w);
    return { values: [n.fpr95[best], Math.min(n.fpr95[0], n.fpr95[n.fpr95.length - 1])], delta: n.gap, ci: n.gap_ci };
  }
  if (c.id === 'penultimate-best') return { values: [n.fpr95[n.penultimate], n.fpr95[n.other]], delta: n.delta, ci: n.delta_ci };
  const [a, b] = n.compared;
  return { values: [n.fpr95[a], n.fpr95[b]], delta: n.fpr95.delta, ci: n.fpr95.delta_ci };
}

test('the matrix: every claim of every model, n/a where a model has none (NAP-D without a linear head), in the models\' order', () => {
  assert.deepEqual(summary.models, ['mlp', 'lin']);
  assert.ok(models[0].claims.length < models[1].claims.length, 'mlp makes fewer claims');
  assert.deepEqual(summary.rows.map((r) => r.id), models[1].claims.map((c) => c.id), 'an id only the second model has goes where it has it');
  for (const id of ['nap-d-vs-x', 'nap-d-w-curve']) {
    const cell = summary.rows.find((r) => r.id === id)!.cells.mlp;
    assert.equal(cell.verdict, 'n/a', id);
    assert.equal(cell.key, 'nap-d:w=0.5 left out of the default methods (expected a single linear classifier head (needed by nap-d:w=0.5), found a head that is not one linear layer)', id);
    assert.ok(models[0].notes.some((n) => n.startsWith('mlp: nap-d:w=0.5 left out of the default methods (id: expected')), 'the note names the set; the cell does not');
    assert.equal(cell.delta, undefined);
  }
  let measured = 0;
  for (const row of summary.rows) {
    for (const m of models) {
      const c = m.claims.find((x) => x.id === row.id);
      const cell = row.cells[m.name];
      if (!c) continue;
      measured++;
      assert.equal(cell.verdict, c.verdict, `${m.name} ${row.id}`);
      assert.equal(cell.significant, c.significant, `${m.name} ${row.id}`);
      if (c.verdict === 'not measured') { assert.equal(cell.key, c.measured); continue; }
      const e = expected(c);
      assert.deepEqual(cell.values, e.values, `${m.name} ${row.id}`);
      assert.equal(cell.delta, e.delta, `${m.name} ${row.id}`);
      assert.deepEqual(cell.delta_ci, e.ci, `${m.name} ${row.id}`);
      assert.ok(e.ci || row.id === 'accuracy-unchanged', 'bootstrap on: an interval');
      // The claim's own words carry the same Δ and interval.
      const words = row.id === 'accuracy-unchanged' ? [`${cell.compared![0]} ${pct(e.values[0])}`, `vs ${cell.compared![1]} ${pct(e.values[1])}`] : [pct(e.delta), ...(e.ci ? [`[${pct(e.ci[0])}, ${pct(e.ci[1])}]`] : [])];
      for (const w of words) assert.ok(c.measured.includes(w) && cell.key.includes(w.replace(/^-/, '')), `${m.name} ${row.id}: ${w} in ${c.measured} / ${cell.key}`);
      if (row.id.endsWith('-vs-x') || row.id === 'nap-vs-msp') assert.equal(c.verdict === 'holds', e.delta < 0, `${row.id}: holds iff Δ < 0`);
    }
  }
  assert.equal(measured, models[0].claims.length + models[1].claims.length);
  assert.ok(summary.rows.some((r) => r.cells.lin.verdict === 'holds') && summary.rows.some((r) => r.cells.mlp.verdict === 'does not hold'), 'both verdicts occur');
});

/** A minimal CSV reader (quoted fields with "" inside). */
function parseCsv(text: string): string[][] {
  return text.trimEnd().split('\n').map((line) => {
    const out: string[] = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (q && ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = !q; else if (ch === ',' && !q) { out.push(cur); cur = ''; } else cur += ch;
    }
    out.push(cur);
    return out;
  });
}

test('CSV, Markdown, HTML and the CLI text say what the matrix says', () => {
  const [head, ...lines] = parseCsv(claimsSummaryCsv(summary));
  assert.deepEqual(head, ['claim_id', 'claim', 'model', 'verdict', 'significant', 'first', 'second', 'first_value', 'second_value', 'delta', 'delta_ci_low', 'delta_ci_high', 'key']);
  assert.equal(lines.length, summary.rows.length * 2);
  const num = (s: string) => (s === '' ? undefined : Number(s));
  for (const l of lines) {
    const cell: ClaimCell = summary.rows.find((r) => r.id === l[0])!.cells[l[2]];
    assert.equal(l[3], cell.verdict);
    assert.equal(l[4], cell.significant === undefined ? '' : String(cell.significant));
    assert.deepEqual([l[5], l[6]], [cell.compared?.[0] ?? '', cell.compared?.[1] ?? '']);
    assert.deepEqual([num(l[7]), num(l[8]), num(l[9]), num(l[10]), num(l[11])], [cell.values?.[0], cell.values?.[1], cell.delta, cell.delta_ci?.[0], cell.delta_ci?.[1]], `${l[0]} ${l[2]}`);
    assert.equal(l[12], cell.key);
  }
  const md = claimsSummaryMarkdown(summary).split('\n').filter((l) => l.startsWith('| '));
  assert.equal(md[0], '| Claim | mlp | lin |');
  assert.equal(md.length, 2 + summary.rows.length);
  summary.rows.forEach((r, k) => {
    const cells = md[k + 2].slice(2, -2).split(/(?<!\\) \| /).map((s) => s.replace(/\\\|/g, '|'));
    assert.equal(cells[0], r.claim);
    summary.models.forEach((m, j) => assert.ok(cells[j + 1].startsWith(r.cells[m].verdict) && cells[j + 1].endsWith(r.cells[m].key), `${r.id} ${m}: ${cells[j + 1]}`));
  });
  const html = reportHtml({ title: 'napood report — t', version: 'x', summary: [], models: models.map((result) => ({ result, figures: [] })), claimsSummary: summary });
  const across = html.indexOf('<h2 id="across">');
  assert.ok(across > 0 && across < html.indexOf('id="model-mlp"') && html.indexOf('id="model-mlp"') < html.indexOf('id="model-lin"'), 'the first section');
  assert.ok(!html.includes('id="tuned-w-summary"'), 'no tune: no tuned-w section');
  const verdicts = [...html.matchAll(/<tr data-claim="([^"]+)">(.*?)<\/tr>/g)].map((m) => [m[1], [...m[2].matchAll(/data-model="([^"]+)" data-verdict="([^"]+)"/g)].map((x) => `${x[1]}=${x[2]}`).join(' ')]);
  assert.deepEqual(verdicts, summary.rows.map((r) => [r.id, `mlp=${r.cells.mlp.verdict} lin=${r.cells.lin.verdict}`]));
  const text = claimsSummaryText(summary).trimEnd().split('\n');
  assert.match(text[1], /^claim\s+mlp\s+lin$/);
  assert.equal(text.length, 2 + summary.rows.length);
  const mark = { 'holds': '✓', 'does not hold': '✗', 'not measured': '–', 'n/a': 'n/a' } as const;
  summary.rows.forEach((r, k) => {
    const cols = text[k + 2].split(/\s{2,}/);
    assert.equal(cols[0], r.id);
    const at = text[1].indexOf('lin');
    assert.ok(text[k + 2].slice(at).startsWith(mark[r.cells.lin.verdict]), `${r.id}: ${text[k + 2]}`);
    if (r.cells.lin.delta !== undefined) assert.ok(text[k + 2].slice(at).includes(pct(Math.abs(r.cells.lin.delta))), `${r.id}: ${text[k + 2]}`);
  });
  assert.match(text[2 + summary.rows.findIndex((r) => r.id === 'nap-d-vs-x')], /^nap-d-vs-x\s+n\/a\s+[✓✗]/);
});

/** A tuned-w table as tunedWTable makes it (its rows are what the summary takes). */
function tuned(m: ModelResult, w: number): TunedWTable {
  const rows = m.tables.main.methods.filter((r) => /^nap-[er]\b/.test(r.method)).map((r, k) => ({
    method: r.method, tuned_w: w + k / 10, pseudo: { auroc: 90, fpr95: 30 }, tuned: { fpr95: r.average.fpr95 - 1, auroc: r.average.auroc },
    paper_w: r.params.w, paper: { fpr95: r.average.fpr95, auroc: r.average.auroc }, oracle: { near: { w: 0.2, fpr95: 10 + k }, far: { w: 0.7 + k / 10, fpr95: 20 } },
  }));
  return { title: 't', note: 'n', criterion: 'auroc', val: { path: 'val', n: 10 }, pseudo_ood: {}, ood: ['near', 'far'], rows, tune: {} as TunedWTable['tune'] };
}

test('the tuned w across backbones: each model\'s own rows, the oracle over its sets; absent without tune', () => {
  assert.equal(tunedWSummary(models), undefined);
  assert.equal(summaryTableFiles(summary, undefined).map((f) => f.name).join(' '), 'claims-summary.md claims-summary.csv');
  const withTune = [{ ...models[0], tunedW: tuned(models[0], 0.3) }, models[1], { ...models[1], name: 'lin2', tunedW: tuned(models[1], 0.5) }];
  const t = tunedWSummary(withTune)!;
  assert.deepEqual(t.models, ['mlp', 'lin2'], 'only the models with a tuned-w table');
  assert.match(t.note, /The search's criterion: auroc for every backbone$/);
  withTune[2] = { ...withTune[2], tunedW: { ...withTune[2].tunedW!, criterion: 'fpr95' } };
  assert.match(tunedWSummary(withTune)!.note, /The search's criterion: mlp auroc, lin2 fpr95$/);
  assert.equal(t.rows.length, 4);
  for (const r of t.rows) {
    const own = withTune.find((m) => m.name === r.model)!.tunedW!.rows.find((x) => x.method === r.method)!;
    const { model: _m, oracle_over_sets: o, ...rest } = r;
    assert.deepEqual(rest, own);
    assert.deepEqual(o, { w_min: 0.2, w_max: own.oracle.far.w, mean_fpr95: (own.oracle.near.fpr95 + 20) / 2, sets: 2 });
  }
  const md = tunedWSummaryMarkdown(t).split('\n').filter((l) => l.startsWith('| '));
  assert.equal(md.length, 2 + 4);
  const r0 = t.rows[0];
  assert.equal(md[2], `| mlp | ${r0.method} | 0.3 | ${pct(r0.tuned.fpr95)} | ${r0.paper_w} | ${pct(r0.paper.fpr95)} | -1.00 | 0.2–0.7 | ${pct(r0.oracle_over_sets!.mean_fpr95)} |`);
  const csv = parseCsv(tunedWSummaryCsv(t));
  assert.equal(csv[0].slice(0, 4).join(','), 'model,method,tuned_w,tuned_avg_fpr95');
  assert.deepEqual(csv[0].slice(-4), ['oracle_w_near_research_only', 'oracle_fpr95_near_research_only', 'oracle_w_far_research_only', 'oracle_fpr95_far_research_only']);
  csv.slice(1).forEach((l, k) => {
    const r = t.rows[k];
    assert.deepEqual(l.slice(0, 7).map((x, i) => (i < 2 ? x : Number(x))), [r.model, r.method, r.tuned_w, r.tuned.fpr95, r.tuned.auroc, r.paper_w, r.paper.fpr95]);
    assert.equal(Number(l[12]), r.oracle_over_sets!.mean_fpr95);
  });
  const html = reportHtml({ title: 't', version: 'x', summary: [], models: withTune.map((result) => ({ result, figures: [] })), claimsSummary: claimsSummary(withTune), tunedWSummary: t });
  assert.ok(html.indexOf('id="claims-summary"') < html.indexOf('id="tuned-w-summary"') && html.indexOf('id="tuned-w-summary"') < html.indexOf('id="model-mlp"'));
  assert.deepEqual(summaryTableFiles(summary, t).map((f) => f.name), ['claims-summary.md', 'claims-summary.csv', 'tuned-w-summary.md', 'tuned-w-summary.csv']);
});
