/** jpeg.ts against Pillow's JPEG save + open (libjpeg-turbo) of a 93×77 RGB image (odd sizes: partial blocks, edge chroma). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jpegRoundTrip } from '../../src/images/corrupt/jpeg.js';
import { quantTable } from '../../src/images/corrupt/jpeg.js';
import { manifest, npy, u8, diffU8 } from './helpers.js';

test('the JPEG round trip equals Pillow (libjpeg-turbo) at every quality within one level', (t) => {
  const { width: w, height: h, qualities } = manifest.jpeg;
  const src = u8(npy('jpeg_src.npy').data);
  const exp = npy('jpeg_expected.npy').data;
  const per = w * h * 3;
  const notes: string[] = [];
  qualities.forEach((q, i) => {
    const out = jpegRoundTrip(src, w, h, 3, q);
    const d = diffU8(out, exp.subarray(i * per, (i + 1) * per));
    notes.push(`q${q}: max ${d.max}, ${d.count} differ`);
    assert.ok(d.max <= 1 && d.count <= per * 0.01, `quality ${q}: max ${d.max}, ${d.count} of ${per} differ`);
  });
  t.diagnostic(notes.join('; '));
});

test('quant tables follow jpeg_quality_scaling (IJG Annex K tables, force_baseline)', () => {
  const luma50 = quantTable([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], 50);
  assert.equal(luma50[0], 16);
  assert.equal(luma50[63], 99);
  const q7 = quantTable(Array(64).fill(99), 7);
  assert.ok(q7.every((v) => v === 255), 'clamped to 255 (baseline)');
  const q100 = quantTable(Array(64).fill(16), 100);
  assert.ok(q100.every((v) => v === 1));
});

test('a flat grey image survives the round trip; 1-channel and tiny images work', () => {
  const flat = new Uint8Array(13 * 5 * 3).fill(128);
  assert.ok(jpegRoundTrip(flat, 13, 5, 3, 10).every((v) => v === 128));
  const g = Uint8Array.from({ length: 3 * 2 }, (_, i) => i * 40);
  assert.equal(jpegRoundTrip(g, 3, 2, 1, 50).length, 6);
  assert.equal(jpegRoundTrip(new Uint8Array(3).fill(200), 1, 1, 3, 25).length, 3);
});
