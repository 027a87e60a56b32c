/**
 * Minimal protobuf wire-format reader and writer for the ONNX messages napood needs.
 *
 * Source: the protobuf encoding spec (https://protobuf.dev/programming-guides/encoding/) and the
 * field numbers of onnx/onnx.proto (IR version 10): ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto,
 * OperatorSetIdProto. Only the fields napood reads are decoded; each node, initializer and
 * value-info keeps its exact encoded bytes (`raw`) so that a sub-model can be assembled from the
 * original bytes without re-encoding anything.
 *
 * Lossless edits: a protobuf parser merges an embedded message field that appears twice
 * (repeated fields are concatenated), so `appendGraphOutputs` appends one extra `ModelProto.graph`
 * field holding only `GraphProto.output` entries to the model bytes: every original byte is
 * kept, in place. The decoder here follows the same rule (all `graph` fields are merged).
 */
import { NapoodError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------------------------

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message: `value` is the varint (as a number), or `bytes` for LEN fields. */
export interface WireField {
  readonly no: number;
  readonly wire: number;
  /** Varint value (int64 fields are sign-converted as two's complement), or fixed32/64 raw bits. */
  readonly value: number;
  /** Payload of a LEN field (a view into the source buffer, not a copy). */
  readonly bytes: Uint8Array;
  /** Byte offsets of the whole field (tag included) in the parsed buffer. */
  readonly start: number;
  readonly end: number;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8enc = new TextEncoder();

/**
 * Error raised while decoding: a NapoodError whose argument is the `what` given to the decoder
 * (the file name, e.g. "model.onnx", then the path of the message within it); callers may
 * rephrase it naming the file. Every malformed input gives this error (never a RangeError or a
 * TypeError): truncated data, lengths past the end, varints over 64 bits, field tags out of
 * range, wire types that do not match, tensor dims that are negative or declare more elements
 * than the tensor's bytes can hold. Recursion is bounded by the schema (model → graph → node →
 * attribute → tensor; subgraphs are not decoded), whatever the input.
 */
export class ProtoDecodeError extends NapoodError {
  constructor(message: string) {
    const colon = message.indexOf(': ');
    super(colon > 0 ? message.slice(0, colon) : 'model', 'protobuf data', 'something else');
    this.message = message;
    this.name = 'ProtoDecodeError';
  }
}

/**
 * Read a varint at `pos`; returns [value, newPos]. Up to 4 bytes are decoded with 32-bit integer
 * arithmetic; longer ones with BigInt, and values ≥ 2^63 are read as negative int64 (ONNX int64
 * fields such as axes = -1 are encoded that way).
 */
function readVarint(buf: Uint8Array, pos: number, what: string): [number, number] {
  let small = 0;
  let i = pos;
  for (let shift = 0; shift < 28; shift += 7) {
    if (i >= buf.length) throw new ProtoDecodeError(`${what}: varint runs past the end of the data at byte ${pos}`);
    const b = buf[i++]!;
    small |= (b & 0x7f) << shift;
    if (b < 0x80) return [small >>> 0, i];
  }
  let big = BigInt(small >>> 0);
  for (let shift = 28n; ; shift += 7n) {
    if (i >= buf.length) throw new ProtoDecodeError(`${what}: varint runs past the end of the data at byte ${pos}`);
    if (i - pos >= 10) throw new ProtoDecodeError(`${what}: varint longer than 10 bytes at byte ${pos}`);
    const b = buf[i++]!;
    // The 10th byte holds bit 63 only: more is a value over 64 bits.
    if (i - pos === 10 && b > 1) throw new ProtoDecodeError(`${what}: varint at byte ${pos} overflows 64 bits`);
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return [Number(BigInt.asIntN(64, big)), i];
}

/** Split a message into its fields. Throws ProtoDecodeError on malformed or truncated data. */
export function readFields(buf: Uint8Array, what: string): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, p1] = readVarint(buf, pos, what);
    pos = p1;
    // Field numbers are below 2^29, so a tag fits in 32 bits (and `tag & 7` is exact).
    if (tag < 0 || tag > 0xffffffff) throw new ProtoDecodeError(`${what}: field tag ${tag} at byte ${start} out of range (not protobuf data)`);
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (no === 0) throw new ProtoDecodeError(`${what}: field number 0 at byte ${start} (not protobuf data)`);
    switch (wire) {
      case WIRE_VARINT: {
        const [v, p2] = readVarint(buf, pos, what);
        pos = p2;
        fields.push({ no, wire, value: v, bytes: EMPTY, start, end: pos });
        break;
      }
      case WIRE_FIXED64: {
        if (pos + 8 > buf.length) throw new ProtoDecodeError(`${what}: 8-byte field ${no} at byte ${start} runs past the end of the data`);
        const bytes = buf.subarray(pos, pos + 8);
        pos += 8;
        fields.push({ no, wire, value: 0, bytes, start, end: pos });
        break;
      }
      case WIRE_LEN: {
        const [len, p2] = readVarint(buf, pos, what);
        pos = p2;
        if (len < 0 || pos + len > buf.length) {
          throw new ProtoDecodeError(
            `${what}: field ${no} at byte ${start} claims ${len} bytes but only ${buf.length - pos} remain (truncated data?)`,
          );
        }
        const bytes = buf.subarray(pos, pos + len);
        pos += len;
        fields.push({ no, wire, value: 0, bytes, start, end: pos });
        break;
      }
      case WIRE_FIXED32: {
        if (pos + 4 > buf.length) throw new ProtoDecodeError(`${what}: 4-byte field ${no} at byte ${start} runs past the end of the data`);
        const bytes = buf.subarray(pos, pos + 4);
        const v = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
        pos += 4;
        fields.push({ no, wire, value: v, bytes, start, end: pos });
        break;
      }
      default:
        throw new ProtoDecodeError(`${what}: unsupported wire type ${wire} (field ${no}) at byte ${start} (not protobuf data?)`);
    }
  }
  return fields;
}

