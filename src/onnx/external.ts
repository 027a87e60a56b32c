/**
 * Every tensor of a model, checked before onnxruntime sees the bytes, and external data inlined.
 *
 * A TensorProto may keep its values in another file (`data_location = EXTERNAL`, `external_data`
 * entries `location`, `offset`, `length`; onnx.save_model(..., save_as_external_data=True)).
 * Given model bytes, onnxruntime would open that file itself, relative to its working folder
 * (and follow absolute paths and `..`). napood never lets it: `prepareModelBytes` walks every
 * tensor of the model (initializers, Constant values and other tensor attributes, sparse tensors,
 * subgraphs, functions, training graphs), asks `reader` for the bytes of each external one (the
 * Node loader reads them beside the model file, node/onnx.ts `externalDataBeside`, which refuses
 * anything outside the model's folder) and writes them into the tensor as raw_data, so that the
 * session opens no file. Without a reader (a model given as bytes) external data is refused.
 *
 * The same walk bounds what a model can make napood or onnxruntime allocate: dims must be ≥ 0
 * with fewer than 2 GiB of values (dense size of sparse tensors included: onnxruntime densifies
 * them), and a tensor's in-file values must be as many as its dims say.
 *
 * Every byte that is not an edited tensor is kept as it is; a message containing an edited one
 * is re-assembled from its fields (protobuf accepts fields in any order).
 */
import { NapoodError, describe, shapeString } from '../errors.js';
import { bytesText, grouped, MAX_GRAPH_DEPTH, MAX_TENSOR_BYTES, tensorBytes } from './limits.js';
import { dataTypeName } from './proto.js';
import {
  ProtoDecodeError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, concatBytes, lenField, readFields,
  type WireField,
} from './wire.js';

/** Where the values of one external tensor are: `length` bytes at `offset` of the file `location` (relative to the model's folder). */
export interface ExternalDataRef {
  /** The tensor's name (messages). */
  readonly tensor: string;
  /** The `location` entry, as written in the model. */
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * Reads the bytes of external data (exactly `ref.length` of them), or throws a NapoodError naming
 * the model. It must itself refuse locations outside the model's folder (`checkLocation` does the
 * checks that need no file system).
 */
export type ExternalDataReader = (ref: ExternalDataRef) => Promise<Uint8Array>;

/** onnxruntime's tag for in-memory external data (the offset is then a memory address): never a file. */
const ORT_MEMORY_TAG = '*/_ORT_MEM_ADDR_/*';

/**
 * Checks of a `location` that need no file system: a relative path without `..` components,
 * absolute paths (POSIX, Windows drive or UNC) and NUL bytes refused. NapoodError naming `file`.
 */
export function checkLocation(ref: Pick<ExternalDataRef, 'tensor' | 'location'>, file: string): void {
  const { tensor, location } = ref;
  const expected = 'external data in files inside the model\'s folder (a relative location without "..")';
  const where = `tensor ${describe(tensor)}: location ${describe(location)}`;
  if (location === '') throw new NapoodError(file, expected, `${where} is empty`);
  if (location === ORT_MEMORY_TAG) throw new NapoodError(file, expected, `${where} (onnxruntime's in-memory tag, not a file)`);
  if (location.includes('\0')) throw new NapoodError(file, expected, `${where} contains a NUL byte`);
  if (location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location)) {
    throw new NapoodError(file, expected, `${where} is an absolute path`);
  }
  if (location.split(/[/\\]/).includes('..')) throw new NapoodError(file, expected, `${where} leaves the model's folder ("..")`);
}

// ---------------------------------------------------------------------------------------------
// The walk

type Kind = 'model' | 'graph' | 'node' | 'attribute' | 'tensor' | 'sparse' | 'function' | 'training';

/** The fields of each message that hold (messages that hold) tensors (onnx.proto, IR 10). */
const CHILDREN: Readonly<Record<Kind, Readonly<Record<number, Kind>>>> = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  function: { 7: 'node' },
  training: { 1: 'graph', 2: 'graph' },
  tensor: {},
};

/** What the walk found that needs the bytes rewritten, by the byte offset of the tensor's payload (unique: payloads do not overlap). */
interface Found {
  readonly external: Map<number, { readonly ref: ExternalDataRef; readonly payload: Uint8Array }>;
  /** Tensors with external_data entries but data_location DEFAULT: onnxruntime ignores the entries; they are dropped. */
  readonly strays: Map<number, Uint8Array>;
}

