/**
 * Issue #10, class 6: the ONNX protobuf decoder (src/onnx/wire.ts, proto.ts). Absurd or negative tensor
 * dims, varints over 64 bits, field tags out of range and lengths past the end are
 * ProtoDecodeErrors, which are NapoodErrors naming the file; never a RangeError (which
 * `new Float64Array(numel(dims))` gave for dims [-10, 32] or [1e6, 1e6] before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NapoodError } from '../../src/errors.js';
import { DataType, decodeModel, decodeTensor, tensorValues } from '../../src/onnx/proto.js';
import {
  ProtoDecodeError, concatBytes, encodeVarint, lenField, readFields, stringField, varintField,
} from '../../src/onnx/wire.js';

/** A ModelProto with one initializer (dims, raw float data) and one node. */
function model(dims: readonly number[], raw: Uint8Array, packed = false): Uint8Array {
  const dimFields = packed ? [lenField(1, concatBytes(dims.map((d) => encodeVarint(d))))] : dims.map((d) => varintField(1, d));
  const tensor = concatBytes([...dimFields, varintField(2, DataType.FLOAT), stringField(8, 'w'), lenField(9, raw)]);
  const node = concatBytes([stringField(1, 'x'), stringField(1, 'w'), stringField(2, 'y'), stringField(4, 'MatMul')]);
  const graph = concatBytes([lenField(1, node), stringField(2, 'g'), lenField(5, tensor)]);
  return concatBytes([varintField(1, 8), lenField(7, graph), lenField(8, varintField(2, 13))]);
}

function refused(fn: () => unknown, file: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtoDecodeError, `expected a ProtoDecodeError, got ${String(e)}`);
    assert.ok(e instanceof NapoodError, 'a ProtoDecodeError is a NapoodError');
    // The argument is the file, then where in it ("m.onnx.graph.initializer[0]").
    assert.ok(e.argument.startsWith(file), `argument ${e.argument}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('initializer dims: negative, absurd, overflowing, more elements than the tensor holds', () => {
  const raw = new Uint8Array(16);
  assert.deepEqual(decodeModel(model([2, 2], raw), 'm.onnx').graph.initializers[0]!.dims, [2, 2]);
  for (const packed of [false, true]) {
    refused(() => decodeModel(model([-10, 32], raw, packed), 'm.onnx'), 'm.onnx', /^m\.onnx\.graph\.initializer\[0\]: tensor "w" has dims \[-10, 32\]/, /non-negative/);
    refused(() => decodeModel(model([1e6, 1e6], raw, packed), 'm.onnx'), 'm.onnx', /dims \[1000000, 1000000\] = 1000000000000 elements, more than its \d+ bytes can hold/);
    refused(() => decodeModel(model([2 ** 31, 2 ** 31, 2 ** 31], raw, packed), 'm.onnx'), 'm.onnx', /overflows 2\^53/);
    refused(() => decodeModel(model([2 ** 60, 1], raw, packed), 'm.onnx'), 'm.onnx', /non-negative integer/);
  }
  // Dims the bytes could hold but the data does not match: tensorValues says so before allocating.
  const t = decodeModel(model([4, 4], raw), 'm.onnx').graph.initializers[0]!;
  refused(() => tensorValues(t), 'tensor "w"', /raw_data holds 16 bytes, dims \[4, 4\] need 64/);
  // External data keeps its dims (the bytes are elsewhere); its values are refused as before.
  const ext = decodeTensor(concatBytes([varintField(1, 1e6), varintField(1, 1e6), varintField(2, DataType.FLOAT), stringField(8, 'e'), varintField(14, 1)]), 'x.onnx');
  assert.deepEqual(ext.dims, [1e6, 1e6]);
  refused(() => tensorValues(ext), 'model', /external file/);
});

test('varints over 64 bits, tags out of range, lengths past the end, truncation at every byte', () => {
  refused(() => readFields(new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), 'v.onnx'), 'v.onnx', /overflows 64 bits/);
  refused(() => readFields(new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00]), 'v.onnx'), 'v.onnx', /varint/);
  refused(() => readFields(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]), 't.onnx'), 't.onnx', /field tag 34359738368 at byte 0 out of range/);
  refused(() => readFields(concatBytes([encodeVarint(7 * 8 + 2), encodeVarint(2 ** 62)]), 'l.onnx'), 'l.onnx', /claims \d+ bytes but only 0 remain/);
  refused(() => readFields(concatBytes([encodeVarint(7 * 8 + 2), encodeVarint(-1)]), 'l.onnx'), 'l.onnx', /claims -1 bytes/);
  const m = model([2, 2], new Uint8Array(16));
  for (let n = 0; n < m.length; n++) {
    try {
      decodeModel(m.subarray(0, n), 'cut.onnx');
    } catch (e) {
      assert.ok(e instanceof ProtoDecodeError, `cut at ${n}: ${String(e)}`);
      assert.ok(e.argument.startsWith('cut.onnx'));
    }
  }
});

test('a deeply nested input does not recurse: the decoder follows the schema only', () => {
  // 2000 graph fields nested in each other: only the first level is a graph, the rest is an
  // unknown GraphProto field, skipped.
  let inner: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 2000; i++) inner = lenField(7, inner);
  assert.equal(decodeModel(concatBytes([varintField(1, 8), inner]), 'deep.onnx').graph.nodes.length, 0);
});