function str(f: WireField): string {
  return utf8.decode(f.bytes);
}

function f32(f: WireField): number {
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/** Repeated varint field, packed (LEN) or not. */
function pushVarints(out: number[], f: WireField, what: string): void {
  if (f.wire === WIRE_VARINT) {
    out.push(f.value);
    return;
  }
  if (f.wire !== WIRE_LEN) throw new ProtoDecodeError(`${what}: field ${f.no} has wire type ${f.wire}, expected varint`);
  let p = 0;
  while (p < f.bytes.length) {
    const [v, q] = readVarint(f.bytes, p, what);
    out.push(v);
    p = q;
  }
}

/** Repeated float field, packed or not. */
function pushFloats(out: number[], f: WireField): void {
  if (f.wire === WIRE_FIXED32) {
    out.push(f32(f));
    return;
  }
  const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let p = 0; p + 4 <= f.bytes.length; p += 4) out.push(dv.getFloat32(p, true));
}

function pushDoubles(out: number[], f: WireField): void {
  const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let p = 0; p + 8 <= f.bytes.length; p += 8) out.push(dv.getFloat64(p, true));
}

function expectWire(f: WireField, wire: number, what: string): void {
  if (f.wire !== wire) {
    throw new ProtoDecodeError(`${what}: field ${f.no} has wire type ${f.wire}, expected ${wire} (not an ONNX message?)`);
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX messages
// ---------------------------------------------------------------------------------------------

/** TensorProto.DataType values napood names. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

const DATA_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DataType).map(([k, v]) => [v, k.toLowerCase()]),
);

export function dataTypeName(t: number): string {
  return DATA_TYPE_NAMES[t] ?? `type ${t}`;
}

export interface TensorProto {
  readonly name: string;
  readonly dims: number[];
  readonly dataType: number;
  readonly rawData?: Uint8Array;
  readonly floatData: number[];
  readonly doubleData: number[];
  readonly int32Data: number[];
  readonly int64Data: number[];
  /** True when the values live in an external file (data_location = EXTERNAL). */
  readonly external: boolean;
  /** The exact encoded bytes of this TensorProto. */
  readonly raw: Uint8Array;
}

export function decodeTensor(buf: Uint8Array, what: string): TensorProto {
  let name = '';
  let dataType = 0;
  let rawData: Uint8Array | undefined;
  let external = false;
  const dims: number[] = [];
  const floatData: number[] = [];
  const doubleData: number[] = [];
  const int32Data: number[] = [];
  const int64Data: number[] = [];
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1: pushVarints(dims, f, what); break;
      case 2: dataType = f.value; break;
      case 4: pushFloats(floatData, f); break;
      case 5: pushVarints(int32Data, f, what); break;
      case 7: pushVarints(int64Data, f, what); break;
      case 8: expectWire(f, WIRE_LEN, what); name = str(f); break;
      case 9: expectWire(f, WIRE_LEN, what); rawData = f.bytes; break;
      case 10: pushDoubles(doubleData, f); break;
      case 13: external = true; break;
      case 14: if (f.value === 1) external = true; break;
      default: break;
    }
  }
  checkDims(dims, name, buf.length, external, what);
  return { name, dims, dataType, rawData, floatData, doubleData, int32Data, int64Data, external, raw: buf };
}

