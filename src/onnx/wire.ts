/**
 * Protobuf wire format (https://protobuf.dev/programming-guides/encoding/), the part napood's ONNX
 * reader and writers use: splitting a message into its fields (`readFields`; payloads are views
 * into the source buffer, never copies), reading field values (strings, floats, repeated varints
 * and floats, packed or not) and encoding varint, LEN and string fields. Hand-written rather than
 * generated: only the fields napood needs are read, and every malformed input fails with a
 * ProtoDecodeError (a NapoodError), never a RangeError or a TypeError.
 */
import { NapoodError } from '../errors.js';

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

export const EMPTY = new Uint8Array(0);
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

export function str(f: WireField): string {
  return utf8.decode(f.bytes);
}

export function f32(f: WireField): number {
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/** Repeated varint field, packed (LEN) or not. */
export function pushVarints(out: number[], f: WireField, what: string): void {
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
export function pushFloats(out: number[], f: WireField): void {
  if (f.wire === WIRE_FIXED32) {
    out.push(f32(f));
    return;
  }
  const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let p = 0; p + 4 <= f.bytes.length; p += 4) out.push(dv.getFloat32(p, true));
}

export function pushDoubles(out: number[], f: WireField): void {
  const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let p = 0; p + 8 <= f.bytes.length; p += 8) out.push(dv.getFloat64(p, true));
}

export function expectWire(f: WireField, wire: number, what: string): void {
  if (f.wire !== wire) {
    throw new ProtoDecodeError(`${what}: field ${f.no} has wire type ${f.wire}, expected ${wire} (not an ONNX message?)`);
  }
}

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