/** The TensorProto fields the checks read. */
interface TensorFields {
  name: string;
  dims: number[];
  dataType: number;
  rawBytes?: number;
  /** Values held in the typed fields, per field number. */
  typed: Map<number, number>;
  entries: { key: string; value: string }[];
  location: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Number of varints in a packed LEN payload (bytes without the continuation bit). */
function countVarints(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i]! < 0x80) n++;
  return n;
}

function readTensorFields(buf: Uint8Array, what: string): TensorFields {
  const t: TensorFields = { name: '', dims: [], dataType: 0, typed: new Map(), entries: [], location: 0 };
  const addTyped = (no: number, k: number) => t.typed.set(no, (t.typed.get(no) ?? 0) + k);
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1:
        if (f.wire === WIRE_VARINT) t.dims.push(f.value);
        else if (f.wire === WIRE_LEN) for (const v of packedVarints(f, what)) t.dims.push(v);
        break;
      case 2: if (f.wire === WIRE_VARINT) t.dataType = f.value; break;
      case 8: if (f.wire === WIRE_LEN) t.name = utf8.decode(f.bytes); break;
      case 9: if (f.wire === WIRE_LEN) t.rawBytes = (t.rawBytes ?? 0) + f.bytes.length; break;
      case 4: addTyped(4, f.wire === WIRE_FIXED32 ? 1 : f.wire === WIRE_LEN ? Math.floor(f.bytes.length / 4) : 0); break;
      case 10: addTyped(10, f.wire === WIRE_FIXED64 ? 1 : f.wire === WIRE_LEN ? Math.floor(f.bytes.length / 8) : 0); break;
      case 5: case 7: case 11: addTyped(f.no, f.wire === WIRE_VARINT ? 1 : f.wire === WIRE_LEN ? countVarints(f.bytes) : 0); break;
      case 6: addTyped(6, 1); break;
      case 13: {
        if (f.wire !== WIRE_LEN) break;
        let key = '';
        let value = '';
        for (const g of readFields(f.bytes, `${what}.external_data`)) {
          if (g.wire !== WIRE_LEN) continue;
          if (g.no === 1) key = utf8.decode(g.bytes);
          else if (g.no === 2) value = utf8.decode(g.bytes);
        }
        t.entries.push({ key, value });
        break;
      }
      case 14: if (f.wire === WIRE_VARINT) t.location = f.value; break;
      default: break;
    }
  }
  return t;
}

/** The int64 values of a packed repeated varint field (two's complement for negative values). */
function* packedVarints(f: WireField, what: string): Generator<number> {
  let p = 0;
  const b = f.bytes;
  while (p < b.length) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= b.length) throw new ProtoDecodeError(`${what}: packed varint runs past the end of its field`);
      const byte = b[p++]!;
      v |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (byte < 0x80) break;
      if (shift > 63n) throw new ProtoDecodeError(`${what}: varint longer than 10 bytes`);
    }
    yield Number(BigInt.asIntN(64, v));
  }
}

/** Number of elements of `dims`, refusing negative dims and more than 2 GiB of values; NapoodError naming `file`. */
function checkedNumel(dims: readonly number[], dataType: number, label: string, file: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new NapoodError(file, `tensor dims ≥ 0 (${label})`, `dims ${shapeString(dims)}`);
    }
    n *= d;
  }
  const bytes = tensorBytes(dataType, n) ?? n;
  if (!Number.isFinite(n) || bytes > MAX_TENSOR_BYTES) {
    throw new NapoodError(file, `tensors under 2 GiB (${label})`, `dims ${shapeString(dims)}: ${grouped(n)} values of ${dataTypeName(dataType)} (${bytesText(bytes)})`);
  }
  return n;
}

/** The typed field holding the values of each data type when raw_data is absent (onnx.proto), and values per element. */
const TYPED_FIELD: Readonly<Record<number, readonly [number, number]>> = {
  1: [4, 1], 2: [5, 1], 3: [5, 1], 4: [5, 1], 5: [5, 1], 6: [5, 1], 7: [7, 1], 8: [6, 1], 9: [5, 1], 10: [5, 1],
  11: [10, 1], 12: [11, 1], 13: [11, 1], 14: [4, 2], 15: [10, 2], 16: [5, 1],
};

