/** fog's diamond-square map against the reference's plasma_fractal fed the same uniforms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plasmaFractal, plasmaSize } from '../../src/images/corrupt/weather.js';
import { Xoshiro128 } from '../../src/math/random.js';
import { npy } from './helpers.js';

test('plasmaFractal equals the reference for the same uniform stream (sides 32 and 64)', () => {
  for (const [size, decay, seed, file] of [[32, 3, 99, 'plasma_32_3_seed99.npy'], [64, 1.75, 100, 'plasma_64_1.75_seed100.npy']] as const) {
    const rng = new Xoshiro128(seed);
    const map = plasmaFractal(size, decay, () => rng.nextDouble());
    const ref = npy(file);
    assert.deepEqual(ref.shape, [size, size]);
    let max = 0;
    for (let i = 0; i < map.length; i++) max = Math.max(max, Math.abs(map[i]! - ref.data[i]!));
    // The fixture is float64 read as float32: equal to float32 precision.
    assert.ok(max < 1e-7, `side ${size}: max difference ${max}`);
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of map) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
    assert.equal(mn, 0);
    assert.equal(mx, 1);
  }
});

test('the plasma side is 32 (CIFAR) or 256 (ImageNet), grown to cover larger images', () => {
  assert.equal(plasmaSize(28, 28, 'cifar'), 32);
  assert.equal(plasmaSize(64, 40, 'cifar'), 64);
  assert.equal(plasmaSize(224, 224, 'imagenet'), 256);
  assert.equal(plasmaSize(300, 200, 'imagenet'), 512);
});