/**
 * Tensor dims must be non-negative integers whose product is exact (below 2^53); and a tensor
 * whose values are in the file cannot hold more elements than twice its encoded size (no
 * element type packs more than two to a byte), so that a corrupt dims field ([1e6, 1e6] on a
 * small tensor) is refused here rather than sized by whatever allocates for it later.
 */
function checkDims(dims: readonly number[], name: string, bytes: number, external: boolean, what: string): void {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ProtoDecodeError(`${what}: tensor ${JSON.stringify(name)} has dims [${dims.join(', ')}] (a dimension must be a non-negative integer)`);
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) {
    throw new ProtoDecodeError(`${what}: tensor ${JSON.stringify(name)} has dims [${dims.join(', ')}] whose product overflows 2^53`);
  }
  if (!external && n > 2 * bytes) {
    throw new ProtoDecodeError(`${what}: tensor ${JSON.stringify(name)} declares dims [${dims.join(', ')}] = ${n} elements, more than its ${bytes} bytes can hold (corrupt model?)`);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Number of elements of a tensor with these dims. */
export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Values of a numeric tensor as float64 (float, double, float16, bfloat16, the integer types).
 * Throws ProtoDecodeError for external data or unsupported types.
 */
export function tensorValues(t: TensorProto): Float64Array {
  const n = numel(t.dims);
  if (t.external) throw new ProtoDecodeError(`tensor ${JSON.stringify(t.name)} keeps its data in an external file`);
  if (!Number.isSafeInteger(n) || n < 0) throw new ProtoDecodeError(`tensor ${JSON.stringify(t.name)} has dims [${t.dims.join(', ')}]`);
  const raw = t.rawData;
  if (raw !== undefined && raw.length > 0) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
    const s = size[t.dataType];
    if (s === undefined) throw new ProtoDecodeError(`tensor ${JSON.stringify(t.name)} has unsupported ${dataTypeName(t.dataType)} data`);
    if (raw.length !== n * s) {
      throw new ProtoDecodeError(`tensor ${JSON.stringify(t.name)}: raw_data holds ${raw.length} bytes, dims [${t.dims.join(', ')}] need ${n * s}`);
    }
    // Allocated once the data is known to hold exactly n values.
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * s;
      switch (t.dataType) {
        case 1: out[i] = dv.getFloat32(o, true); break;
        case 2: out[i] = dv.getUint8(o); break;
        case 3: out[i] = dv.getInt8(o); break;
        case 4: out[i] = dv.getUint16(o, true); break;
        case 5: out[i] = dv.getInt16(o, true); break;
        case 6: out[i] = dv.getInt32(o, true); break;
        case 7: out[i] = Number(dv.getBigInt64(o, true)); break;
        case 9: out[i] = dv.getUint8(o) ? 1 : 0; break;
        case 10: out[i] = halfToFloat(dv.getUint16(o, true)); break;
        case 11: out[i] = dv.getFloat64(o, true); break;
        case 12: out[i] = dv.getUint32(o, true); break;
        case 13: out[i] = Number(dv.getBigUint64(o, true)); break;
        case 16: {
          const bits = dv.getUint16(o, true) << 16;
          const tmp = new DataView(new ArrayBuffer(4));
          tmp.setUint32(0, bits >>> 0);
          out[i] = tmp.getFloat32(0);
          break;
        }
      }
    }
    return out;
  }
  let src: number[];
  switch (t.dataType) {
    case 1: src = t.floatData; break;
    case 11: src = t.doubleData; break;
    case 7: src = t.int64Data; break;
    case 2: case 3: case 4: case 5: case 6: case 9: src = t.int32Data; break;
    case 10: src = t.int32Data.map(halfToFloat); break;
    default: throw new ProtoDecodeError(`tensor ${JSON.stringify(t.name)} has unsupported ${dataTypeName(t.dataType)} data`);
  }
  if (src.length !== n) {
    throw new ProtoDecodeError(`tensor ${JSON.stringify(t.name)}: holds ${src.length} values, dims [${t.dims.join(', ')}] need ${n}`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = src[i]!;
  return out;
}

export interface AttributeProto {
  readonly name: string;
  /** AttributeProto.AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 5 GRAPH, 6 FLOATS, 7 INTS, 8 STRINGS, … */
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly t?: TensorProto;
  readonly floats: number[];
  readonly ints: number[];
  /** True when the attribute holds a subgraph (If / Loop / Scan bodies). */
  readonly hasGraph: boolean;
}

export function decodeAttribute(buf: Uint8Array, what: string): AttributeProto {
  let name = '';
  let type = 0;
  let f: number | undefined;
  let i: number | undefined;
  let s: string | undefined;
  let t: TensorProto | undefined;
  let hasGraph = false;
  const floats: number[] = [];
  const ints: number[] = [];
  for (const fl of readFields(buf, what)) {
    switch (fl.no) {
      case 1: expectWire(fl, WIRE_LEN, what); name = str(fl); break;
      case 2: expectWire(fl, WIRE_FIXED32, what); f = f32(fl); break;
      case 3: expectWire(fl, WIRE_VARINT, what); i = fl.value; break;
      case 4: expectWire(fl, WIRE_LEN, what); s = str(fl); break;
      case 5: expectWire(fl, WIRE_LEN, what); t = decodeTensor(fl.bytes, `${what}.t`); break;
      case 6: case 11: hasGraph = true; break;
      case 7: pushFloats(floats, fl); break;
      case 8: pushVarints(ints, fl, what); break;
      case 20: type = fl.value; break;
      default: break;
    }
  }
  return { name, type, f, i, s, t, floats, ints, hasGraph };
}

export interface NodeProto {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributes: AttributeProto[];
  /** The exact encoded bytes of this NodeProto. */
  readonly raw: Uint8Array;
}

export function decodeNode(buf: Uint8Array, what: string): NodeProto {
  let name = '';
  let opType = '';
  let domain = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes: AttributeProto[] = [];
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1: expectWire(f, WIRE_LEN, what); inputs.push(str(f)); break;
      case 2: expectWire(f, WIRE_LEN, what); outputs.push(str(f)); break;
      case 3: expectWire(f, WIRE_LEN, what); name = str(f); break;
      case 4: expectWire(f, WIRE_LEN, what); opType = str(f); break;
      case 5: expectWire(f, WIRE_LEN, what); attributes.push(decodeAttribute(f.bytes, `${what}.attribute`)); break;
      case 7: expectWire(f, WIRE_LEN, what); domain = str(f); break;
      default: break;
    }
  }
  return { name, opType, domain, inputs, outputs, attributes, raw: buf };
}

