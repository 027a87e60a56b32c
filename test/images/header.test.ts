/**
 * header.ts: the PNG / JPEG / WebP headers read in JS give what libvips' metadata gives (size,
 * grey, alpha, CMYK) on every fixture, and "unsure" (undefined) for damaged or unusual headers,
 * which the loader then hands to libvips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { readImageHeader, readJpegHeader, readWebpHeader, type ImageHeader } from '../../src/images/header.js';
import { loadImages } from '../../src/node/images/loader.js';
import { PRESETS } from '../../src/images/preprocess.js';
import { sniffFormat } from '../../src/node/images/sources.js';
import { IMAGES, img, tempDir } from './helpers.js';

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

/** The loader's fields from libvips' metadata (loader.ts before header.ts). */
async function fromLibvips(buf: Buffer): Promise<Omit<ImageHeader, 'png'> | undefined> {
  try {
    const meta = await sharp(buf, { limitInputPixels: false }).metadata();
    const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
    return { width: meta.width ?? 0, height: meta.height ?? 0, grey, alpha: meta.hasAlpha === true, cmyk: meta.space === 'cmyk' };
  } catch {
    return undefined;
  }
}

test('every image fixture: the JS header equals libvips metadata (or is unsure where libvips fails)', async () => {
  const files = walk(IMAGES).filter((f) => /\.(png|jpe?g|webp)$/i.test(f));
  const counts: Record<string, number> = { png: 0, jpeg: 0, webp: 0, unsure: 0 };
  for (const file of files) {
    const buf = fs.readFileSync(file);
    const format = sniffFormat(buf);
    if (!format) continue;
    const mine = readImageHeader(buf, format);
    const theirs = await fromLibvips(buf);
    const rel = path.relative(IMAGES, file);
    if (!mine) {
      counts.unsure!++;
      continue;
    }
    counts[format]!++;
    if (!theirs) {
      // Only PNGs whose damage libvips' metadata notices and the header walk does not; the
      // decode then fails or falls back to libvips (png.test.ts).
      assert.equal(format, 'png', `${rel}: libvips metadata fails, header.ts does not`);
      continue;
    }
    const { png: _png, ...fields } = mine;
    assert.deepEqual(fields, theirs, rel);
  }
  assert.ok(counts.jpeg! >= 11 && counts.webp! >= 7 && counts.png! >= 80, JSON.stringify(counts));
});

test('JPEG: segments are skipped by length (a fake SOF inside an APP segment), fill bytes, components', () => {
  const h = (f: string): ImageHeader | undefined => readJpegHeader(fs.readFileSync(img('png', 'headers', f)));
  assert.deepEqual(h('app_fake_sof.jpg'), { width: 17, height: 12, grey: false, alpha: false, cmyk: false });
  assert.deepEqual(h('fill_bytes.jpg'), { width: 17, height: 12, grey: false, alpha: false, cmyk: false });
  assert.deepEqual(h('grey.jpg'), { width: 17, height: 12, grey: true, alpha: false, cmyk: false });
  assert.deepEqual(h('cmyk.jpg'), { width: 17, height: 12, grey: false, alpha: false, cmyk: true });
  assert.equal(h('progressive.jpg')?.width, 17);
  const rgb = fs.readFileSync(img('png', 'headers', 'rgb.jpg'));
  // Unsure: cut before the SOF, a 12-bit SOF, a lossless SOF3, garbage after SOI.
  const sof = rgb.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(sof > 0);
  assert.equal(readJpegHeader(rgb.subarray(0, sof + 4)), undefined);
  const b12 = Buffer.from(rgb);
  b12[sof + 4] = 12;
  assert.equal(readJpegHeader(b12), undefined);
  const lossless = Buffer.from(rgb);
  lossless[sof + 1] = 0xc3;
  assert.equal(readJpegHeader(lossless), undefined);
  assert.equal(readJpegHeader(fs.readFileSync(img('tree/dog/x_bad.jpg'))), undefined);
  const zeroHeight = Buffer.from(rgb);
  zeroHeight[sof + 5] = 0;
  zeroHeight[sof + 6] = 0;
  assert.equal(readJpegHeader(zeroHeight), undefined);
});

test('WebP: VP8, VP8L (alpha bit), VP8X (alpha flag, animation); damaged headers are unsure', () => {
  const h = (f: string): ImageHeader | undefined => readWebpHeader(fs.readFileSync(img('png', 'headers', f)));
  const rgb = { width: 17, height: 12, grey: false, alpha: false, cmyk: false };
  assert.deepEqual(h('lossy.webp'), rgb);
  assert.deepEqual(h('lossless.webp'), rgb);
  assert.deepEqual(h('icc.webp'), rgb);
  assert.deepEqual(h('lossy_alpha.webp'), { ...rgb, alpha: true });
  assert.deepEqual(h('lossless_alpha.webp'), { ...rgb, alpha: true });
  assert.equal(h('animated.webp')?.width, 17);
  const lossy = fs.readFileSync(img('png', 'headers', 'lossy.webp'));
  assert.equal(readWebpHeader(lossy.subarray(0, 29)), undefined);
  const badStart = Buffer.from(lossy);
  badStart[23] = 0;
  assert.equal(readWebpHeader(badStart), undefined);
  const unknown = Buffer.from(lossy);
  unknown.write('VP9 ', 12, 'latin1');
  assert.equal(readWebpHeader(unknown), undefined);
});

test('the pixel limit is enforced from the JS header for JPEG and WebP too, before decoding', async () => {
  const t = tempDir();
  try {
    const jpg = Buffer.from(fs.readFileSync(img('png', 'headers', 'rgb.jpg')));
    const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
    jpg.writeUInt16BE(60000, sof + 5); // height
    jpg.writeUInt16BE(50000, sof + 7); // width
    const webp = Buffer.from(fs.readFileSync(img('png', 'headers', 'icc.webp')));
    assert.equal(webp.toString('latin1', 12, 16), 'VP8X');
    webp.writeUIntLE(9999, 24, 3); // canvas width − 1
    webp.writeUIntLE(7999, 27, 3); // canvas height − 1
    const files = [path.join(t.dir, 'bomb.jpg'), path.join(t.dir, 'bomb.webp')];
    fs.writeFileSync(files[0]!, jpg);
    fs.writeFileSync(files[1]!, webp);
    assert.deepEqual(readImageHeader(webp, 'webp'), { width: 10000, height: 8000, grey: false, alpha: false, cmyk: false });
    const skipped: string[] = [];
    const r = await loadImages([...files, img('tree/cat/c1.png')].map((p, i) => ({ path: p, label: i })), PRESETS.cifar!, { onSkip: (_p, why) => skipped.push(why) });
    assert.equal(r.n, 1);
    assert.deepEqual(skipped, [
      '50000×60000 = 3000000000 pixels, over the limit of 40000000 pixels (a decompression bomb? raise the pixel limit to accept it)',
      '10000×8000 = 80000000 pixels, over the limit of 40000000 pixels (a decompression bomb? raise the pixel limit to accept it)',
    ]);
  } finally {
    t.cleanup();
  }
});
