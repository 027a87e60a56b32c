/**
 * Row-chunked reading of one stored tensor (a .npy file, or one tensor of a .safetensors file).
 *
 * A tensor is described by where its bytes lie (file, offset, dtype, byte order, shape); rows are
 * slices along dimension 0. Reads use fs.readSync at file offsets into a reused scratch buffer of
 * bounded size (SCRATCH_BYTES), so a tensor larger than memory is read piece by piece; nothing ever
 * reads a whole file. float32 little-endian data is read straight into the output array.
 */
import * as fs from 'node:fs';
import { NapoodError, shapeString } from '../../errors.js';
import { type DType, HOST_LITTLE_ENDIAN, dtypeSize, swapBytes, toFloat32, toFloat64 } from './convert.js';
import { openRegularFile } from './file.js';

/** Where a stored tensor's bytes lie. */
export interface StoredTensor {
  /** Tensor name (file stem for .npy, key for .safetensors). */
  readonly name: string;
  /** The file holding the bytes. */
  readonly file: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte offset of element 0 in `file`. */
  readonly dataOffset: number;
  /** prod(shape) · element size. */
  readonly byteLength: number;
  readonly littleEndian: boolean;
}

/** Largest scratch buffer a reader allocates (bytes); larger reads are done in pieces. */
export const SCRATCH_BYTES = 4 << 20;

/**
 * Largest array one read returns (bytes): rows are read into one typed array, and JS engines cap
 * those (V8: 2^32 elements on 64-bit hosts); 2 GiB keeps every reader well inside that.
 */
export const MAX_READ_BYTES = 2 ** 31;

/**
 * prod(shape) · elemSize, or undefined when it would not be exact in a double: the product of
 * the non-zero dimensions (so also every row size, whatever the row count) must stay below
 * 2^53. A zero dimension makes the tensor empty (0 bytes).
 */
export function shapeByteLength(shape: readonly number[], elemSize: number): number | undefined {
  let n = elemSize;
  let empty = false;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return undefined;
    if (d === 0) empty = true;
    else if (!Number.isSafeInteger((n *= d))) return undefined;
  }
  return empty ? 0 : n;
}

/**
 * Refuse a read of `rows` rows of `t` into float32 (or float64 when `bytesPerValue` is 8) that
 * would need an array over MAX_READ_BYTES, before anything is allocated. `argument` names the
 * dump in the error.
 */
