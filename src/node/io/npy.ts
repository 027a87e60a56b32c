/**
 * NumPy .npy files: header parsing (format versions 1.0, 2.0, 3.0) and writing (version 1.0, or
 * 2.0 when the header does not fit), following numpy/lib/format.py (NEP 1):
 *
 *   "\x93NUMPY" | major u8 | minor u8 | header length (u16 LE in v1, u32 LE in v2/v3) |
 *   header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *   (latin-1 in v1/v2, utf-8 in v3), padded with spaces and ending in '\n' | raw data, C order.
 *
 * Supported descr: float32/16/64, int64/32/16, uint8, int8, little- or big-endian ('<', '>', '='
 * native, '|' for one-byte types). Fortran order is refused for ≥ 2-D arrays (napood reads C-order
 * rows). The data size is checked against the file size before anything is read. The header's
 * dict literal is read by npy-literal.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError, describe, shapeString } from '../../errors.js';
import { type DType, HOST_LITTLE_ENDIAN, dtypeSize, swapBytes } from './convert.js';
import { openAtomicWriter, writeFileAtomic } from './atomic.js';
import { PyLiteralParser } from './npy-literal.js';
import { type StoredTensor, elementCount, readTensorFloat32, shapeByteLength } from './tensor.js';
import { openRegularFile, readAt } from './file.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Largest header napood accepts (numpy's own reader refuses > 10000 bytes by default). */
export const NPY_MAX_HEADER_BYTES = 1 << 20;
/** Most dimensions a shape may have (numpy 2's NPY_MAXDIMS). */
export const NPY_MAX_DIMS = 64;

/** A parsed .npy header: where the data lies and how to read it. */
export interface NpyDescriptor {
  readonly path: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly dataOffset: number;
  readonly byteLength: number;
  readonly littleEndian: boolean;
  /** The descr string as written, e.g. '<f4'. */
  readonly descr: string;
  readonly version: readonly [number, number];
}

const DESCR_TYPES: Readonly<Record<string, DType>> = {
  f4: 'float32', f2: 'float16', f8: 'float64', i8: 'int64', i4: 'int32', i2: 'int16', u1: 'uint8', i1: 'int8',
};

const NPY_CODES: Readonly<Record<DType, string | undefined>> = {
  float32: '<f4', float16: '<f2', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2', uint8: '|u1', int8: '|i1', bfloat16: undefined,
};

/** dtype and byte order of a numpy descr string such as '<f4', '>i8', '|u1'. */
export function parseDescr(descr: string, file: string): { dtype: DType; littleEndian: boolean } {
  if (/^[<>|=]?O\d*$/.test(descr)) {
    throw new NapoodError(file, 'a numeric dtype (float32, float16, float64, int64, int32, int16, uint8 or int8)',
      `descr ${describe(descr)}: an object array (pickled Python objects, which napood never unpickles)`);
  }
  const m = /^([<>|=])([a-z][0-9]+)$/.exec(descr);
  const dtype = m ? DESCR_TYPES[m[2]] : undefined;
  if (!m || !dtype) {
    throw new NapoodError(file, "a dtype of float32, float16, float64, int64, int32, int16, uint8 or int8 ('<f4', '<f2', '<f8', '<i8', '<i4', '<i2', '|u1', '|i1', or big-endian '>…')",
      `descr ${describe(descr)}`);
  }
  const order = m[1];
  if (order === '|' && dtypeSize(dtype) !== 1) throw new NapoodError(file, `a byte order ('<' or '>') for a ${dtypeSize(dtype)}-byte dtype`, `descr ${describe(descr)}`);
  return { dtype, littleEndian: order === '>' ? false : order === '<' ? true : HOST_LITTLE_ENDIAN };
}

/** Fields of the fixed .npy prefix: version and where the header lies. */
interface NpyPrefix {
  readonly major: number;
  readonly minor: number;
  readonly headerStart: number;
  readonly headerLen: number;
}

/** The magic, version and header length of a .npy file from its first (up to 12) bytes. */
function parseNpyPrefix(pre: Uint8Array, fileSize: number, argument: string): NpyPrefix {
  if (pre.length < 10 || !MAGIC.every((b, i) => pre[i] === b)) {
    throw new NapoodError(argument, 'a .npy file (starting with the magic "\\x93NUMPY")',
      pre.length < 6 ? `a file of ${fileSize} bytes` : `first bytes ${describe(Buffer.from(pre.subarray(0, 6)).toString('latin1'))}`);
  }
  const major = pre[6], minor = pre[7];
  if (!(major === 1 || major === 2 || major === 3) || minor !== 0) {
    throw new NapoodError(argument, '.npy format version 1.0, 2.0 or 3.0', `version ${major}.${minor}`);
  }
  const lenBytes = major === 1 ? 2 : 4;
  if (pre.length < 8 + lenBytes) throw new NapoodError(argument, `a .npy header length field of ${lenBytes} bytes`, `a file of ${fileSize} bytes`);
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.length);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const headerStart = 8 + lenBytes;
  if (headerLen > NPY_MAX_HEADER_BYTES) {
    throw new NapoodError(argument, `a .npy header of at most ${NPY_MAX_HEADER_BYTES} bytes`, `a header length of ${headerLen} bytes (corrupt file?)`);
  }
  if (headerStart + headerLen > fileSize) {
    throw new NapoodError(argument, `a .npy header of ${headerLen} bytes (file of at least ${headerStart + headerLen} bytes)`, `a file of ${fileSize} bytes (truncated)`);
  }
  return { major, minor, headerStart, headerLen };
}

