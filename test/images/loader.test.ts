/** loader.ts: decoding, exactness against torchvision, layouts, skips, pixel limit, batching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { NapoodError } from '../../src/errors.js';
import { DEFAULT_MAX_PIXELS, decodeImage, imageBatches, loadImages, prepareImage, type ImageBatch, type LoadOptions } from '../../src/node/images/loader.js';
import { parsePreprocess, PRESETS, type Preprocess } from '../../src/images/preprocess.js';
import { expandImageInputs, type ImageItem } from '../../src/node/images/sources.js';
import { TREE, diff, img, manifest, ref, tempDir } from './helpers.js';

const good: ImageItem[] = manifest.images.map((p, i) => ({ path: img(p), label: i }));

async function collect(items: readonly ImageItem[], pp: Preprocess, opts: LoadOptions = {}): Promise<ImageBatch[]> {
  const out: ImageBatch[] = [];
  for await (const b of imageBatches(items, pp, { onSkip: () => {}, ...opts })) out.push(b);
  return out;
}

for (const [name, c] of Object.entries(manifest.configs)) {
  test(`resampler pil equals torchvision exactly: config ${name}`, async () => {
    const pp = parsePreprocess(c.settings, name);
    const r = await loadImages(good, pp, { batchSize: 4 });
    const expected = ref(c.file);
    assert.deepEqual([...r.shape], expected.shape);
    const d = diff(r.data, expected.data);
    assert.equal(d.count, 0, `${d.count} values differ, max ${d.max}`);
    assert.deepEqual([...r.labels], [0, 1, 2, 3, 4, 5]);
  });
}

test('resampler sharp: within 3 grey levels of torchvision when reducing (bilinear, bicubic), exact for nearest', async () => {
  // Measured on these fixtures: crop (bilinear, reduce 20×16 → 17×14) ≤ 2 levels,
  // gray (bicubic 20×16 → 8×8) ≤ 3 levels, caffe (nearest) exact. Enlarging (lanczos config) is
  // not close: libvips and Pillow place and weight samples differently there.
  for (const [name, levels] of [['crop', 3], ['gray', 3], ['caffe', 0]] as const) {
    const c = manifest.configs[name]!;
    const pp = parsePreprocess({ ...c.settings, resampler: 'sharp' }, name);
    const r = await loadImages(good, pp);
    const expected = ref(c.file).data;
    const scale = pp.maxValue === 1 ? 1 / 255 : 1;
    const minStd = Math.min(...pp.std);
    const d = diff(r.data, expected);
    assert.ok(d.max <= (levels * scale) / minStd + 1e-6, `${name}: max difference ${(d.max * minStd) / scale} levels`);
  }
});

test('resampler sharp: gray + alpha and RGBA files resize as the same files without alpha', async () => {
  const t = tempDir();
  try {
    const la = path.join(t.dir, 'la.png');
    fs.writeFileSync(la, await sharp(img('tree/dog/d1.png')).toColourspace('b-w').ensureAlpha(0.3).png().toBuffer());
    assert.equal((await sharp(la).metadata()).channels, 2);
    for (const channels of ['gray', 'rgb']) {
      for (const resampler of ['sharp', 'pil']) {
        const pp = parsePreprocess({ size: 12, resize: 14, channels, resampler, interpolation: 'bicubic' });
        const withAlpha = await prepareImage(la, pp);
        const without = await prepareImage(img('tree/dog/d1.png'), pp);
        assert.deepEqual(withAlpha.pixels, without.pixels, `${channels} ${resampler}`);
        assert.equal(withAlpha.sourceChannels, 1);
      }
    }
  } finally {
    t.cleanup();
  }
});

test('JPEG, WebP, CMYK JPEG and 16-bit PNG decode to the same RGB pixels as Pillow', async () => {
  // Same libjpeg-turbo / libwebp output here; CMYK uses Pillow's naive conversion (no ICC), 16-bit
  // keeps the high byte as Pillow does for RGB.
  for (const [file, refFile] of [
    ['tree/cat/c2.jpg', 'refs/pixels_c2_jpg.npy'],
    ['tree/cat/more/c3.webp', 'refs/pixels_c3_webp.npy'],
    ['extra/cmyk.jpg', 'refs/pixels_cmyk_jpg.npy'],
    ['extra/rgb16.png', 'refs/pixels_rgb16_png.npy'],
  ] as const) {
    const d = await decodeImage(img(file));
    const expected = ref(refFile);
    assert.deepEqual([d.height, d.width, d.channels], expected.shape, file);
    assert.equal(diff(d.data, expected.data).count, 0, file);
  }
  // The sharp resampler goes through the same CMYK conversion.
  const pp = parsePreprocess({ size: [16, 20], channels: 'rgb', resampler: 'sharp' });
  const viaSharp = await prepareImage(img('extra/cmyk.jpg'), pp);
  assert.equal(diff(viaSharp.pixels, ref('refs/pixels_cmyk_jpg.npy').data).count, 0);
});

test('decodeImage: grayscale stays 1 channel, RGBA and palette become 3 (alpha dropped)', async () => {
  const gray = await decodeImage(img('tree/dog/d1.png'));
  assert.deepEqual([gray.width, gray.height, gray.channels, gray.format, gray.data.length], [20, 16, 1, 'png', 320]);
  const rgba = await decodeImage(img('tree/dog/d2.png'));
  assert.deepEqual([rgba.channels, rgba.data.length], [3, 960]);
  const pal = await decodeImage(img('tree/dog/d3.PNG'));
  assert.equal(pal.channels, 3);
  const webp = await decodeImage(img('tree/cat/more/c3.webp'));
  assert.deepEqual([webp.width, webp.height, webp.format], [16, 20, 'webp']);
});

test('layouts: NHWC holds the NCHW values transposed', async () => {
  const base = parsePreprocess({ preset: 'imagenet', size: 12, resize: 14 });
  const a = await loadImages(good, base);
  const b = await loadImages(good, { ...base, layout: 'nhwc' });
  assert.deepEqual([...a.shape], [6, 3, 12, 12]);
  assert.deepEqual([...b.shape], [6, 12, 12, 3]);
  for (let n = 0; n < 6; n++) {
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 144; i++) assert.equal(b.data[n * 432 + i * 3 + c], a.data[n * 432 + c * 144 + i]);
    }
  }
});

test('channels: a grayscale file in an RGB model has three equal channels; an RGB file in a gray model is its luma', async () => {
  const rgb = parsePreprocess({ size: [16, 20], channels: 'rgb' });
  const g = await loadImages([{ path: img('tree/dog/d1.png'), label: -1 }], rgb);
  const hw = 320;
  for (let i = 0; i < hw; i++) {
    assert.equal(g.data[i], g.data[hw + i]);
    assert.equal(g.data[i], g.data[2 * hw + i]);
  }
  assert.equal(g.summary.converted, 1);
  const gray = parsePreprocess({ size: [16, 20], channels: 'gray' });
  const c = await loadImages([{ path: img('tree/cat/c1.png'), label: -1 }], gray);
  const px = (await decodeImage(img('tree/cat/c1.png'))).data;
  for (let i = 0; i < hw; i++) {
    const l = (px[3 * i]! * 19595 + px[3 * i + 1]! * 38470 + px[3 * i + 2]! * 7471 + 0x8000) >>> 16;
    assert.equal(c.data[i], Math.fround(l / 255));
  }
});

test("channelMismatch 'skip' and 'error' name the file and the expectation", async () => {
  const gray = PRESETS.mnist!;
  const skipped: [string, string][] = [];
  const r = await loadImages([{ path: img('tree/cat/c1.png'), label: 0 }, { path: img('tree/dog/d1.png'), label: 1 }], gray, {
    channelMismatch: 'skip', onSkip: (p, why) => skipped.push([p, why]),
  });
  assert.equal(r.n, 1);
  assert.deepEqual(r.paths, [img('tree/dog/d1.png')]);
  assert.deepEqual(skipped, [[img('tree/cat/c1.png'), 'has 3 channels (colour), expected 1 channel (grayscale) (the model input)']]);
  await assert.rejects(prepareImage(img('tree/cat/c1.png'), gray, { channelMismatch: 'error' }),
    (e: unknown) => e instanceof NapoodError && e.message === `${img('tree/cat/c1.png')}: expected an image with 1 channel (grayscale), found 3 channels (colour)`);
});

test('corrupt, truncated and fake images are skipped, reported with their paths in order, and counted', async () => {
  const list = await expandImageInputs([TREE]);
  const skipped: [string, string][] = [];
  const stats = { loaded: 0, skipped: 0, converted: 0 };
  const batches = await collect(list.items, PRESETS.mnist!, { batchSize: 4, onSkip: (p, why) => skipped.push([p, why]), stats });
  assert.deepEqual(batches.map((b) => b.n), [4, 2]);
  assert.deepEqual(batches.flatMap((b) => [...b.labels]), [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(batches.flatMap((b) => b.paths), good.map((g) => g.path));
  assert.deepEqual(skipped.map((s) => s[0]), ['x_bad.jpg', 'x_cut.png', 'x_text.png'].map((f) => path.join(TREE, 'dog', f)));
  assert.match(skipped[0]![1], /^corrupt JPEG \(/);
  // libvips gives either message for the same file (timing-dependent).
  assert.match(skipped[1]![1], /^corrupt PNG \((.*end of stream|damaged or truncated data: a decoder warning, treated as an error)\)$/);
  assert.equal(skipped[2]![1], 'not a PNG, JPEG or WebP image (text, 31 bytes)');
  assert.deepEqual(stats, { loaded: 6, skipped: 3, converted: 5 });
});

test('the summary (generator return value) lists the skipped files; default onSkip writes to stderr', async () => {
  const items = [{ path: img('tree/cat/c1.png'), label: 0 }, { path: img('tree/dog/x_text.png'), label: 1 }];
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
  let summary;
  try {
    const it = imageBatches(items, PRESETS.mnist!);
    let r = await it.next();
    while (!r.done) r = await it.next();
    summary = r.value;
  } finally {
    process.stderr.write = original;
  }
  assert.deepEqual(written, [`napood: skipped ${img('tree/dog/x_text.png')}: not a PNG, JPEG or WebP image (text, 31 bytes)\n`]);
  assert.equal(summary.loaded, 1);
  assert.equal(summary.skipped, 1);
  assert.deepEqual(summary.skippedImages, [{ path: img('tree/dog/x_text.png'), reason: 'not a PNG, JPEG or WebP image (text, 31 bytes)' }]);
});

/** CRC-32 (PNG chunks). */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG whose header claims w × h RGB pixels, with (far too little) pixel data. */
function bombHeader(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))), chunk('IEND', new Uint8Array(0))]);
}

