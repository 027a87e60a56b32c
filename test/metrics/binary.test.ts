/**
 * Binary metrics against golden values from numpy / scikit-learn (tools/golden_metrics.py), the
 * weighted merge kernels against the unweighted ones and against expanded resamples, and errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  auprIn,
  auprOut,
  auroc,
  aurocSorted,
  detectionError,
  evaluateBinary,
  evaluateSorted,
  fpr95,
  fpr95Sorted,
  rankMetricsSorted,
  resampleCounts,
  roundHalfEven,
  sortScores,
  Xoshiro128,
} from '../../src/metrics/index.js';
import type { BinaryMetrics } from '../../src/metrics/index.js';
import { NapoodError } from '../../src/errors.js';

interface Case {
  name: string;
  id: number[];
  ood: number[];
  expected: BinaryMetrics;
}
interface Generated {
  name: string;
  kind: 'sum4' | 'grid';
  levels?: number;
  seed: number;
  nId: number;
  nOod: number;
  shift: number;
  expected: BinaryMetrics;
  checkId: number[];
  checkOod: number[];
}

const golden = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/metrics/golden.json', import.meta.url), 'utf8'),
) as { cases: Case[]; generated: Generated[] };

const TOL = 1e-9;
const KEYS = ['fpr95', 'auroc', 'auprIn', 'auprOut', 'detectionError'] as const;

function assertMetrics(found: BinaryMetrics, expected: BinaryMetrics, label: string): void {
  for (const key of KEYS) {
    const diff = Math.abs(found[key] - expected[key]);
    assert.ok(diff <= TOL, `${label} ${key}: found ${found[key]}, expected ${expected[key]} (|diff| ${diff})`);
  }
}

/** Re-create a generated case exactly as tools/golden_metrics.py does. */
function generate(g: Generated): { id: Float64Array; ood: Float64Array } {
  const rng = new Xoshiro128(g.seed);
  const draw = (n: number, shift: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let x: number;
      if (g.kind === 'sum4') {
        x = rng.nextDouble();
        x = x + rng.nextDouble();
        x = x + rng.nextDouble();
        x = x + rng.nextDouble();
      } else {
        x = Math.floor(rng.nextDouble() * (g.levels as number));
      }
      out[i] = x + shift;
    }
    return out;
  };
  const id = draw(g.nId, g.shift);
  const ood = draw(g.nOod, 0);
  return { id, ood };
}

/** Expand sorted scores by counts (what a resample with those multiplicities looks like). */
function expand(sorted: Float64Array, counts: Uint32Array): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) for (let c = 0; c < counts[i]; c++) out.push(sorted[i]);
  return Float64Array.from(out);
}

test('golden cases match sklearn / numpy to 1e-9', () => {
  assert.ok(golden.cases.length >= 10);
  for (const c of golden.cases) {
    const id = Float64Array.from(c.id);
    const ood = Float64Array.from(c.ood);
    assertMetrics(evaluateBinary(id, ood), c.expected, c.name);
    // the single-metric entry points agree with evaluateBinary
    assert.ok(Math.abs(fpr95(id, ood) - c.expected.fpr95) <= TOL, `${c.name} fpr95()`);
    assert.ok(Math.abs(auroc(id, ood) - c.expected.auroc) <= TOL, `${c.name} auroc()`);
    assert.ok(Math.abs(auprIn(id, ood) - c.expected.auprIn) <= TOL, `${c.name} auprIn()`);
    assert.ok(Math.abs(auprOut(id, ood) - c.expected.auprOut) <= TOL, `${c.name} auprOut()`);
    assert.ok(Math.abs(detectionError(id, ood) - c.expected.detectionError) <= TOL, `${c.name} detectionError()`);
  }
});

test('specific golden values: separated sets, constant scores, half-even FPR95 rank', () => {
  const byName = new Map(golden.cases.map((c) => [c.name, c]));
  const get = (name: string): BinaryMetrics => {
    const c = byName.get(name);
    assert.ok(c, name);
    return evaluateBinary(Float64Array.from(c.id), Float64Array.from(c.ood));
  };
  const up = get('separated, ID above');
  assert.equal(up.auroc, 1);
  assert.equal(up.fpr95, 0);
  assert.equal(up.detectionError, 0);
  const down = get('separated, OOD above');
  assert.equal(down.auroc, 0);
  assert.equal(down.fpr95, 1);
  assert.equal(down.detectionError, 0.5);
  const flat = get('constant');
  assert.equal(flat.auroc, 0.5);
  assert.equal(flat.fpr95, 0); // no OOD score is strictly above the (tied) threshold
  assert.equal(flat.detectionError, 0.5);
  // ID = 0..9: rank round(0.5) = 0 -> t = 0; OOD [-1, 0, 0.5, 1, 3] -> 3 of 5 strictly above
  assert.equal(get('n_id 10 (rank 0.5 -> 0)').fpr95, 0.6);
});

test('generated 1e5 cases are re-created exactly and match sklearn to 1e-9', () => {
  for (const g of golden.generated) {
    const { id, ood } = generate(g);
    assert.deepEqual([id[0], id[1], id[id.length - 1]], g.checkId, `${g.name}: generator`);
    assert.deepEqual([ood[0], ood[ood.length - 1]], g.checkOod, `${g.name}: generator`);
    assertMetrics(evaluateBinary(id, ood), g.expected, g.name);
  }
});

