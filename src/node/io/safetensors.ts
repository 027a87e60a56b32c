/**
 * safetensors files (https://github.com/huggingface/safetensors, format section of its README):
 *
 *   header length N (u64 LE) | N bytes of UTF-8 JSON
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …, "__metadata__": {str: str}}
 *   | data buffer (offsets are relative to its start; little-endian, C order).
 *
 * The header is validated before any tensor is used: N within the file and at most 100 MB (the
 * reference implementation's limit, so a corrupt length cannot make us allocate gigabytes), each
 * dtype known, end − begin = prod(shape) · element size, offsets inside the data buffer and no two
 * tensors overlapping. dtypes read: F32 F16 BF16 F64 I64 I32 I16 U8 I8.
 */
import * as fs from 'node:fs';
import { NapoodError, describe, shapeString } from '../../errors.js';
import { type DType, HOST_LITTLE_ENDIAN, dtypeSize, swapBytes } from './convert.js';
import { writeFileAtomic } from './atomic.js';
import { type StoredTensor, elementCount, readTensorFloat32, shapeByteLength } from './tensor.js';
import { openRegularFile, readAt } from './file.js';

/** The reference implementation's header size limit. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'U8' | 'I8';

const ST_TO_DTYPE: Readonly<Record<SafetensorsDType, DType>> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', U8: 'uint8', I8: 'int8',
};

/** A tensor of a safetensors file (a StoredTensor plus its place in the data buffer). */
export interface SafetensorsTensor extends StoredTensor {
  /** Same as `file` (the descriptor shape shared with .npy). */
  readonly path: string;
  readonly stDtype: SafetensorsDType;
  readonly dataOffsets: readonly [number, number];
}

export interface SafetensorsHeader {
  readonly path: string;
  readonly headerLength: number;
  /** Byte offset of the data buffer (8 + header length). */
  readonly dataStart: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in header order. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
}

function isSafeNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Deepest nesting of objects and arrays accepted in a header (a valid one nests 3 levels). */
export const SAFETENSORS_MAX_NESTING = 16;

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** What a scan of the JSON text found before it is parsed. */
interface JsonScan {
  /** A key that appears twice in one object: the key, and the key of the entry holding that object ('' at the top level). */
  readonly duplicate?: { readonly key: string; readonly parent: string };
}

/**
 * One pass over a JSON text, before JSON.parse: refuses nesting deeper than `maxDepth` (JSON.parse
 * recurses, and a header of 300,000 '[' would overflow the stack) and finds the first key that
 * appears twice in one object (JSON.parse keeps the last silently). The scan tracks strings,
 * brackets and commas only; the text's validity is JSON.parse's business.
 */
function scanJson(text: string, maxDepth: number, argument: string): JsonScan {
  interface Level { readonly keys: Set<string> | null; expectKey: boolean; lastKey: string; readonly parent: string }
  const stack: Level[] = [];
  let duplicate: JsonScan['duplicate'];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // "
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i, j + 1);
        let key = raw;
        try { key = JSON.parse(raw) as string; } catch { /* JSON.parse reports it */ }
        if (top.keys.has(key)) duplicate ??= { key, parent: top.parent };
        top.keys.add(key);
        top.expectKey = false;
        top.lastKey = key;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) { // { [
      if (stack.length >= maxDepth) {
        throw new NapoodError(argument, `a safetensors header nested at most ${maxDepth} levels deep`,
          `deeper nesting at byte ${i} of the header (corrupt or hostile file)`);
      }
      const parent = stack[stack.length - 1]?.lastKey ?? '';
      stack.push({ keys: c === 0x7b ? new Set() : null, expectKey: c === 0x7b, lastKey: parent, parent });
    } else if (c === 0x7d || c === 0x5d) { // } ]
      stack.pop();
    } else if (c === 0x2c) { // ,
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return { duplicate };
}

