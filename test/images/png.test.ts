/**
 * png.ts: the JS PNG decoder gives exactly the pixels of napood's sharp path (libspng,
 * removeAlpha, toColourspace) and Pillow's convert('RGB' | 'L'), and leaves to sharp what it does
 * not handle; the loader skips damaged PNGs as before. Fixtures: tools/make_png_fixtures.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodePng, readPngHeader, type PngHeader } from '../../src/images/png.js';
import { decodeImage, ImageSkip, loadImages, prepareImage } from '../../src/node/images/loader.js';
import { parsePreprocess } from '../../src/images/preprocess.js';
import { img, tempDir } from './helpers.js';
import { readNpy } from '../../src/node/io/npy.js';
import { nodeZlib } from '../../src/node/images/zlib.js';

const DIR = img('png');

interface Entry {
  readonly path: 'fast' | 'sharp';
  readonly sharp: 'ok' | 'skip';
  readonly note: string;
  readonly offset?: number;
  readonly shape?: [number, number, number];
}

const manifest: Record<string, Entry> = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8'));
const refs = readNpy(path.join(DIR, 'refs.npy'));
const names = Object.keys(manifest);

/** napood's sharp decode as it was before png.ts (loader.ts `open` + `toRaw`). */
async function viaSharp(buf: Buffer, grey: boolean, failOn: 'warning' | 'error' = 'warning'): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(buf, { failOn, ignoreIcc: true, autoOrient: false })
    .removeAlpha().toColourspace(grey ? 'b-w' : 'srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

function refPixels(e: Entry): Uint8Array {
  const [h, w, c] = e.shape!;
  return Uint8Array.from(refs.data.subarray(e.offset!, e.offset! + h * w * c));
}

test('fixtures: every kind of PNG is covered', () => {
  assert.ok(names.length >= 80);
  const fast = names.filter((n) => manifest[n]!.path === 'fast');
  // Every colour type × bit depth that png.ts decodes, and all five filters.
  const kinds = new Set<string>();
  for (const n of fast) {
    const h = readPngHeader(fs.readFileSync(path.join(DIR, n)))!;
    kinds.add(`${h.colorType}/${h.bitDepth}`);
  }
  assert.deepEqual([...kinds].sort(), ['0/1', '0/2', '0/4', '0/8', '2/16', '2/8', '3/1', '3/2', '3/4', '3/8', '4/8', '6/16', '6/8']);
});

for (const name of names) {
  const e = manifest[name]!;
  test(`${name}: ${e.note}`, async () => {
    const buf = fs.readFileSync(path.join(DIR, name));
    const h = readPngHeader(buf);
    const fast = h ? decodePng(buf, h, nodeZlib) : { fallback: 'no header' };
    if (e.path === 'fast') {
      assert.ok(!('fallback' in fast), `png.ts left it to sharp: ${'fallback' in fast ? fast.fallback : ''}`);
    } else {
      assert.ok('fallback' in fast, 'png.ts decoded a file it should leave to sharp');
    }
    let sharpPx: Awaited<ReturnType<typeof viaSharp>> | undefined;
    let sharpError: unknown;
    try {
      // The grey/colour decision of the old path came from libvips' metadata.
      const meta = await sharp(buf, { limitInputPixels: false }).metadata();
      const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
      sharpPx = await viaSharp(buf, grey);
    } catch (err) {
      sharpError = err;
    }
    assert.equal(sharpPx ? 'ok' : 'skip', e.sharp, `sharp: ${String(sharpError)}`);
    if (!('fallback' in fast)) {
      assert.ok(sharpPx);
      assert.deepEqual([fast.height, fast.width, fast.channels], [sharpPx.height, sharpPx.width, sharpPx.channels]);
      assert.ok(Buffer.from(fast.data).equals(Buffer.from(sharpPx.data)), 'png.ts and sharp differ');
      assert.equal(h!.grey, fast.channels === 1);
    }
    if (e.offset !== undefined) {
      assert.ok(sharpPx);
      assert.deepEqual([sharpPx.height, sharpPx.width, sharpPx.channels], e.shape);
      assert.ok(Buffer.from(sharpPx.data).equals(Buffer.from(refPixels(e))), 'differs from Pillow');
    }
    // The loader: the same pixels (or a skip) with both failOn settings.
    for (const failOn of ['warning', 'error'] as const) {
      try {
        const d = await decodeImage(path.join(DIR, name), { failOn });
        const want = failOn === 'warning' ? sharpPx : await viaSharp(buf, d.channels === 1, 'error');
        assert.ok(want, `decoded, but sharp skips it (failOn ${failOn})`);
        assert.deepEqual([d.height, d.width, d.channels], [want.height, want.width, want.channels]);
        assert.ok(Buffer.from(d.data).equals(Buffer.from(want.data)), `decodeImage differs from sharp (failOn ${failOn})`);
      } catch (err) {
        if (!(err instanceof ImageSkip)) throw err;
        assert.equal(e.sharp, 'skip', `skipped: ${err.message}`);
        assert.match(err.message, /^corrupt PNG \(.+\)$/);
      }
    }
  });
}

test('the other PNG fixtures (tree/, extra/rgb16.png, resample_src.png): png.ts equals sharp', async () => {
  for (const file of ['tree/cat/c1.png', 'tree/dog/d1.png', 'tree/dog/d2.png', 'tree/dog/d3.PNG', 'extra/rgb16.png', 'refs/resample_src.png']) {
    const buf = fs.readFileSync(img(file));
    const h = readPngHeader(buf)!;
    const fast = decodePng(buf, h, nodeZlib);
    assert.ok(!('fallback' in fast), file);
    const s = await viaSharp(buf, h.grey);
    assert.ok(Buffer.from(fast.data).equals(Buffer.from(s.data)), file);
  }
  // rgb16.png: the high byte, as Pillow (refs/pixels_rgb16_png.npy).
  const buf = fs.readFileSync(img('extra/rgb16.png'));
  const fast = decodePng(buf, readPngHeader(buf)!, nodeZlib) as { data: Uint8Array };
  assert.deepEqual([...fast.data], [...readNpy(img('refs/pixels_rgb16_png.npy')).data]);
});

test('fallback reasons name what png.ts leaves to sharp', () => {
  const reason = (name: string): string => {
    const buf = fs.readFileSync(path.join(DIR, name));
    const h = readPngHeader(buf);
    assert.ok(h, name);
    const r = decodePng(buf, h, nodeZlib);
    return 'fallback' in r ? r.fallback : 'decoded';
  };
  assert.equal(reason('rgb8_adam7.png'), 'interlaced');
  assert.equal(reason('g16_mixed.png'), '16-bit grey');
  assert.equal(reason('ga16_mixed.png'), '16-bit grey');
  assert.equal(reason('p8_short_plte.png'), 'palette index past the end of PLTE');
  assert.match(reason('bad_crc_idat.png'), /^CRC of chunk at byte \d+ is wrong$/);
  assert.match(reason('bad_cut_idat.png'), /runs past the end of the file/);
  assert.equal(reason('bad_no_iend.png'), 'no IEND chunk');
  assert.match(reason('bad_zlib.png'), /^zlib: /);
  assert.match(reason('bad_short_data.png'), /^image data ends early \(\d+ of 248 bytes\)$/);
  assert.match(reason('extra_data.png'), /^zlib: Cannot create a Buffer larger than 248 bytes/);
  assert.equal(reason('idat_trailing.png'), 'bytes after the end of the zlib stream');
  assert.equal(reason('bad_filter.png'), 'unknown filter type');
  assert.equal(reason('bad_critical.png'), 'unknown critical chunk');
  assert.equal(readPngHeader(fs.readFileSync(path.join(DIR, 'bad_cut_header.png'))), undefined);
  assert.equal(readPngHeader(fs.readFileSync(path.join(DIR, 'bad_no_plte.png'))), undefined);
});

test('readPngHeader: IHDR fields, grey, alpha from the colour type or tRNS', () => {
  const h = (name: string): PngHeader => readPngHeader(fs.readFileSync(path.join(DIR, name)))!;
  assert.deepEqual(h('rgb8_mixed.png'), { width: 17, height: 11, bitDepth: 8, colorType: 2, interlaced: false, grey: false, alpha: false });
  assert.deepEqual(h('ga8_f0.png'), { width: 13, height: 7, bitDepth: 8, colorType: 4, interlaced: false, grey: true, alpha: true });
  assert.equal(h('g8_trns.png').alpha, true);
  assert.equal(h('p4_trns.png').alpha, true);
  assert.equal(h('p4_greypal.png').grey, false);
  assert.equal(h('rgb8_adam7.png').interlaced, true);
  assert.equal(readPngHeader(Buffer.from('not a png at all, not at all')), undefined);
});

test('the loader on the fixtures: skips are reported as corrupt PNG, in order, the rest decode', async () => {
  const items = names.map((n, i) => ({ path: path.join(DIR, n), label: i }));
  const skipped: [string, string][] = [];
  const pp = parsePreprocess({ size: 4, resize: 5, channels: 'rgb' });
  const r = await loadImages(items, pp, { onSkip: (p, why) => skipped.push([p, why]), batchSize: 7, concurrency: 3 });
  const expectSkip = names.filter((n) => manifest[n]!.sharp === 'skip').map((n) => path.join(DIR, n));
  assert.deepEqual(skipped.map((s) => s[0]), expectSkip);
  for (const [, why] of skipped) assert.match(why, /^corrupt PNG \(/);
  assert.equal(r.n, names.length - expectSkip.length);
});

test('prepareImage (pil) on a fast-path PNG equals the same pixels through a raw sharp input', async () => {
  for (const name of ['rgba8_mixed.png', 'p4_mixed.png', 'ga8_mixed.png', 'rgb16_mixed.png']) {
    const file = path.join(DIR, name);
    const buf = fs.readFileSync(file);
    const grey = readPngHeader(buf)!.grey;
    const s = await viaSharp(buf, grey);
    const t = tempDir();
    try {
      // The same pixels as an 8-bit PNG without alpha, decoded by the (unchanged) sharp path.
      const plain = path.join(t.dir, 'plain.png');
      fs.writeFileSync(plain, await sharp(Buffer.from(s.data), { raw: { width: s.width, height: s.height, channels: s.channels as 1 | 3 } }).png({ progressive: true }).toBuffer());
      assert.equal(readPngHeader(fs.readFileSync(plain))!.interlaced, true);
      for (const channels of ['rgb', 'gray']) {
        const pp = parsePreprocess({ size: 5, resize: 6, channels, interpolation: 'bicubic' });
        const a = await prepareImage(file, pp);
        const b = await prepareImage(plain, pp);
        assert.deepEqual(a.pixels, b.pixels, `${name} ${channels}`);
        assert.equal(a.sourceChannels, grey ? 1 : 3);
      }
    } finally {
      t.cleanup();
    }
  }
});
