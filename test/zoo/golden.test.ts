/**
 * Evidence (issue #11 item 7): napood's numbers on the trained zoo ResNet against an independent
 * PyTorch / numpy / sklearn recomputation straight from the images (tools/golden_zoo_report.py →
 * test/fixtures/zoo/resnet_golden.json; see that script for the formulas).
 *
 *  1. napood's metric code on the golden's own scores = sklearn's metrics (no model: exact).
 *  2. napood from the uint8 .npy images through examples/zoo/resnet.onnx (the library: openModel,
 *     fit on the whole ID-train set, score and evaluate the seeded subset) = PyTorch, per sample,
 *     metrics and ID accuracy.
 *  3. `napood report` (makeReport) on the full sets — the demo's sets, bootstrap 0, short sweeps —
 *     = the golden's full-set FPR95, AUROC and ID accuracy.
 *
 * Tolerances. Metrics (percent): 1e-4. Per-sample scores: relative SCORE_RTOL = 1e-5, not 1e-6:
 * two float32 forward passes (onnxruntime's MLAS convolutions, PyTorch's oneDNN ones) cannot agree
 * to 1e-6. Measured on the full sets: napood − PyTorch up to 2.9e-6 (MSP of a low-confidence
 * notMNIST image), and each runtime is as far from a float64 forward of the same model:
 * PyTorch float32 up to 2.3e-6 (fixture: full.float32_vs_float64_max_rel), onnxruntime 4.2e-6.
 * Metrics are step functions of the scores, so this float32 noise can reorder an ID/OOD pair
 * whose scores are within ~1e-6: on the full sets 11 of the 19 × 6 × 2 million pairs are
 * ordered differently, which moves AUPR by up to 3.5e-4 and AUROC by up to 1e-4 (two pairs of
 * ash-s on uniform) — hence the 1e-9 slack on the 1e-4 of the full-set AUROC (the decimal
 * representation of 50.0326 vs 50.03249999999999) and no full-set AUPR assertion (printed as a
 * diagnostic). FPR95, detection error and every accuracy agree exactly. On the seeded subset the
 * ID/OOD pairs napood and PyTorch order differently are counted: none → every metric to 1e-4;
 * some (densenet: one pair of nap[L3+L4] on notMNIST, 1.7e-3 AUROC points on 60,000 pairs) →
 * AUROC within 1e-4 + 100·pairs/(n_ID n_OOD), the exact bound, the other metrics printed, and
 * at most 1e-4 of the pairs may flip.
 *
 * Time: 7–20 s in all on a shared 2-core machine (3, the report on 13,000 images, is 4–12 s of it);
 * NAPOOD_ZOO_FULL=0 skips 3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModel } from '../../src/node/api.js';
import { RunSets } from '../../src/node/sets.js';
import { readNpyHeader, writeNpy } from '../../src/node/io/npy.js';
import { evaluateBinary } from '../../src/metrics/binary.js';
import { makeReport } from '../../src/node/report-run.js';
import type { EvalReport, MethodReport } from '../../src/app/report.js';
import { fixturesDir, repoRoot } from '../helpers.js';

interface Metrics { fpr95: number; auroc: number; aupr_in: number; aupr_out: number; detection_error: number }
interface Golden {
  model: { name: string; onnx: string; preprocess: string };
  sets: Record<string, { path: string; labels?: string }>;
  oods: string[];
  w: Record<string, number>;
  layers: { label: string; tensor: string }[];
  full: { n: Record<string, number>; react_threshold: number; dice_threshold: number; dice_kept: number; accuracy: Record<string, number>; metrics: Record<string, { results: Record<string, Metrics>; average: Metrics }> };
  subset: { indices: Record<string, number[]>; accuracy: Record<string, number>; metrics: Record<string, { results: Record<string, Metrics>; average: Metrics }>; scores: Record<string, Record<string, number[]>> };
}

const SCORE_RTOL = 1e-5;
const METRIC_TOL = 1e-4;
const METRIC_KEYS = ['fpr95', 'auroc', 'aupr_in', 'aupr_out', 'detection_error'] as const;
/** Methods whose logits differ from the model's, and the one whose accuracy they report. */
const LOGIT_OF: Record<string, string> = { react: 'react', dice: 'dice', 'ash-s': 'ash-s' };
const logitsOf = (m: string) => LOGIT_OF[m] ?? LOGIT_OF[{ 'nap-r': 'react', 'nap-d': 'dice', 'nap-a': 'ash-s' }[m.split(':')[0]!] ?? ''];
const at = (p: string) => join(repoRoot, p);
const scratchRoot = mkdtempSync(join(tmpdir(), 'napood-zoo-golden-'));
test.after(() => rmSync(scratchRoot, { recursive: true, force: true }));

