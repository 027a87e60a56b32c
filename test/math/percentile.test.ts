import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, StreamingPercentile } from '../../src/math/percentile.js';
import { NapoodError } from '../../src/errors.js';
import { loadFixture, normals, rng } from './fixtures.js';

const fixture = loadFixture<{ qs: number[]; arrays: Record<string, { values: number[]; expected: Record<string, number> }> }>('percentile.json');

/** Python's repr of a float, as used for the fixture keys ('0.0', '2.5', '100.0'). */
function pyKey(q: number): string {
  return Number.isInteger(q) ? `${q}.0` : String(q);
}

function streaming(values: Float32Array, q: number, chunk: number): number {
  const s = new StreamingPercentile(q);
  for (let i = 0; i < values.length; i += chunk) s.observePass1(values.subarray(i, i + chunk));
  s.endPass1();
  // Pass 2 in reverse chunk order: the order of chunks does not matter.
  for (let i = Math.floor((values.length - 1) / chunk) * chunk; i >= 0; i -= chunk) s.observePass2(values.subarray(i, i + chunk));
  return s.result();
}

test('percentile and StreamingPercentile equal numpy.percentile exactly (ties, constant, one element, q = 0/100)', () => {
  for (const [name, { values, expected }] of Object.entries(fixture.arrays)) {
    const f32 = Float32Array.from(values);
    const f64 = Float64Array.from(values);
    for (const q of fixture.qs) {
      const want = expected[pyKey(q)];
      assert.equal(typeof want, 'number', `${name}: missing q=${q}`);
      // === (not Object.is): −0 and +0 are the same value; which of them numpy's partition puts
      // first is unspecified.
      for (const [how, got] of [['float64', percentile(f64, q)], ['float32', percentile(f32, q)], ['streaming', streaming(f32, q, 7)]] as const) {
        assert.ok(got === want, `${name} q=${q} (${how}): ${got} !== ${want}`);
      }
    }
  }
});

test('percentile does not modify its input', () => {
  const v = Float64Array.from([5, 1, 4, 2, 3]);
  assert.equal(percentile(v, 50), 3);
  assert.deepEqual(Array.from(v), [5, 1, 4, 2, 3]);
});

test('StreamingPercentile equals percentile on 200 000 values with heavy ties and shared 16-bit bins', () => {
  const next = rng(99);
  const n = 200_000;
  const g = normals(n, next);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Mix: ReLU-like zeros, a narrow band of near-equal values, and spread values.
    const r = i % 5;
    v[i] = r === 0 ? 0 : r === 1 ? 1 + Math.floor(next() * 50) * 2 ** -22 : Math.max(g[i], 0) * 3;
  }
  for (const q of [0, 10, 20, 20.5, 33.3, 50, 90, 95, 99.99, 100]) {
    const want = percentile(v, q);
    assert.equal(streaming(v, q, 65_536), want, `q=${q}`);
  }
});

test('percentile / StreamingPercentile errors: NaN, q outside [0, 100], empty, wrong call order', () => {
  assert.throws(() => percentile(Float64Array.from([1, NaN]), 50), (e: unknown) => e instanceof NapoodError && e.message === 'percentile values: expected no NaN, found NaN at index 1');
  assert.throws(() => percentile(Float32Array.from([1]), 101), /percentile q: expected a percentile q in \[0, 100\], found 101/);
  assert.throws(() => percentile(Float32Array.from([1]), NaN), /percentile q: expected a percentile q in \[0, 100\], found NaN/);
  assert.throws(() => percentile(new Float32Array(0), 5), /percentile values: expected at least one value, found an empty array/);
  assert.throws(() => new StreamingPercentile(-1), /StreamingPercentile q: expected a percentile q in \[0, 100\], found -1/);
  const s = new StreamingPercentile(50);
  assert.throws(() => s.observePass1(Float32Array.from([1, 2, NaN])), /StreamingPercentile values: expected no NaN, found NaN at index 2 of a pass-1 chunk/);
  assert.throws(() => new StreamingPercentile(50).endPass1(), /expected at least one value in pass 1, found none/);
  const t = new StreamingPercentile(50);
  assert.throws(() => t.observePass2(Float32Array.from([1])), /observePass2: expected a call after endPass1\(\)/);
  t.observePass1(Float32Array.from([1, 2, 3]));
  t.endPass1();
  assert.throws(() => t.observePass1(Float32Array.from([1])), /observePass1: expected a call before endPass1\(\), found pass 1 already ended/);
  t.observePass2(Float32Array.from([1, 2]));
  assert.throws(() => t.result(), /observePass2: expected the same 3 values as pass 1, found 2 values/);
  const u = new StreamingPercentile(50);
  u.observePass1(Float32Array.from([1, 2, 3]));
  u.endPass1();
  u.observePass2(Float32Array.from([1, 5, 3]));
  assert.throws(() => u.result(), /StreamingPercentile.observePass2: expected the same values as pass 1/);
});

test('percentile with infinities returns the order statistic where no interpolation is needed', () => {
  const v = Float64Array.from([-Infinity, 1, 2, Infinity]);
  assert.equal(percentile(v, 0), -Infinity);
  assert.equal(percentile(v, 100), Infinity);
  assert.equal(percentile(Float64Array.from([1, 2, 3, Infinity]), 100 / 3), 2);
});