/** The descriptor from the header's dict literal; the data must fit in `fileSize` bytes. */
function parseNpyDict(headerBytes: Uint8Array, p: NpyPrefix, fileSize: number, file: string, argument: string): NpyDescriptor {
  const text = Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.length).toString(p.major === 3 ? 'utf8' : 'latin1');
  const parsed = new PyLiteralParser(text, argument).parseAll();
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new NapoodError(argument, 'a .npy header holding a dict', describe(text.trim()));
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!Object.hasOwn(parsed, key)) throw new NapoodError(argument, `a .npy header with the key '${key}'`, describe(text.trim()));
  }
  const descr = parsed.descr;
  if (typeof descr !== 'string') {
    throw new NapoodError(argument, "a plain dtype descr such as '<f4' (structured arrays are not supported)", `descr ${describe(JSON.stringify(descr))}`);
  }
  const { dtype, littleEndian } = parseDescr(descr, argument);
  const shapeV = parsed.shape;
  if (!Array.isArray(shapeV) || !shapeV.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NapoodError(argument, 'a shape tuple of non-negative integers', `shape ${describe(JSON.stringify(shapeV))}`);
  }
  const shape = shapeV as number[];
  if (shape.length > NPY_MAX_DIMS) throw new NapoodError(argument, `a shape of at most ${NPY_MAX_DIMS} dimensions (numpy's limit)`, `${shape.length} dimensions`);
  if (typeof parsed.fortran_order !== 'boolean') throw new NapoodError(argument, "fortran_order True or False", describe(JSON.stringify(parsed.fortran_order)));
  // A ≤ 1-D array has the same bytes in either order.
  if (parsed.fortran_order && shape.length > 1) {
    throw new NapoodError(argument, 'a C-order (row-major) array; save it with np.save(np.ascontiguousarray(a))', `fortran_order True, shape ${shapeString(shape)}`);
  }
  const dataOffset = p.headerStart + p.headerLen;
  const byteLength = shapeByteLength(shape, dtypeSize(dtype));
  if (byteLength === undefined) {
    throw new NapoodError(argument, 'a shape whose size fits in 2^53 bytes', `shape ${shapeString(shape)} ${dtype} (corrupt header?)`);
  }
  if (dataOffset + byteLength > fileSize) {
    throw new NapoodError(argument, `${dataOffset + byteLength} bytes (header ${dataOffset} + data ${shapeString(shape)} ${dtype} = ${byteLength})`,
      `${fileSize} bytes (truncated file)`);
  }
  return { path: file, dtype, shape, dataOffset, byteLength, littleEndian, descr, version: [p.major, p.minor] };
}

/**
 * Parse the header of a .npy file held in `bytes` (the whole file, or at least its prefix and
 * header when `fileSize` gives the size of the whole file) and check that the file holds all the
 * data. `argument` names it in errors; `file` goes into the descriptor's path.
 */
export function parseNpyHeader(bytes: Uint8Array, argument: string, fileSize: number = bytes.length, file: string = argument): NpyDescriptor {
  const p = parseNpyPrefix(bytes.subarray(0, 12), fileSize, argument);
  const end = p.headerStart + p.headerLen;
  if (end > bytes.length) throw new NapoodError(argument, `the .npy header (${end} bytes) in the bytes given`, `${bytes.length} bytes`);
  return parseNpyDict(bytes.subarray(p.headerStart, end), p, fileSize, file, argument);
}

/**
 * Parse the header of the .npy file at `file` and check that the file holds all the data.
 * `argument` names the file in errors (default: the path). Only a regular file is opened (a FIFO
 * or a directory is refused, see file.ts); only the prefix and the header are read.
 */
export function readNpyHeader(file: string, argument: string = file): NpyDescriptor {
  const { fd, size: fileSize } = openRegularFile(file, argument, 'a readable .npy file');
  try {
    const p = parseNpyPrefix(readAt(fd, 12, 0), fileSize, argument);
    const header = readAt(fd, p.headerLen, p.headerStart);
    if (header.length < p.headerLen) throw new NapoodError(argument, `a .npy header of ${p.headerLen} bytes`, `a file that ends at byte ${p.headerStart + header.length} (it changed while being read)`);
    return parseNpyDict(header, p, fileSize, file, argument);
  } finally {
    fs.closeSync(fd);
  }
}

