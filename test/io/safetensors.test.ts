import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/node/io/safetensors.js';
import { EXPECTED, bits, fixture, tempDir, throwsNapood } from './helpers.js';

test('good.safetensors: every dtype reads as numpy astype(float32), bit for bit; metadata kept', () => {
  const exp = EXPECTED.st['good.safetensors'];
  const h = readSafetensorsHeader(fixture('st', 'good.safetensors'));
  assert.deepEqual(h.metadata, exp.metadata);
  assert.deepEqual([...h.tensors.keys()], Object.keys(exp.tensors));
  assert.equal(h.dataStart % 8, 0);
  const e = h.tensors.get('e.i64')!;
  assert.equal(e.dtype, 'int64');
  assert.equal(e.stDtype, 'I64');
  assert.equal(e.dataOffset, h.dataStart + e.dataOffsets[0]);
  const all = readSafetensors(fixture('st', 'good.safetensors'));
  for (const [name, t] of Object.entries(exp.tensors)) {
    const got = all.get(name)!;
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(bits(got.data), t.f32bits, name);
  }
  assert.equal(all.get('c.bf16')!.dtype, 'bfloat16');
});

test('malformed .safetensors files give a NapoodError naming the file (and tensor) and the expectation', () => {
  const f = (n: string): string => fixture('st', n);
  throwsNapood(() => readSafetensorsHeader(f('huge_header_len.safetensors')), f('huge_header_len.safetensors'), 'header length of at most 88 bytes', String(2n ** 60n));
  throwsNapood(() => readSafetensorsHeader(f('header_past_end.safetensors')), 'at most 88 bytes', 'found 1000000');
  throwsNapood(() => readSafetensorsHeader(f('bad_json.safetensors')), f('bad_json.safetensors'), 'valid JSON');
  throwsNapood(() => readSafetensorsHeader(f('not_object.safetensors')), 'a JSON object', '[1, 2, 3]');
  throwsNapood(() => readSafetensorsHeader(f('tiny.safetensors')), f('tiny.safetensors'), 'a file of 3 bytes');
  throwsNapood(() => readSafetensorsHeader(f('offsets_past_end.safetensors')), 'tensor "x"', 'within the data buffer of 24 bytes', '[24, 48]');
  throwsNapood(() => readSafetensorsHeader(f('size_mismatch.safetensors')), 'tensor "x"', '32 bytes for shape [2, 4] F32', '[0, 24] (24 bytes)');
  throwsNapood(() => readSafetensorsHeader(f('bad_dtype.safetensors')), 'tensor "x"', 'a dtype of F32', 'F8_E4M3');
  throwsNapood(() => readSafetensorsHeader(f('negative_shape.safetensors')), 'tensor "x"', 'non-negative integers', '[-2,-3]');
  throwsNapood(() => readSafetensorsHeader(f('bad_offsets.safetensors')), 'tensor "x"', 'begin ≤ end', '[24,0]');
  throwsNapood(() => readSafetensorsHeader(f('overlap.safetensors')), 'tensor "y"', 'does not overlap tensor "x" [0, 24]', '[12, 36]');
  throwsNapood(() => readSafetensorsHeader(f('truncated.safetensors')), f('truncated.safetensors'), 'data buffer of 20 bytes', '(truncated file?)');
  throwsNapood(() => readSafetensorsHeader(f('bad_metadata.safetensors')), '"__metadata__"', 'string values');
  throwsNapood(() => readSafetensorsHeader(f('missing.safetensors')), f('missing.safetensors'), 'readable .safetensors', 'ENOENT');
});

test('writeSafetensors round trip with every dtype and metadata; 8-byte aligned header', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'rt.safetensors');
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]); // 1, -2, 2^-24, Inf
    const bf16 = new Uint16Array([0x3f80, 0x4049]); // 1, 3.140625
    writeSafetensors(p, {
      w: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      h: { dtype: 'F16', shape: [4], data: f16 },
      b: { dtype: 'BF16', shape: [2, 1], data: bf16 },
      d: { dtype: 'F64', shape: [1], data: new Float64Array([0.1]) },
      l: { dtype: 'I64', shape: [3], data: new BigInt64Array([0n, -1n, 7n]) },
      i: { dtype: 'I32', shape: [2], data: new Int32Array([5, -6]) },
      u: { dtype: 'U8', shape: [0], data: new Uint8Array(0) },
      buf: { dtype: 'U8', shape: [2], data: Buffer.from([9, 250]) },
    }, { framework: 'napood' });
    const h = readSafetensorsHeader(p);
    assert.equal((8 + h.headerLength) % 8, 0);
    assert.deepEqual(h.metadata, { framework: 'napood' });
    const all = readSafetensors(p);
    assert.deepEqual(Array.from(all.get('w')!.data), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(all.get('h')!.data), [1, -2, 2 ** -24, Infinity]);
    assert.deepEqual(Array.from(all.get('b')!.data), [1, 3.140625]);
    assert.deepEqual(all.get('b')!.shape, [2, 1]);
    assert.deepEqual(Array.from(all.get('d')!.data), [Math.fround(0.1)]);
    assert.deepEqual(Array.from(all.get('l')!.data), [0, -1, 7]);
    assert.deepEqual(Array.from(all.get('i')!.data), [5, -6]);
    assert.equal(all.get('u')!.data.length, 0);
    assert.deepEqual(Array.from(all.get('buf')!.data), [9, 250]);

    const bad = path.join(dir, 'bad.safetensors');
    throwsNapood(() => writeSafetensors(bad, { x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), 'tensor "x"', '3 elements for shape [3]', 'found 2');
    throwsNapood(() => writeSafetensors(bad, { x: { dtype: 'F16', shape: [2], data: new Float32Array(2) } }), 'a Uint16Array for dtype F16', 'Float32Array');
    assert.deepEqual(fs.readdirSync(dir), ['rt.safetensors']);
  } finally {
    cleanup();
  }
});
