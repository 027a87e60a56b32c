/**
 * Calibration (src/app/calibrate.ts) against references written out here: the threshold is the
 * k-th smallest score with k = ⌊α(n + 1)⌋ and realises the target TPR on the calibration set;
 * p-values are (1 + #{s_i ≤ s}) / (n + 1) by a plain count; the verdict at α agrees with the
 * threshold; the minimum n is τ/(1 − τ); too small a set is refused with the number needed; the
 * level is valid (simulated exchangeable ID scores flag at most α of new ID inputs on average).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrate, checkLevel, conformalPValue, isOodAt, minCalibrationSize, orderIndex, thresholdAt } from '../../src/app/calibrate.js';
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