/**
 * Parse and validate a safetensors header held in `bytes` (the whole file, or at least its first
 * 8 + N bytes when `fileSize` gives the size of the whole file). `argument` names the file in
 * errors; `file` goes into the tensors' descriptors. Checked before anything is used: N within
 * the file and the 100 MB limit, valid UTF-8, nesting depth, no key twice, each dtype known,
 * each shape's size below 2^53 bytes, end − begin = prod(shape) · element size, offsets within
 * the data buffer, no two tensors overlapping.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, argument: string, fileSize: number = bytes.length, file: string = argument): SafetensorsHeader {
  if (bytes.length < 8 || fileSize < 8) throw new NapoodError(argument, 'a .safetensors file (8-byte header length, JSON header, data)', `a file of ${fileSize} bytes`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const limit = Math.min(SAFETENSORS_MAX_HEADER_BYTES, fileSize - 8);
  if (n64 > BigInt(limit)) {
    throw new NapoodError(argument, `a safetensors header length of at most ${limit} bytes (file of ${fileSize} bytes${limit === SAFETENSORS_MAX_HEADER_BYTES ? ', 100 MB limit' : ''})`,
      `${n64} (corrupt or not a safetensors file)`);
  }
  const headerLength = Number(n64);
  if (8 + headerLength > bytes.length) throw new NapoodError(argument, `the safetensors header (${8 + headerLength} bytes) in the bytes given`, `${bytes.length} bytes`);
  let text: string;
  try {
    text = utf8Strict.decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new NapoodError(argument, 'a safetensors header of UTF-8 JSON', 'bytes that are not valid UTF-8 (corrupt or not a safetensors file)');
  }
  const scan = scanJson(text, SAFETENSORS_MAX_NESTING, argument);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NapoodError(argument, 'a safetensors header of valid JSON', `${(err as Error).message} in ${describe(text)}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new NapoodError(argument, 'a safetensors header holding a JSON object', describe(text));
  }
  if (scan.duplicate) {
    const { key, parent } = scan.duplicate;
    throw parent === ''
      ? new NapoodError(argument, 'a safetensors header naming each tensor once', `${describe(key)} twice (JSON parsers would silently keep the last one)`)
      : new NapoodError(`${argument}: ${parent === '__metadata__' ? '"__metadata__"' : `tensor "${parent}"`}`, 'each key once', `${describe(key)} twice`);
  }
  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    const where = `${argument}: tensor "${name}"`;
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        throw new NapoodError(`${argument}: "__metadata__"`, 'an object of string values', describe(JSON.stringify(entry)));
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new NapoodError(where, 'an object {dtype, shape, data_offsets}', describe(JSON.stringify(entry)));
    }
    const e = entry as Record<string, unknown>;
    const st = e.dtype;
    if (typeof st !== 'string' || !Object.hasOwn(ST_TO_DTYPE, st)) {
      throw new NapoodError(where, `a dtype of ${Object.keys(ST_TO_DTYPE).join(', ')}`, describe(JSON.stringify(st)));
    }
    const stDtype = st as SafetensorsDType;
    const dtype = ST_TO_DTYPE[stDtype];
    if (!Array.isArray(e.shape) || !e.shape.every(isSafeNonNegInt)) {
      throw new NapoodError(where, 'a shape of non-negative integers', describe(JSON.stringify(e.shape)));
    }
    const shape = (e.shape as number[]).slice();
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isSafeNonNegInt) || offs[0] > offs[1]) {
      throw new NapoodError(where, 'data_offsets [begin, end] with 0 ≤ begin ≤ end', describe(JSON.stringify(offs)));
    }
    const [begin, end] = offs as [number, number];
    const byteLength = shapeByteLength(shape, dtypeSize(dtype));
    if (byteLength === undefined) {
      throw new NapoodError(where, 'a shape whose size fits in 2^53 bytes', `shape ${shapeString(shape)} ${stDtype} (corrupt header?)`);
    }
    if (end - begin !== byteLength) {
      throw new NapoodError(where, `${byteLength} bytes for shape ${shapeString(shape)} ${stDtype}`, `data_offsets [${begin}, ${end}] (${end - begin} bytes)`);
    }
    if (end > dataSize) {
      throw new NapoodError(where, `data_offsets within the data buffer of ${dataSize} bytes (file of ${fileSize} bytes)`, `[${begin}, ${end}] (truncated file?)`);
    }
    tensors.set(name, {
      name, file, path: file, dtype, stDtype, shape, dataOffset: dataStart + begin, byteLength, littleEndian: true, dataOffsets: [begin, end],
    });
  }
  // No two tensors may share bytes.
  const sorted = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].dataOffsets[0] < sorted[i - 1].dataOffsets[1]) {
      throw new NapoodError(`${argument}: tensor "${sorted[i].name}"`, `data that does not overlap tensor "${sorted[i - 1].name}" [${sorted[i - 1].dataOffsets.join(', ')}]`,
        `data_offsets [${sorted[i].dataOffsets.join(', ')}]`);
    }
  }
  return { path: file, headerLength, dataStart, metadata, tensors };
}

/**
 * Parse and validate the header of the safetensors file at `file` (see parseSafetensorsHeader).
 * `argument` names it in errors. Only a regular file is opened (a FIFO or a directory is refused,
 * see file.ts); only the 8 + N header bytes are read.
 */