function rel(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** ID/OOD pairs whose order (ID above, tied, below) differs between two scorings of the same rows. */
function discordantPairs(idA: ArrayLike<number>, oodA: ArrayLike<number>, idB: ArrayLike<number>, oodB: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < idA.length; i++) {
    for (let j = 0; j < oodA.length; j++) {
      if (Math.sign(idA[i]! - oodA[j]!) !== Math.sign(idB[i]! - oodB[j]!)) d++;
    }
  }
  return d;
}

/** Accuracies (percent) to METRIC_TOL: the same count of correct predictions. */
function sameAccuracy(got: number | undefined, want: number | undefined, where: string): void {
  assert.ok(got !== undefined && want !== undefined && Math.abs(got - want) <= METRIC_TOL, `${where}: napood ${got}, PyTorch ${want}`);
}

function checkMetrics(got: Metrics, want: Metrics, where: string, keys: readonly (keyof Metrics)[] = METRIC_KEYS, slack = 0): number {
  let worst = 0;
  for (const k of keys) {
    const d = Math.abs(got[k] - want[k]);
    worst = Math.max(worst, d);
    assert.ok(d <= METRIC_TOL + slack, `${where} ${k}: napood ${got[k]}, PyTorch/sklearn ${want[k]} (|Δ| ${d.toExponential(3)} > ${METRIC_TOL})`);
  }
  return worst;
}

/** Rows `rows` of a uint8 [N, …] .npy (and its int64 labels) written to the scratch folder. */
function subsetNpy(scratch: string, path: string, rows: readonly number[], name: string, labels?: string): { path: string; labels?: string } {
  const cut = (file: string, ctor: 'u8' | 'i64') => {
    const h = readNpyHeader(file);
    const bytes = readFileSync(file);
    const per = h.shape.slice(1).reduce((a, b) => a * b, 1) * (ctor === 'u8' ? 1 : 8);
    const out = new Uint8Array(rows.length * per);
    rows.forEach((r, i) => out.set(bytes.subarray(h.dataOffset + r * per, h.dataOffset + (r + 1) * per), i * per));
    return { data: ctor === 'u8' ? out : new BigInt64Array(out.buffer), shape: [rows.length, ...h.shape.slice(1)] };
  };
  const img = cut(at(path), 'u8');
  assert.equal(readNpyHeader(at(path)).dtype, 'uint8');
  const p = join(scratch, `${name}.npy`);
  writeNpy(p, img.data, img.shape);
  if (!labels) return { path: p };
  const lab = cut(at(labels), 'i64');
  const lp = join(scratch, `${name}_labels.npy`);
  writeNpy(lp, lab.data, lab.shape);
  return { path: p, labels: lp };
}

/** One model's golden: test/fixtures/zoo/<model>_golden.json (every zoo backbone with a linear head). */
function goldenTests(file: string): void {
const golden: Golden = JSON.parse(readFileSync(join(fixturesDir, 'zoo', file), 'utf8'));
const name = golden.model.name;
const scratch = join(scratchRoot, name);
mkdirSync(scratch, { recursive: true });
const methods = Object.keys(golden.subset.scores.id);
const layerTensor = new Map(golden.layers.map((l) => [l.label, l.tensor]));
/** Golden names (nap[L3+L4]) → napood specs (nap[/layer2/…+/layer3/…]). */
const napoodSpec = (m: string) => m.replace(/^nap\[([^\]]+)\]$/, (_, s: string) => `nap[${s.split('+').map((l) => layerTensor.get(l)!).join('+')}]`);

test(`${name}: napood's metrics of the golden scores equal sklearn's (FPR95 of SPEC §1, AUROC, AUPR-In/Out, detection error)`, (t) => {
  let worst = 0;
  for (const m of methods) {
    const id = Float64Array.from(golden.subset.scores.id[m]!);
    for (const o of golden.oods) {
      const r = evaluateBinary(id, Float64Array.from(golden.subset.scores[o]![m]!));
      const got: Metrics = { fpr95: 100 * r.fpr95, auroc: 100 * r.auroc, aupr_in: 100 * r.auprIn, aupr_out: 100 * r.auprOut, detection_error: 100 * r.detectionError };
      worst = Math.max(worst, checkMetrics(got, golden.subset.metrics[m]!.results[o]!, `${m} ${o} (golden scores)`));
    }
  }
  t.diagnostic(`max |napood − sklearn| on the golden scores: ${worst.toExponential(2)} percent`);
});

