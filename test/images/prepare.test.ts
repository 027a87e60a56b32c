/**
 * The runtime-neutral per-image pipeline (prepare.ts, decoder.ts, batches.ts): one image from
 * file bytes (through an ImageDecoder) or from decoded pixels (as a browser's ImageData) gives
 * torchvision's tensor exactly; decoders compose (png.ts with any inflate, a fallback); decoder
 * faults are skips, usage errors NapoodErrors; the loader takes a decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { NapoodError } from '../../src/errors.js';
import { imageSourceBatches, loadImageSources, type ImageBatch, type ImageSource } from '../../src/images/batches.js';
import { ImageSkip, withPngFastPath, type DecodedImage, type ImageDecoder } from '../../src/images/decoder.js';
import { crc32, readPngHeader } from '../../src/images/png.js';
import { decodeImageBytes, prepareDecodedImage, preprocessImage, type DecodedPixels } from '../../src/images/prepare.js';
import { parsePreprocess, type Preprocess } from '../../src/images/preprocess.js';
import { decodeImage, loadImages, nodeImageDecoder, sharpDecoder } from '../../src/node/images/loader.js';
import { img, manifest, ref } from './helpers.js';

const node = nodeImageDecoder();
const good = manifest.images.map((p) => img(p));

async function rejectsWith(p: Promise<unknown>, type: typeof ImageSkip | typeof NapoodError, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

/** The reference tensor of image k of a config. */
function refImage(file: string, k: number): Float32Array {
  const r = ref(file);
  const per = r.shape.slice(1).reduce((a, b) => a * b, 1);
  return r.data.subarray(k * per, (k + 1) * per);
}

for (const [name, c] of Object.entries(manifest.configs)) {
  test(`preprocessImage equals torchvision exactly from bytes, decoded pixels and RGBA ImageData: config ${name}`, async () => {
    const pp = parsePreprocess(c.settings, name);
    for (let k = 0; k < good.length; k++) {
      const file = good[k]!;
      const want = refImage(c.file, k);
      const fromBytes = await preprocessImage(fs.readFileSync(file), pp, { decoder: node, name: file });
      assert.deepEqual([...fromBytes.shape], [1, ...c.shape.slice(1)]);
      assert.deepEqual(fromBytes.data, want, `bytes: ${file}`);
      // An ArrayBuffer (as fetch().arrayBuffer() gives) is the same input.
      const buf = fs.readFileSync(file);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      assert.deepEqual((await preprocessImage(ab, pp, { decoder: node })).data, want, `ArrayBuffer: ${file}`);
      const d = await decodeImage(file);
      const fromPixels = await preprocessImage(d, pp);
      assert.deepEqual(fromPixels.data, want, `pixels: ${file}`);
      assert.equal(fromPixels.sourceChannels, d.channels);
      // What a canvas gives: RGBA (grey replicated), any alpha, Uint8ClampedArray, no channels.
      const n = d.width * d.height;
      const rgba = new Uint8ClampedArray(n * 4);
      for (let i = 0; i < n; i++) {
        for (let ch = 0; ch < 3; ch++) rgba[4 * i + ch] = d.data[d.channels === 1 ? i : 3 * i + ch]!;
        rgba[4 * i + 3] = (i * 37) & 255;
      }
      const imageData = { width: d.width, height: d.height, data: rgba };
      assert.deepEqual((await preprocessImage(imageData, pp)).data, want, `ImageData: ${file}`);
    }
  });
}

test('decodeImageBytes: 1 channel for grey files, 3 for the others, the format; RGBA decoders lose alpha', async () => {
  const d1 = await decodeImageBytes(fs.readFileSync(img('tree/dog/d1.png')), node);
  assert.deepEqual([d1.width, d1.height, d1.channels, d1.format, d1.data.length], [20, 16, 1, 'png', 320]);
  const c1 = await decodeImageBytes(fs.readFileSync(img('tree/cat/c1.png')), node);
  // A decoder that gives RGBA (as a canvas does).
  const rgbaDecoder: ImageDecoder = {
    async decode(bytes, request) {
      const d = await node.decode(bytes, { ...request, channels: 3 });
      const out = new Uint8Array(d.width * d.height * 4);
      for (let i = 0; i < d.width * d.height; i++) out.set([...d.data.subarray(3 * i, 3 * i + 3), 255], 4 * i);
      return { width: d.width, height: d.height, channels: 4, data: out };
    },
  };
  const c1a = await decodeImageBytes(fs.readFileSync(img('tree/cat/c1.png')), rgbaDecoder);
  assert.equal(c1a.channels, 3);
  assert.deepEqual(c1a.data, c1.data);
  assert.equal(c1a.format, 'png');
});

