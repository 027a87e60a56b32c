/**
 * A set given as one uint8 .npy tensor of pixels ([N, H, W], [N, C, H, W] or [N, H, W, C]) is
 * preprocessed like decoded image files: the same scores as the same pixels written as PNG files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { writeNpy } from '../../src/node/io/npy.js';
import { Xoshiro128 } from '../../src/math/random.js';
import { fixturesDir } from '../helpers.js';

const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const model = join(fixturesDir, 'pipeline', 'model.onnx');

function scores(csv: string): number[] {
  return readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.slice(l.lastIndexOf(',') + 1)));
}

test('uint8 .npy images (NCHW, NHWC, grey NHW) score as the same pixels in PNG files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'napood-u8-'));
  try {
    const n = 3, h = 40, w = 36;
    const rng = new Xoshiro128(7);
    const hwc = new Uint8Array(n * h * w * 3).map(() => rng.nextInt(256));
    mkdirSync(join(dir, 'png'));
    for (let i = 0; i < n; i++) {
      await sharp(Buffer.from(hwc.subarray(i * h * w * 3, (i + 1) * h * w * 3)), { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(dir, 'png', `${i}.png`));
    }
    const chw = new Uint8Array(hwc.length);
    for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) chw[i * h * w * 3 + c * h * w + p] = hwc[i * h * w * 3 + p * 3 + c]!;
    writeNpy(join(dir, 'nhwc.npy'), hwc, [n, h, w, 3], 'test');
    writeNpy(join(dir, 'nchw.npy'), chw, [n, 3, h, w], 'test');
    const run = (features: string, out: string) => {
      const r = spawnSync(process.execPath, [binPath, 'score', '--model', model, '--preset', 'cifar', '--features', features, '--method', 'nap', '--out', join(dir, out)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return scores(join(dir, out));
    };
    const fromPng = run(join(dir, 'png'), 'png.csv');
    assert.deepEqual(run(join(dir, 'nhwc.npy'), 'nhwc.csv'), fromPng);
    assert.deepEqual(run(join(dir, 'nchw.npy'), 'nchw.csv'), fromPng);
    const r = spawnSync(process.execPath, [binPath, 'score', '--model', model, '--preset', 'cifar', '--features', join(dir, 'nchw.npy'), '--method', 'nap', '--channel-mismatch', 'error', '--out', join(dir, 'x.csv')], { encoding: 'utf8' });
    assert.equal(r.status, 0, 'RGB images for an RGB model need no conversion');
    const grey = new Uint8Array(n * h * w).map(() => rng.nextInt(256));
    writeNpy(join(dir, 'grey.npy'), grey, [n, h, w], 'test');
    assert.equal(run(join(dir, 'grey.npy'), 'grey.csv').length, n, 'grey images converted to RGB as PIL does');
    writeNpy(join(dir, 'amb.npy'), new Uint8Array(2 * 3 * 5 * 3), [2, 3, 5, 3], 'test');
    const bad = spawnSync(process.execPath, [binPath, 'score', '--model', model, '--preset', 'cifar', '--features', join(dir, 'amb.npy'), '--method', 'nap', '--out', join(dir, 'y.csv')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--features: expected uint8 images as \[N, H, W\], \[N, C, H, W\] or \[N, H, W, C\] with C = 1 or 3 \(unambiguous\), found shape \[2, 3, 5, 3\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
