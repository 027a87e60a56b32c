/** `napood corrupt`: corrupted copies written whole (PNG + corruptions.csv + list.txt) or not at all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { corruptImage } from '../../src/images/corrupt/index.js';
import { fixturesDir } from '../helpers.js';

const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const napood = (...a: string[]) => spawnSync(process.execPath, [binPath, ...a], { encoding: 'utf8' });

test('napood corrupt writes each corruption × severity of each image, equal to the library kernel', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'napood-corrupt-'));
  try {
    const out = join(dir, 'c');
    const src = join(fixturesDir, 'images', 'tree', 'dog', 'd1.png');
    const r = napood('corrupt', '--images', src, '--corruptions', 'fog,pixelate', '--severities', '2,5', '--seed', '3', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const csv = readFileSync(join(out, 'corruptions.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 4);
    assert.deepEqual(readFileSync(join(out, 'list.txt'), 'utf8').trim().split('\n').sort(), ['fog/2/d1.png', 'fog/5/d1.png', 'pixelate/2/d1.png', 'pixelate/5/d1.png']);
    const { data, info } = await sharp(src).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const want = corruptImage({ width: info.width, height: info.height, data: new Uint8Array(data), channels: info.channels as 3 }, 'fog', 5, { seed: 3, index: 0 });
    const got = await sharp(join(out, 'fog', '5', 'd1.png')).raw().toBuffer();
    assert.deepEqual(new Uint8Array(got), want.data);
    const again = napood('corrupt', '--images', src, '--out', out);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /--out: expected a folder that does not exist yet/);
    const bad = napood('corrupt', '--images', src, '--corruptions', 'fog,rain', '--out', join(dir, 'x'));
    assert.match(bad.stderr, /--corruptions: expected a comma-separated list among gaussian_noise, .*found "rain"/);
    assert.deepEqual(readdirSync(dir).sort(), ['c'], 'nothing half-written');
    assert.ok(!existsSync(join(dir, 'x')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