function parseNumber(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) return NaN;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** Check one TensorProto; record it when its data is external. */
function visitTensor(buf: Uint8Array, what: string, file: string, found: Found): void {
  const t = readTensorFields(buf, what);
  const label = `tensor ${describe(t.name)}`;
  const numel = checkedNumel(t.dims, t.dataType, label, file);
  if (t.location === 1) {
    const get = (k: string) => t.entries.find((e) => e.key === k)?.value;
    const location = get('location');
    const offset = parseNumber(get('offset')) ?? 0;
    const length = parseNumber(get('length'));
    const expected = 'external data with a location and whole-number offset and length';
    if (location === undefined) throw new NapoodError(file, expected, `${label}: no location`);
    if (Number.isNaN(offset)) throw new NapoodError(file, expected, `${label}: offset ${describe(get('offset'))}`);
    if (Number.isNaN(length)) throw new NapoodError(file, expected, `${label}: length ${describe(get('length'))}`);
    const need = tensorBytes(t.dataType, numel);
    if (need === undefined) {
      throw new NapoodError(file, 'external data of a numeric type', `${label} of ${dataTypeName(t.dataType)}`);
    }
    if (length !== undefined && length !== need) {
      throw new NapoodError(file, `external data of the tensor's size (${label}: dims ${shapeString(t.dims)} of ${dataTypeName(t.dataType)} = ${grouped(need)} bytes)`, `length ${grouped(length)}`);
    }
    checkLocation({ tensor: t.name, location }, file);
    found.external.set(buf.byteOffset, { ref: { tensor: t.name, location, offset, length: need }, payload: buf });
    return;
  }
  if (t.entries.length > 0) found.strays.set(buf.byteOffset, buf);
  // in-file values: as many as the dims say (onnxruntime would size its buffer from the dims)
  const per = tensorBytes(t.dataType, numel);
  if (t.rawBytes !== undefined) {
    if (per !== undefined && t.rawBytes !== per) {
      throw new NapoodError(file, `values as many as the dims say (${label}: dims ${shapeString(t.dims)} of ${dataTypeName(t.dataType)} = ${grouped(per)} bytes)`, `${grouped(t.rawBytes)} bytes of raw_data`);
    }
    return;
  }
  const typed = TYPED_FIELD[t.dataType];
  if (typed === undefined) return;
  const held = t.typed.get(typed[0]) ?? 0;
  if (held !== numel * typed[1]) {
    throw new NapoodError(file, `values as many as the dims say (${label}: dims ${shapeString(t.dims)} = ${grouped(numel)} values)`, `${grouped(held / typed[1])} values`);
  }
}

/** Check a SparseTensorProto's dense size (onnxruntime densifies sparse initializers and Constant values). */
function visitSparse(buf: Uint8Array, what: string, file: string): void {
  const dims: number[] = [];
  let dataType = 1;
  for (const f of readFields(buf, what)) {
    if (f.no === 3) {
      if (f.wire === WIRE_VARINT) dims.push(f.value);
      else if (f.wire === WIRE_LEN) for (const v of packedVarints(f, what)) dims.push(v);
    } else if (f.no === 1 && f.wire === WIRE_LEN) {
      for (const g of readFields(f.bytes, `${what}.values`)) if (g.no === 2 && g.wire === WIRE_VARINT) dataType = g.value;
    }
  }
  checkedNumel(dims, dataType, 'a sparse tensor, made dense by onnxruntime', file);
}

function walk(buf: Uint8Array, kind: Kind, what: string, depth: number, file: string, found: Found): void {
  if (kind === 'tensor') {
    visitTensor(buf, what, file, found);
    return;
  }
  if (kind === 'sparse') visitSparse(buf, what, file);
  const children = CHILDREN[kind];
  const d = kind === 'graph' ? depth + 1 : depth;
  if (d > MAX_GRAPH_DEPTH + 1) {
    throw new NapoodError(file, `subgraphs (If / Loop / Scan bodies) nested at most ${MAX_GRAPH_DEPTH} deep`, `a subgraph nested ${d - 1} deep`);
  }
  for (const f of readFields(buf, what)) {
    const child = children[f.no];
    if (child === undefined || f.wire !== WIRE_LEN) continue;
    walk(f.bytes, child, what.length < 60 ? `${what}.${child}` : `….${child}`, d, file, found);
  }
}

