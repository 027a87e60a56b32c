/**
 * Calibration (src/app/calibrate.ts) against references written out here: the threshold is the
 * k-th smallest score with k = ⌊α(n + 1)⌋ and realises the target TPR on the calibration set;
 * p-values are (1 + #{s_i ≤ s}) / (n + 1) by a plain count; the verdict at α agrees with the
 * threshold; the minimum n is τ/(1 − τ); too small a set is refused with the number needed; the
 * level is valid (simulated exchangeable ID scores flag at most α of new ID inputs on average);
 * the calibration-conditional TPR bound equals scipy's Beta quantile (fixtures/tpr-bound.json,
 * written by fixtures/tpr-bound.py) and holds in simulation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrate, calibrationSummary, checkLevel, conformalPValue, isOodAt, minCalibrationSize, orderIndex, thresholdAt, tprLowerBound } from '../../src/app/calibrate.js';
import { repoRoot } from '../helpers.js';
import { NapoodError } from '../../src/errors.js';
import { Xoshiro128 } from '../../src/math/random.js';

function normals(n: number, seed: number, ties = false): Float64Array {
  const rng = new Xoshiro128(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng.nextDouble();
    const v = rng.nextDouble();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    out[i] = ties ? Math.round(z * 4) / 4 : z;
  }
  return out;
}

test('the threshold realises the target TPR on the calibration set (n, TPR, ties)', () => {
  for (const [n, tpr, ties] of [[19, 0.95, false], [20, 0.95, false], [100, 0.95, false], [1000, 0.95, false], [257, 0.9, true], [99, 0.99, false], [500, 0.8, true]] as const) {
    const s = normals(n, n, ties);
    const c = calibrate(s, { tpr, bootstrap: 200 });
    const sorted = Float64Array.from(s).sort();
    const k = Math.floor((1 - tpr) * (n + 1) + 1e-9);
    assert.equal(c.k, k);
    assert.equal(c.threshold, sorted[k - 1]);
    const atOrAbove = Array.from(s).filter((x) => x >= c.threshold).length;
    assert.equal(c.realisedTpr, atOrAbove / n);
    assert.ok(c.realisedTpr >= tpr, `n=${n} TPR ${tpr}: realised ${c.realisedTpr}`);
    if (!ties) assert.equal(atOrAbove, n - k + 1, 'no ties: exactly n − k + 1 scores at or above s_(k)');
    assert.ok(Math.abs(c.expectedTpr - (1 - k / (n + 1))) < 1e-15);
    assert.ok(c.realisedTprCi![0] <= c.realisedTpr && c.realisedTpr <= c.realisedTprCi![1], 'the bootstrap interval holds the realised TPR');
  }
});

test('conformal p-values equal (1 + #{s_i ≤ s}) / (n + 1) counted by hand; the verdict agrees with the threshold', () => {
  const cal = normals(60, 7, true);
  const sorted = Float64Array.from(cal).sort();
  const queries = [...normals(200, 8, true), ...cal, -Infinity, Infinity, sorted[0]!, sorted[59]!];
  for (const alpha of [0.05, 0.1, 0.2, 1 / 61, 0.5]) {
    const t = thresholdAt(sorted, alpha)!;
    for (const q of queries) {
      let count = 0;
      for (const x of cal) if (x <= q) count++;
      const p = (1 + count) / 61;
      assert.equal(conformalPValue(sorted, q), p);
      assert.equal(isOodAt(sorted, q, alpha), p <= alpha + 1e-12, `α ${alpha}, s ${q}`);
      assert.equal(isOodAt(sorted, q, alpha), q < t, 'OOD at α ⟺ score below the threshold s_(k)');
    }
  }
});

test('the minimum calibration size is TPR / (1 − TPR), and smaller sets are refused with that number', () => {
  assert.equal(minCalibrationSize(0.05), 19);
  assert.equal(minCalibrationSize(1 - 0.95), 19);
  assert.equal(minCalibrationSize(0.01), 99);
  assert.equal(minCalibrationSize(0.001), 999);
  assert.equal(minCalibrationSize(0.1), 9);
  assert.equal(minCalibrationSize(0.3), 3);
  for (const a of [0.05, 0.01, 0.1, 0.3, 0.07]) {
    const m = minCalibrationSize(a);
    assert.ok(orderIndex(a, m) >= 1 && orderIndex(a, m - 1) < 1, `α ${a}: ${m} is the smallest n with k ≥ 1`);
  }
  assert.doesNotThrow(() => calibrate(normals(19, 1), { tpr: 0.95, bootstrap: 0 }));
  assert.throws(() => calibrate(normals(18, 1), { tpr: 0.95, argument: '--cal' }),
    (e: unknown) => e instanceof NapoodError && /^--cal: expected at least 19 ID images for a threshold at TPR 95 %.*found 18$/.test(e.message));
  assert.throws(() => calibrate(normals(98, 1), { tpr: 0.99 }), /at least 99 ID images/);
  assert.throws(() => calibrate(new Float64Array([1, NaN, ...normals(30, 2)])), /finite scores/);
  assert.throws(() => calibrate(normals(30, 2), { tpr: 1 }), /in \(0, 1\)/);
  assert.throws(() => checkLevel(0.01, 40, '--alpha'), /--alpha: expected a level α ≥ 1\/\(n \+ 1\) = 0\.0244/);
  assert.doesNotThrow(() => checkLevel(1 / 41, 40));
});

test('the level holds: exchangeable ID scores flag about α (at most α on average) of new ID inputs', () => {
  const alpha = 0.1;
  let flagged = 0;
  let total = 0;
  for (let r = 0; r < 400; r++) {
    const all = normals(40, 1000 + r, r % 2 === 0);
    const cal = all.subarray(0, 30);
    const c = calibrate(cal, { tpr: 1 - alpha, bootstrap: 0 });
    for (const x of all.subarray(30)) { total++; if (isOodAt(c.scores, x, alpha)) flagged++; }
  }
  const rate = flagged / total;
  // k = ⌊0.1 · 31⌋ = 3 → exact rate 3/31 = 0.0968 without ties (less with ties); 4000 draws: σ ≈ 0.005.
  assert.ok(rate <= alpha + 0.015 && rate > 0.06, `flagged ${rate}`);
});

test('the TPR bound at 95 % confidence is the 5 % quantile of Beta(n + 1 − k, k), as scipy computes it', () => {
  const golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'detector', 'fixtures', 'tpr-bound.json'), 'utf8')) as { cases: { n: number; k: number; delta: number; bound: number }[] };
  assert.ok(golden.cases.length >= 40);
  for (const { n, k, delta, bound } of golden.cases) {
    const got = tprLowerBound(n, k, delta);
    assert.ok(Math.abs(got - bound) < 1e-9, `n ${n}, k ${k}, δ ${delta}: ${got} vs scipy ${bound}`);
  }
  const c = calibrate(normals(1000, 3), { tpr: 0.95, bootstrap: 0 });
  assert.deepEqual(c.tprLowerBound, { confidence: 0.95, tpr: tprLowerBound(1000, 50) });
  assert.ok(Math.abs(c.tprLowerBound.tpr - golden.cases.find((g) => g.n === 1000 && g.k === 50 && g.delta === 0.05)!.bound) < 1e-9);
  const g = calibrationSummary(c).guarantee as { tpr_lower_bound: unknown; expected_tpr: string };
  assert.deepEqual(g.tpr_lower_bound, c.tprLowerBound);
  assert.match(g.expected_tpr, /1 - k\/\(n \+ 1\) = ceil\(tpr \(n \+ 1\)\)\/\(n \+ 1\) = 0\.95004995/);
  assert.throws(() => tprLowerBound(10, 0), /k: expected an order index from 1 to n = 10/);
  assert.throws(() => tprLowerBound(10, 2, 1), /delta: expected a probability in \(0, 1\)/);
});

test('the TPR bound holds in simulation: about 5 % of calibration sets give a TPR below it', () => {
  // Uniform scores: the TPR of s_(k) is exactly 1 − s_(k). n = 100, k = 5; 4000 sets: σ of the share ≈ 0.0034.
  const bound = tprLowerBound(100, 5);
  const rng = new Xoshiro128(11);
  let below = 0;
  const sets = 4000;
  for (let r = 0; r < sets; r++) {
    const s = new Float64Array(100);
    for (let i = 0; i < 100; i++) s[i] = rng.nextDouble();
    const c = calibrate(s, { tpr: 0.95, bootstrap: 0 });
    assert.equal(c.k, 5);
    if (1 - c.threshold < bound) below++;
  }
  const share = below / sets;
  assert.ok(share > 0.037 && share < 0.063, `share of calibration sets with TPR below the bound: ${share}`);
});
