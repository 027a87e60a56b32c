/** corruptImage / corruptImages: registry, shapes, determinism, labels, validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BENCHMARK_CORRUPTIONS, CORRUPTIONS, CORRUPTION_NAMES, EXTRA_CORRUPTIONS, buildCorruptionRegistry, corruptImage, corruptImages,
  corruptionPlan, getCorruption, iterateCorruptedImages, paramSetFor, type PixelImage,
} from '../../src/images/corrupt/index.js';
import { NapoodError } from '../../src/errors.js';

function synthetic(w: number, h: number, c: 1 | 3, seed = 1): PixelImage {
  const data = new Uint8Array(w * h * c);
  let s = seed;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        s = (s * 1103515245 + 12345) >>> 0;
        data[(y * w + x) * c + k] = Math.max(0, Math.min(255, Math.round(128 + 90 * Math.sin(x / 5 + k) * Math.cos(y / 7) + ((s >>> 24) % 21) - 10)));
      }
    }
  }
  return { width: w, height: h, channels: c, data };
}

test('the registry holds the 15 benchmark corruptions and the 4 extras, frozen', () => {
  assert.equal(BENCHMARK_CORRUPTIONS.length, 15);
  assert.equal(EXTRA_CORRUPTIONS.length, 4);
  assert.deepEqual([...CORRUPTION_NAMES], [...BENCHMARK_CORRUPTIONS, ...EXTRA_CORRUPTIONS]);
  assert.deepEqual(Object.keys(CORRUPTIONS).sort(), [...CORRUPTION_NAMES].sort());
  assert.ok(Object.isFrozen(CORRUPTIONS));
  for (const n of CORRUPTION_NAMES) {
    const c = CORRUPTIONS[n];
    assert.ok(Object.isFrozen(c));
    assert.equal(c.params.cifar.length, 5, n);
    assert.equal(c.params.imagenet.length, 5, n);
    assert.equal(c.extra, (EXTRA_CORRUPTIONS as readonly string[]).includes(n));
  }
  assert.throws(() => buildCorruptionRegistry([CORRUPTIONS.fog, CORRUPTIONS.fog]), /fog twice/);
  assert.throws(() => getCorruption('rain'), (e: unknown) => e instanceof NapoodError && /expected one of gaussian_noise/.test(e.message));
});

test('every corruption × severity keeps size and channels on odd sizes, grey and RGB, both parameter sets', () => {
  for (const [w, h] of [[1, 1], [5, 3], [17, 9], [70, 33]] as const) {
    for (const c of [1, 3] as const) {
      const im = synthetic(w, h, c);
      for (const n of CORRUPTION_NAMES) {
        for (const s of [1, 5]) {
          const out = corruptImage(im, n, s, { seed: 3 });
          assert.equal(out.width, w);
          assert.equal(out.height, h);
          assert.equal(out.channels, c);
          assert.ok(out.data instanceof Uint8Array && out.data.length === w * h * c, `${n} ${w}x${h}x${c}`);
        }
      }
    }
  }
});

test('CIFAR-C parameters up to a side of 64, ImageNet-C above; either can be forced', () => {
  assert.equal(paramSetFor(32, 32), 'cifar');
  assert.equal(paramSetFor(64, 20), 'cifar');
  assert.equal(paramSetFor(65, 20), 'imagenet');
  assert.equal(paramSetFor(224, 224, 'cifar'), 'cifar');
  const im = synthetic(32, 32, 3);
  const a = corruptImage(im, 'gaussian_noise', 3, { seed: 1 });
  const b = corruptImage(im, 'gaussian_noise', 3, { seed: 1, params: 'imagenet' });
  assert.notDeepEqual(a.data, b.data);
  assert.deepEqual(corruptImage(im, 'gaussian_noise', 3, { seed: 1, params: 'cifar' }).data, a.data);
});

test('deterministic per (seed, image index, corruption, severity); the seed and the index change the draw', () => {
  const im = synthetic(24, 20, 3);
  for (const n of CORRUPTION_NAMES) {
    const a = corruptImage(im, n, 4, { seed: 7, index: 2 });
    const b = corruptImage(im, n, 4, { seed: 7, index: 2 });
    assert.deepEqual(a.data, b.data, n);
  }
  for (const n of ['gaussian_noise', 'shot_noise', 'glass_blur', 'motion_blur', 'frost', 'fog', 'snow', 'elastic_transform', 'spatter'] as const) {
    const a = corruptImage(im, n, 5, { seed: 7, index: 2 });
    assert.notDeepEqual(corruptImage(im, n, 5, { seed: 8, index: 2 }).data, a.data, `${n}: seed`);
    assert.notDeepEqual(corruptImage(im, n, 5, { seed: 7, index: 3 }).data, a.data, `${n}: index`);
  }
  // Deterministic corruptions ignore the seed.
  for (const n of ['defocus_blur', 'zoom_blur', 'brightness', 'contrast', 'pixelate', 'jpeg_compression', 'gaussian_blur', 'saturate'] as const) {
    assert.deepEqual(corruptImage(im, n, 3, { seed: 1 }).data, corruptImage(im, n, 3, { seed: 99 }).data, n);
  }
});

test('corruptImages: every image × corruption × severity with labels; a copy does not depend on the lists', () => {
  const images = [synthetic(16, 16, 3, 1), synthetic(16, 16, 3, 2), synthetic(12, 10, 1, 3)];
  const out = corruptImages(images, { corruptions: ['gaussian_noise', 'fog'], severities: [1, 5], seed: 11 });
  assert.equal(out.length, 3 * 2 * 2);
  assert.deepEqual(out.map((o) => `${o.source}:${o.corruption}:${o.severity}`).slice(0, 4), ['0:gaussian_noise:1', '0:gaussian_noise:5', '0:fog:1', '0:fog:5']);
  const one = corruptImages([images[0]!, images[1]!], { corruptions: ['fog'], severities: [5], seed: 11 });
  assert.deepEqual(one[1]!.image.data, out.find((o) => o.source === 1 && o.corruption === 'fog' && o.severity === 5)!.image.data);
  assert.deepEqual(one[1]!.image.data, corruptImage(images[1]!, 'fog', 5, { seed: 11, index: 1 }).data);
  // Default: the 15 benchmark corruptions × 5 severities.
  assert.equal(corruptionPlan(2).length, 2 * 15 * 5);
  const events: [number, number, string][] = [];
  const it = iterateCorruptedImages(images, { corruptions: ['contrast'], severities: [2], events: { progress: (d, t, w) => events.push([d, t, w]) } });
  assert.equal([...it].length, 3);
  assert.deepEqual(events.at(-1), [3, 3, 'corrupt']);
  // The input is not modified.
  const before = Uint8Array.from(images[0]!.data);
  corruptImages([images[0]!], { corruptions: ['impulse_noise', 'glass_blur'], seed: 1 });
  assert.deepEqual(images[0]!.data, before);
});

test("assignment 'random': one (corruption, severity) per image, seeded, from the given lists", () => {
  const images = Array.from({ length: 40 }, (_, i) => synthetic(8, 8, 1, i));
  const a = corruptImages(images, { assignment: 'random', seed: 5, corruptions: ['contrast', 'brightness', 'fog'], severities: [2, 4] });
  assert.equal(a.length, 40);
  assert.deepEqual(a.map((o) => o.source), images.map((_, i) => i));
  assert.ok(a.every((o) => ['contrast', 'brightness', 'fog'].includes(o.corruption) && [2, 4].includes(o.severity)));
  assert.ok(new Set(a.map((o) => o.corruption)).size === 3);
  const b = corruptImages(images, { assignment: 'random', seed: 5, corruptions: ['contrast', 'brightness', 'fog'], severities: [2, 4] });
  assert.deepEqual(a.map((o) => o.corruption + o.severity), b.map((o) => o.corruption + o.severity));
});

test('inputs and options are checked; errors name the argument', () => {
  const im = synthetic(4, 4, 3);
  const err = (re: RegExp) => (e: unknown) => e instanceof NapoodError && re.test(e.message);
  assert.throws(() => corruptImage({ width: 4, height: 4, channels: 4, data: new Uint8Array(64) }, 'fog', 1), err(/^image: expected 1 \(grey\) or 3 \(RGB\) channels/));
  assert.throws(() => corruptImage({ width: 4, height: 4, channels: 3, data: new Uint8Array(40) }, 'fog', 1), err(/^image: expected 48 bytes/));
  assert.throws(() => corruptImage(im, 'fog', 0), err(/^severity: expected an integer severity in 1…5, found 0/));
  assert.throws(() => corruptImage(im, 'fog', 2.5), err(/^severity/));
  assert.throws(() => corruptImage(im, 'fog' as never, 1, { seed: -1 }), err(/^seed/));
  assert.throws(() => corruptImages([im], { corruptions: [] }), err(/^corruptions: expected at least one/));
  assert.throws(() => corruptImages([im], { corruptions: ['haze' as never] }), err(/^corruptions: expected one of/));
  assert.throws(() => corruptImages([im], { severities: [6] }), err(/^severities/));
  assert.throws(() => corruptImages([im, { width: 2, height: 2, data: new Uint8Array(5) }]), err(/^images\[1\]/));
  // Channels inferred from the byte count; Uint8ClampedArray accepted.
  const inferred = corruptImage({ width: 4, height: 4, data: new Uint8ClampedArray(16).fill(90) }, 'brightness', 5);
  assert.equal(inferred.channels, 1);
});