test('withPngFastPath without a fallback: a PNG-only decoder on any inflate, Pillow-exact; the rest are skips', async () => {
  // A plain inflate (no size cap, no consumed count) and png.ts's own CRC-32, as in a browser.
  const pngOnly = withPngFastPath(undefined, { inflate: (stream) => new Uint8Array(zlib.inflateSync(stream)) });
  const dir = img('png');
  const entries: Record<string, { path: string; sharp: string }> = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  let decoded = 0;
  for (const [name, e] of Object.entries(entries)) {
    if (e.path !== 'fast' || name === 'idat_trailing.png' || name === 'extra_data.png') continue;
    const bytes = fs.readFileSync(path.join(dir, name));
    const mine = await decodeImageBytes(bytes, pngOnly, { name });
    const theirs = await decodeImageBytes(bytes, node, { name });
    assert.deepEqual([mine.width, mine.height, mine.channels], [theirs.width, theirs.height, theirs.channels], name);
    assert.ok(Buffer.from(mine.data).equals(Buffer.from(theirs.data)), name);
    decoded++;
  }
  assert.ok(decoded > 40, `${decoded} fast-path fixtures`);
  await rejectsWith(decodeImageBytes(fs.readFileSync(path.join(dir, 'rgb8_adam7.png')), pngOnly, { name: 'i.png' }), ImageSkip,
    "corrupt PNG (napood's PNG decoder leaves this file to another decoder (interlaced), and there is none)");
  await rejectsWith(decodeImageBytes(fs.readFileSync(img('tree/cat/c2.jpg')), pngOnly, { name: 'c2.jpg' }), ImageSkip,
    "corrupt JPEG (no decoder for JPEG: napood's PNG decoder only)");
  // No probe: a header header.ts cannot read is a skip, not a decode.
  const cut = fs.readFileSync(path.join(dir, 'bad_cut_header.png'));
  assert.equal(readPngHeader(cut), undefined);
  await rejectsWith(decodeImageBytes(cut, pngOnly, { name: 'cut.png' }), ImageSkip, 'corrupt PNG (a header napood does not read, and the decoder has no probe)');
});

test('png.ts CRC-32 equals zlib.crc32', () => {
  let seed = 7;
  for (const n of [0, 1, 3, 17, 1000, 65537]) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    assert.equal(crc32(b), zlib.crc32(b), `${n} bytes`);
  }
  assert.equal(crc32(new TextEncoder().encode('IEND')), 0xae426082);
});

test('decoder faults are skips of that image; usage errors are NapoodErrors', async () => {
  const pp = parsePreprocess({ size: 4, channels: 'rgb' });
  const bytes = fs.readFileSync(img('tree/cat/c1.png'));
  const giving = (d: Partial<DecodedImage>): ImageDecoder => ({ decode: async () => ({ width: 20, height: 16, channels: 3, data: new Uint8Array(960), ...d }) });
  await rejectsWith(preprocessImage(bytes, pp, { decoder: giving({ data: new Uint8Array(10) }), name: 'c1.png' }), ImageSkip, 'corrupt PNG (the decoder gave 10 bytes for 20×16×3)');
  await rejectsWith(preprocessImage(bytes, pp, { decoder: giving({ width: 19, data: new Uint8Array(19 * 16 * 3) }), name: 'c1.png' }), ImageSkip, 'decoded to 19×16, header says 20×16');
  await rejectsWith(preprocessImage(bytes, pp, { decoder: { decode: async () => { throw new Error('bad\n  huffman table'); } }, name: 'c1.png' }), ImageSkip, 'corrupt PNG (bad huffman table)');
  await rejectsWith(preprocessImage(bytes, pp, { decoder: { decode: async () => { throw new NapoodError('decoder', 'x', 'y'); } } }), NapoodError, 'decoder: expected x, found y');
  await rejectsWith(preprocessImage(bytes, parsePreprocess({ size: 4, channels: 'rgb', resampler: 'sharp' }), { decoder: giving({}) }), NapoodError, /^resampler: expected "pil" with this image decoder/);
  await rejectsWith(preprocessImage(bytes, pp), NapoodError, `image: expected decoded pixels, or an image decoder (option decoder) for the bytes of a file, found ${bytes.length} bytes and no decoder`);
  await rejectsWith(preprocessImage(new Uint8Array([1, 2, 3]), pp, { decoder: node, name: 'x.bin' }), ImageSkip, 'not a PNG, JPEG or WebP image (unknown signature, 3 bytes)');
  await rejectsWith(preprocessImage({ width: 2, height: 2, data: new Uint8Array(5) }, pp, { name: 'px' }), NapoodError, /^px: expected decoded pixels: .*, found 5 bytes for 2×2 \(not 1, 3 or 4 channels\)$/);
  await rejectsWith(preprocessImage({ width: 2, height: 2, data: new Uint8Array(12), channels: 4 }, pp), NapoodError, /found 12 bytes for 2×2×4$/);
  assert.throws(() => prepareDecodedImage({ width: 2, height: 2, data: new Uint8Array(12) }, parsePreprocess({ size: 4, channels: 'rgb', resampler: 'sharp' })),
    (e: unknown) => e instanceof NapoodError && /^resampler: expected "pil" for decoded pixels/.test(e.message));
  // The pixel limit comes from the header, before the decoder is called.
  let called = false;
  await rejectsWith(preprocessImage(bytes, pp, { decoder: { decode: async () => { called = true; throw new Error('no'); } }, maxPixels: 100, name: 'c1.png' }), ImageSkip,
    '20×16 = 320 pixels, over the limit of 100 pixels (a decompression bomb? raise the pixel limit to accept it)');
  assert.equal(called, false);
  // channelMismatch applies to decoded pixels too.
  const gray = parsePreprocess({ size: 4, channels: 'gray' });
  assert.throws(() => prepareDecodedImage({ width: 2, height: 2, data: new Uint8Array(12) }, gray, { channelMismatch: 'error', name: 'px' }),
    (e: unknown) => e instanceof NapoodError && e.message === 'px: expected an image with 1 channel (grayscale), found 3 channels (colour)');
});

