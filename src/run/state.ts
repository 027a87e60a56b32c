/**
 * Fitted method state as plain JSON. Typed arrays become {"$typed": "float32" | "float64" |
 * "int32" | "uint8", "base64": …} (little-endian bytes), everything else is JSON as it is.
 * A state file holds one entry per method spec: {napood: 1, methods: {spec: {name, params, state}}}.
 */
import { NapoodError } from '../errors.js';

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;
const KINDS: Record<string, { new (buffer: ArrayBuffer): Typed }> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array,
};

function kindOf(value: unknown): string | undefined {
  if (value instanceof Float32Array) return 'float32';
  if (value instanceof Float64Array) return 'float64';
  if (value instanceof Int32Array) return 'int32';
  if (value instanceof Uint8Array && !(value instanceof Buffer)) return 'uint8';
  return undefined;
}

export function encodeState(value: unknown): unknown {
  const kind = kindOf(value);
  if (kind) {
    const t = value as Typed;
    return { $typed: kind, length: t.length, base64: Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encodeState);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeState(v);
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

export function decodeState(value: unknown, argument = '--state'): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeState(v, argument));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof obj.$typed === 'string') {
      const ctor = KINDS[obj.$typed];
      if (!ctor || typeof obj.base64 !== 'string') throw new NapoodError(argument, 'a typed array of float32/float64/int32/uint8 in base64', JSON.stringify(obj.$typed));
      const bytes = Buffer.from(obj.base64, 'base64');
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      const arr = new ctor(copy.buffer);
      if (typeof obj.length === 'number' && arr.length !== obj.length) throw new NapoodError(argument, `a typed array of length ${obj.length}`, `${arr.length} values`);
      return arr;
    }
    if (typeof obj.$number === 'string') return Number(obj.$number);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = decodeState(v, argument);
    return out;
  }
  return value;
}