/** A dimension: a number (dim_value), a string (dim_param) or null (unknown). */
export type Dim = number | string | null;

export interface ValueInfoProto {
  readonly name: string;
  /** TensorProto.DataType of a tensor type, undefined when the type is absent or not a tensor. */
  readonly elemType?: number;
  /** Shape of a tensor type, undefined when absent (unknown rank). */
  readonly shape?: Dim[];
  readonly raw: Uint8Array;
}

function decodeShape(buf: Uint8Array, what: string): Dim[] {
  const dims: Dim[] = [];
  for (const f of readFields(buf, what)) {
    if (f.no !== 1) continue;
    expectWire(f, WIRE_LEN, what);
    let d: Dim = null;
    for (const g of readFields(f.bytes, what)) {
      if (g.no === 1 && g.wire === WIRE_VARINT) d = g.value;
      else if (g.no === 2 && g.wire === WIRE_LEN) d = str(g);
    }
    dims.push(d);
  }
  return dims;
}

export function decodeValueInfo(buf: Uint8Array, what: string): ValueInfoProto {
  let name = '';
  let elemType: number | undefined;
  let shape: Dim[] | undefined;
  for (const f of readFields(buf, what)) {
    if (f.no === 1) {
      expectWire(f, WIRE_LEN, what);
      name = str(f);
    } else if (f.no === 2) {
      expectWire(f, WIRE_LEN, what);
      for (const tf of readFields(f.bytes, `${what}.type`)) {
        if (tf.no !== 1 || tf.wire !== WIRE_LEN) continue; // only tensor_type
        for (const g of readFields(tf.bytes, `${what}.type.tensor_type`)) {
          if (g.no === 1 && g.wire === WIRE_VARINT) elemType = g.value;
          else if (g.no === 2 && g.wire === WIRE_LEN) shape = decodeShape(g.bytes, `${what}.shape`);
        }
      }
    }
  }
  return { name, elemType, shape, raw: buf };
}

