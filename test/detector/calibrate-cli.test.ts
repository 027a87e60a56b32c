/**
 * `napood calibrate` as a user runs it (the built binary in a child process): a detector for a
 * method the user fixed, without --val. Its calibration scores are `napood score`'s scores of the
 * same method on the calibration set, its threshold their k-th smallest; the file says the method
 * was fixed by the user (no tune report); `napood check` and `loadDetector` use it; a state from
 * `napood fit` replaces --fit; refusals (unfixed w, several methods, --val, a set too small, the
 * --fit set as --cal) name what to add and write nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '../helpers.js';
import { tprLowerBound } from '../../src/app/calibrate.js';
import { decodeDetector } from '../../src/app/detector-file.js';
import { loadDetector } from '../../src/node/index.js';
import { modelPath, syntheticImages, tempDir, writePngs } from './helpers.js';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function napood(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runNode(bin, args);
}

/** The metadata JSON of a detector file, read by hand (safetensors: u64 length, header). */
function headerOf(path: string): Record<string, any> {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  return JSON.parse(JSON.parse(b.subarray(8, 8 + n).toString('utf8')).__metadata__.detector);
}

test('napood calibrate: a fixed method without --val; the file says so; check and loadDetector use it', async () => {
  const t = tempDir();
  try {
    const [train, cal, news] = ['train', 'cal', 'new'].map((d) => join(t.dir, d)) as [string, string, string];
    await writePngs(train, syntheticImages(30, 2));
    await writePngs(cal, syntheticImages(30, 3));
    await writePngs(news, syntheticImages(5, 4));
    const model = ['--model', modelPath, '--preset', 'cifar'];
    const det = join(t.dir, 'e.detector');
    const json = join(t.dir, 'cal.json');
    const state = join(t.dir, 'state.json');
    const scores = join(t.dir, 'cal-scores.csv');
    const [made, scored, fitted] = await Promise.all([
      napood('calibrate', ...model, '--methods', 'nap-e:w=0.5', '--cal', cal, '--out', det, '--json', json, '--bootstrap', '100'),
      napood('score', ...model, '--features', cal, '--method', 'nap-e:w=0.5', '--out', scores),
      napood('fit', ...model, '--fit', train, '--methods', 'nap-r:w=0.3', '--out', state),
    ]);
    for (const r of [made, scored, fitted]) assert.equal(r.code, 0, r.stderr);
    assert.match(made.stdout, /^method: nap-e:w=0\.5 \(fixed by the user: nothing tuned\)$/m);
    assert.match(made.stdout, /threshold: nap-e:w=0\.5 score ≥ \S+ is ID \(α = 0\.05: order statistic k = ⌊α\(n \+ 1\)⌋ = 1 of n = 30 calibration scores\)/);
    // n = 30, k = 1: the 5 % quantile of Beta(30, 1) is 0.05^(1/30).
    assert.ok(Math.abs(tprLowerBound(30, 1) - 0.05 ** (1 / 30)) < 1e-9);
    assert.match(made.stdout, new RegExp(`expected TPR ≥ ${(100 * 30 / 31).toFixed(2)} % \\(exchangeable\\); TPR ≥ ${(100 * 0.05 ** (1 / 30)).toFixed(2)} % with probability 95 % over the calibration draw`));
    assert.match(made.stdout, /detector: .*e\.detector \(nap-e:w=0\.5, fixed by the user; check with napood check/);

    const data = await decodeDetector(readFileSync(det));
    assert.equal(data.method.spec.text, 'nap-e:w=0.5');
    assert.equal(data.chosenBy, 'user');
    assert.equal(data.tune, undefined, 'no tune report');
    const h = headerOf(det);
    assert.equal(h.method.chosen_by, 'user');
    assert.match(h.method.chosen, /fixed by the user: nothing was tuned/);
    assert.equal(h.tune, undefined);
    assert.equal(h.calibration.guarantee.tpr_lower_bound.tpr, tprLowerBound(30, 1));
    // The calibration scores are napood score's scores of the method, sorted; the threshold is the smallest (k = 1).
    const want = readFileSync(scores, 'utf8').trimEnd().split('\n').slice(1).map((l) => Number(l.split(',').pop())).sort((a, b) => a - b);
    assert.deepEqual([...data.calibration.scores], want);
    assert.equal(data.calibration.threshold, want[0]);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.kind, 'calibration');
    assert.equal(report.chosen_by, 'user');
    assert.equal(report.calibration.threshold, want[0]);

    const [checked, withState] = await Promise.all([
      napood('check', '--detector', det, '--model', modelPath, '--json', news),
      napood('calibrate', ...model, '--methods', 'nap-r:w=0.3', '--state', state, '--cal', cal, '--out', join(t.dir, 'r.detector')),
    ]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.stdout.trimEnd().split('\n').length, 5);
    assert.equal(withState.code, 0, withState.stderr);
    assert.match(withState.stdout, /^method: nap-r:w=0\.3 \(fixed by the user: nothing tuned\); state from /m);
    const loaded = await loadDetector(det, { model: modelPath });
    try {
      assert.equal(loaded.method, 'nap-e:w=0.5');
      assert.equal(loaded.data.chosenBy, 'user');
      const r = await loaded.check(news);
      assert.equal(r.rows.length, 5);
      const rows = checked.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(r.rows.map((x) => x.score), rows.map((x) => x.score), 'library and CLI agree');
    } finally {
      await loaded.release();
    }
  } finally {
    t.remove();
  }
});

