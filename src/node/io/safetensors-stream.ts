/**
 * Streaming .safetensors writer for outputs whose row count is known only at the end (`napood
 * dump` over images that may be skipped). Each tensor's rows go to a temporary file beside the
 * target; `commit` writes the header, copies the pieces in order into the atomic target and
 * removes the temporaries. `abort` (or any error) leaves neither a target nor temporaries.
 * Memory: one copy buffer, whatever the size of the dump.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError } from '../../errors.js';
import { openAtomicWriter } from './atomic.js';
import { removeOnExit, removeStale } from './cleanup.js';

export type StreamDType = 'F32' | 'I64';

interface Part {
  readonly name: string;
  readonly dtype: StreamDType;
  readonly rowShape: readonly number[];
  readonly file: string;
  readonly fd: number;
  rows: number;
  bytes: number;
}

export interface SafetensorsStreamWriter {
  /** Declare a tensor (before its first rows). */
  addTensor(name: string, dtype: StreamDType, rowShape: readonly number[]): void;
  /** Append rows: Float32Array for F32, Int32Array (written as int64) for I64. */
  write(name: string, rows: Float32Array | Int32Array): void;
  /** Rows written so far for a tensor. */
  rows(name: string): number;
  commit(metadata?: Record<string, string>): void;
  abort(): void;
}

export function openSafetensorsStream(target: string, argument = target): SafetensorsStreamWriter {
  const dir = path.dirname(path.resolve(target));
  if (!fs.existsSync(dir)) throw new NapoodError(argument, 'a path in an existing directory', `no directory ${dir}`);
  const parts = new Map<string, Part>();
  const stamp = `${process.pid}-${Date.now().toString(36)}`;
  // Parts left by a run of this output that was killed: its pid is gone.
  removeStale(dir, `.${path.basename(target)}.`, /^(\d+)-[0-9a-z]+\.\d+\.part$/);
  const forget: (() => void)[] = [];
  let done = false;

  const cleanup = () => {
    for (const p of parts.values()) {
      try { fs.closeSync(p.fd); } catch { /* already closed */ }
      try { fs.rmSync(p.file, { force: true }); } catch { /* best effort */ }
    }
    for (const f of forget) f();
  };

  const writer: SafetensorsStreamWriter = {
    addTensor(name, dtype, rowShape) {
      if (parts.has(name)) throw new Error(`tensor ${name} declared twice`);
      const file = path.join(dir, `.${path.basename(target)}.${stamp}.${parts.size}.part`);
      forget.push(removeOnExit(file));
      parts.set(name, { name, dtype, rowShape: [...rowShape], file, fd: fs.openSync(file, 'w'), rows: 0, bytes: 0 });
    },
    write(name, rows) {
      const p = parts.get(name);
      if (!p) throw new Error(`tensor ${name} not declared`);
      const per = p.rowShape.reduce((a, b) => a * b, 1);
      if (rows.length % Math.max(per, 1) !== 0) throw new Error(`${name}: ${rows.length} values is not a whole number of rows of ${per}`);
      let bytes: Uint8Array;
      if (p.dtype === 'I64') {
        const wide = new BigInt64Array(rows.length);
        for (let i = 0; i < rows.length; i++) wide[i] = BigInt(rows[i]);
        bytes = new Uint8Array(wide.buffer);
      } else {
        bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
      }
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(p.fd, bytes, off, bytes.length - off);
      p.rows += per > 0 ? rows.length / per : 0;
      p.bytes += bytes.length;
    },
    rows: (name) => parts.get(name)?.rows ?? 0,
    commit(metadata) {
      if (done) return;
      done = true;
      for (const p of parts.values()) fs.closeSync(p.fd);
      const out = openAtomicWriter(target, argument);
      try {
        const header: Record<string, unknown> = {};
        if (metadata) header.__metadata__ = metadata;
        let offset = 0;
        for (const p of parts.values()) {
          header[p.name] = { dtype: p.dtype, shape: [p.rows, ...p.rowShape], data_offsets: [offset, offset + p.bytes] };
          offset += p.bytes;
        }
        let json = JSON.stringify(header);
        json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
        out.write(len);
        out.write(Buffer.from(json));
        const buf = Buffer.alloc(8 << 20);
        for (const p of parts.values()) {
          const fd = fs.openSync(p.file, 'r');
          try {
            let read: number;
            while ((read = fs.readSync(fd, buf, 0, buf.length, null)) > 0) out.write(buf.subarray(0, read));
          } finally {
            fs.closeSync(fd);
          }
        }
        out.commit();
      } catch (err) {
        out.abort();
        throw err;
      } finally {
        for (const p of parts.values()) fs.rmSync(p.file, { force: true });
      }
    },
    abort() {
      if (done) return;
      done = true;
      cleanup();
    },
  };
  return writer;
}
