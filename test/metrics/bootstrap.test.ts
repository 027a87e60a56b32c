/**
 * PRNG stream, numpy percentiles, bootstrap intervals (golden: the same PRNG re-implemented in
 * tools/golden_metrics.py over sklearn), accuracy and percent formatting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  accuracy,
  argmaxRow,
  bootstrapCI,
  evaluateBinary,
  percent,
  percentile,
  percentileSorted,
  quantileSorted,
  resampleCounts,
  Xoshiro128,
} from '../../src/metrics/index.js';
import { NapoodError } from '../../src/errors.js';

const golden = JSON.parse(readFileSync(new URL('../../../test/fixtures/metrics/golden.json', import.meta.url), 'utf8')) as {
  prng: { seed: number; uint32: number[]; seedMax: number; uint32SeedMax: number[]; doubleSeed: number; doubles: number[]; intN: number; ints: number[] };
  bootstrap: {
    id: number[];
    ood: number[];
    iterations: number;
    seed: number;
    confidence: number;
    expected: { fpr95: [number, number]; auroc: [number, number] };
    point: { fpr95: number; auroc: number };
  };
  percentile: { values: number[]; p: number[]; expected: number[] };
  accuracy: { k: number; logits: number[]; labels: number[]; expected: number };
  cases: { name: string; id: number[]; ood: number[] }[];
};

test('xoshiro128** stream matches the reference (and the Python mirror)', () => {
  const g = golden.prng;
  // seed 42 values were also checked against the reference C code of xoshiro128** + splitmix32
  let rng = new Xoshiro128(g.seed);
  assert.deepEqual(g.uint32.map(() => rng.nextUint32()), g.uint32);
  rng = new Xoshiro128(g.seedMax);
  assert.deepEqual(g.uint32SeedMax.map(() => rng.nextUint32()), g.uint32SeedMax);
  rng = new Xoshiro128(g.doubleSeed);
  assert.deepEqual(g.doubles.map(() => rng.nextDouble()), g.doubles);
  assert.deepEqual(g.ints.map(() => rng.nextInt(g.intN)), g.ints);
});

test('invalid seeds are refused', () => {
  for (const seed of [-1, 1.5, 2 ** 32, NaN]) {
    assert.throws(() => new Xoshiro128(seed), (e: unknown) => e instanceof NapoodError && e.message.startsWith('seed: expected an integer in [0, 4294967295], found '));
  }
});

test('resampleCounts draws n indices: counts sum to n', () => {
  const rng = new Xoshiro128(3);
  const counts = resampleCounts(rng, new Uint32Array(1000));
  let total = 0;
  let zeros = 0;
  for (const c of counts) {
    total += c;
    if (c === 0) zeros++;
  }
  assert.equal(total, 1000);
  // about 1/e of the positions are never drawn (368 expected; the bound is ~8 sigma)
  assert.ok(zeros > 250 && zeros < 490, `zeros ${zeros}`);
});

test('percentiles equal numpy (linear) exactly', () => {
  const g = golden.percentile;
  const sorted = Float64Array.from(g.values).sort();
  g.p.forEach((p, i) => {
    assert.equal(percentileSorted(sorted, p), g.expected[i], `p = ${p}`);
    assert.equal(percentile(Float64Array.from(g.values), p), g.expected[i], `p = ${p} (unsorted)`);
  });
  assert.equal(quantileSorted([5], 0.3), 5);
  assert.equal(quantileSorted([1, 3], 0.5), 2);
  assert.throws(() => percentileSorted([1, 2], 101), /percentile q: expected a percentile q in \[0, 100\], found 101/);
  assert.throws(() => quantileSorted([], 0.5), /quantile values: expected a non-empty array, found an empty array/);
});

test('bootstrap interval equals the Python mirror (same PRNG, sklearn metrics, np.quantile)', () => {
  const b = golden.bootstrap;
  const ci = bootstrapCI(Float64Array.from(b.id), Float64Array.from(b.ood), {
    iterations: b.iterations,
    seed: b.seed,
    confidence: b.confidence,
  });
  for (const key of ['fpr95', 'auroc'] as const) {
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(ci[key][i] - b.expected[key][i]) <= 1e-9, `${key}[${i}]: ${ci[key][i]} vs ${b.expected[key][i]}`);
    }
  }
});

test('bootstrap is deterministic for a seed, depends on it, and covers the point estimate', () => {
  const c = golden.cases.find((x) => x.name === 'normal');
  assert.ok(c);
  const id = Float64Array.from(c.id);
  const ood = Float64Array.from(c.ood);
  const a = bootstrapCI(id, ood, { seed: 11 });
  const again = bootstrapCI(id, ood, { seed: 11 });
  assert.deepEqual(a, again);
  const other = bootstrapCI(id, ood, { seed: 12 });
  assert.notDeepEqual(a, other);
  const point = evaluateBinary(id, ood);
  for (const key of ['fpr95', 'auroc'] as const) {
    const [lo, hi] = a[key];
    assert.ok(lo < point[key] && point[key] < hi, `${key}: ${point[key]} not in [${lo}, ${hi}]`);
    assert.ok(hi - lo < 0.25, `${key}: interval [${lo}, ${hi}] too wide for n = 500`);
  }
  // a narrower confidence gives a nested interval on the same replicates
  const narrow = bootstrapCI(id, ood, { seed: 11, confidence: 0.5 });
  assert.ok(narrow.auroc[0] >= a.auroc[0] && narrow.auroc[1] <= a.auroc[1]);
});

test('bootstrap options are checked', () => {
  const x = Float64Array.from([1, 2]);
  assert.throws(() => bootstrapCI(x, x, { iterations: 0 }), /iterations: expected a positive integer, found 0/);
  assert.throws(() => bootstrapCI(x, x, { confidence: 1 }), /confidence: expected a number in \(0, 1\), found 1/);
  assert.throws(() => bootstrapCI(x, x, { seed: -3 }), /seed: expected an integer/);
  assert.throws(() => bootstrapCI(new Float64Array(0), x), /id: expected a non-empty set of scores/);
});

test('accuracy equals numpy argmax accuracy (ties: first max, label -1 skipped)', () => {
  const g = golden.accuracy;
  assert.equal(accuracy(Float32Array.from(g.logits), g.k, Int32Array.from(g.labels)), g.expected);
});

test('accuracy edge cases', () => {
  // row 0 ties between classes 1 and 2 -> 1; row 1 = [9, NaN, 1, NaN] -> numpy argmax gives the first NaN, 1
  const logits = Float32Array.from([0, 5, 5, 1, 9, NaN, 1, NaN]);
  assert.equal(argmaxRow(logits, 4, 0), 1);
  assert.equal(argmaxRow(logits, 4, 1), 1);
  assert.equal(argmaxRow(Float32Array.from([NaN, 3]), 2, 0), 0);
  assert.equal(argmaxRow(Float32Array.from([1, NaN, 3]), 3, 0), 1);
  assert.equal(accuracy(logits, 4, Int32Array.from([1, 0])), 0.5);
  assert.equal(accuracy(logits, 4, Int32Array.from([-1, 1])), 1);
  assert.ok(Number.isNaN(accuracy(logits, 4, Int32Array.from([-1, -1]))));
  assert.ok(Number.isNaN(accuracy(new Float32Array(0), 3, new Int32Array(0))));
  assert.throws(() => accuracy(logits, 3, Int32Array.from([0, 0])), /logits: expected a length that is a multiple of k = 3, found length 8/);
  assert.throws(() => accuracy(logits, 4, Int32Array.from([0])), /labels: expected one label per logits row \(2\), found 1 labels/);
  assert.throws(() => accuracy(logits, 4, Int32Array.from([0, 4])), /labels\[1\]: expected a class index in \[0, 3\]/);
  assert.throws(() => accuracy(logits, 0, Int32Array.from([])), /k: expected a positive integer number of classes, found 0/);
});

test('percent prints two decimals', () => {
  assert.equal(percent(0.1234), '12.34');
  assert.equal(percent(1), '100.00');
  assert.equal(percent(0), '0.00');
  assert.equal(percent(0.98765), '98.77');
  assert.equal(percent(-1e-12), '0.00');
  assert.equal(percent(0.5, 1), '50.0');
  assert.equal(percent(NaN), 'NaN');
});
