/** resample.ts against Pillow's Image.resize (tools/make_image_fixtures.py: refs/resample.*). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { resamplePil, type PilFilter } from '../../src/images/resample.js';
import { convertChannels } from '../../src/images/pixels.js';
import { decodeImage } from '../../src/node/images/loader.js';
import { img, ref, diff } from './helpers.js';

interface Case { filter: PilFilter; w: number; h: number; offset: number; gray?: boolean }
const cases: Case[] = JSON.parse(fs.readFileSync(img('refs', 'resample.json'), 'utf8')).cases;
const golden = ref('refs/resample.npy').data;

test('resamplePil equals Pillow Image.resize exactly for every filter, up and down, RGB and L', async () => {
  const src = await decodeImage(img('refs', 'resample_src.png'));
  assert.equal(src.width, 13);
  assert.equal(src.height, 11);
  assert.equal(src.channels, 3);
  const gray = convertChannels(src.data, 13 * 11, 3, 1);
  assert.equal(cases.length, 48);
  for (const c of cases) {
    const ch = c.gray ? 1 : 3;
    const out = resamplePil(c.gray ? gray : src.data, 13, 11, ch, c.filter, { resizeW: c.w, resizeH: c.h });
    const expected = golden.subarray(c.offset, c.offset + c.w * c.h * ch);
    const d = diff(out, expected);
    assert.equal(d.count, 0, `${c.filter} ${c.w}x${c.h}${c.gray ? ' L' : ''}: ${d.count} pixels differ (max ${d.max})`);
  }
});

test('a window equals resizing the whole image then cropping it', () => {
  const w = 31;
  const h = 23;
  const src = new Uint8Array(w * h * 3);
  for (let i = 0; i < src.length; i++) src[i] = (i * 37 + (i >> 3) * 11) & 255;
  for (const filter of ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const) {
    for (const [rw, rh] of [[17, 12], [50, 40], [31, 9]] as const) {
      const full = resamplePil(src, w, h, 3, filter, { resizeW: rw, resizeH: rh });
      const left = 3;
      const top = 2;
      const ow = rw - 5;
      const oh = rh - 2;
      const win = resamplePil(src, w, h, 3, filter, { resizeW: rw, resizeH: rh, left, top, outW: ow, outH: oh });
      const crop = new Uint8Array(ow * oh * 3);
      for (let y = 0; y < oh; y++) crop.set(full.subarray(((y + top) * rw + left) * 3, ((y + top) * rw + left + ow) * 3), y * ow * 3);
      assert.deepEqual(win, crop, `${filter} ${rw}x${rh}`);
    }
  }
});

test('same size is a copy; a crop without resizing takes the pixels as they are', () => {
  const src = Uint8Array.from({ length: 4 * 3 * 1 }, (_, i) => i * 20);
  assert.deepEqual(resamplePil(src, 4, 3, 1, 'bicubic', { resizeW: 4, resizeH: 3 }), src);
  assert.deepEqual(resamplePil(src, 4, 3, 1, 'bilinear', { resizeW: 4, resizeH: 3, left: 1, top: 1, outW: 2, outH: 2 }), Uint8Array.from([100, 120, 180, 200]));
});

test('a constant image stays constant under every filter (coefficients sum to one)', () => {
  const src = new Uint8Array(9 * 7 * 3).fill(201);
  for (const filter of ['box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const) {
    const out = resamplePil(src, 9, 7, 3, filter, { resizeW: 23, resizeH: 4 });
    assert.ok(out.every((v) => v === 201), filter);
  }
});

test('bad buffer length or window throws RangeError', () => {
  assert.throws(() => resamplePil(new Uint8Array(5), 2, 2, 1, 'bilinear', { resizeW: 2, resizeH: 2 }), /expected 4 bytes/);
  assert.throws(() => resamplePil(new Uint8Array(4), 2, 2, 1, 'bilinear', { resizeW: 3, resizeH: 3, left: 2, outW: 2, outH: 1 }), /outside 3×3/);
});
