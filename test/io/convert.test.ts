import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstNonFinite, float16ToNumber, halfBitsToFloatBits, swapBytes, toFloat32, toFloat64 } from '../../src/node/io/convert.js';

test('float16 bit patterns: normals, subnormals, zeros, infinities, NaN', () => {
  assert.equal(float16ToNumber(0x3c00), 1);
  assert.equal(float16ToNumber(0xc000), -2);
  assert.equal(float16ToNumber(0x3555), 0.333251953125);
  assert.equal(float16ToNumber(0x0400), 2 ** -14); // smallest normal
  assert.equal(float16ToNumber(0x0200), 2 ** -15); // subnormal
  assert.equal(float16ToNumber(0x8001), -(2 ** -24));
  assert.equal(float16ToNumber(0x7bff), 65504);
  assert.equal(float16ToNumber(0x7c00), Infinity);
  assert.ok(Object.is(float16ToNumber(0x8000), -0));
  assert.ok(Number.isNaN(float16ToNumber(0x7e00)));
  assert.equal(halfBitsToFloatBits(0x7e01), 0x7fc02000); // payload kept, as numpy
  assert.equal(halfBitsToFloatBits(0xfc01), 0xff802000); // signalling NaN: sign and payload kept
});

function le(bytes: number[]): Uint8Array {
  const b = new Uint8Array(new ArrayBuffer(bytes.length));
  b.set(bytes);
  return b;
}

test('int64 → float32 rounds once to nearest-even, also above 2^53', () => {
  const vals = [0n, -1n, 2n ** 53n + 1n, 2n ** 24n + 1n, 2n ** 24n + 3n, (2n ** 62n) + (2n ** 38n) + 1n, -(2n ** 63n), 2n ** 63n - 1n,
    // Above 2^53: rounding to double first and then to float would round the halfway case the wrong way.
    2n ** 60n + 2n ** 36n + 1n];
  const src = new BigInt64Array(vals);
  const out = new Float32Array(vals.length);
  toFloat32(new Uint8Array(src.buffer), 'int64', vals.length, out);
  const want = [0, -1, 2 ** 53, 2 ** 24, 2 ** 24 + 4, 2 ** 62 + 2 ** 39, -(2 ** 63), 2 ** 63, 2 ** 60 + 2 ** 37];
  assert.deepEqual(Array.from(out), want);
  // Double rounding would give 2^60 here (2^60 + 2^36 is exactly halfway between floats at 2^37 spacing).
  assert.notEqual(Math.fround(Number(2n ** 60n + 2n ** 36n + 1n)), out[8]);
  const f64 = new Float64Array(3);
  toFloat64(new Uint8Array(new BigInt64Array([2n ** 53n + 2n, -3n, 123456789012n]).buffer), 'int64', 3, f64);
  assert.deepEqual(Array.from(f64), [2 ** 53 + 2, -3, 123456789012]);
});

test('int32 labels convert exactly to float64 (no float32 detour)', () => {
  const f64 = new Float64Array(2);
  toFloat64(new Uint8Array(new Int32Array([16777217, -2147483648]).buffer), 'int32', 2, f64);
  assert.deepEqual(Array.from(f64), [16777217, -2147483648]);
});

test('bfloat16, float64, uint8, int8 conversions', () => {
  const out = new Float32Array(3);
  toFloat32(new Uint8Array(new Uint16Array([0x3f80, 0xc049, 0x7f80]).buffer), 'bfloat16', 3, out);
  assert.deepEqual(Array.from(out), [1, -3.140625, Infinity]);
  toFloat32(new Uint8Array(new Float64Array([0.1, 1e300, -1e-50]).buffer), 'float64', 3, out);
  assert.deepEqual(Array.from(out), [Math.fround(0.1), Infinity, -0]);
  toFloat32(le([0, 128, 255]), 'uint8', 3, out);
  assert.deepEqual(Array.from(out), [0, 128, 255]);
  toFloat32(le([0, 128, 255]), 'int8', 3, out);
  assert.deepEqual(Array.from(out), [0, -128, -1]);
});

test('swapBytes reverses each element', () => {
  const b = le([1, 2, 3, 4, 5, 6, 7, 8]);
  swapBytes(b, 2);
  assert.deepEqual(Array.from(b), [2, 1, 4, 3, 6, 5, 8, 7]);
  swapBytes(b, 2);
  swapBytes(b, 4);
  assert.deepEqual(Array.from(b), [4, 3, 2, 1, 8, 7, 6, 5]);
  swapBytes(b, 4);
  swapBytes(b, 8);
  assert.deepEqual(Array.from(b), [8, 7, 6, 5, 4, 3, 2, 1]);
});

test('firstNonFinite finds NaN, +Inf, -Inf and nothing in finite data', () => {
  assert.equal(firstNonFinite(new Float32Array([1, -3.4e38, 0])), -1);
  assert.equal(firstNonFinite(new Float32Array([1, 2, NaN, Infinity])), 2);
  assert.equal(firstNonFinite(new Float32Array([1, -Infinity])), 1);
  assert.equal(firstNonFinite(new Float32Array([NaN, 1, 2]), 1), -1);
});