export function readSafetensorsHeader(file: string, argument: string = file): SafetensorsHeader {
  const { fd, size: fileSize } = openRegularFile(file, argument, 'a readable .safetensors file');
  try {
    const pre = readAt(fd, 8, 0);
    if (pre.length < 8) return parseSafetensorsHeader(pre, argument, fileSize, file);
    const n64 = new DataView(pre.buffer, pre.byteOffset, 8).getBigUint64(0, true);
    // Too long a length is refused by the parser without reading the header.
    if (n64 > BigInt(Math.min(SAFETENSORS_MAX_HEADER_BYTES, fileSize - 8))) return parseSafetensorsHeader(pre, argument, fileSize, file);
    const bytes = readAt(fd, 8 + Number(n64), 0);
    if (bytes.length < 8 + Number(n64)) {
      throw new NapoodError(argument, `a safetensors header of ${n64} bytes`, `a file that ends at byte ${bytes.length} (it changed while being read)`);
    }
    return parseSafetensorsHeader(bytes, argument, fileSize, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Read every tensor of a (small) safetensors file as float32. For large files use `TensorReader`. */
export function readSafetensors(file: string, argument: string = file): Map<string, { shape: number[]; dtype: DType; data: Float32Array }> {
  const h = readSafetensorsHeader(file, argument);
  const out = new Map<string, { shape: number[]; dtype: DType; data: Float32Array }>();
  for (const t of h.tensors.values()) out.set(t.name, { shape: t.shape.slice(), dtype: t.dtype, data: readTensorFloat32(t) });
  return out;
}

/** Raw data for writing: F16 / BF16 as Uint16Array bit patterns, I64 as BigInt64Array. */
export type SafetensorsData = Float32Array | Float64Array | Uint16Array | Int32Array | Int16Array | Uint8Array | Int8Array | BigInt64Array;

export interface SafetensorsInput {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

type ArrayCtor = { new (n: number): SafetensorsData; readonly name: string };
const ARRAY_FOR: Readonly<Record<SafetensorsDType, ArrayCtor>> = {
  F32: Float32Array, F16: Uint16Array, BF16: Uint16Array, F64: Float64Array, I64: BigInt64Array, I32: Int32Array, I16: Int16Array, U8: Uint8Array, I8: Int8Array,
};

/**
 * Write `tensors` (in the given order) and optional string `metadata` as a safetensors file,
 * atomically. The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function writeSafetensors(file: string, tensors: Readonly<Record<string, SafetensorsInput>>, metadata?: Readonly<Record<string, string>>, argument: string = file): void {
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new NapoodError(`${argument}: metadata "${k}"`, 'a string value', describe(String(v)));
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const where = `${argument}: tensor "${name}"`;
    if (name === '__metadata__') throw new NapoodError(where, 'a tensor name other than "__metadata__"', name);
    if (!(t.dtype in ST_TO_DTYPE)) throw new NapoodError(where, `a dtype of ${Object.keys(ST_TO_DTYPE).join(', ')}`, describe(String(t.dtype)));
    if (!t.shape.every(isSafeNonNegInt)) throw new NapoodError(where, 'a shape of non-negative integers', shapeString(t.shape));
    if (!(t.data instanceof ARRAY_FOR[t.dtype])) throw new NapoodError(where, `a ${ARRAY_FOR[t.dtype].name} for dtype ${t.dtype}`, `a ${t.data.constructor.name}`);
    const n = elementCount(t.shape);
    if (t.data.length !== n) throw new NapoodError(where, `${n} elements for shape ${shapeString(t.shape)}`, `${t.data.length}`);
    let bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (!HOST_LITTLE_ENDIAN) {
      bytes = bytes.slice();
      swapBytes(bytes, t.data.BYTES_PER_ELEMENT);
    }
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    chunks.push(bytes);
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length), 0);
  writeFileAtomic(file, [len, json, ...chunks], argument);
}
