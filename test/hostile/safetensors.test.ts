/**
 * Issue #10, class 2: hostile safetensors headers and dumps (src/node/io/safetensors.ts
 * parseSafetensorsHeader, src/node/io/tensor.ts checkReadSize). Nesting is bounded before
 * JSON.parse (which recurses), a key twice is refused (JSON.parse keeps the last silently), sizes
 * are checked before anything is allocated, and a row too large for one typed array is refused
 * when the dump is opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSafetensorsHeader, readSafetensorsHeader, SAFETENSORS_MAX_NESTING } from '../../src/node/io/safetensors.js';
import { openDump, loadHead } from '../../src/node/io/dump.js';
import { TensorReader, MAX_READ_BYTES } from '../../src/node/io/tensor.js';
import { tempDir, throwsNapood } from '../io/helpers.js';

/** A safetensors file's bytes from a header text (not necessarily valid JSON) and data. */
function st(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

test('a header nested 300,000 levels deep is a NapoodError, not a stack overflow', () => {
  for (const depth of [SAFETENSORS_MAX_NESTING + 1, 1000, 300_000]) {
    const deep = `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    throwsNapood(() => parseSafetensorsHeader(st(deep, new Uint8Array(8)), 'deep.safetensors'), 'deep.safetensors: ', `nested at most ${SAFETENSORS_MAX_NESTING} levels`);
    // Brackets inside strings are not nesting.
    const inString = `{"__metadata__":{"k":"${'['.repeat(depth)}"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`;
    assert.equal(parseSafetensorsHeader(st(inString, new Uint8Array(8)), 's').metadata.k!.length, depth);
  }
  // Through the file reader too, and a valid header is still fine.
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    const f = path.join(dir, 'deep.safetensors');
    fs.writeFileSync(f, st(`{"x":${'['.repeat(300_000)}${']'.repeat(300_000)}}`));
    throwsNapood(() => readSafetensorsHeader(f, '--features'), '--features: ', 'nested');
    throwsNapood(() => openDump(f, { argument: '--features' }), '--features: ', 'nested');
  } finally {
    cleanup();
  }
  assert.equal(parseSafetensorsHeader(st(ok, new Uint8Array(8)), 'ok').tensors.size, 1);
});

test('a key twice is refused: a tensor, __metadata__, a key of an entry, and keys equal after JSON escapes', () => {
  const t = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  const data = new Uint8Array(8);
  throwsNapood(() => parseSafetensorsHeader(st(`{"a":${t},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data), 'dup.safetensors'),
    'dup.safetensors: expected a safetensors header naming each tensor once, found "a" twice');
  throwsNapood(() => parseSafetensorsHeader(st(`{"a":${t},"\\u0061":${t}}`, data), 'esc'), '"a" twice');
  throwsNapood(() => parseSafetensorsHeader(st(`{"__metadata__":{"x":"1"},"a":${t},"__metadata__":{}}`, data), 'm'), '"__metadata__" twice');
  throwsNapood(() => parseSafetensorsHeader(st('{"a":{"dtype":"F32","shape":[1],"dtype":"F64","data_offsets":[0,4]}}', data), 'inner'),
    'inner: tensor "a": expected each key once, found "dtype" twice');
  throwsNapood(() => parseSafetensorsHeader(st(`{"__metadata__":{"k":"1","k":"2"},"a":${t}}`, data), 'meta'), 'meta: "__metadata__": ', '"k" twice');
  // The same key in two different objects is fine; so are keys that only look alike in strings.
  const two = `{"a":${t},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"__metadata__":{"a":"dtype, a, \\"a\\""}}`;
  assert.deepEqual([...parseSafetensorsHeader(st(two, data), 'two').tensors.keys()], ['a', 'b']);
  // A syntax error is reported as such, not as a duplicate.
  throwsNapood(() => parseSafetensorsHeader(st(`{"a":${t},"a":`, data), 'bad'), 'valid JSON');
});

test('shapes, dtypes and offsets that disagree, overflow 2^53 or pass the end of the file are clear errors', () => {
  const cases: [string, number, string][] = [
    ['{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}', 8, 'a shape whose size fits in 2^53 bytes'],
    ['{"a":{"dtype":"F32","shape":[0,4503599627370496,4503599627370496],"data_offsets":[0,0]}}', 0, 'fits in 2^53'],
    ['{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,8]}}', 8, 'a shape of non-negative integers'],
    ['{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8, 'non-negative integers'],
    ['{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}', 8, 'non-negative integers'],
    ['{"a":{"dtype":"toString","shape":[2],"data_offsets":[0,8]}}', 8, 'a dtype of F32'],
    ['{"a":{"dtype":"__proto__","shape":[2],"data_offsets":[0,8]}}', 8, 'a dtype of F32'],
    ['{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8, '12 bytes for shape [3] F32'],
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', 8, 'within the data buffer of 8 bytes'],
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9007199254740993]}}', 8, 'data_offsets [begin, end]'],
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}', 8, 'data_offsets [begin, end]'],
    ['{"a":{"dtype":"F32","shape":[10000000000],"data_offsets":[0,40000000000]}}', 8, 'truncated file?'],
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8, 'does not overlap'],
  ];
  for (const [header, n, want] of cases) throwsNapood(() => parseSafetensorsHeader(st(header, new Uint8Array(n)), 'c.safetensors'), 'c.safetensors', want);
  // A header that is not UTF-8, and a length field past the end or over 100 MB.
  throwsNapood(() => parseSafetensorsHeader(st('{"a":"\xff"}').map((b, i) => (i === 14 ? 0xff : b)), 'u'), 'not valid UTF-8');
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1n << 63n, true);
  throwsNapood(() => parseSafetensorsHeader(huge, 'h'), 'a safetensors header length of at most 8 bytes');
});

test('a dump row over 2 GiB (featureMap [1, 100000, 100000, 1] declared) is refused when the dump is opened, before any allocation', () => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    // A sparse file of 40 GB: the header is consistent with the file; the row is not readable.
    const f = path.join(dir, 'big.safetensors');
    const bytes = 1e10 * 4;
    const header = `{"featureMap":{"dtype":"F32","shape":[1,100000,100000,1],"data_offsets":[0,${bytes}]}}`;
    fs.writeFileSync(f, st(header));
    try {
      fs.truncateSync(f, fs.statSync(f).size + bytes);
    } catch {
      return; // no sparse files here
    }
    throwsNapood(() => openDump(f, { argument: '--features' }), '--features: ', 'at most 2 GiB', 'one row of 40000000000 bytes');
    // The reader refuses it too, whoever asks.
    const t = readSafetensorsHeader(f).tensors.get('featureMap')!;
    const r = new TensorReader();
    try {
      throwsNapood(() => r.readFloat32(t, 0, 1), 'featureMap', 'at most 2 GiB');
      throwsNapood(() => r.readFloat64(t, 0, 1), 'as float64');
    } finally {
      r.close();
    }
    // A head [K, C] over the limit, and many small rows in one read.
    const h = path.join(dir, 'head.safetensors');
    const hb = 70000 * 10000 * 4;
    fs.writeFileSync(h, st(`{"head.weight":{"dtype":"F32","shape":[70000,10000],"data_offsets":[0,${hb}]}}`));
    fs.truncateSync(h, fs.statSync(h).size + hb);
    throwsNapood(() => loadHead(h, '--head'), '--head: ', 'at most 2 GiB', '70000 rows');
    assert.ok(hb > MAX_READ_BYTES);
  } finally {
    cleanup();
  }
});