export function checkReadSize(t: StoredTensor, rows: number, argument: string, bytesPerValue = 4, hint = ''): void {
  const per = rowElements(t) * bytesPerValue;
  const bytes = rows * per;
  if (bytes > MAX_READ_BYTES) {
    const as = bytesPerValue === 4 ? 'float32' : 'float64';
    throw new NapoodError(argument, `rows of tensor "${t.name}" ${shapeString(t.shape)} that fit in one array of at most ${MAX_READ_BYTES / 2 ** 30} GiB`,
      rows === 1 || per > MAX_READ_BYTES ? `one row of ${per} bytes as ${as} (a corrupt header, or a tensor too large for napood)`
        : `${rows} rows of ${per} bytes = ${bytes} bytes as ${as} in one read${hint ? ` (${hint})` : ''}`);
  }
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Elements per row (product of dimensions 1…), 1 for 0-D and 1-D tensors. */
export function rowElements(t: StoredTensor): number {
  return t.shape.length <= 1 ? 1 : elementCount(t.shape.slice(1));
}

/** Number of rows (dimension 0), 1 for a 0-D tensor. */
export function rowCount(t: StoredTensor): number {
  return t.shape.length === 0 ? 1 : t.shape[0];
}

/** Reads rows of stored tensors through cached file descriptors and one reused scratch buffer. */
export class TensorReader {
  private readonly fds = new Map<string, number>();
  private scratch = new Uint8Array(0);
  private closed = false;

  /** `scratchBytes`: size of the pieces non-float32 data is read in (default SCRATCH_BYTES). */
  constructor(private readonly scratchBytes: number = SCRATCH_BYTES) {}

  /** Open (or reuse) a descriptor for `file`. */
  private fd(file: string): number {
    if (this.closed) throw new NapoodError(file, 'an open dump', 'one that was already closed');
    let fd = this.fds.get(file);
    if (fd === undefined) {
      fd = openRegularFile(file, file, 'a readable tensor file').fd;
      this.fds.set(file, fd);
    }
    return fd;
  }

  private scratchOf(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(new ArrayBuffer(bytes));
    return this.scratch.subarray(0, bytes);
  }

  /** Read exactly `length` bytes at `position` into `into` (offset 0), or throw naming the file. */
  private readExact(t: StoredTensor, into: Uint8Array, length: number, position: number): void {
    const fd = this.fd(t.file);
    let done = 0;
    while (done < length) {
      const got = fs.readSync(fd, into, done, length - done, position + done);
      if (got === 0) {
        throw new NapoodError(t.file, `${position + length} bytes (tensor "${t.name}" ${shapeString(t.shape)} ${t.dtype})`,
          `the file ends at byte ${position + done} (it changed or was truncated after it was opened)`);
      }
      done += got;
    }
  }

  private checkRange(t: StoredTensor, start: number, count: number): void {
    const rows = rowCount(t);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
      throw new NapoodError(t.name, `a row range within [0, ${rows})`, `start ${start}, count ${count}`);
    }
  }

  /**
   * Visit rows [start, start+count) in pieces of at most SCRATCH_BYTES: `visit(bytes, elements, elemOffset)`
   * gets the raw bytes in host byte order, the element count and the element offset within the range.
   */
  private forEachPiece(t: StoredTensor, start: number, count: number, visit: (bytes: Uint8Array, elems: number, elemOffset: number) => void): void {
    const size = dtypeSize(t.dtype);
    const total = count * rowElements(t);
    const perPiece = Math.max(1, Math.floor(this.scratchBytes / size));
    const base = t.dataOffset + start * rowElements(t) * size;
    for (let done = 0; done < total; done += perPiece) {
      const elems = Math.min(perPiece, total - done);
      const bytes = this.scratchOf(elems * size);
      this.readExact(t, bytes, elems * size, base + done * size);
      if (t.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, size);
      visit(bytes, elems, done);
    }
  }

  /** Rows [start, start+count) as float32 (row-major), into `out` (allocated when absent). */
  readFloat32(t: StoredTensor, start: number, count: number, out?: Float32Array): Float32Array {
    this.checkRange(t, start, count);
    const total = count * rowElements(t);
    if (!out) checkReadSize(t, count, t.name);
    if (out && out.length < total) throw new NapoodError(t.name, `an output array of ≥ ${total} elements`, `${out.length}`);
    const dst = out ?? new Float32Array(total);
    if (t.dtype === 'float32' && t.littleEndian === HOST_LITTLE_ENDIAN) {
      // Straight into the destination, no scratch copy.
      this.readExact(t, new Uint8Array(dst.buffer, dst.byteOffset, total * 4), total * 4, t.dataOffset + start * rowElements(t) * 4);
      return dst;
    }
    this.forEachPiece(t, start, count, (bytes, elems, off) => toFloat32(bytes, t.dtype, elems, dst, off));
    return dst;
  }

  /** Rows [start, start+count) as float64 numbers (integers exact up to 2^53). */
  readFloat64(t: StoredTensor, start: number, count: number): Float64Array {
    this.checkRange(t, start, count);
    checkReadSize(t, count, t.name, 8);
    const dst = new Float64Array(count * rowElements(t));
    this.forEachPiece(t, start, count, (bytes, elems, off) => toFloat64(bytes, t.dtype, elems, dst, off));
    return dst;
  }

  /** Close every file descriptor; later reads throw. */
  close(): void {
    for (const fd of this.fds.values()) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
    this.fds.clear();
    this.scratch = new Uint8Array(0);
    this.closed = true;
  }
}

/** Read a whole (small) stored tensor as float32 with a one-off reader. */
export function readTensorFloat32(t: StoredTensor): Float32Array {
  const r = new TensorReader();
  try {
    return r.readFloat32(t, 0, rowCount(t));
  } finally {
    r.close();
  }
}