test('the sharp decoder alone gives the Node decoder\'s pixels (png.ts only changes the speed)', async () => {
  const alone = sharpDecoder();
  for (const file of good) {
    const a = await decodeImageBytes(fs.readFileSync(file), alone);
    const b = await decodeImageBytes(fs.readFileSync(file), node);
    assert.deepEqual(a, b, file);
  }
});

test('imageSourceBatches: bytes, decoded pixels and fetch functions in one set, in order, skips reported', async () => {
  const pp = parsePreprocess(manifest.configs.crop!.settings, 'crop');
  const want = ref(manifest.configs.crop!.file).data;
  const per = 3 * 12 * 12;
  const sources: ImageSource[] = [];
  for (let k = 0; k < good.length; k++) {
    const file = good[k]!;
    const image = k % 3 === 0 ? fs.readFileSync(file) : k % 3 === 1 ? await decodeImage(file) : () => fs.promises.readFile(file);
    sources.push({ name: `img${k}`, label: k, image });
    if (k === 2) sources.push({ name: 'broken', label: 9, image: () => { throw new ImageSkip('ignored', 'could not fetch'); } });
  }
  const skipped: string[] = [];
  const batches: ImageBatch[] = [];
  const it = imageSourceBatches(sources, pp, { decoder: node, batchSize: 4, concurrency: 3, onSkip: (n, why) => skipped.push(`${n}: ${why}`) });
  let r = await it.next();
  while (!r.done) { batches.push(r.value); r = await it.next(); }
  assert.deepEqual(batches.map((b) => b.n), [4, 2]);
  assert.deepEqual(batches.flatMap((b) => b.paths), good.map((_, k) => `img${k}`));
  assert.deepEqual(batches.flatMap((b) => [...b.labels]), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(skipped, ['broken: could not fetch']);
  assert.deepEqual(r.value.skippedImages, [{ path: 'broken', reason: 'could not fetch' }]);
  const all = await loadImageSources(sources, pp, { decoder: node });
  assert.deepEqual(all.data, want);
  assert.equal(all.data.length, 6 * per);
});

test('loadImages takes a decoder', async () => {
  let calls = 0;
  const counting: ImageDecoder = { ...node, decode: (b, req) => { calls++; return node.decode(b, req); } };
  const pp: Preprocess = parsePreprocess(manifest.configs.identity!.settings);
  const items = good.map((p, i) => ({ path: p, label: i }));
  const a = await loadImages(items, pp, { decoder: counting });
  assert.equal(calls, good.length);
  assert.deepEqual(a.data, ref(manifest.configs.identity!.file).data);
});

test('DecodedPixels accepts what a canvas gives', () => {
  const px: DecodedPixels = { width: 1, height: 1, data: new Uint8ClampedArray([10, 20, 30, 0]) };
  const r = prepareDecodedImage(px, parsePreprocess({ size: 1, channels: 'rgb' }));
  assert.deepEqual([...r.pixels], [10, 20, 30]);
  assert.equal(r.sourceChannels, 3);
});
