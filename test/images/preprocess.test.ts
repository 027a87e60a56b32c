/** preprocess.ts: settings, parsing and validation, presets; pixels.ts: geometry, pixel kernels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError } from '../../src/errors.js';
import { convertChannels, normalizeInto, resizeGeometry } from '../../src/images/pixels.js';
import {
  PRESETS, checkAgainstModel, imageShape, parsePreprocess, parsePreprocessText, preprocessForModel,
  type Preprocess,
} from '../../src/images/preprocess.js';
import { preprocessFromFlags, readPreprocessFile } from '../../src/node/images/preprocess-flags.js';
import { tempDir } from './helpers.js';

function napoodError(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NapoodError, `expected NapoodError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('presets: imagenet is Resize(256) + CenterCrop(224) with the torchvision mean/std', () => {
  const p = PRESETS.imagenet!;
  assert.deepEqual(p.size, [224, 224]);
  assert.equal(p.resize, 256);
  assert.deepEqual(p.mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(p.std, [0.229, 0.224, 0.225]);
  assert.equal(p.channels, 3);
  assert.equal(p.layout, 'nchw');
  assert.equal(p.interpolation, 'bilinear');
  assert.equal(p.resampler, 'pil');
  assert.deepEqual(PRESETS.mnist!.size, [28, 28]);
  assert.equal(PRESETS.mnist!.channels, 1);
  assert.deepEqual(PRESETS.mnist!.mean, [0.1307]);
  assert.deepEqual(PRESETS.cifar!.size, [32, 32]);
  assert.ok(Math.abs(PRESETS.cifar!.std[0]! - 0.24706) < 1e-5);
});

test('parsePreprocess: a preset plus overrides; single mean/std broadcast; size as one number', () => {
  const p = parsePreprocess({ preset: 'imagenet', size: 112, resize: 128, layout: 'nhwc' }, 'p.json');
  assert.deepEqual(p.size, [112, 112]);
  assert.equal(p.resize, 128);
  assert.equal(p.layout, 'nhwc');
  assert.deepEqual(p.mean, [0.485, 0.456, 0.406]);
  const q = parsePreprocess({ size: [10, 12], channels: 'bgr', mean: 0.5, std: 0.25 });
  assert.deepEqual(q.size, [10, 12]);
  assert.equal(q.channels, 3);
  assert.equal(q.channelOrder, 'bgr');
  assert.deepEqual(q.mean, [0.5, 0.5, 0.5]);
  assert.deepEqual(q.std, [0.25, 0.25, 0.25]);
  assert.equal(q.resize, undefined);
  const r = parsePreprocess({ preset: 'imagenet', resize: null });
  assert.equal(r.resize, undefined, 'null drops the preset resize');
  assert.ok(Object.isFrozen(p));
});

test('parsePreprocess: every bad field is named with what was expected and found', () => {
  napoodError(() => parsePreprocess({ size: [224, 224], channels: 3, mean: [0.1, 0.2] }, 'p.json'),
    'p.json: mean: expected 1 or 3 values (one per channel; channels = 3), found 2 values [0.1, 0.2]');
  napoodError(() => parsePreprocess({ size: 'big', channels: 3 }, 'p.json'), 'p.json: size: expected a positive integer or [height, width] (at most 65535), found "big"');
  napoodError(() => parsePreprocess({ size: [0, 3], channels: 3 }, 'p.json'), /^p\.json: size: expected .*found \[0, 3\]$/);
  napoodError(() => parsePreprocess({ size: 8, channels: 2 }, 'p.json'), 'p.json: channels: expected 1, 3, "gray", "rgb" or "bgr", found 2');
  napoodError(() => parsePreprocess({ size: 8, channels: 1, std: [0] }, 'p.json'), 'p.json: std: expected positive values, found [0]');
  napoodError(() => parsePreprocess({ size: 8, channels: 1, layout: 'chw' }, 'p.json'), 'p.json: layout: expected "nchw" or "nhwc", found "chw"');
  napoodError(() => parsePreprocess({ size: 8, channels: 1, interpolation: 'area' }, 'p.json'), /^p\.json: interpolation: expected one of nearest, bilinear, bicubic, box, hamming, lanczos, found "area"$/);
  napoodError(() => parsePreprocess({ size: 8, channels: 1, colour: 'x' }, 'p.json'), /^p\.json: colour: expected one of the fields preset, size, .*, found an unknown field$/);
  napoodError(() => parsePreprocess({ preset: 'coco' }, 'p.json'), 'p.json: preset: expected one of imagenet, cifar, mnist, found "coco"');
  napoodError(() => parsePreprocess({ size: 224, channels: 3, resize: 200 }, 'p.json'),
    'p.json: resize: expected at least the crop size 224 (the shorter side is resized to it, then 224×224 is cropped), found 200');
  napoodError(() => parsePreprocess({ size: 8, channels: 3, resampler: 'sharp', interpolation: 'hamming' }, 'p.json'),
    'p.json: interpolation: expected one of nearest, bilinear, bicubic, lanczos with resampler "sharp", found "hamming"');
  napoodError(() => parsePreprocess({ channels: 3 }, 'p.json'), 'p.json: size: expected an output size (or a preset, or a model to take it from), found none');
  napoodError(() => parsePreprocess({ size: 8, channels: 3, maxValue: 100 }, 'p.json'), /^p\.json: maxValue: expected 1 .* or 255, found 100$/);
  napoodError(() => parsePreprocess([1, 2], 'p.json'), 'p.json: expected a JSON object of preprocessing settings, found [1, 2]');
  napoodError(() => parsePreprocess({ size: { h: 3 }, channels: 1 }, 'p.json'), /found \{"h":3\}$/);
});

test('readPreprocessFile names the file for unreadable or invalid JSON and for bad fields', () => {
  const t = tempDir();
  try {
    const good = path.join(t.dir, 'good.json');
    fs.writeFileSync(good, JSON.stringify({ preset: 'mnist', mean: 0.5, std: 0.5 }));
    const p = readPreprocessFile(good);
    assert.deepEqual([p.mean, p.std, p.channels], [[0.5], [0.5], 1]);
    const bad = path.join(t.dir, 'bad.json');
    fs.writeFileSync(bad, '{ "size": 3,');
    napoodError(() => readPreprocessFile(bad), new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expected valid JSON, found `));
    const field = path.join(t.dir, 'field.json');
    fs.writeFileSync(field, JSON.stringify({ size: 8, channels: 3, layout: 'NCHW' }));
    napoodError(() => readPreprocessFile(field), `${field}: layout: expected "nchw" or "nhwc", found "NCHW"`);
    napoodError(() => readPreprocessFile(path.join(t.dir, 'none.json')), /none\.json: expected a readable JSON file of preprocessing settings, found ENOENT$/);
  } finally {
    t.cleanup();
  }
});

test('parsePreprocessText: JSON text (a settings file read by any runtime), named in messages', () => {
  const p = parsePreprocessText('{ "preset": "cifar", "layout": "nhwc" }', 'prep.json');
  assert.deepEqual([p.size, p.layout, p.channels], [[32, 32], 'nhwc', 3]);
  napoodError(() => parsePreprocessText('{ "size": 3,', 'prep.json'), /^prep\.json: expected valid JSON, found /);
  napoodError(() => parsePreprocessText('{ "size": 3, "channels": 2 }', 'prep.json'), 'prep.json: channels: expected 1, 3, "gray", "rgb" or "bgr", found 2');
  napoodError(() => parsePreprocessText('[1]'), 'preprocessing: expected a JSON object of preprocessing settings, found [1]');
});

test('preprocessForModel: size and channels from [C, H, W], mean 0, std 1; other channel counts refused', () => {
  const p = preprocessForModel([3, 32, 40]);
  assert.deepEqual(p.size, [32, 40]);
  assert.equal(p.channels, 3);
  assert.deepEqual(p.mean, [0, 0, 0]);
  assert.deepEqual(p.std, [1, 1, 1]);
  assert.equal(p.resize, undefined);
  napoodError(() => preprocessForModel([4, 8, 8]), 'model input: expected 1 (grayscale) or 3 (RGB) channels in [C, H, W], found [4, 8, 8]');
  napoodError(() => preprocessForModel([3, 8]), 'model input: expected a fixed image shape [C, H, W], found [3, 8]');
});

test('preprocessFromFlags: flags override the preset / file / model default; errors name the flag', () => {
  const p = preprocessFromFlags({ preset: 'imagenet', size: '160', resize: '182', mean: '0.5', std: '0.5,0.4,0.3' });
  assert.deepEqual(p.size, [160, 160]);
  assert.equal(p.resize, 182);
  assert.deepEqual(p.mean, [0.5, 0.5, 0.5]);
  assert.deepEqual(p.std, [0.5, 0.4, 0.3]);
  const m = preprocessFromFlags({ channels: 'gray' }, [1, 28, 28]);
  assert.deepEqual([m.size, m.channels], [[28, 28], 1]);
  const w = preprocessFromFlags({ size: '24x32', channels: 'rgb', layout: 'NHWC', 'max-value': '255' });
  assert.deepEqual([w.size, w.layout, w.maxValue], [[24, 32], 'nhwc', 255]);
  assert.equal(preprocessFromFlags({ preset: 'imagenet', resize: 'none' }).resize, undefined);
  napoodError(() => preprocessFromFlags({ size: 'abc', channels: '3' }), '--size: expected an integer, found "abc"');
  napoodError(() => preprocessFromFlags({ preset: 'imagenet', mean: '0.1,0.2' }), '--mean: expected 1 or 3 values (one per channel; channels = 3), found 2 values [0.1, 0.2]');
  napoodError(() => preprocessFromFlags({ preset: 'imagenet', layout: 'hwc' }), '--layout: expected "nchw" or "nhwc", found "hwc"');
  napoodError(() => preprocessFromFlags({ preset: 'imagenet', 'max-value': '2' }), /^--max-value: expected 1 .* or 255, found 2$/);
  napoodError(() => preprocessFromFlags({ preset: 'nope' }), '--preset: expected one of imagenet, cifar, mnist, found "nope"');
  napoodError(() => preprocessFromFlags({ preset: 'imagenet', preprocess: 'p.json' }), /^--preset: expected either --preset or --preprocess, not both/);
  napoodError(() => preprocessFromFlags({}), '--size: expected an output size (or a preset, or a model to take it from), found none');
});

test('settings are checked against the model input shape', () => {
  napoodError(() => preprocessFromFlags({ preset: 'mnist' }, [3, 224, 224]),
    "preprocessing (--size, --channels): expected images of the model's input shape [C, H, W] = [3, 224, 224], found [1, 28, 28] (channels 1, size 28×28, layout nchw)");
  assert.doesNotThrow(() => preprocessFromFlags({ preset: 'imagenet' }, [3, 224, 224]));
  // The layout is the model's: a preset's is replaced, and --layout must agree.
  napoodError(() => preprocessFromFlags({ preset: 'imagenet', layout: 'nhwc' }, [3, 224, 224]),
    "--layout: expected nchw (the model's input is channels first, [N, C, H, W]), found nhwc");
  const last = preprocessFromFlags({ preset: 'imagenet' }, [3, 224, 224], 'nhwc');
  assert.equal(last.layout, 'nhwc');
  assert.deepEqual(imageShape(last), [224, 224, 3]);
  assert.equal(preprocessFromFlags({}, [1, 28, 28], 'nhwc').layout, 'nhwc');
  assert.equal(preprocessFromFlags({ preset: 'cifar', layout: 'nhwc' }, [3, 32, 32], 'nhwc').layout, 'nhwc');
  napoodError(() => preprocessFromFlags({ preset: 'cifar', layout: 'nchw' }, [3, 32, 32], 'nhwc'),
    "--layout: expected nhwc (the model's input is channels last, [N, H, W, C]), found nchw");
  const p = PRESETS.imagenet!;
  assert.deepEqual(imageShape(p), [3, 224, 224]);
  assert.deepEqual(imageShape({ ...p, layout: 'nhwc' }), [224, 224, 3]);
  napoodError(() => checkAgainstModel(p, [3, 256, 256], '--model'), /^--model: expected .*\[3, 256, 256\], found \[3, 224, 224\]/);
});

test('resizeGeometry follows torchvision Resize(int) + CenterCrop (int() truncation, round half to even)', () => {
  // Expected values from torchvision 0.14 _compute_resized_output_size and center_crop.
  const cases: [number, number, number, number, number, [number, number, number, number]][] = [
    [500, 375, 256, 224, 224, [341, 256, 58, 16]],
    [375, 500, 256, 224, 224, [256, 341, 16, 58]],
    [333, 500, 256, 224, 224, [256, 384, 16, 80]],
    [1000, 999, 256, 224, 224, [256, 256, 16, 16]],
    [257, 300, 256, 224, 224, [256, 298, 16, 37]],
    [640, 427, 256, 224, 224, [383, 256, 80, 16]],
    [16, 20, 25, 24, 20, [25, 31, 2, 4]],
    [7, 3, 5, 4, 5, [11, 5, 3, 0]],
  ];
  for (const [w, h, r, oh, ow, [rw, rh, left, top]] of cases) {
    assert.deepEqual(resizeGeometry(w, h, { size: [oh, ow], resize: r }), { resizeW: rw, resizeH: rh, left, top, outW: ow, outH: oh }, `${w}x${h}`);
  }
  assert.deepEqual(resizeGeometry(640, 480, { size: [32, 48] }), { resizeW: 48, resizeH: 32, left: 0, top: 0, outW: 48, outH: 32 });
});

test('convertChannels: Pillow luma (ITU-R 601-2, 16-bit fixed point) and replication', () => {
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30, 1, 1, 2]);
  // PIL: Image.new('RGB', (1,1), c).convert('L').getpixel((0,0))
  assert.deepEqual(convertChannels(rgb, 6, 3, 1), Uint8Array.from([76, 150, 29, 255, 18, 1]));
  assert.deepEqual(convertChannels(Uint8Array.from([7, 200]), 2, 1, 3), Uint8Array.from([7, 7, 7, 200, 200, 200]));
  const same = Uint8Array.from([1, 2, 3]);
  assert.equal(convertChannels(same, 1, 3, 3), same);
  assert.throws(() => convertChannels(same, 2, 3, 1), RangeError);
});

function pp(over: Record<string, unknown>): Preprocess {
  return parsePreprocess({ size: [2, 3], channels: 'rgb', ...over });
}

test('normalizeInto: float32 ToTensor + Normalize, NCHW and NHWC, BGR, 0..255', () => {
  // 2×3 RGB pixels, HWC.
  const px = Uint8Array.from([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 255, 128, 64]);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const f = Math.fround;
  const expect = (u: number, c: number): number => f(f(f(u / 255) - f(mean[c]!)) / f(std[c]!));
  const nchw = new Float32Array(2 + 18);
  normalizeInto(px, pp({ mean, std }), nchw, 2);
  assert.equal(nchw[0], 0);
  assert.equal(nchw[1], 0);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 6; i++) assert.equal(nchw[2 + c * 6 + i], expect(px[i * 3 + c]!, c));
  const nhwc = new Float32Array(18);
  normalizeInto(px, pp({ mean, std, layout: 'nhwc' }), nhwc, 0);
  for (let i = 0; i < 6; i++) for (let c = 0; c < 3; c++) assert.equal(nhwc[i * 3 + c], nchw[2 + c * 6 + i]);
  const bgr = new Float32Array(18);
  normalizeInto(px, pp({ channels: 'bgr', maxValue: 255, mean: [104, 117, 123] }), bgr, 0);
  // channel 0 of the tensor is blue: pixel 5 (255, 128, 64) → B − 104 = −40.
  assert.equal(bgr[0 * 6 + 5], -40);
  assert.equal(bgr[1 * 6 + 5], 11);
  assert.equal(bgr[2 * 6 + 5], 132);
  // A known float32 value: ImageNet red channel of u = 255: (1 − 0.485) / 0.229.
  assert.equal(nchw[2 + 5], f(f(1 - f(0.485)) / f(0.229)));
  assert.ok(Math.abs(nchw[2 + 5]! - 2.2489083) < 1e-6);
  assert.throws(() => normalizeInto(px.subarray(1), pp({}), nchw, 0), RangeError);
  assert.throws(() => normalizeInto(px, pp({}), nchw, 3), RangeError);
});
