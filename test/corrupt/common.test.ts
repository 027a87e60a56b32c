/** Pieces of common.ts and filters.ts the golden images do not reach. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { borderReflect, borderReflect101, npArange, pyRound } from '../../src/images/corrupt/common.js';
import { gaussianFilter, gaussianHalfKernel } from '../../src/images/corrupt/filters.js';

test('a Gaussian wider than the image (folded weights) equals the plain tap sum over the reflected line', () => {
  const h = 9;
  const w = 13;
  const x = Float64Array.from({ length: h * w }, (_, i) => Math.sin(i * 1.7) + (i % 5) * 0.1);
  for (const [sigma, mode] of [[48.8, 'reflect'], [30, 'nearest'], [3, 'reflect']] as const) {
    const got = gaussianFilter(x, h, w, 1, sigma, mode, 3);
    const half = gaussianHalfKernel(sigma, 3);
    const r = half.length - 1;
    const border = mode === 'reflect' ? borderReflect : (i: number, n: number) => Math.min(Math.max(i, 0), n - 1);
    const tmp = new Float64Array(h * w);
    for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += half[Math.abs(t)]! * x[border(yy + t, h) * w + xx]!;
      tmp[yy * w + xx] = s;
    }
    let max = 0;
    for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += half[Math.abs(t)]! * tmp[yy * w + border(xx + t, w)]!;
      max = Math.max(max, Math.abs(s - got[yy * w + xx]!));
    }
    assert.ok(max < 1e-12, `σ ${sigma} ${mode}: ${max}`);
  }
});

test('border rules, numpy arange and Python round', () => {
  assert.deepEqual([-3, -2, -1, 0, 3, 4, 5, 8].map((i) => borderReflect(i, 4)), [2, 1, 0, 0, 3, 3, 2, 0]);
  assert.deepEqual([-2, -1, 0, 3, 4, 5].map((i) => borderReflect101(i, 4)), [2, 1, 0, 3, 2, 1]);
  assert.equal(npArange(1, 1.11, 0.01).length, 12, 'np.arange(1, 1.11, 0.01) includes 1.11');
  assert.equal(npArange(1, 1.06, 0.01).length, 7, 'and 1.06 (CIFAR-C severity 1: 7 factors)');
  assert.equal(npArange(1, 1.31, 0.03).length, 11);
  assert.deepEqual([0.5, 1.5, 2.5, 2.6].map(pyRound), [0, 2, 2, 3]);
});