test('images over the pixel limit are refused before decoding, with their size and the limit', async () => {
  const t = tempDir();
  try {
    const bomb = path.join(t.dir, 'bomb.png');
    fs.writeFileSync(bomb, bombHeader(50000, 50000));
    const big = path.join(t.dir, 'big.png');
    // A real 2000×2000 single-colour PNG (a few kB): over a 1-megapixel limit.
    fs.writeFileSync(big, await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#336699' } }).png().toBuffer());
    const skipped: [string, string][] = [];
    const pp = PRESETS.mnist!;
    const items = [{ path: bomb, label: 0 }, { path: big, label: 1 }, { path: img('tree/dog/d1.png'), label: 2 }];
    const r = await loadImages(items, pp, { onSkip: (p, why) => skipped.push([p, why]) });
    assert.deepEqual(r.paths, [big, img('tree/dog/d1.png')], 'the 4-megapixel image is under the default limit');
    assert.equal(DEFAULT_MAX_PIXELS, 40_000_000);
    assert.deepEqual(skipped, [[bomb, '50000×50000 = 2500000000 pixels, over the limit of 40000000 pixels (a decompression bomb? raise the pixel limit to accept it)']]);
    const skipped2: [string, string][] = [];
    const r2 = await loadImages(items, pp, { maxPixels: 1_000_000, onSkip: (p, why) => skipped2.push([p, why]) });
    assert.deepEqual(r2.paths, [img('tree/dog/d1.png')]);
    assert.deepEqual(skipped2.map((s) => s[0]), [bomb, big]);
    assert.match(skipped2[1]![1], /^2000×2000 = 4000000 pixels, over the limit of 1000000 pixels/);
    // The big image, allowed, decodes to its single colour.
    const one = await loadImages([{ path: big, label: 0 }], parsePreprocess({ size: 4, channels: 'rgb' }), { maxPixels: 4_000_000 });
    assert.deepEqual([one.data[0], one.data[16], one.data[32]], [0x33, 0x66, 0x99].map((u) => Math.fround(u / 255)));
  } finally {
    t.cleanup();
  }
});

test('zero images after skipping, or none given, is a NapoodError', async () => {
  const bad = ['x_bad.jpg', 'x_cut.png', 'x_text.png'].map((f, i) => ({ path: path.join(TREE, 'dog', f), label: i }));
  await assert.rejects(collect(bad, PRESETS.mnist!, { argument: '--images' }), (e: unknown) => {
    assert.ok(e instanceof NapoodError);
    assert.match(e.message, new RegExp(`^--images: expected at least one image that can be decoded, found none: all 3 skipped \\(first: ${bad[0]!.path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: corrupt JPEG`));
    return true;
  });
  await assert.rejects(collect([], PRESETS.mnist!), (e: unknown) => e instanceof NapoodError && e.message === 'images: expected at least one image, found none');
  await assert.rejects(collect(good, PRESETS.mnist!, { batchSize: 0 }), (e: unknown) => e instanceof NapoodError && e.message === 'batchSize: expected a positive integer, found 0');
});

test('batch size and concurrency change neither the data nor the order', async () => {
  const list = await expandImageInputs([TREE]);
  const pp = parsePreprocess({ preset: 'imagenet', size: 12, resize: 14 });
  const ref1 = await loadImages(list.items, pp, { batchSize: 64, concurrency: 1, onSkip: () => {} });
  assert.equal(ref1.n, 6);
  for (const [batchSize, concurrency] of [[1, 1], [2, 8], [3, 2], [4, 3], [5, 16], [6, 4], [7, 1]] as const) {
    const progress: number[] = [];
    const batches = await collect(list.items, pp, { batchSize, concurrency, onProgress: (done, total, what) => { assert.equal(total, 9); assert.equal(what, 'images'); progress.push(done); } });
    assert.deepEqual(batches.map((b) => b.n), Array.from({ length: Math.ceil(6 / batchSize) }, (_, i) => Math.min(batchSize, 6 - i * batchSize)));
    for (const b of batches) {
      assert.equal(b.data.length, b.n * 432);
      assert.deepEqual([...b.shape], [b.n, 3, 12, 12]);
      assert.equal(b.labels.length, b.n);
    }
    const data = new Float32Array(6 * 432);
    let k = 0;
    for (const b of batches) { data.set(b.data, k * 432); k += b.n; }
    assert.deepEqual(data, ref1.data, `batchSize ${batchSize}, concurrency ${concurrency}`);
    assert.deepEqual(batches.flatMap((b) => b.paths), ref1.paths);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }
});