/** `buf` with the tensors in `replace` (by payload offset) replaced; undefined when none is inside it. */
function rewrite(buf: Uint8Array, kind: Kind, replace: ReadonlyMap<number, Uint8Array>): Uint8Array | undefined {
  if (kind === 'tensor') return buf.length > 0 ? replace.get(buf.byteOffset) : undefined;
  const children = CHILDREN[kind];
  const fields = readFields(buf, kind);
  let parts: Uint8Array[] | undefined;
  fields.forEach((f, k) => {
    const child = children[f.no];
    const edited = child !== undefined && f.wire === WIRE_LEN ? rewrite(f.bytes, child, replace) : undefined;
    if (edited !== undefined && parts === undefined) parts = fields.slice(0, k).map((g) => buf.subarray(g.start, g.end));
    if (parts !== undefined) parts.push(edited !== undefined ? lenField(f.no, edited) : buf.subarray(f.start, f.end));
  });
  return parts === undefined ? undefined : concatBytes(parts);
}

/** The TensorProto without its external-data fields, with `data` (undefined: none) as raw_data. */
function inlinedTensor(buf: Uint8Array, data: Uint8Array | undefined): Uint8Array {
  const drop = data === undefined ? new Set([13, 14]) : new Set([4, 5, 6, 7, 9, 10, 11, 13, 14]);
  const parts = readFields(buf, 'tensor').filter((f) => !drop.has(f.no)).map((f) => buf.subarray(f.start, f.end));
  if (data !== undefined) parts.push(lenField(9, data));
  return concatBytes(parts);
}

/** The external data a model refers to (after the checks of every tensor); NapoodError naming `file` when a tensor is refused. */
export function externalDataRefs(bytes: Uint8Array, file: string): ExternalDataRef[] {
  return [...scan(bytes, file).external.values()].map((e) => e.ref);
}

function scan(bytes: Uint8Array, file: string): Found {
  const found: Found = { external: new Map(), strays: new Map() };
  // the decoder's messages name the file's last component (adapter.ts parseModel)
  const what = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1) || 'model';
  try {
    walk(bytes, 'model', what, 0, file, found);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw new NapoodError(file, 'an ONNX model (a complete protobuf ModelProto)', e.message);
    throw e;
  }
  return found;
}

/**
 * Check every tensor of the model bytes and return bytes in which none keeps its data outside
 * them: external data is read through `reader` and written into each tensor as raw_data. The
 * same bytes are returned when nothing needs changing. Without `reader`, external data is
 * refused (a NapoodError naming `file`).
 */
export async function prepareModelBytes(bytes: Uint8Array, file: string, reader?: ExternalDataReader): Promise<Uint8Array> {
  const found = scan(bytes, file);
  if (found.external.size === 0 && found.strays.size === 0) return bytes;
  const first = found.external.values().next().value?.ref;
  if (first !== undefined && reader === undefined) {
    throw new NapoodError(file, 'a model with its weights inside it, or opened by its path (external data is read only from files beside a model file)',
      `tensor ${describe(first.tensor)} keeps its data in ${describe(first.location)}` + (found.external.size > 1 ? ` (and ${found.external.size - 1} more tensors)` : ''));
  }
  let total = bytes.length;
  for (const { ref } of found.external.values()) total += ref.length + 16;
  if (total > MAX_TENSOR_BYTES) {
    throw new NapoodError(file, 'a model and its external data under 2 GiB in all (napood passes onnxruntime one protobuf message, which cannot be larger)',
      `${bytesText(total)} with the external data of ${found.external.size} tensors`);
  }
  const replace = new Map<number, Uint8Array>();
  for (const [key, { ref, payload }] of found.external) {
    const data = await reader!(ref);
    if (data.length !== ref.length) throw new Error(`internal: the external data reader gave ${data.length} bytes for ${ref.length}`);
    replace.set(key, inlinedTensor(payload, data));
  }
  for (const [key, payload] of found.strays) replace.set(key, inlinedTensor(payload, undefined));
  return rewrite(bytes, 'model', replace) ?? bytes;
}
