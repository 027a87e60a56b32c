/**
 * Decoders of the ONNX messages napood needs, over the protobuf wire format of wire.ts.
 *
 * Source: the field numbers of onnx/onnx.proto (IR version 10): ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto,
 * OperatorSetIdProto. Only the fields napood reads are decoded; each node, initializer and
 * value-info keeps its exact encoded bytes (`raw`) so that a sub-model can be assembled from the
 * original bytes without re-encoding anything (write.ts). A protobuf parser merges an embedded
 * message field that appears twice, and so does `decodeModel` (all `graph` fields are merged):
 * the lossless edits of write.ts rely on it.
 */
import {
  ProtoDecodeError, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT, concatBytes, expectWire, f32, pushDoubles, pushFloats,
  pushVarints, readFields, str,
} from './wire.js';

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
