/**
 * OpenOOD v1.5's reverse FPR against its own code (tools/golden_reverse_fpr.py: sklearn
 * roc_curve + argmax(tpr >= 0.95)), the paired bootstrap against per-method bootstrapCI, and NAP
 * from channel statistics against the NAP kernels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auroc, bootstrapCI, fpr95, resampleCounts, fprAt95OodRecall, pairedBootstrap, percentileInterval, proportionInterval, Xoshiro128 } from '../../src/metrics/index.js';
import { napKernel, napKernelJs } from '../../src/methods/nap.js';
import { channelAverages, napChannelStats, napFromStats } from '../../src/methods/nap-stats.js';
import { NapoodError } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';

interface Case { name: string; id: number[]; ood: number[]; fpr: number; fpr90: number }

test('fprAt95OodRecall equals OpenOOD v1.5 (sklearn roc_curve) on every golden case, ties and collinear steps included', () => {
  const { cases } = JSON.parse(readFileSync(join(fixturesDir, 'metrics', 'reverse_fpr.json'), 'utf8')) as { cases: Case[] };
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const id = Float64Array.from(c.id);
    const ood = Float64Array.from(c.ood);
    assert.equal(fprAt95OodRecall(id, ood), c.fpr, c.name);
    assert.equal(fprAt95OodRecall(id, ood, 0.9), c.fpr90, `${c.name} at 90 %`);
  }
});

test('fprAt95OodRecall is not the paper\'s fpr95 and refuses bad input', () => {
  const rng = new Xoshiro128(3);
  const id = Float64Array.from({ length: 500 }, () => rng.nextDouble() + 0.3);
  const ood = Float64Array.from({ length: 400 }, () => rng.nextDouble());
  assert.notEqual(fprAt95OodRecall(id, ood), fpr95(id, ood));
  assert.throws(() => fprAt95OodRecall(new Float64Array(0), ood), NapoodError);
  assert.throws(() => fprAt95OodRecall(id, ood, 0), NapoodError);
  assert.throws(() => fprAt95OodRecall(Float64Array.of(NaN), ood), NapoodError);
});

test('pairedBootstrap: each replicate is the metrics of the rows it drew (ID counts, then each OOD set, on original rows)', () => {
  const rng = new Xoshiro128(9);
  const id = Float64Array.from({ length: 300 }, () => rng.nextDouble() + 0.2);
  const ood = Float64Array.from({ length: 200 }, () => rng.nextDouble());
  const ood2 = Float64Array.from({ length: 150 }, () => rng.nextDouble() + 0.1);
  const reps = pairedBootstrap({ id: [id], ood: [[ood], [ood2]] }, { iterations: 20, seed: 5 });
  const draw = new Xoshiro128(5);
  const expand = (v: Float64Array) => {
    const c = resampleCounts(draw, new Uint32Array(v.length));
    return Float64Array.from(Array.from(v).flatMap((x, i) => new Array<number>(c[i]).fill(x)));
  };
  for (let r = 0; r < 20; r++) {
    const a = expand(id);
    const b = expand(ood);
    const b2 = expand(ood2);
    assert.ok(Math.abs(reps.fpr95[0][r] - (fpr95(a, b) + fpr95(a, b2)) / 2) < 1e-15, `replicate ${r}`);
    assert.ok(Math.abs(reps.auroc[0][r] - (auroc(a, b) + auroc(a, b2)) / 2) < 1e-15, `replicate ${r}`);
  }
  // The same spread as the per-method bootstrap.
  const big = pairedBootstrap({ id: [id], ood: [[ood]] }, { iterations: 1000, seed: 5 });
  const ci = bootstrapCI(id, ood, { iterations: 1000, seed: 5 });
  const pi = percentileInterval(big.auroc[0]);
  assert.ok(Math.abs(pi[0] - ci.auroc[0]) < 0.02 && Math.abs(pi[1] - ci.auroc[1]) < 0.02, `${pi} vs ${ci.auroc}`);
  // A method against itself: every paired difference is exactly 0.
  const same = pairedBootstrap({ id: [id, Float64Array.from(id)], ood: [[ood, Float64Array.from(ood)]] }, { iterations: 50, seed: 1 });
  assert.ok(same.fpr95[0].every((x, r) => x === same.fpr95[1][r]));
  assert.throws(() => pairedBootstrap({ id: [id], ood: [[ood, ood]] }), NapoodError);
});

test('proportionInterval brackets the proportion and is seeded', () => {
  const a = proportionInterval(70, 100, { iterations: 500, seed: 2 });
  assert.ok(a[0] < 0.7 && a[1] > 0.7 && a[0] > 0.5 && a[1] < 0.9);
  assert.deepEqual(a, proportionInterval(70, 100, { iterations: 500, seed: 2 }));
  assert.deepEqual(proportionInterval(10, 10, { iterations: 50 }), [1, 1]);
});

test('napFromStats equals napKernelJs bit for bit and napKernel to 1e-13 over a (p, ε) grid', () => {
  const rng = new Xoshiro128(4);
  for (const [n, c, hw] of [[7, 5, 9], [3, 16, 1], [5, 8, 49], [2, 3, 3]]) {
    const map = Float32Array.from({ length: n * c * hw }, () => (rng.nextDouble() < 0.3 ? 0 : 3 * rng.nextDouble()));
    const stats = napChannelStats(map, n, c, hw);
    for (const p of [1, 2, 3, 0.5]) {
      for (const eps of [0.01, 1, 10]) {
        const ref = napKernelJs(map, n, c, hw, eps, p);
        assert.deepEqual(napFromStats(stats, eps, p), ref, `n=${n} c=${c} hw=${hw} p=${p} eps=${eps}`);
        const wasm = napKernel(map, n, c, hw, eps, p);
        wasm.forEach((x, i) => assert.ok(Math.abs(x - ref[i]) <= 1e-13 * Math.abs(ref[i]), `${x} vs ${ref[i]}`));
      }
    }
    const avg = channelAverages(stats);
    assert.ok(Math.abs(avg.max[0] - Array.from({ length: c }, (_, ch) => Math.max(...map.subarray(ch * hw, (ch + 1) * hw))).reduce((a, b) => a + b) / c) < 1e-6);
  }
  assert.throws(() => napChannelStats(new Float32Array(3), 1, 2, 2), NapoodError);
});
