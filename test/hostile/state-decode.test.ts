/**
 * Issue #10, class 5: `--state` files (src/run/state.ts). A malformed marker object, base64
 * garbage, a byte length that is not a whole number of elements, a wrong length, or a
 * non-finite or wrongly typed field where a method needs a number, is a NapoodError naming
 * --state, never a TypeError / RangeError. base64 is done without Node's Buffer (run/ is
 * runtime-neutral) and writes exactly what Buffer wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { base64Decode, base64Encode, checkStateFields, decodeState, encodeState } from '../../src/run/state.js';
import { Xoshiro128 } from '../../src/math/random.js';
import { throwsNapood } from '../io/helpers.js';

test('base64: byte-identical to Node\'s Buffer for every length 0…300 and random bytes; decoding inverts it', () => {
  const rng = new Xoshiro128(7);
  for (let n = 0; n <= 300; n++) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = rng.nextUint32() & 255;
    const text = base64Encode(b);
    assert.equal(text, Buffer.from(b).toString('base64'), `length ${n}`);
    assert.deepEqual(base64Decode(text), b);
    assert.deepEqual(base64Decode(text.replace(/=+$/, '')), b, 'unpadded');
  }
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
  assert.equal(base64Encode(big), Buffer.from(big).toString('base64'));
});

test('the state format is unchanged: encodeState gives what the Buffer-based encoder gave', () => {
  const state = { c: 3, t: 0.5, nan: NaN, inf: -Infinity, f32: new Float32Array([1, -2.5, 3e-39]), f64: new Float64Array([Math.PI]),
    i32: new Int32Array([-1, 7]), u8: new Uint8Array([0, 255]), list: [new Float32Array(0), 1], sub: new Float32Array(new Float32Array([9, 8, 7]).buffer, 4, 2) };
  const old = (a: Float32Array | Float64Array | Int32Array | Uint8Array, kind: string) => ({ $typed: kind, length: a.length, base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') });
  assert.equal(JSON.stringify(encodeState(state)), JSON.stringify({
    c: 3, t: 0.5, nan: { $number: 'NaN' }, inf: { $number: '-Infinity' }, f32: old(state.f32, 'float32'), f64: old(state.f64, 'float64'),
    i32: old(state.i32, 'int32'), u8: old(state.u8, 'uint8'), list: [old(state.list[0] as Float32Array, 'float32'), 1], sub: old(state.sub, 'float32'),
  }));
  const back = decodeState(JSON.parse(JSON.stringify(encodeState(state)))) as typeof state;
  assert.deepEqual(back.f32, state.f32);
  assert.deepEqual(back.sub, new Float32Array([8, 7]));
  assert.ok(Number.isNaN(back.nan));
  assert.equal(back.inf, -Infinity);
  // A Buffer is not a state array (as before).
  assert.equal((encodeState({ b: Buffer.from([1]) }) as { b: { $typed?: string } }).b.$typed, undefined);
});

test('malformed marker objects, base64 garbage and lengths are NapoodErrors naming --state and where', () => {
  const cases: [unknown, string][] = [
    [{ $typed: 'float16', base64: '' }, 'a typed array of float32, float64, int32 or uint8'],
    [{ $typed: 'toString', base64: '' }, 'a typed array of'],
    [{ $typed: 5, base64: '' }, '"$typed": 5'],
    [{ $typed: null, base64: '' }, '"$typed": null'],
    [{ $typed: 'float32' }, 'the base64 text of a float32 array'],
    [{ $typed: 'float32', base64: 12 }, '"base64": 12'],
    [{ $typed: 'float32', base64: 'AAAA!AAA' }, '"!" at character 4'],
    [{ $typed: 'float32', base64: 'AAAAA' }, 'not a whole number of base64 groups'],
    [{ $typed: 'float32', base64: 'AAAAAAA=' }, 'a whole number of 4-byte float32 values'],
    [{ $typed: 'float64', base64: 'AAAAAAAAAAAA' }, '9 bytes'],
    [{ $typed: 'float32', length: 2, base64: 'AAAAAA==' }, 'a typed array of length 2'],
    [{ $typed: 'float32', length: 3, base64: 'AAAAAAAAAAA=' }, 'a typed array of length 3'],
    [{ $typed: 'float32', length: '1', base64: 'AAAAAA==' }, '"length" a non-negative integer'],
    [JSON.parse('{"$typed": "float32", "length": 1e400, "base64": "AAAAAA=="}'), '"length" a non-negative integer'],
    [{ $typed: 'int32', length: -1, base64: '' }, '"length" a non-negative integer'],
    [{ $number: 'abc' }, '"$number" one of "NaN", "Infinity", "-Infinity"'],
    [{ $number: 5 }, '"$number" one of'],
    [{ $number: null }, '"$number" one of'],
  ];
  for (const [v, want] of cases) {
    throwsNapood(() => decodeState({ means: [1, v] }), '--state: ', want, 'at means[1]');
    throwsNapood(() => decodeState(v, '--my-state'), '--my-state: ', want);
  }
});

test('checkStateFields: what a method reads must be there, of its kind, finite', () => {
  const s = decodeState(JSON.parse(JSON.stringify(encodeState({ c: 4, threshold: 0.5, mean: new Float64Array(4), ok: true, bad: NaN, big: Infinity }))));
  assert.equal(checkStateFields<{ c: number }>(s, { c: 'integer', threshold: 'number', mean: 'float64', ok: 'boolean' }, '--state', 'a ReAct state', { mean: 4 }).c, 4);
  throwsNapood(() => checkStateFields(s, { bad: 'number' }), '--state: expected a fitted state whose "bad" is a finite number, found NaN');
  throwsNapood(() => checkStateFields(s, { big: 'number' }), 'found Infinity');
  throwsNapood(() => checkStateFields(s, { threshold: 'integer' }), 'an integer, found 0.5');
  throwsNapood(() => checkStateFields(s, { mean: 'float32' }), 'a float32 array, found a float64 array');
  throwsNapood(() => checkStateFields(s, { missing: 'float64' }), 'found nothing');
  throwsNapood(() => checkStateFields(s, { mean: 'float64' }, '--state', 'a DICE state', { mean: 5 }), 'a DICE state whose "mean" holds 5 values, found 4');
  throwsNapood(() => checkStateFields('x', { c: 'integer' }), 'a fitted state (an object), found a string');
  throwsNapood(() => checkStateFields(null, { c: 'integer' }), 'found null');
});

test('run/state.ts has no Node dependency (no Buffer, no node: import)', () => {
  const src = fs.readFileSync(fileURLToPath(new URL('../../src/run/state.js', import.meta.url)), 'utf8');
  assert.doesNotMatch(src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''), /\bBuffer\b|from ['"]node:/);
});
