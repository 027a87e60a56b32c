import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { openNpyWriter, readNpy, readNpyHeader, writeNpy, npyTensor } from '../../src/node/io/npy.js';
import { TensorReader } from '../../src/node/io/tensor.js';
import { EXPECTED, bits, fixture, tempDir, throwsNapood } from './helpers.js';

test('every good .npy fixture reads as numpy astype(float32), bit for bit', () => {
  const names = Object.keys(EXPECTED.npy);
  assert.ok(names.length >= 20);
  for (const name of names) {
    const exp = EXPECTED.npy[name];
    const got = readNpy(fixture('npy', name));
    assert.deepEqual(got.shape, exp.shape, name);
    assert.deepEqual(bits(got.data), exp.f32bits, name);
  }
});

test('header descriptor: dtype, byte order, version, data offset', () => {
  const v1 = readNpyHeader(fixture('npy', 'f4_v1.npy'));
  assert.equal(v1.dtype, 'float32');
  assert.equal(v1.littleEndian, true);
  assert.deepEqual(v1.version, [1, 0]);
  assert.equal(v1.dataOffset, 128);
  assert.equal(v1.byteLength, 48);
  assert.deepEqual(v1.shape, [3, 4]);
  const be = readNpyHeader(fixture('npy', 'i8_be.npy'));
  assert.equal(be.dtype, 'int64');
  assert.equal(be.littleEndian, false);
  assert.equal(be.descr, '>i8');
  assert.deepEqual(readNpyHeader(fixture('npy', 'f4_v2.npy')).version, [2, 0]);
  assert.deepEqual(readNpyHeader(fixture('npy', 'f4_v3.npy')).version, [3, 0]);
  assert.equal(readNpyHeader(fixture('npy', 'u1_v1.npy')).dtype, 'uint8');
  assert.equal(readNpyHeader(fixture('npy', 'i1_v1.npy')).dtype, 'int8');
  assert.deepEqual(readNpyHeader(fixture('npy', 'f4_scalar.npy')).shape, []);
});

test('float16: all 65536 bit patterns convert exactly as numpy (incl. subnormals, ±Inf, NaN payloads)', () => {
  const got = readNpy(fixture('npy', 'f2_all.npy'));
  assert.equal(got.data.length, 65536);
  const sha = createHash('sha256').update(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength)).digest('hex');
  assert.equal(sha, EXPECTED.f2_all_sha256);
  let nan = 0;
  for (const v of got.data) if (Number.isNaN(v)) nan++;
  assert.equal(nan, EXPECTED.f2_all_nan_count);
  assert.equal(got.data[0x0001], 2 ** -24); // smallest subnormal
  assert.equal(got.data[0x03ff], 1023 * 2 ** -24); // largest subnormal
  assert.equal(got.data[0x7bff], 65504);
  assert.equal(got.data[0x7c00], Infinity);
  assert.equal(got.data[0xfc00], -Infinity);
  assert.ok(Object.is(got.data[0x8000], -0));
});

test('row ranges of a big-endian file equal the slices of the whole', () => {
  const d = readNpyHeader(fixture('npy', 'f8_be.npy'));
  const t = npyTensor(d);
  const r = new TensorReader();
  try {
    const all = r.readFloat32(t, 0, 3);
    assert.deepEqual(bits(r.readFloat32(t, 1, 2)), bits(all.subarray(4)));
    assert.deepEqual(bits(r.readFloat32(t, 2, 1)), bits(all.subarray(8)));
    assert.equal(r.readFloat32(t, 3, 0).length, 0);
    throwsNapood(() => r.readFloat32(t, 2, 2), 'row range within [0, 3)', 'start 2, count 2');
  } finally {
    r.close();
  }
});

test('malformed .npy files give a NapoodError naming the file and the expectation', () => {
  const f = (n: string): string => fixture('npy', n);
  throwsNapood(() => readNpyHeader(f('fortran.npy')), f('fortran.npy'), 'C-order', 'fortran_order True', '[3, 4]');
  const t = EXPECTED.truncated;
  throwsNapood(() => readNpyHeader(f('truncated.npy')), f('truncated.npy'), `expected ${t.need} bytes`, `found ${t.have} bytes`);
  throwsNapood(() => readNpyHeader(f('truncated_header.npy')), f('truncated_header.npy'), 'header of 118 bytes', 'a file of 40 bytes');
  throwsNapood(() => readNpyHeader(f('tiny.npy')), f('tiny.npy'), 'magic', 'a file of 4 bytes');
  throwsNapood(() => readNpyHeader(f('bad_magic.npy')), f('bad_magic.npy'), 'magic', 'NUMPZ');
  throwsNapood(() => readNpyHeader(f('bad_version.npy')), f('bad_version.npy'), 'version 1.0, 2.0 or 3.0', 'version 4.0');
  throwsNapood(() => readNpyHeader(f('bad_dict.npy')), f('bad_dict.npy'), 'Python dict literal');
  throwsNapood(() => readNpyHeader(f('bad_descr.npy')), f('bad_descr.npy'), 'float32', "descr \"<c8\"");
  throwsNapood(() => readNpyHeader(f('bad_descr_order.npy')), f('bad_descr_order.npy'), 'byte order', '"|f4"');
  throwsNapood(() => readNpyHeader(f('structured.npy')), f('structured.npy'), 'structured arrays are not supported');
  throwsNapood(() => readNpyHeader(f('missing_shape.npy')), f('missing_shape.npy'), "the key 'shape'");
  throwsNapood(() => readNpyHeader(f('negative_shape.npy')), f('negative_shape.npy'), 'non-negative integers', '-3');
  throwsNapood(() => readNpyHeader(f('huge_header.npy')), f('huge_header.npy'), 'header of at most', '4294967280');
  throwsNapood(() => readNpyHeader(f('not_a_dict.npy')), f('not_a_dict.npy'), 'holding a dict');
  throwsNapood(() => readNpyHeader(f('no_such_file.npy')), f('no_such_file.npy'), 'readable .npy file', 'ENOENT');
  // The argument name is used instead of the path when given.
  throwsNapood(() => readNpyHeader(f('fortran.npy'), '--scores'), /^--scores: expected/);
});

