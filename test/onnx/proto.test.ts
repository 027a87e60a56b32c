/**
 * Tests of the protobuf wire-format reader / writer (src/onnx/wire.ts, proto.ts, write.ts): spec examples, round trips,
 * truncated data, a real torch export, and the lossless append of graph outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DataType, decodeModel, decodeTensor, decodeValueInfo, tensorValues } from '../../src/onnx/proto.js';
import {
  ProtoDecodeError, concatBytes, encodeVarint, lenField, readFields, stringField, varintField,
} from '../../src/onnx/wire.js';
import { appendGraphOutputs, encodeValueInfo } from '../../src/onnx/write.js';
import { FIXTURES, expectOf, readNpy } from './fixtures.js';

test('varint encoding matches the protobuf spec examples', () => {
  assert.deepEqual([...encodeVarint(0)], [0]);
  assert.deepEqual([...encodeVarint(1)], [1]);
  assert.deepEqual([...encodeVarint(150)], [0x96, 0x01]);
  assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
  // int64 −1 is ten bytes: nine 0xff then 0x01
  assert.deepEqual([...encodeVarint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

test('varint fields round-trip, including large and negative int64 values', () => {
  const values = [0, 1, 127, 128, 300, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 + 5, 2 ** 40, 2 ** 53 - 1, -1, -2, -(2 ** 40)];
  const msg = concatBytes(values.map((v, i) => varintField(i + 1, v)));
  const fields = readFields(msg, 'test');
  assert.deepEqual(fields.map((f) => f.no), values.map((_, i) => i + 1));
  assert.deepEqual(fields.map((f) => f.value), values);
  assert.equal(fields.at(-1)!.end, msg.length);
});

test('readFields rejects truncated and non-protobuf data with a clear reason', () => {
  const msg = lenField(7, new Uint8Array(20));
  assert.throws(() => readFields(msg.subarray(0, 10), 'm.onnx'),
    (e: unknown) => e instanceof ProtoDecodeError && /m\.onnx: field 7 at byte 0 claims 20 bytes but only 8 remain/.test(e.message));
  assert.throws(() => readFields(new Uint8Array([0x80]), 'x'), /varint runs past the end/);
  assert.throws(() => readFields(new TextEncoder().encode('this is text'), 'x'), /unsupported wire type 4/);
  assert.throws(() => readFields(new Uint8Array([0x00, 0x01]), 'x'), /field number 0/);
});

test('ValueInfo encodes and decodes: name, elem_type, symbolic, fixed and unknown dims', () => {
  const raw = encodeValueInfo({ name: 'feat', elemType: DataType.FLOAT, shape: ['N', 24, null, 8] });
  const v = decodeValueInfo(raw, 'vi');
  assert.equal(v.name, 'feat');
  assert.equal(v.elemType, 1);
  assert.deepEqual(v.shape, ['N', 24, null, 8]);
  const bare = decodeValueInfo(encodeValueInfo({ name: 'x' }), 'vi');
  assert.equal(bare.name, 'x');
  assert.equal(bare.elemType, undefined);
  assert.equal(bare.shape, undefined);
});

test('tensor values from float_data, int64_data, raw float16 and raw double', () => {
  const floats = new Float32Array([1.5, -2, 3.25]);
  const t1 = decodeTensor(concatBytes([
    varintField(1, 3), varintField(2, DataType.FLOAT), lenField(4, new Uint8Array(floats.buffer)), stringField(8, 'f'),
  ]), 't1');
  assert.equal(t1.name, 'f');
  assert.deepEqual([...tensorValues(t1)], [1.5, -2, 3.25]);
  // int64 packed with a negative value (axes = [-2, -1])
  const packed = concatBytes([encodeVarint(-2), encodeVarint(-1)]);
  const t2 = decodeTensor(concatBytes([varintField(1, 2), varintField(2, DataType.INT64), lenField(7, packed)]), 't2');
  assert.deepEqual([...tensorValues(t2)], [-2, -1]);
  // float16 raw: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800
  const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]);
  const t3 = decodeTensor(concatBytes([varintField(1, 3), varintField(2, DataType.FLOAT16), lenField(9, half)]), 't3');
  assert.deepEqual([...tensorValues(t3)], [1, -2, 0.5]);
  const dbl = new Float64Array([Math.PI, -1e-300]);
  const t4 = decodeTensor(concatBytes([varintField(1, 2), varintField(2, DataType.DOUBLE), lenField(9, new Uint8Array(dbl.buffer))]), 't4');
  assert.deepEqual([...tensorValues(t4)], [Math.PI, -1e-300]);
  // raw data of the wrong length is an error, not garbage
  const bad = decodeTensor(concatBytes([varintField(1, 4), varintField(2, DataType.FLOAT), lenField(9, new Uint8Array(12))]), 'bad');
  assert.throws(() => tensorValues(bad), /raw_data holds 12 bytes, dims \[4\] need 16/);
});

test('decodeModel reads a torch export: ir_version, opset, input, output, nodes, initializers', () => {
  const bytes = new Uint8Array(readFileSync(`${FIXTURES}resnet18_op13/model.onnx`));
  const m = decodeModel(bytes, 'resnet18');
  const ex = expectOf('resnet18_op13');
  assert.equal(m.irVersion, 7);
  assert.equal(m.producerName, 'pytorch');
  assert.deepEqual(m.opsetImports.map((o) => [o.domain, o.version]), [['', 13]]);
  assert.equal(m.graphFields, 1);
  assert.deepEqual(m.graph.inputs.map((v) => [v.name, v.elemType, v.shape]), [['input', 1, ['N', 3, 64, 64]]]);
  assert.deepEqual(m.graph.outputs.map((v) => [v.name, v.elemType, v.shape]), [['logits', 1, ['N', 10]]]);
  assert.deepEqual([...new Set(m.graph.nodes.map((n) => n.opType))].sort(), ex.ops);
  const fcw = m.graph.initializers.find((t) => t.name === 'fc.weight')!;
  assert.deepEqual(fcw.dims, [10, 128]);
  const ref = readNpy(`${FIXTURES}resnet18_op13/head_weight.npy`);
  assert.deepEqual(Float32Array.from(tensorValues(fcw)), ref.data);
  // node raw bytes are exact sub-slices of the file
  const gemm = m.graph.nodes.at(-1)!;
  assert.equal(gemm.opType, 'Gemm');
  assert.deepEqual(decodeModel(bytes).graph.nodes.at(-1)!.raw, gemm.raw);
  const transB = gemm.attributes.find((a) => a.name === 'transB')!;
  assert.equal(transB.i, 1);
});

test('appendGraphOutputs keeps every original byte and the outputs are merged into the graph', () => {
  const bytes = new Uint8Array(readFileSync(`${FIXTURES}smallcnn_flatten_op17/model.onnx`));
  const out = appendGraphOutputs(bytes, [{ name: '/body/body.8/Relu_output_0' }, { name: '/Flatten_output_0', elemType: 1, shape: ['N', 24] }]);
  assert.ok(out.length > bytes.length);
  assert.deepEqual(out.subarray(0, bytes.length), bytes);
  // the appended part is one ModelProto.graph field (7, LEN) holding only GraphProto.output (12)
  const tail = readFields(out.subarray(bytes.length), 'tail');
  assert.equal(tail.length, 1);
  assert.equal(tail[0]!.no, 7);
  assert.deepEqual(readFields(tail[0]!.bytes, 'graph').map((f) => f.no), [12, 12]);
  const before = decodeModel(bytes);
  const after = decodeModel(out);
  assert.equal(after.graphFields, 2);
  assert.deepEqual(after.graph.outputs.map((o) => o.name), ['logits', '/body/body.8/Relu_output_0', '/Flatten_output_0']);
  assert.deepEqual(after.graph.outputs[2]!.shape, ['N', 24]);
  assert.equal(after.graph.nodes.length, before.graph.nodes.length);
  assert.equal(after.graph.initializers.length, before.graph.initializers.length);
  assert.equal(appendGraphOutputs(bytes, []), bytes);
});