test('roundHalfEven rounds halves to even like Python round', () => {
  assert.deepEqual(
    [0.5, 1.5, 2.5, 3.5, 2.4999999, 2.5000001, 0, 7, 0.05 * 50, 0.05 * 70].map(roundHalfEven),
    [0, 2, 2, 4, 2, 3, 0, 7, 2, 4],
  );
});

test('weighted kernels with all counts 1 equal the unweighted ones', () => {
  const c = golden.cases.find((x) => x.name === 'ties 0..5');
  assert.ok(c);
  for (const cc of [c, golden.cases[0]]) {
    const s = sortScores(Float64Array.from(cc.id), Float64Array.from(cc.ood));
    const onesA = new Uint32Array(s.id.length).fill(1);
    const onesB = new Uint32Array(s.ood.length).fill(1);
    assert.deepEqual(evaluateSorted(s.id, s.ood, onesA, onesB), evaluateSorted(s.id, s.ood));
    assert.equal(aurocSorted(s.id, s.ood, onesA, onesB), aurocSorted(s.id, s.ood));
    assert.equal(fpr95Sorted(s.id, s.ood, onesA, undefined), fpr95Sorted(s.id, s.ood));
  }
});

test('weighted kernels equal the metrics of the expanded resample', () => {
  const rng = new Xoshiro128(99);
  for (const c of golden.cases) {
    const s = sortScores(Float64Array.from(c.id), Float64Array.from(c.ood));
    for (let rep = 0; rep < 3; rep++) {
      const ca = resampleCounts(rng, new Uint32Array(s.id.length));
      const cb = resampleCounts(rng, new Uint32Array(s.ood.length));
      const expected = evaluateBinary(expand(s.id, ca), expand(s.ood, cb));
      const found = evaluateSorted(s.id, s.ood, ca, cb);
      for (const key of KEYS) {
        assert.ok(Math.abs(found[key] - expected[key]) <= 1e-12, `${c.name} rep ${rep} ${key}: ${found[key]} vs ${expected[key]}`);
      }
      assert.equal(aurocSorted(s.id, s.ood, ca, cb), found.auroc);
    }
  }
});

test('zero counts drop positions; counts are checked', () => {
  const s = sortScores(Float64Array.from([1, 2, 3, 4]), Float64Array.from([0, 2.5, 5]));
  // keep ID {2, 4} and OOD {2.5}: AUROC = 1/2, FPR95 threshold = 2 -> 2.5 > 2 -> 1
  const ca = Uint32Array.from([0, 1, 0, 1]);
  const cb = Uint32Array.from([0, 1, 0]);
  assert.equal(aurocSorted(s.id, s.ood, ca, cb), 0.5);
  assert.equal(fpr95Sorted(s.id, s.ood, ca, cb), 1);
  assert.throws(() => rankMetricsSorted(s.id, s.ood, Uint32Array.from([1, 1]), undefined), (e: unknown) => {
    assert.ok(e instanceof NapoodError);
    assert.match(e.message, /^idCounts: expected one count per sorted score \(4\), found 2 counts$/);
    return true;
  });
  assert.throws(() => aurocSorted(s.id, s.ood, undefined, new Uint32Array(3)), /oodCounts: expected counts with a positive total, found all counts 0/);
});

test('infinite scores rank like the largest / smallest finite ones', () => {
  const id = Float64Array.from([Infinity, 3, 2, -Infinity, 5]);
  const ood = Float64Array.from([1, -Infinity, 2, Infinity, 0]);
  const finite = (a: Float64Array): Float64Array => a.map((v) => (v === Infinity ? 1e308 : v === -Infinity ? -1e308 : v));
  assert.deepEqual(evaluateBinary(id, ood), evaluateBinary(finite(id), finite(ood)));
});

test('inputs are not modified', () => {
  const id = Float64Array.from([3, 1, 2]);
  const ood = Float64Array.from([0.5, 2.5, 1.5]);
  evaluateBinary(id, ood);
  assert.deepEqual(Array.from(id), [3, 1, 2]);
  assert.deepEqual(Array.from(ood), [0.5, 2.5, 1.5]);
});

test('NaN scores are refused, naming the set and the first index', () => {
  const ok = Float64Array.from([1, 2, 3]);
  assert.throws(() => evaluateBinary(Float64Array.from([1, 2, 3, NaN, 5, NaN]), ok), (e: unknown) => {
    assert.ok(e instanceof NapoodError);
    assert.equal(e.argument, 'id[3]');
    assert.match(e.message, /^id\[3\]: expected a score that is a number, found NaN/);
    return true;
  });
  assert.throws(() => auroc(ok, Float64Array.from([NaN])), /^NapoodError: ood\[0\]: expected a score that is a number, found NaN/);
  assert.throws(() => fpr95(ok, Float64Array.from([0, 1, NaN])), /ood\[2\]/);
});

test('empty ID or OOD sets are refused', () => {
  const ok = Float64Array.from([1]);
  assert.throws(() => evaluateBinary(new Float64Array(0), ok), /^NapoodError: id: expected a non-empty set of scores, found an empty set \(0 scores\)$/);
  assert.throws(() => evaluateBinary(ok, new Float64Array(0)), /^NapoodError: ood: expected a non-empty set of scores/);
});