/** The stored-tensor view of a .npy file (name = file stem). */
export function npyTensor(desc: NpyDescriptor, name: string = path.basename(desc.path).replace(/\.npy$/, '')): StoredTensor {
  return { name, file: desc.path, dtype: desc.dtype, shape: desc.shape, dataOffset: desc.dataOffset, byteLength: desc.byteLength, littleEndian: desc.littleEndian };
}

/** Read a whole (small) .npy file as float32. For large files use `TensorReader` row ranges. */
export function readNpy(file: string, argument: string = file): { shape: number[]; dtype: DType; data: Float32Array } {
  const d = readNpyHeader(file, argument);
  return { shape: d.shape, dtype: d.dtype, data: readTensorFloat32(npyTensor(d)) };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Typed arrays writeNpy accepts, and their dtype. */
export type NpyArray = Float32Array | Float64Array | Int32Array | Int16Array | Uint8Array | Int8Array | BigInt64Array;

function dtypeOfArray(a: NpyArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof BigInt64Array) return 'int64';
  return 'uint8';
}

/** Header bytes (magic … '\n') for a C-order array; padded so that the data starts at a multiple of 64. */
export function npyHeader(dtype: DType, shape: readonly number[], minHeaderBytes = 0): Uint8Array {
  const descr = NPY_CODES[dtype];
  if (!descr) throw new NapoodError('writeNpy', 'a dtype that .npy can store', dtype);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const roundUp = (x: number): number => Math.ceil(x / 64) * 64;
  // Version 1.0 while the header length fits its u16 field, else 2.0 (u32).
  let total = roundUp(Math.max(10 + dict.length + 1, minHeaderBytes));
  const v1 = total - 10 <= 0xffff;
  if (!v1) total = roundUp(Math.max(12 + dict.length + 1, minHeaderBytes));
  const pre = v1 ? 10 : 12;
  dict = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (v1) dv.setUint16(8, dict.length, true);
  else dv.setUint32(8, dict.length, true);
  out.set(Buffer.from(dict, 'latin1'), pre);
  return out;
}

function checkShape(shape: readonly number[], argument: string): void {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NapoodError(argument, 'a shape of non-negative integers', shapeString(shape));
}

/** Little-endian bytes of a typed array (a view when the host is little-endian, else a swapped copy). */
function leBytes(a: NpyArray | Uint16Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LITTLE_ENDIAN) return view;
  const copy = view.slice();
  swapBytes(copy, a.BYTES_PER_ELEMENT);
  return copy;
}

/**
 * Write `array` with `shape` (default: 1-D) as a .npy file (v1.0, C order, little-endian),
 * atomically. The dtype follows the array type (Float64Array → '<f8', Float32Array → '<f4', …).
 */
export function writeNpy(file: string, array: NpyArray, shape: readonly number[] = [array.length], argument: string = file): void {
  checkShape(shape, argument);
  if (elementCount(shape) !== array.length) {
    throw new NapoodError(argument, `an array of ${elementCount(shape)} elements for shape ${shapeString(shape)}`, `${array.length} elements`);
  }
  writeFileAtomic(file, [npyHeader(dtypeOfArray(array), shape), leBytes(array)], argument);
}

/** A streamed .npy writer: rows are appended, the header (with the final row count) is written at commit. */
export interface NpyStreamWriter {
  readonly rows: number;
  /** Append whole rows (length must be a multiple of the row size); the array type must match the dtype. */
  write(rows: NpyArray): void;
  commit(): void;
  abort(): void;
}

/**
 * Open a streamed, atomic .npy writer for arrays of shape [rows, ...rowShape] whose row count is
 * known only at the end. Space for the header is reserved up front (enough for 2^53 rows).
 */
export function openNpyWriter(file: string, dtype: DType, rowShape: readonly number[], argument: string = file): NpyStreamWriter {
  checkShape(rowShape, argument);
  if (!NPY_CODES[dtype]) throw new NapoodError(argument, 'a dtype that .npy can store', dtype);
  const rowElems = elementCount(rowShape);
  const reserved = npyHeader(dtype, [9007199254740991, ...rowShape]).length;
  const w = openAtomicWriter(file, argument);
  let rows = 0;
  try {
    w.write(new Uint8Array(reserved));
  } catch (err) {
    w.abort();
    throw err;
  }
  return {
    get rows() { return rows; },
    write(a: NpyArray): void {
      if (dtypeOfArray(a) !== dtype) {
        w.abort();
        throw new NapoodError(argument, `rows of dtype ${dtype}`, `a ${a.constructor.name}`);
      }
      if (rowElems === 0 ? a.length !== 0 : a.length % rowElems !== 0) {
        w.abort();
        throw new NapoodError(argument, `whole rows of ${rowElems} elements (row shape ${shapeString(rowShape)})`, `${a.length} elements`);
      }
      w.write(leBytes(a));
      if (rowElems > 0) rows += a.length / rowElems;
    },
    commit(): void {
      try {
        w.writeAt(npyHeader(dtype, [rows, ...rowShape], reserved), 0);
      } catch (err) {
        w.abort();
        throw err;
      }
      w.commit();
    },
    abort(): void {
      w.abort();
    },
  };
}
