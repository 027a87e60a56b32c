/**
 * Issue #10, class 3: hostile .npy headers (src/node/io/npy.ts parseNpyHeader / readNpyHeader).
 * Every case is a NapoodError naming the file: absurd, negative, huge and overflowing shapes,
 * too many dimensions, a header too long, wrong magic or version, Fortran order, object dtypes,
 * nesting deep enough to overflow a recursive parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NPY_MAX_DIMS, NPY_MAX_HEADER_BYTES, parseNpyHeader, readNpyHeader } from '../../src/node/io/npy.js';
import { fixture, tempDir, throwsNapood } from '../io/helpers.js';

/** .npy bytes with this header dict (version 1 while the length fits 16 bits, else 2) and data. */
function npy(dict: string, data: Uint8Array = new Uint8Array(0), version?: number): Uint8Array {
  const header = Buffer.from(dict + '\n', 'latin1');
  const v = version ?? (header.length <= 0xffff ? 1 : 2);
  const pre = Buffer.alloc(v === 1 ? 10 : 12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v, 0]).copy(pre);
  if (v === 1) pre.writeUInt16LE(header.length, 8);
  else pre.writeUInt32LE(header.length, 8);
  return Buffer.concat([pre, header, data]);
}

const d = (shape: string, descr = '<f4', fortran = 'False'): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

test('shapes: negative, non-integer, above 2^53, overflowing products, too many dimensions', () => {
  const cases: [string, string][] = [
    ['(-1, 4)', 'a shape tuple of non-negative integers'],
    ['(3.5,)', 'at character'],
    ['(9007199254740993,)', 'an integer below 2^53'],
    ['(99999999999999999999999999999999999999999999999999,)', 'at character'],
    ['(1073741824, 1073741824, 1073741824)', 'a shape whose size fits in 2^53 bytes'],
    ['(0, 4503599627370496, 4503599627370496)', 'fits in 2^53 bytes'],
    ['(1000000, 1000000, 10000)', 'fits in 2^53'],
    ['(100000, 100000)', 'truncated file'],
    [`(${Array(NPY_MAX_DIMS + 1).fill('1').join(', ')})`, `at most ${NPY_MAX_DIMS} dimensions`],
    ["('3', 4)", 'non-negative integers'],
    ['(True, 4)', 'non-negative integers'],
    ['None', 'a shape tuple'],
  ];
  for (const [shape, want] of cases) throwsNapood(() => parseNpyHeader(npy(d(shape), new Uint8Array(64)), 's.npy'), 's.npy: ', want);
  // Zero-size arrays with big dimensions stay fine when exact.
  assert.deepEqual(parseNpyHeader(npy(d('(0, 1000000)')), 'z.npy').shape, [0, 1000000]);
});

test('magic, version, header length, Fortran order, object and other dtypes, keys, nesting', () => {
  const good = npy(d('(2,)'), new Uint8Array(8));
  assert.deepEqual(parseNpyHeader(good, 'g').shape, [2]);
  const mut = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = new Uint8Array(good);
    f(b);
    return b;
  };
  throwsNapood(() => parseNpyHeader(mut((b) => { b[1] = 0x4f; }), 'm.npy'), 'm.npy: ', 'the magic');
  throwsNapood(() => parseNpyHeader(good.subarray(0, 5), 'm.npy'), 'a file of 5 bytes');
  throwsNapood(() => parseNpyHeader(mut((b) => { b[6] = 4; }), 'v'), 'version 1.0, 2.0 or 3.0', 'version 4.0');
  throwsNapood(() => parseNpyHeader(mut((b) => { b[7] = 1; }), 'v'), 'version 1.1');
  throwsNapood(() => parseNpyHeader(mut((b) => { b[8] = 0xff; b[9] = 0xff; }), 'l'), 'truncated');
  // A v2 header length over the 1 MiB limit, and one past the end of the file.
  const big = new Uint8Array(npy(d('(2,)'), new Uint8Array(8), 2));
  new DataView(big.buffer, big.byteOffset).setUint32(8, NPY_MAX_HEADER_BYTES + 1, true);
  throwsNapood(() => parseNpyHeader(big, 'l'), `at most ${NPY_MAX_HEADER_BYTES} bytes`);
  new DataView(big.buffer, big.byteOffset).setUint32(8, 0xffffffff, true);
  throwsNapood(() => parseNpyHeader(big, 'l'), 'at most');
  throwsNapood(() => parseNpyHeader(npy(d('(2, 3)', '<f4', 'True'), new Uint8Array(24)), 'f.npy'), 'f.npy: expected a C-order (row-major) array');
  for (const descr of ['|O', '<O8', 'O']) throwsNapood(() => parseNpyHeader(npy(d('(2,)', descr), new Uint8Array(16)), 'o.npy'), 'o.npy: ', 'an object array');
  for (const descr of ['<c8', '|b1', '<U3', '<M8[s]', '|V4', '<f4 ', '']) throwsNapood(() => parseNpyHeader(npy(d('(2,)', descr), new Uint8Array(64)), 'x.npy'), 'a dtype of float32');
  throwsNapood(() => parseNpyHeader(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), 's'), 'structured arrays are not supported');
  throwsNapood(() => parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", new Uint8Array(8)), 'fo'), 'fortran_order True or False');
  // Keys are own keys: '__proto__' or 'constructor' do not stand in for a missing key.
  throwsNapood(() => parseNpyHeader(npy("{'__proto__': {'descr': '<f4'}, 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), 'p'), "the key 'descr'");
  throwsNapood(() => parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'constructor': 1, }", new Uint8Array(8)), 'p'), "the key 'shape'");
  // Nesting deep enough to overflow a recursive parser, in a v2 header.
  for (const depth of [33, 100_000, 500_000]) {
    throwsNapood(() => parseNpyHeader(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(depth)}${')'.repeat(depth)}, }`), 'n.npy'), 'n.npy: ', 'nested brackets');
  }
});

test('the file reader gives the same answers as the bytes parser, reading only the header', () => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    const cases = [npy(d('(-1,)')), npy(d('(2, 3)', '|O')), npy(d('(1073741824, 1073741824, 1073741824)')), npy(`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(100_000)}, }`)];
    for (const [i, b] of cases.entries()) {
      const f = path.join(dir, `${i}.npy`);
      fs.writeFileSync(f, b);
      let a = '', c = '';
      try { parseNpyHeader(b, 'x.npy'); } catch (e) { a = (e as Error).message; }
      try { readNpyHeader(f, 'x.npy'); } catch (e) { c = (e as Error).message; }
      assert.ok(a.length > 0);
      assert.equal(c, a);
    }
    const real = fs.readFileSync(fixture('npy', 'f4_v1.npy'));
    assert.deepEqual({ ...parseNpyHeader(real, fixture('npy', 'f4_v1.npy')) }, { ...readNpyHeader(fixture('npy', 'f4_v1.npy')) });
    // Bytes holding only the prefix and the header, the size of the whole file given.
    assert.deepEqual(parseNpyHeader(real.subarray(0, 128), 'h', real.length).shape, [3, 4]);
  } finally {
    cleanup();
  }
});
