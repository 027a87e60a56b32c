/**
 * Config `tune` of `napood report` on the fixture sets (test/fixtures/report/, ID-val val.npy:
 * 32 train images mirrored): the "w: tuned vs the paper's vs oracle" table is in report.json,
 * tables/ and index.html; its tuned w is what app/tune.ts's tuneMethods gives on the same sets;
 * the oracle (the OOD test sets) never changes the tuned w.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeReport } from '../../src/node/report-run.js';
import { parseReportConfig } from '../../src/app/report/config.js';
import { pseudoOodSource } from '../../src/app/pseudo-ood.js';
import { tuneMethods } from '../../src/app/tune.js';
import { PRESETS } from '../../src/images/preprocess.js';
import { openImageSources } from '../../src/node/detector.js';
import { nodeImageDecoder } from '../../src/node/images/loader.js';
import { loadOnnxModel } from '../../src/node/onnx.js';
import { RunSets } from '../../src/node/sets.js';
import { parseMethodSpec } from '../../src/run/spec.js';
import { NapoodError } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';

const dir = join(fixturesDir, 'report');
const at = (p: string) => join(dir, p);
const modelPath = join(fixturesDir, 'pipeline', 'model.onnx');
const scratch = mkdtempSync(join(tmpdir(), 'napood-report-tune-'));
const config = join(scratch, 'config.json');
const ood = [{ name: 'near-blobs', path: at('near.npy'), group: 'near' }, { name: 'noise', path: at('far.npy'), group: 'far' }];
writeFileSync(config, JSON.stringify({
  models: [{ name: 'pipeline', path: modelPath, preprocess: 'cifar' }],
  sets: { train: { path: at('train.npy'), labels: at('train_labels.npy') }, id: { path: at('id.npy'), labels: at('id_labels.npy') }, ood },
  methods: ['energy', 'nap', 'nap-e', 'nap-r:w=0.4'],
  tune: { val: { path: at('val.npy') } },
  bootstrap: 0, figureSample: 50,
}));
const out = join(scratch, 'rep');
await makeReport(config, out);
const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
const table = json.models[0].tunedW;

test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** tuneMethods on the fixture's sets, opened as a caller of the library would. */
async function tuneDirect(withOracle: boolean): Promise<Record<string, number>> {
  const model = await loadOnnxModel(modelPath);
  const sets = new RunSets({ model, preprocess: (_chw, layout) => ({ ...PRESETS.cifar!, layout }), normalisationGiven: true, npyLabels: { train: at('train_labels.npy') } });
  const images = await openImageSources([at('val.npy')], 'val');
  try {
    const train = await sets.open(at('train.npy'), 'train', 'train');
    const val = await sets.open(at('val.npy'), 'val', 'ood');
    const pseudoOod = pseudoOodSource(model, images.sources, sets.preprocess!, { decoder: nodeImageDecoder(), seed: 0 });
    const oracle = [];
    if (withOracle) for (const o of ood) oracle.push({ name: o.name, source: await sets.open(o.path, o.name, 'ood') });
    const r = await tuneMethods(['nap-e', 'nap-r'].map((s) => parseMethodSpec(s, 'methods')), { val, pseudoOod, train, head: model.head, oracle });
    return Object.fromEntries(r.report.candidates.map((c) => [c.method, c.params.w!]));
  } finally {
    images.close();
    await sets.close();
    await model.release();
  }
}

