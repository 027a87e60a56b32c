/**
 * Non-finite normalisation (issue #10 item 5): mean and std are used in float32, where --std 1e-46
 * is 0 (division by zero: Inf) and --mean 1e39 is Inf, so every score was NaN or Inf. They are
 * refused when the settings are parsed, naming the flag or the JSON field; so is a combination
 * whose (pixel − mean) / std leaves float32's range, and sizes beyond the pixel bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeInto } from '../../src/images/pixels.js';
import { parsePreprocess, PRESETS } from '../../src/images/preprocess.js';
import { preprocessFromFlags } from '../../src/node/images/preprocess-flags.js';
import { fixturesDir } from '../helpers.js';
import { HOSTILE, assertRefused, napood, napoodError } from './helpers.js';

test('--std 1e-46 (0 in float32), --mean 1e39 (Inf in float32): refused naming the flag', () => {
  const base = { size: '8', channels: '3' };
  assert.throws(() => preprocessFromFlags({ ...base, std: '1e-46' }), napoodError(/^--std: expected values from 1e-30 to 3\.40e\+38 \(used in float32: smaller ones divide to Inf or by 0\), found \[1e-46\]$/, '--std'));
  assert.throws(() => preprocessFromFlags({ ...base, std: '0.2,1e-40,0.2' }), napoodError(/^--std: expected values from 1e-30/, '--std'));
  assert.throws(() => preprocessFromFlags({ ...base, std: '1e39' }), napoodError(/^--std: expected values from 1e-30 to 3\.40e\+38/, '--std'));
  assert.throws(() => preprocessFromFlags({ ...base, mean: '1e39' }), napoodError(/^--mean: expected values of magnitude at most 1e\+30 \(used in float32\), found \[1e\+39\]$/, '--mean'));
  assert.throws(() => preprocessFromFlags({ ...base, mean: '-1e31' }), napoodError(/^--mean: expected values of magnitude at most 1e\+30/, '--mean'));
  // each value allowed alone, the pair overflows: (1e30 − u) / 1e-30 = 1e60
  assert.throws(() => preprocessFromFlags({ ...base, mean: '1e30', std: '1e-30' }),
    napoodError(/^--std: expected values that keep \(pixel − mean\) \/ std finite in float32 \(channel 0: \|pixel − mean\| up to 1\.000e\+30, std 1\.000e-30\), found \[1e-30\]$/, '--std'));
  // a settings file names the field
  assert.throws(() => parsePreprocess({ size: 8, channels: 1, std: 1e-46 }, 'prep.json'), napoodError(/^prep\.json: std: expected values from 1e-30/, 'prep.json: std'));
  assert.throws(() => parsePreprocess({ size: 8, channels: 1, mean: [1e39] }, 'prep.json'), napoodError(/^prep\.json: mean: expected values of magnitude at most/, 'prep.json: mean'));
});

test('sane extremes still pass and normalise to finite values (maxValue 255, std 1e-30, mean ±1e30)', () => {
  const cases = [
    preprocessFromFlags({ size: '2', channels: '1', std: '1e-30', 'max-value': '255' }),
    preprocessFromFlags({ size: '2', channels: '1', mean: '1e30' }),
    preprocessFromFlags({ size: '2', channels: '1', mean: '-1e30', std: '1e-8' }),
    PRESETS.imagenet!,
  ];
  for (const pp of cases) {
    const [h, w] = pp.size;
    const px = new Uint8Array(h * w * pp.channels).map((_, i) => (i * 97) % 256);
    px[0] = 0;
    px[1] = 255;
    const out = new Float32Array(h * w * pp.channels);
    normalizeInto(px, pp, out, 0);
    assert.ok(out.every(Number.isFinite), `finite for mean ${pp.mean}, std ${pp.std}`);
  }
});

test('size and resize: at most 40,000,000 pixels (the resized image has at least resize² pixels)', () => {
  assert.throws(() => preprocessFromFlags({ size: '40000', channels: '3' }), napoodError(/^--size: expected an output of at most 40,000,000 pixels/, '--size'));
  assert.throws(() => preprocessFromFlags({ size: '224', resize: '65535', channels: '3' }),
    napoodError(/^--resize: expected a shorter side of at most 6324 \(the resized image, before the crop, has at least resize² pixels; at most 40,000,000\), found 65535$/, '--resize'));
  assert.throws(() => parsePreprocess({ size: [65535, 65535], channels: 3 }, 'prep.json'), napoodError(/^prep\.json: size: expected an output of at most 40,000,000 pixels/));
  assert.deepEqual(preprocessFromFlags({ size: '6000', resize: '6324', channels: '3' }).size, [6000, 6000]);
});

test('the CLI refuses --std 1e-46 and --mean 1e39 before scoring, naming the flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'napood-hostile-norm-'));
  const tree = join(fixturesDir, 'images', 'tree');
  const model = join(HOSTILE, 'tiny.onnx');
  try {
    for (const [flag, value] of [['--std', '1e-46'], ['--mean', '1e39']] as const) {
      const out = join(dir, 's.npy');
      assertRefused(napood(['score', '--model', model, flag, value, '--features', tree, '--method', 'energy', '--out', out]), new RegExp(`^napood score: ${flag}: expected values`, 'm'));
      const prep = join(dir, 'prep.json');
      writeFileSync(prep, JSON.stringify({ size: 8, channels: 3, [flag.slice(2)]: Number(value) }));
      assertRefused(napood(['score', '--model', model, '--preprocess', prep, '--features', tree, '--method', 'energy', '--out', out]), new RegExp(`prep\\.json: ${flag.slice(2)}: expected values`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