test('writeNpy round trip for every typed array; numpy-compatible header layout', () => {
  const { dir, cleanup } = tempDir();
  try {
    const cases: [string, Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | BigInt64Array, number[], string][] = [
      ['f8.npy', new Float64Array([0.1, -2, Infinity, 1e300, 5e-324, 7]), [2, 3], '<f8'],
      ['f4.npy', new Float32Array([1.5, -0, 3, 4]), [4], '<f4'],
      ['i4.npy', new Int32Array([2147483647, -2147483648, 0]), [3, 1], '<i4'],
      ['u1.npy', new Uint8Array([0, 255]), [2], '|u1'],
      ['i1.npy', new Int8Array([-128, 127]), [1, 2], '|i1'],
      ['i2.npy', new Int16Array([-3, 3]), [2], '<i2'],
      ['i8.npy', new BigInt64Array([-5n, 2n ** 40n]), [2], '<i8'],
      ['scalar.npy', new Float64Array([3.25]), [], '<f8'],
      ['empty.npy', new Float32Array(0), [0, 5], '<f4'],
    ];
    for (const [name, arr, shape, descr] of cases) {
      const p = path.join(dir, name);
      writeNpy(p, arr, shape);
      const h = readNpyHeader(p);
      assert.equal(h.descr, descr, name);
      assert.deepEqual(h.shape, shape, name);
      assert.equal(h.dataOffset % 64, 0, name);
      assert.equal(fs.statSync(p).size, h.dataOffset + arr.byteLength, name);
      const back = readNpy(p).data;
      const want = Float32Array.from(arr as ArrayLike<number | bigint>, (v) => Number(v));
      assert.deepEqual(bits(back), bits(want), name);
    }
    // Float64 scores are stored exactly (read raw here, not through the float32 path).
    const p = path.join(dir, 'f8.npy');
    const raw = fs.readFileSync(p);
    const h = readNpyHeader(p);
    const f64 = new Float64Array(raw.buffer.slice(raw.byteOffset + h.dataOffset, raw.byteOffset + h.dataOffset + 48));
    assert.deepEqual(Array.from(f64), [0.1, -2, Infinity, 1e300, 5e-324, 7]);
    // The header text is what numpy writes.
    const hdr = raw.subarray(10, h.dataOffset).toString('latin1');
    assert.match(hdr, /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2, 3\), \} +\n$/);
    const one = fs.readFileSync(path.join(dir, 'f4.npy')).subarray(10, readNpyHeader(path.join(dir, 'f4.npy')).dataOffset).toString('latin1');
    assert.match(one, /'shape': \(4,\), \}/);
    throwsNapood(() => writeNpy(path.join(dir, 'bad.npy'), new Float32Array(5), [2, 3]), 'bad.npy', '6 elements for shape [2, 3]', 'found 5 elements');
    assert.equal(fs.existsSync(path.join(dir, 'bad.npy')), false);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    cleanup();
  }
});

test('openNpyWriter streams rows and writes the final row count in the header', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'stream.npy');
    const w = openNpyWriter(p, 'float32', [2, 3]);
    w.write(Float32Array.from({ length: 12 }, (_, i) => i));
    w.write(Float32Array.from({ length: 6 }, (_, i) => 100 + i));
    assert.equal(w.rows, 3);
    assert.equal(fs.existsSync(p), false, 'nothing at the target before commit');
    w.commit();
    const back = readNpy(p);
    assert.deepEqual(back.shape, [3, 2, 3]);
    assert.deepEqual(Array.from(back.data), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100, 101, 102, 103, 104, 105]);

    const q = path.join(dir, 'aborted.npy');
    const w2 = openNpyWriter(q, 'float64', [4]);
    throwsNapood(() => w2.write(new Float64Array(6)), 'whole rows of 4 elements', 'found 6 elements');
    throwsNapood(() => w2.write(new Float64Array(4)), 'an open writer');
    assert.equal(fs.existsSync(q), false);
    const w3 = openNpyWriter(q, 'float64', [4]);
    throwsNapood(() => w3.write(new Float32Array(4)), 'rows of dtype float64', 'Float32Array');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['stream.npy']);
  } finally {
    cleanup();
  }
});