export interface GraphProto {
  readonly name: string;
  readonly nodes: NodeProto[];
  readonly initializers: TensorProto[];
  readonly inputs: ValueInfoProto[];
  readonly outputs: ValueInfoProto[];
  readonly valueInfo: ValueInfoProto[];
  /** Number of sparse initializers (not decoded). */
  readonly sparseInitializers: number;
}

export function decodeGraph(buf: Uint8Array, what: string): GraphProto {
  let name = '';
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const inputs: ValueInfoProto[] = [];
  const outputs: ValueInfoProto[] = [];
  const valueInfo: ValueInfoProto[] = [];
  let sparseInitializers = 0;
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1: expectWire(f, WIRE_LEN, what); nodes.push(decodeNode(f.bytes, `${what}.node[${nodes.length}]`)); break;
      case 2: expectWire(f, WIRE_LEN, what); name = str(f); break;
      case 5: expectWire(f, WIRE_LEN, what); initializers.push(decodeTensor(f.bytes, `${what}.initializer[${initializers.length}]`)); break;
      case 11: expectWire(f, WIRE_LEN, what); inputs.push(decodeValueInfo(f.bytes, `${what}.input`)); break;
      case 12: expectWire(f, WIRE_LEN, what); outputs.push(decodeValueInfo(f.bytes, `${what}.output`)); break;
      case 13: expectWire(f, WIRE_LEN, what); valueInfo.push(decodeValueInfo(f.bytes, `${what}.value_info`)); break;
      case 15: sparseInitializers++; break;
      default: break;
    }
  }
  return { name, nodes, initializers, inputs, outputs, valueInfo, sparseInitializers };
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
  readonly raw: Uint8Array;
}

export interface ModelProto {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly opsetImports: OpsetImport[];
  /** Encoded FunctionProto entries (ModelProto.functions, field 25), copied as they are. */
  readonly functionsRaw: Uint8Array[];
  readonly graph: GraphProto;
  /** How many `graph` fields the file holds (more than one after an appended edit). */
  readonly graphFields: number;
}

/** Decode a ModelProto. Several `graph` fields are merged as protobuf does. */
export function decodeModel(buf: Uint8Array, what = 'model'): ModelProto {
  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  const opsetImports: OpsetImport[] = [];
  const functionsRaw: Uint8Array[] = [];
  const graphParts: Uint8Array[] = [];
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1: expectWire(f, WIRE_VARINT, what); irVersion = f.value; break;
      case 2: expectWire(f, WIRE_LEN, what); producerName = str(f); break;
      case 3: expectWire(f, WIRE_LEN, what); producerVersion = str(f); break;
      case 7: expectWire(f, WIRE_LEN, what); graphParts.push(f.bytes); break;
      case 8: {
        expectWire(f, WIRE_LEN, what);
        let domain = '';
        let version = 0;
        for (const g of readFields(f.bytes, `${what}.opset_import`)) {
          if (g.no === 1 && g.wire === WIRE_LEN) domain = str(g);
          else if (g.no === 2 && g.wire === WIRE_VARINT) version = g.value;
        }
        opsetImports.push({ domain, version, raw: f.bytes });
        break;
      }
      case 25: expectWire(f, WIRE_LEN, what); functionsRaw.push(f.bytes); break;
      default: break;
    }
  }
  if (graphParts.length === 0) throw new ProtoDecodeError(`${what}: no graph field (ModelProto.graph) found`);
  const graphBytes = graphParts.length === 1 ? graphParts[0]! : concatBytes(graphParts);
  const graph = decodeGraph(graphBytes, `${what}.graph`);
  return { irVersion, producerName, producerVersion, opsetImports, functionsRaw, graph, graphFields: graphParts.length };
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encode a non-negative integer (or a negative int64, as 10 bytes) as a varint. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isInteger(value)) throw new RangeError(`varint: ${value} is not an integer`);
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    bytes.push(b);
  } while (v !== 0n);
  return Uint8Array.from(bytes);
}

