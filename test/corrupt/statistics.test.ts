/** The random parts: samplers, the Poisson quantiles, the noise rates, the frost texture. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptRandom, streamSeed } from '../../src/images/corrupt/random.js';
import { shotNoiseCounts, impulseNoiseWith } from '../../src/images/corrupt/noise.js';
import { frostTexture } from '../../src/images/corrupt/weather.js';
import { corruptImage } from '../../src/images/corrupt/index.js';

test('normal() has mean 0 and variance 1; uniform() is in [0, 1)', () => {
  const rng = new CorruptRandom(123);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    s += z;
    s2 += z * z;
    s4 += z ** 4;
  }
  assert.ok(Math.abs(s / n) < 0.01);
  assert.ok(Math.abs(s2 / n - 1) < 0.015);
  assert.ok(Math.abs(s4 / n - 3) < 0.08, 'kurtosis 3');
  for (let i = 0; i < 1000; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
  }
});

test('stream seeds differ across seed, image, corruption and severity', () => {
  const seen = new Set<number>();
  for (const seed of [0, 1]) for (const im of [0, 1, 2]) for (const c of [0, 1, 18]) for (const s of [1, 5]) seen.add(streamSeed(seed, im, c, s));
  assert.equal(seen.size, 2 * 3 * 3 * 2);
});

test('shot-noise counts are Poisson(λ): mean and variance λ for λ = (v / 255)·c', () => {
  const rng = new CorruptRandom(9);
  for (const [v, c] of [[255, 3], [128, 60], [255, 500], [40, 12]] as const) {
    const n = 40000;
    const image = { width: n, height: 1, channels: 1 as const, data: new Uint8Array(n).fill(v) };
    const k = shotNoiseCounts(image, c, rng.uniforms(n));
    const lambda = (v / 255) * c;
    let s = 0;
    let s2 = 0;
    for (const x of k) { s += x; s2 += x * x; }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    assert.ok(Math.abs(mean - lambda) < 4 * Math.sqrt(lambda / n) + 1e-9, `λ ${lambda}: mean ${mean}`);
    assert.ok(Math.abs(variance / lambda - 1) < 0.05, `λ ${lambda}: variance ${variance}`);
  }
  const zero = { width: 10, height: 1, channels: 1 as const, data: new Uint8Array(10) };
  assert.ok(shotNoiseCounts(zero, 60, new Float64Array(10).fill(0.999)).every((x) => x === 0));
});

test('impulse noise flips a share `amount` of the values, half to 0 and half to 255', () => {
  const n = 100000;
  const image = { width: n, height: 1, channels: 1 as const, data: new Uint8Array(n).fill(100) };
  const rng = new CorruptRandom(4);
  const out = impulseNoiseWith(image, 0.17, rng.uniforms(n), rng.uniforms(n));
  let zeros = 0;
  let full = 0;
  for (const v of out) { if (v === 0) zeros++; else if (v === 255) full++; else assert.equal(v, 100); }
  assert.ok(Math.abs((zeros + full) / n - 0.17) < 0.006);
  assert.ok(Math.abs(zeros / (zeros + full) - 0.5) < 0.02);
});

test('gaussian noise (ImageNet-C severity 1, c = 0.08) has the reference spread on a mid-grey image', () => {
  const im = { width: 224, height: 224, channels: 3 as const, data: new Uint8Array(224 * 224 * 3).fill(128) };
  const out = corruptImage(im, 'gaussian_noise', 1, { seed: 2 }).data;
  let s = 0;
  let s2 = 0;
  for (const v of out) { const d = v - 128; s += d; s2 += d * d; }
  const sd = Math.sqrt(s2 / out.length - (s / out.length) ** 2);
  assert.ok(Math.abs(sd - 0.08 * 255) < 0.6, `sd ${sd} vs ${0.08 * 255}`);
});

test('the frost texture is seeded, blue-white, and depends on the seed', () => {
  const draw = (seed: number, w = 64, h = 48, scale = 1): Uint8Array => {
    const rng = new CorruptRandom(seed);
    return frostTexture(() => rng.uniform(), w, h, scale);
  };
  const a = draw(1);
  assert.deepEqual(draw(1), a);
  assert.notDeepEqual(draw(2), a);
  assert.equal(a.length, 64 * 48 * 3);
  let r = 0; let b = 0; let mean = 0;
  for (let i = 0; i < a.length; i += 3) { r += a[i]!; b += a[i + 2]!; mean += (a[i]! + a[i + 1]! + a[i + 2]!) / 3; }
  assert.ok(b > r, 'bluer than red');
  mean /= a.length / 3;
  assert.ok(mean > 50 && mean < 200, `mean ${mean}`);
  assert.equal(draw(3, 32, 32, 0.2).length, 32 * 32 * 3);
});
