#!/usr/bin/env node
// Deployment check of the zoo detectors (issue #12's closing numbers), through the library as a
// user would run it — no OOD data anywhere in the choice:
//   1. tune on the first half of the held-out ID-val set (w and method against corrupted copies),
//   2. calibrate the threshold at 95 % ID TPR on the second half, save the detector file,
//   3. load it with the model and check the ID test set (realised TPR against the 95 % target)
//      and every OOD test set (share wrongly let through = FPR at the threshold).
// Run from the repository root after `npx tsc -p tsconfig.json`:
//   node tools/zoo_detectors.mjs [--out bench/results/zoo-detectors.md] [MODEL …]
// Models: the zoo's (examples/zoo/*.onnx) that exist; resnet6 uses its 6-class sets.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDetector, openModel, readNpy, writeNpy } from 'napood/node';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : 'bench/results/zoo-detectors.md';
const ZOO = 'examples/zoo';
const D = (n) => join(ZOO, 'data', `${n}.npy`);
const FAR = ['mnist', 'notmnist', 'textures', 'photos', 'gaussian', 'uniform'];
const MODELS = {
  resnet: { val: 'fmnist_val', train: 'fmnist_train', id: 'fmnist_test', ood: FAR },
  densenet: { val: 'fmnist_val', train: 'fmnist_train', id: 'fmnist_test', ood: FAR },
  mobilenetv2: { val: 'fmnist_val', train: 'fmnist_train', id: 'fmnist_test', ood: FAR },
  vgg: { val: 'fmnist_val', train: 'fmnist_train', id: 'fmnist_test', ood: FAR },
  resnet6: { val: 'fmnist6_val', train: 'fmnist6_train', id: 'fmnist6_test', ood: ['fmnist4_test', ...FAR.slice(0, 4)] },
};
const TPR = 0.95;
const names = (args.length ? args : Object.keys(MODELS)).filter((m) => existsSync(join(ZOO, `${m}.onnx`)));
const scratch = mkdtempSync(join(tmpdir(), 'napood-zoo-detectors-'));

/** Rows [from, to) of a uint8 [N, 1, H, W] .npy set, written as a uint8 .npy (pixels, not tensors). */
function half(set, from, to, name) {
  const a = readNpy(D(set));
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const n = a.shape[0];
  const lo = Math.round(from * n), hi = Math.round(to * n);
  const path = join(scratch, `${name}.npy`);
  writeNpy(path, Uint8Array.from(a.data.subarray(lo * per, hi * per)), [hi - lo, ...a.shape.slice(1)]);
  return { path, n: hi - lo };
}

const pct = (x) => (100 * x).toFixed(2);
const rows = [];
try {
  for (const m of names) {
    const s = MODELS[m];
    const model = join(ZOO, `${m}.onnx`);
    const preprocess = JSON.parse(readFileSync(join(ZOO, `${m}.json`), 'utf8'));
    const val = half(s.val, 0, 0.5, `${m}-val`);
    const cal = half(s.val, 0.5, 1, `${m}-cal`);
    const t0 = Date.now();
    const od = await openModel(model, { preprocess });
    const report = await od.tune(val.path, { train: D(s.train) });
    const tuneS = (Date.now() - t0) / 1000;
    const det = await od.calibrate(cal.path, { tpr: TPR });
    const file = join(scratch, `${m}.detector`);
    await det.save(file);
    await od.release();
    const d = await loadDetector(file, { model });
    try {
      const c = d.data.calibration;
      const idRows = (await d.check(D(s.id))).rows;
      const tpr = idRows.filter((r) => !r.ood).length / idRows.length;
      const fpr = {};
      for (const o of s.ood) {
        const r = (await d.check(D(o))).rows;
        fpr[o] = r.filter((x) => !x.ood).length / r.length;
      }
      const avg = Object.values(fpr).reduce((a, b) => a + b, 0) / s.ood.length;
      rows.push({ m, chosen: report.chosen, val: val.n, cal: cal.n, calTpr: c.realisedTpr, expected: c.expectedTpr, bound: c.tprLowerBound.tpr, idN: idRows.length, tpr, fpr, avg, tuneS });
      process.stderr.write(`${m}: ${report.chosen}, ID test TPR ${pct(tpr)} % (target ${pct(TPR)}), average OOD FPR ${pct(avg)} %\n`);
    } finally {
      await d.release();
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const lines = [
  '# Zoo detectors: tuned without OOD data, calibrated at 95 % ID TPR, checked on the test sets',
  '',
  'Written by `node tools/zoo_detectors.mjs` (napood library: `openModel` → `tune` on the first half of',
  'the held-out ID-val set against its corrupted copies → `calibrate` on the second half → detector file →',
  '`loadDetector` → `check`). Nothing here saw an OOD image before the last two columns. ID test: the',
  "zoo's seeded 2,000-image sample of the Fashion-MNIST test split (resnet6: its 1,196 images of the 6",
  'classes). TPR on ID test: share of ID test images the detector calls ID (target 95 %). "expected" is',
  '1 − k/(n+1), "95 % bound" the calibration-conditional lower bound (both for data exchangeable with the',
  'calibration set). FPR: share of an OOD set the detector calls ID at that threshold.',
  '',
  `| model | chosen | ID-val / ID-cal | TPR on ID-cal | expected | 95 % bound | **TPR on ID test** | ${[...new Set(rows.flatMap((r) => Object.keys(r.fpr)))].join(' | ')} | avg OOD FPR | tune s |`,
  `|---|---|---:|---:|---:|---:|---:|${[...new Set(rows.flatMap((r) => Object.keys(r.fpr)))].map(() => '---:|').join('')}---:|---:|`,
];
const oodCols = [...new Set(rows.flatMap((r) => Object.keys(r.fpr)))];
for (const r of rows) {
  lines.push(`| ${r.m} | \`${r.chosen}\` | ${r.val} / ${r.cal} | ${pct(r.calTpr)} | ${pct(r.expected)} | ${pct(r.bound)} | **${pct(r.tpr)}** | ${oodCols.map((o) => (o in r.fpr ? pct(r.fpr[o]) : '—')).join(' | ')} | ${pct(r.avg)} | ${r.tuneS.toFixed(1)} |`);
}
writeFileSync(out, lines.join('\n') + '\n');
process.stderr.write(`wrote ${out}\n`);