/** A LEN field: tag, length, payload. */
export function lenField(no: number, payload: Uint8Array): Uint8Array {
  return concatBytes([encodeVarint(no * 8 + WIRE_LEN), encodeVarint(payload.length), payload]);
}

export function varintField(no: number, value: number): Uint8Array {
  return concatBytes([encodeVarint(no * 8 + WIRE_VARINT), encodeVarint(value)]);
}

export function stringField(no: number, s: string): Uint8Array {
  return lenField(no, utf8enc.encode(s));
}

/** What to write into a ValueInfoProto: a name and, optionally, a tensor type. */
export interface ValueInfoSpec {
  readonly name: string;
  readonly elemType?: number;
  /** Dims; strings are symbolic (dim_param), null leaves a dimension unknown. */
  readonly shape?: readonly Dim[];
}

export function encodeValueInfo(v: ValueInfoSpec): Uint8Array {
  const parts = [stringField(1, v.name)];
  if (v.elemType !== undefined || v.shape !== undefined) {
    const tensor: Uint8Array[] = [];
    if (v.elemType !== undefined) tensor.push(varintField(1, v.elemType));
    if (v.shape !== undefined) {
      const dims = v.shape.map((d) =>
        lenField(1, d === null ? EMPTY : typeof d === 'number' ? varintField(1, d) : stringField(2, d)),
      );
      tensor.push(lenField(2, concatBytes(dims)));
    }
    parts.push(lenField(2, lenField(1, concatBytes(tensor))));
  }
  return concatBytes(parts);
}

/**
 * Append graph outputs to an encoded ModelProto without touching its bytes: the result is
 * `model` followed by one `ModelProto.graph` field (7) holding only `GraphProto.output` (12)
 * entries, which a protobuf parser merges into the existing graph.
 */
export function appendGraphOutputs(model: Uint8Array, outputs: readonly ValueInfoSpec[]): Uint8Array {
  if (outputs.length === 0) return model;
  const graph = concatBytes(outputs.map((o) => lenField(12, encodeValueInfo(o))));
  return concatBytes([model, lenField(7, graph)]);
}

/** Parts of a new model assembled from encoded pieces of another (see graph.ts `headSubModel`). */
export interface SubModelSpec {
  readonly irVersion: number;
  readonly producerName: string;
  readonly opsetImportsRaw: readonly Uint8Array[];
  readonly functionsRaw: readonly Uint8Array[];
  readonly graphName: string;
  readonly nodesRaw: readonly Uint8Array[];
  readonly initializersRaw: readonly Uint8Array[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
}

export function encodeSubModel(s: SubModelSpec): Uint8Array {
  const graph = concatBytes([
    ...s.nodesRaw.map((n) => lenField(1, n)),
    stringField(2, s.graphName),
    ...s.initializersRaw.map((t) => lenField(5, t)),
    ...s.inputs.map((v) => lenField(11, encodeValueInfo(v))),
    ...s.outputs.map((v) => lenField(12, encodeValueInfo(v))),
  ]);
  return concatBytes([
    varintField(1, s.irVersion),
    stringField(2, s.producerName),
    lenField(7, graph),
    ...s.opsetImportsRaw.map((o) => lenField(8, o)),
    ...s.functionsRaw.map((f) => lenField(25, f)),
  ]);
}
