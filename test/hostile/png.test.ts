/**
 * Issue #10, class 7: the PNG decoder (src/images/png.ts, header.ts). Truncated or mutated
 * chunks, huge declared dimensions and bad zlib give the documented answers (`undefined` from
 * the header reader, `{ fallback }` from the decoder), never an exception; dimensions over the
 * pixel limit (40 Mpx) are refused before anything is allocated or inflated.
 */
import { test } from 'node:test';
import { nodeZlib } from '../../src/node/images/zlib.js';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { PNG_MAX_PIXELS, decodePng, readPngHeader } from '../../src/images/png.js';
import { readImageHeader } from '../../src/images/header.js';
import { img } from '../images/helpers.js';

/** A PNG from IHDR fields and raw (filtered) scanlines, CRCs right. */
function png(width: number, height: number, depth: number, colorType: number, idat: Uint8Array, interlace = 0): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    Buffer.from(data).copy(out, 8);
    out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  ihdr[12] = interlace;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

test('declared dimensions over the pixel limit are a fallback before any allocation, whatever the IDAT holds', () => {
  // 100000 × 100000 RGBA: 40 GB of pixels declared over a 20-byte zlib stream.
  const huge = png(100_000, 100_000, 8, 6, zlib.deflateSync(Buffer.alloc(1000)));
  const h = readPngHeader(huge)!;
  assert.equal(h.width, 100_000);
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  const r = decodePng(huge, h, nodeZlib);
  assert.ok('fallback' in r && /over the limit of 40000000/.test(r.fallback), JSON.stringify(r));
  assert.ok(performance.now() - t0 < 100);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  // Just over the limit, and a lower limit given by the caller.
  const over = png(PNG_MAX_PIXELS / 1000 + 1, 1000, 8, 0, zlib.deflateSync(Buffer.alloc(10)));
  assert.match((decodePng(over, readPngHeader(over)!, nodeZlib) as { fallback: string }).fallback, /over the limit/);
  const small = png(4, 4, 8, 0, zlib.deflateSync(Buffer.alloc(4 * 5)));
  assert.ok('data' in decodePng(small, readPngHeader(small)!, nodeZlib));
  assert.match((decodePng(small, readPngHeader(small)!, nodeZlib, 15) as { fallback: string }).fallback, /4×4 pixels, over the limit of 15/);
  // A zlib bomb within the limit inflates only up to the image size.
  const bomb = png(64, 64, 8, 0, zlib.deflateSync(Buffer.alloc(50 << 20)));
  assert.match((decodePng(bomb, readPngHeader(bomb)!, nodeZlib) as { fallback: string }).fallback, /zlib|bytes after/);
});

test('bad zlib, truncation at every byte and every single-byte change of a fixture: undefined or a fallback, never an exception', () => {
  const badZlib = png(4, 4, 8, 0, new Uint8Array([0x78, 0x9c, 0xff, 0xff, 0x00, 0x01]));
  assert.match((decodePng(badZlib, readPngHeader(badZlib)!, nodeZlib) as { fallback: string }).fallback, /^zlib: /);
  const src = new Uint8Array(fs.readFileSync(img('png', 'rgb8_mixed.png')));
  const good = decodePng(src, readPngHeader(src)!, nodeZlib);
  assert.ok('data' in good);
  let outcomes = 0;
  const check = (b: Uint8Array): void => {
    const h = readImageHeader(b, 'png');
    if (h?.png) {
      const r = decodePng(b, h.png, nodeZlib);
      if ('data' in r) assert.equal(r.data.length, r.width * r.height * r.channels);
      else assert.equal(typeof r.fallback, 'string');
    }
    outcomes++;
  };
  for (let n = 0; n < src.length; n++) check(src.subarray(0, n));
  for (let i = 0; i < Math.min(src.length, 400); i++) {
    for (const v of [0x00, 0xff, 0x7f, 0x80]) {
      const b = src.slice();
      b[i] = v;
      check(b);
    }
  }
  assert.ok(outcomes > src.length);
});
