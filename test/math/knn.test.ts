import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kthNearestDistance, l2Normalize, squaredNorms } from '../../src/math/knn.js';
import { NapoodError } from '../../src/errors.js';
import { assertClose, loadFixture, normals, rng } from './fixtures.js';

interface KnnCase {
  name: string;
  c: number;
  nb: number;
  nq: number;
  bank: number[];
  queries: number[];
  ks: number[];
  expected: Record<string, number[]>;
}
const fixture = loadFixture<{
  cases: KnnCase[];
  normalize: { n: number; c: number; rows: number[]; expected: number[] };
}>('knn.json');

test('kthNearestDistance matches brute-force float64 distances (duplicates, k = 1 … nb)', () => {
  for (const c of fixture.cases) {
    const bank = Float32Array.from(c.bank);
    const queries = Float32Array.from(c.queries);
    for (const k of c.ks) {
      const d = kthNearestDistance(queries, c.nq, bank, c.nb, c.c, k);
      const want = c.expected[String(k)];
      for (let q = 0; q < c.nq; q++) {
        assert.ok(Math.abs(d[q] - want[q]) <= 1e-6, `${c.name} k=${k} query ${q}: ${d[q]} vs ${want[q]}`);
      }
    }
  }
});

test('kthNearestDistance: a query equal to a triplicated bank row has distance 0 for k ≤ 3', () => {
  const c = fixture.cases[0];
  const bank = Float32Array.from(c.bank);
  const queries = Float32Array.from(c.queries);
  for (const k of [1, 2, 3]) assert.equal(kthNearestDistance(queries, c.nq, bank, c.nb, c.c, k)[2], 0);
  assert.ok(kthNearestDistance(queries, c.nq, bank, c.nb, c.c, 4)[2] > 0.1);
});

test('kthNearestDistance agrees with a naive sort on a bank larger than one tile, and with precomputed norms', () => {
  const next = rng(5);
  const c = 33;
  const nb = 700; // several bank blocks plus a remainder
  const nq = 37; // odd: exercises the single-query path
  const bank = new Float32Array(normals(nb * c, next));
  const queries = new Float32Array(normals(nq * c, next));
  const k = 17;
  const got = kthNearestDistance(queries, nq, bank, nb, c, k);
  const withNorms = kthNearestDistance(queries, nq, bank, nb, c, k, { bankNorms: squaredNorms(bank, nb, c) });
  assert.deepEqual(Array.from(withNorms), Array.from(got));
  for (let q = 0; q < nq; q++) {
    const d: number[] = [];
    for (let b = 0; b < nb; b++) {
      let s = 0;
      for (let j = 0; j < c; j++) {
        const t = queries[q * c + j] - bank[b * c + j];
        s += t * t;
      }
      d.push(Math.sqrt(s));
    }
    d.sort((x, y) => x - y);
    assert.ok(Math.abs(got[q] - d[k - 1]) <= 1e-9, `query ${q}: ${got[q]} vs ${d[k - 1]}`);
  }
});

test('kthNearestDistance: more queries than one chunk (1100 > 512), odd bank size', () => {
  const next = rng(6);
  const c = 3;
  const nb = 9;
  const nq = 1100;
  const bank = new Float32Array(normals(nb * c, next));
  const queries = new Float32Array(normals(nq * c, next));
  const got = kthNearestDistance(queries, nq, bank, nb, c, 4);
  for (let q = 0; q < nq; q++) {
    const d: number[] = [];
    for (let b = 0; b < nb; b++) d.push(Math.hypot(queries[q * c] - bank[b * c], queries[q * c + 1] - bank[b * c + 1], queries[q * c + 2] - bank[b * c + 2]));
    d.sort((x, y) => x - y);
    assert.ok(Math.abs(got[q] - d[3]) <= 1e-9, `query ${q}: ${got[q]} vs ${d[3]}`);
  }
});

test('kthNearestDistance: every bank row queried against its own bank is at distance exactly 0 (k = 1)', () => {
  const next = rng(8);
  const c = 45;
  const nb = 203;
  const bank = new Float32Array(normals(nb * c, next).map((v) => 3 * v + 7)); // large mean
  const d = kthNearestDistance(bank, nb, bank, nb, c, 1);
  assert.deepEqual(Array.from(d), new Array(nb).fill(0));
});

test('kthNearestDistance: empty query set, and errors', () => {
  const bank = new Float32Array(12);
  assert.equal(kthNearestDistance(new Float32Array(0), 0, bank, 4, 3, 2).length, 0);
  assert.throws(() => kthNearestDistance(new Float32Array(3), 1, bank, 4, 3, 5), (e: unknown) => e instanceof NapoodError && e.message === 'kthNearestDistance k: expected an integer in [1, 4] (the bank has 4 rows), found 5');
  assert.throws(() => kthNearestDistance(new Float32Array(3), 1, bank, 4, 3, 0), /kthNearestDistance k: expected an integer in \[1, 4\]/);
  assert.throws(() => kthNearestDistance(new Float32Array(4), 1, bank, 4, 3, 1), /kthNearestDistance queries: expected 1×3 values \(3\), found 4 values/);
  assert.throws(() => kthNearestDistance(Float32Array.from([0, NaN, 0]), 1, bank, 4, 3, 1), /kthNearestDistance queries: expected finite values, found a NaN or infinite value \(or overflow\) in row 0/);
  const badBank = new Float32Array(12);
  badBank[7] = Infinity;
  assert.throws(() => kthNearestDistance(new Float32Array(3), 1, badBank, 4, 3, 1), /kthNearestDistance bank: .* in row 2/);
  assert.throws(() => kthNearestDistance(new Float32Array(3), 1, bank, 4, 3, 1, { bankNorms: new Float64Array(3) }), /bankNorms: expected 4 values \(one per bank row\), found 3 values/);
});

test('l2Normalize matches OpenOOD\'s normaliser (float32 numpy) to 1 ulp; zero rows stay zero', () => {
  const { n, c, rows, expected } = fixture.normalize;
  const got = l2Normalize(Float32Array.from(rows), n, c);
  for (let i = 0; i < got.length; i++) {
    const ulp = Math.max(Math.abs(expected[i]) * 2 ** -23, 1e-45);
    assert.ok(Math.abs(got[i] - expected[i]) <= ulp, `element ${i}: ${got[i]} vs ${expected[i]}`);
  }
  for (let j = 0; j < c; j++) assert.equal(got[3 * c + j], 0);
  const unit = l2Normalize(Float32Array.from([3, 4]), 1, 2, 0);
  assertClose(unit, [0.6, 0.8], 1e-7, 'unit');
});