test(`${name}: napood on the zoo ONNX from uint8 .npy images = PyTorch on the seeded subset: scores, metrics, ID accuracy`, async (t) => {
  const pp = JSON.parse(readFileSync(at(golden.model.preprocess), 'utf8'));
  // nap[LAYERS] needs every named layer, the feature map too, among the extra outputs.
  const od = await openModel(at(golden.model.onnx), { preprocess: pp, extraOutputs: golden.layers.map((l) => l.tensor) });
  try {
    const specs = methods.map(napoodSpec);
    await od.fit(specs, at(golden.sets.train!.path));
    // The fitted statistics (the whole ID-train set, as the report).
    const state = JSON.parse(od.stateText()) as { methods: { spec: string; state: { threshold: number; kept?: number } }[] };
    const stateOf = (spec: string) => state.methods.find((s) => s.spec === spec)!.state;
    const dr = rel(stateOf('react').threshold, golden.full.react_threshold);
    const dd = rel(stateOf('dice').threshold, golden.full.dice_threshold);
    t.diagnostic(`ReAct threshold: napood ${stateOf('react').threshold}, numpy ${golden.full.react_threshold} (rel ${dr.toExponential(2)}); DICE threshold rel ${dd.toExponential(2)}`);
    assert.ok(dr <= SCORE_RTOL && dd <= SCORE_RTOL, 'ReAct and DICE thresholds');
    assert.equal(stateOf('dice').kept, golden.full.dice_kept, 'DICE weights kept');
    const files: Record<string, { path: string; labels?: string }> = {
      id: subsetNpy(scratch, golden.sets.id!.path, golden.subset.indices.id!, 'id', golden.sets.id!.labels),
    };
    for (const o of golden.oods) files[o] = subsetNpy(scratch, golden.sets[o]!.path, golden.subset.indices[o]!, o);

    // Per-sample scores.
    const worst: Record<string, number> = {};
    const mineOf: Record<string, Record<string, Float64Array>> = {};
    for (const set of ['id', ...golden.oods]) {
      const got = await od.score(files[set]!.path);
      mineOf[set] = Object.fromEntries(methods.map((m) => [m, got.scores[napoodSpec(m)]!]));
      assert.equal(got.n, golden.subset.indices[set]!.length);
      for (const m of methods) {
        const mine = got.scores[napoodSpec(m)]!;
        const want = golden.subset.scores[set]![m]!;
        for (let i = 0; i < want.length; i++) {
          const d = rel(mine[i]!, want[i]!);
          if (d > (worst[m] ?? 0)) worst[m] = d;
          assert.ok(d <= SCORE_RTOL, `${m} on ${set} row ${golden.subset.indices[set]![i]}: napood ${mine[i]}, PyTorch ${want[i]} (rel ${d.toExponential(2)})`);
        }
      }
    }
    t.diagnostic(`max relative score difference napood − PyTorch: ${Object.entries(worst).map(([m, d]) => `${m} ${d.toExponential(1)}`).join(', ')}`);

    // Metrics and accuracy as `napood eval` computes them (labelled ID set: the report's .npy path).
    const sets = new RunSets({ model: od.classifier, preprocess: () => od.preprocess, normalisationGiven: true, npyLabels: { id: files.id!.labels! } });
    try {
      const id = await sets.open(files.id!.path, 'id', 'id');
      const oods = Object.fromEntries(golden.oods.map((o) => [o, files[o]!.path]));
      const report: EvalReport = await od.evaluate(id, oods, { bootstrap: 0 });
      let mw = 0;
      const flips: string[] = [];
      for (const r of report.methods) {
        const m = methods[specs.indexOf(r.method)]!;
        // Float32 near-ties (see the header): an ID/OOD pair napood and PyTorch order differently
        // moves AUROC by at most 100/(n_ID n_OOD) percent and can move the other metrics; where
        // there is any, AUROC is held to that bound and the rest are diagnostics, as on the full sets.
        let slack = 0;
        let flipped = false;
        for (const o of golden.oods) {
          const d = discordantPairs(mineOf.id![m]!, mineOf[o]![m]!, golden.subset.scores.id![m]!, golden.subset.scores[o]![m]!);
          const nPairs = mineOf.id![m]!.length * mineOf[o]![m]!.length;
          assert.ok(d <= 1e-4 * nPairs, `${m} ${o}: ${d} of ${nPairs} ID/OOD pairs ordered differently from PyTorch`);
          if (d === 0) { mw = Math.max(mw, checkMetrics(r.results[o]!, golden.subset.metrics[m]!.results[o]!, `${m} ${o}`)); continue; }
          flipped = true;
          flips.push(`${m} ${o}: ${d} pair${d > 1 ? 's' : ''}`);
          const bound = (100 * d) / nPairs;
          slack += bound / golden.oods.length;
          checkMetrics(r.results[o]!, golden.subset.metrics[m]!.results[o]!, `${m} ${o} (${d} near-tie pairs)`, ['auroc'], bound);
        }
        if (flipped) checkMetrics(r.average, golden.subset.metrics[m]!.average, `${m} average`, ['auroc'], slack);
        else mw = Math.max(mw, checkMetrics(r.average, golden.subset.metrics[m]!.average, `${m} average`));
        const lo = logitsOf(m);
        if (lo) sameAccuracy(r.id_accuracy, golden.subset.accuracy[lo], `${m} ID accuracy`);
      }
      sameAccuracy(report.id.accuracy, golden.subset.accuracy.energy, 'ID accuracy of the model');
      t.diagnostic(`subset metrics: max |napood − sklearn| ${mw.toExponential(2)} percent where no pair flips; ID accuracy ${report.id.accuracy} %`);
      if (flips.length) t.diagnostic(`float32 near-tie ID/OOD pairs ordered differently from PyTorch (AUROC held to 100·pairs/(n_ID n_OOD)): ${flips.join(', ')}`);
    } finally {
      await sets.close();
    }
  } finally {
    await od.release();
  }
});