test('the tuned-w table: report.json, tables/pipeline-tuned-w.md|csv, index.html; the paper w from the main table', () => {
  assert.ok(table, 'models[0].tunedW');
  assert.deepEqual(table.rows.map((r: { method: string }) => r.method), ['nap-e', 'nap-r:w=0.4']);
  assert.deepEqual(table.ood, ['near-blobs', 'noise']);
  assert.match(table.note, /research only/);
  const main = json.models[0].tables.main.methods;
  for (const r of table.rows) {
    assert.ok(r.tuned_w >= 0 && r.tuned_w <= 1 && Number.isFinite(r.tuned.fpr95) && Number.isFinite(r.tuned.auroc), r.method);
    const m = main.find((x: { method: string }) => x.method === r.method);
    assert.equal(r.paper_w, m.params.w);
    assert.equal(r.paper.fpr95, m.average.fpr95);
    for (const o of table.ood) assert.ok(r.oracle[o].w >= 0 && r.oracle[o].w <= 1 && r.oracle[o].fpr95 >= 0, `${r.method} ${o}`);
  }
  assert.equal(table.rows[1].paper_w, 0.4, 'a configured w is the row\'s paper w; the search tunes it anyway');
  const md = readFileSync(join(out, 'tables', 'pipeline-tuned-w.md'), 'utf8');
  assert.match(md, /w: tuned \(pseudo-OOD, no OOD data\) vs the paper's vs oracle/);
  assert.match(md, /oracle w near-blobs \(research only\)/);
  const csv = readFileSync(join(out, 'tables', 'pipeline-tuned-w.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 3);
  assert.match(csv[0], /^method,tuned_w,.*oracle_w_near-blobs_research_only/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /id="tuned-w-pipeline"/);
  assert.ok(html.indexOf('id="claims-summary"') < html.indexOf('id="tuned-w-summary"') && html.indexOf('id="tuned-w-summary"') < html.indexOf('id="model-pipeline"'), 'across backbones first: claims, then tuned w');
  assert.match(html, /research only/);
});

test('the tuned w is tuneMethods\' on the same sets, and the oracle sets never change it', async () => {
  const without = await tuneDirect(false);
  const withOracle = await tuneDirect(true);
  assert.deepEqual(withOracle, without);
  assert.equal(table.rows[0].tuned_w, without['nap-e']);
  assert.equal(table.rows[1].tuned_w, without['nap-r']);
  assert.deepEqual(Object.fromEntries(table.tune.candidates.map((c: { method: string; params: { w: number } }) => [c.method, c.params.w])), without);
});

test('config: tune is validated, per model over the shared one', () => {
  const base = { models: [{ name: 'm', path: 'm.onnx' }], sets: { id: 'id/', ood: [{ name: 'o', path: 'o/', group: 'far' }] } };
  const cfg = parseReportConfig({ ...base, tune: { val: 'val.npy', severities: [5, 3], assignment: 'all', criterion: 'fpr95' } });
  assert.deepEqual(cfg.models[0].tune, { val: { path: 'val.npy' }, severities: [3, 5], assignment: 'all', criterion: 'fpr95' });
  const own = parseReportConfig({ ...base, tune: { val: 'a.npy' }, models: [{ name: 'm', path: 'm.onnx', tune: { val: 'b.npy' } }, { name: 'n', path: 'n.onnx' }] });
  assert.deepEqual(own.models.map((m) => m.tune?.val.path), ['b.npy', 'a.npy']);
  assert.equal(parseReportConfig(base).models[0].tune, undefined);
  assert.throws(() => parseReportConfig({ ...base, tune: { val: 'v.npy', corruptions: ['nope'] } }), (e: unknown) => e instanceof NapoodError && /tune\.corruptions\[0\]/.test(e.message));
  assert.throws(() => parseReportConfig({ ...base, tune: { val: 'v.npy', severities: [6] } }), /tune\.severities\[0\]/);
  assert.throws(() => parseReportConfig({ ...base, tune: { path: 'v.npy' } }), /tune\.path/);
});

test('the tuned w across backbones: the models\' own rows in report.json, tables/tuned-w-summary.md|csv', () => {
  const t = json.tunedWSummary;
  assert.deepEqual(t.models, ['pipeline']);
  assert.deepEqual(t.rows.map((r: Record<string, unknown>) => { const { model, oracle_over_sets: _o, ...rest } = r; return [model, rest]; }), table.rows.map((r: unknown) => ['pipeline', r]));
  for (const r of t.rows) {
    const o = Object.values(r.oracle) as { w: number; fpr95: number }[];
    assert.deepEqual(r.oracle_over_sets, { w_min: Math.min(...o.map((x) => x.w)), w_max: Math.max(...o.map((x) => x.w)), mean_fpr95: (o[0].fpr95 + o[1].fpr95) / 2, sets: 2 });
  }
  const md = readFileSync(join(out, 'tables', 'tuned-w-summary.md'), 'utf8');
  assert.match(md, /^## w across backbones: tuned/);
  const r0 = t.rows[0];
  assert.ok(md.includes(`\n| pipeline | ${r0.method} | ${r0.tuned_w} | ${r0.tuned.fpr95.toFixed(2)} | ${r0.paper_w} | ${r0.paper.fpr95.toFixed(2)} |`), md);
  const csv = readFileSync(join(out, 'tables', 'tuned-w-summary.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + t.rows.length);
  assert.equal(csv[1].split(',').slice(0, 3).join(','), `pipeline,${r0.method},${r0.tuned_w}`);
});