test('napood calibrate refuses, naming what to add, and writes nothing: unfixed w, several methods, --val, too small, --cal = --fit, multi-layer', async () => {
  const t = tempDir();
  try {
    const [cal, small] = ['cal', 'small'].map((d) => join(t.dir, d)) as [string, string];
    await writePngs(cal, syntheticImages(30, 3));
    await writePngs(small, syntheticImages(10, 5));
    const model = ['--model', modelPath, '--preset', 'cifar'];
    const out = join(t.dir, 'x.detector');
    const json = join(t.dir, 'x.json');
    const runs = await Promise.all([
      napood('calibrate', ...model, '--methods', 'nap-e', '--cal', cal, '--out', out),
      napood('calibrate', ...model, '--methods', 'energy,nap', '--cal', cal, '--out', out),
      napood('calibrate', ...model, '--val', cal, '--methods', 'energy', '--cal', cal, '--out', out),
      napood('calibrate', ...model, '--methods', 'energy', '--cal', small, '--out', out, '--json', json),
      napood('calibrate', ...model, '--methods', 'react', '--fit', cal, '--cal', cal + '/', '--out', out),
      napood('calibrate', ...model, '--methods', 'react', '--cal', cal, '--out', out),
      napood('calibrate', ...model, '--cal', cal, '--out', out),
      napood('tune', ...model, '--methods', 'energy', '--cal', cal, '--out', out),
      napood('calibrate', ...model, '--methods', 'nap[a+b]', '--cal', cal, '--out', out),
    ]);
    const want = [
      /^napood calibrate: --methods nap-e: expected its weight w given, e\.g\. nap-e:w=0\.6 \(napood calibrate tunes nothing\), or w tuned on ID-val instead: napood tune --val SET --methods nap-e --cal SET --out DETECTOR, found w not given$/m,
      /^napood calibrate: --methods: expected one method to calibrate \(to choose among several without OOD data: napood tune --val SET --methods LIST\), found 2: energy, nap$/m,
      /^napood calibrate: --val: expected no ID-val with napood calibrate \(it tunes nothing/m,
      /^napood calibrate: --cal .*small: expected at least 19 ID images for a threshold at TPR 95 %.*found at most 10$/m,
      /^napood calibrate: --cal: expected held-out ID data, not the --fit set/m,
      /^napood calibrate: --fit: expected ID-train features to fit react/m,
      /^napood calibrate: --methods: expected the method to calibrate, its parameters fixed/m,
      /^napood tune: --val: expected held-out ID validation images to tune on \(for a method whose parameters you fix yourself, tune nothing: napood calibrate --methods nap-e:w=0\.5 --cal SET --out DETECTOR\), found none$/m,
      /^napood calibrate: --methods: expected a method on the map before pooling \(detectors do not take multi-layer specs\), found nap\[a\+b\]$/m,
    ];
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, `run ${i}: ${r.stderr}`);
      assert.match(r.stderr, want[i]!);
    });
    assert.ok(!existsSync(out) && !existsSync(json), 'a refused run writes nothing');
  } finally {
    t.remove();
  }
});