test(`${name}: napood report on the full zoo sets = PyTorch: FPR95, AUROC, detection error, ID accuracy of every table row`, { skip: process.env.NAPOOD_ZOO_FULL === '0' ? 'NAPOOD_ZOO_FULL=0' : false }, async (t) => {
  const set = (p: string, labels?: string) => ({ path: at(p), ...(labels ? { labels: at(labels) } : {}) });
  const config = {
    title: 'zoo golden check',
    models: [{ name, path: at(golden.model.onnx), preprocess: at(golden.model.preprocess) }],
    sets: {
      train: set(golden.sets.train!.path, golden.sets.train!.labels),
      id: set(golden.sets.id!.path, golden.sets.id!.labels),
      ood: golden.oods.map((o) => ({ name: o, group: 'far', ...set(golden.sets[o]!.path) })),
    },
    paperW: 'cifar10',
    sweeps: { w: [0, 0.4, 0.5, 1], nap: { p: [2], eps: [1] }, percentile: [90] },
    bootstrap: 0, figureSample: 10,
  };
  const cfgPath = join(scratch, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(config));
  const t0 = Date.now();
  await makeReport(cfgPath, join(scratch, 'report'), { pngScale: 1 });
  const json = JSON.parse(readFileSync(join(scratch, 'report', 'report.json'), 'utf8'));
  t.diagnostic(`napood report on ${Object.values(golden.full.n).reduce((a, b) => a + b, 0)} images: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const model = json.models[0];
  assert.deepEqual(model.tables.layerInfo.map((l: { tensor: string }) => l.tensor), golden.layers.map((l) => l.tensor), 'the layers the golden took from the demo report');
  const rows: MethodReport[] = [...model.tables.main.methods, ...model.tables.layers.methods];
  const byName = new Map(rows.map((r) => [r.method, r]));
  let worst = 0;
  let auprWorst = 0;
  for (const [m, g] of Object.entries(golden.full.metrics)) {
    const r = byName.get(m);
    assert.ok(r, `${m} in the report`);
    for (const o of [...golden.oods, 'average']) {
      const got = o === 'average' ? r.average : r.results[o]!;
      const want = o === 'average' ? g.average : g.results[o]!;
      // 1e-9: the decimal representation of the percent values (see the header).
      worst = Math.max(worst, checkMetrics(got, want, `report ${m} ${o}`, ['fpr95', 'auroc', 'detection_error'], 1e-9));
      auprWorst = Math.max(auprWorst, Math.abs(got.aupr_in - want.aupr_in), Math.abs(got.aupr_out - want.aupr_out));
    }
    const lo = logitsOf(m);
    if (lo) sameAccuracy(r.id_accuracy, golden.full.accuracy[lo], `${m} ID accuracy`);
  }
  sameAccuracy(model.tables.main.id.accuracy, golden.full.accuracy.energy, 'ID accuracy of the model');
  t.diagnostic(`full sets: max |report − golden| FPR95/AUROC/detection error ${worst.toExponential(2)} percent, AUPR ${auprWorst.toExponential(2)} (float32 near-ties, not asserted)`);
});
}

const goldens = readdirSync(join(fixturesDir, 'zoo')).filter((f) => f.endsWith('_golden.json')).sort();
test('every zoo backbone with a linear head has its golden (resnet, densenet, mobilenetv2)', () => {
  assert.deepEqual(goldens, ['densenet_golden.json', 'mobilenetv2_golden.json', 'resnet_golden.json']);
});
for (const f of goldens) goldenTests(f);
