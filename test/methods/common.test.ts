/** The shared row kernels: stability at ±1000, top-k tie rule, numpy rounding, empty batches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  linearForward, logSumExpRows, maxSoftmaxRows, roundHalfEven, selectKthLargest, topKMask,
} from '../../src/methods/common.js';
import { keptCount } from '../../src/methods/ash.js';
import { napKernel } from '../../src/methods/nap.js';
import { geometricBlend } from '../../src/methods/napx.js';

test('logsumexp and max-softmax stay finite and exact for logits of ±1000', () => {
  const f = new Float32Array([1000, 1000, -1000, -1000, -1000, -1000]);
  const lse = logSumExpRows(f, 2, 3);
  assert.ok(Math.abs(lse[0] - (1000 + Math.log(2))) < 1e-9);
  assert.ok(Math.abs(lse[1] - (-1000 + Math.log(3))) < 1e-9);
  const msp = maxSoftmaxRows(f, 2, 3);
  assert.ok(Math.abs(msp[0] - 0.5) < 1e-15 && Math.abs(msp[1] - 1 / 3) < 1e-15);
  assert.equal(logSumExpRows(new Float32Array(0), 0, 3).length, 0, 'empty batch');
});

test('numpy rounding (half to even) sets the ASH/SCALE kept count', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 8.5, 14.4].map(roundHalfEven), [0, 2, 2, -0, -2, 8, 14]);
  assert.equal(keptCount(16, 53.125), 8, 'C·p/100 = 8.5 rounds to 8, so 8 are kept');
  assert.equal(keptCount(2048, 90), 205);
  assert.equal(keptCount(10, 100), 0);
});

test('top-k keeps the k largest, lower index first among equal values', () => {
  const mask = new Uint8Array(6);
  const scratch = new Float64Array(6);
  topKMask(new Float32Array([1, 3, 2, 3, 3, 0]), 2, mask, scratch);
  assert.deepEqual([...mask], [0, 1, 0, 1, 0, 0]);
  topKMask(new Float32Array([5, 5, 5, 5, 5, 5]), 3, mask, scratch);
  assert.deepEqual([...mask], [1, 1, 1, 0, 0, 0]);
  topKMask(new Float32Array([1, 2, 3, 4, 5, 6]), 0, mask, scratch);
  assert.deepEqual([...mask], [0, 0, 0, 0, 0, 0]);
  topKMask(new Float32Array([1, 2, 3, 4, 5, 6]), 6, mask, scratch);
  assert.deepEqual([...mask], [1, 1, 1, 1, 1, 1]);
});

test('selectKthLargest agrees with sorting on random data with ties', () => {
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 48271) >>> 0) % 2147483647) / 2147483647);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 40);
    const a = Float64Array.from({ length: n }, () => Math.floor(rand() * 6));
    const k = 1 + Math.floor(rand() * n);
    const sorted = [...a].sort((x, y) => y - x);
    assert.equal(selectKthLargest(Float64Array.from(a), n, k), sorted[k - 1]);
  }
});

test('linear head: W z + b in float64, and a clear error on a wrong size', () => {
  const w = new Float32Array([1, 2, 3, -1, 0, 1e8]);
  const b = new Float32Array([0.5, -1]);
  assert.deepEqual(linearForward(new Float32Array([1, 1, 1, 0, 0, 1]), 2, 3, w, b, 2), new Float32Array([6.5, 1e8 - 1, 3.5, 1e8 - 1]));
  assert.throws(() => linearForward(new Float32Array(5), 2, 3, w, b, 2), /z: expected 2×3 = 6 pooled values, found 5/);
});

test('NAP kernel by hand: one sample, two channels, and the empty batch', () => {
  // channel 0: [0, 4, 0, 0] → max 4, mean 1 → (4/2)^2 = 4; channel 1: all zero → 0. S = 2.
  const s = napKernel(new Float32Array([0, 4, 0, 0, 0, 0, 0, 0]), 1, 2, 4, 1, 2);
  assert.equal(s[0], 2);
  assert.equal(napKernel(new Float32Array(0), 0, 2, 4, 1, 2).length, 0);
});

test('NAP-X blend: S_X ≤ 0 scores 0 and is counted; w = 0 and w = 1 return the parts', () => {
  const sx = Float64Array.from([4, -1, 0, 9]);
  const snap = Float64Array.from([1, 2, 3, 0]);
  const mid = geometricBlend(sx, snap, 0.5);
  assert.deepEqual([...mid.scores], [2, 0, 0, 0]);
  assert.equal(mid.nonPositiveX, 2);
  assert.deepEqual([...geometricBlend(sx, snap, 0).scores], [...snap]);
  assert.deepEqual([...geometricBlend(sx, snap, 1).scores], [...sx]);
});
