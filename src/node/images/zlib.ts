/** png.ts's zlib step in Node: node:zlib's inflate (one output chunk, the size capped) and CRC-32. */
import * as zlib from 'node:zlib';
import type { PngZlib } from '../../images/png.js';

export const nodeZlib: PngZlib = {
  inflate(stream, maxOutputLength) {
    // One output chunk of the expected size (no concatenation); more is an error.
    const chunkSize = Math.max(64, Math.min(maxOutputLength, 1 << 22));
    const r = zlib.inflateSync(stream, { maxOutputLength, chunkSize, info: true }) as unknown as { buffer: Buffer; engine: zlib.Inflate };
    return { data: new Uint8Array(r.buffer.buffer, r.buffer.byteOffset, r.buffer.length), consumed: r.engine.bytesWritten };
  },
  // zlib.crc32 is in Node ≥ 20.15; png.ts's own CRC-32 otherwise.
  ...(typeof zlib.crc32 === 'function' ? { crc32: (bytes: Uint8Array) => zlib.crc32(bytes) } : {}),
};
