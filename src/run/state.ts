/**
 * Fitted method state as plain JSON. Typed arrays become {"$typed": "float32" | "float64" |
 * "int32" | "uint8", "length": n, "base64": …} (little-endian bytes, standard base64 with '='
 * padding), non-finite numbers {"$number": "NaN" | "Infinity" | "-Infinity"}, everything else is
 * JSON as it is. A state file holds one entry per method spec: {napood: 1, methods: {spec: {name,
 * params, state}}}.
 *
 * A state file is user input: `decodeState` checks every marker object it meets (known kind,
 * base64 that decodes, a byte length that is a whole number of elements, the stated length) and
 * throws a NapoodError naming the argument (--state) for anything else; `checkStateFields` checks
 * the fields a method reads. Runtime-neutral: base64 is done here, without Node's Buffer.
 */
import { NapoodError, describe } from '../errors.js';

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;
type TypedCtor = { new (buffer: ArrayBuffer): Typed; readonly BYTES_PER_ELEMENT: number };
const KINDS: Readonly<Record<string, TypedCtor>> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array,
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// base64 (RFC 4648 §4, the standard alphabet, '=' padding), as Node's Buffer writes it.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** base64 text of `bytes` (padded with '='). */
export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 8192; // bytes per piece: keeps String.fromCharCode's argument list short
  const codes = new Array<number>((CHUNK / 3) * 4);
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    let q = 0;
    let i = start;
    for (; i + 3 <= end; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      codes[q++] = ALPHABET.charCodeAt(v >>> 18);
      codes[q++] = ALPHABET.charCodeAt((v >>> 12) & 63);
      codes[q++] = ALPHABET.charCodeAt((v >>> 6) & 63);
      codes[q++] = ALPHABET.charCodeAt(v & 63);
    }
    if (i < end) {
      const rest = end - i;
      const v = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
      codes[q++] = ALPHABET.charCodeAt(v >>> 18);
      codes[q++] = ALPHABET.charCodeAt((v >>> 12) & 63);
      codes[q++] = rest === 2 ? ALPHABET.charCodeAt((v >>> 6) & 63) : 61;
      codes[q++] = 61; // '='
    }
    parts.push(String.fromCharCode.apply(null, q === codes.length ? codes : codes.slice(0, q)));
  }
  return parts.join('');
}

/**
 * Bytes of base64 `text` (standard alphabet; '=' padding optional, as for unpadded writers).
 * Returns a string saying what is wrong instead when the text is not base64.
 */
export function base64Decode(text: string): Uint8Array | string {
  let n = text.length;
  if (n % 4 === 0 && n > 0 && text.charCodeAt(n - 1) === 61) n -= text.charCodeAt(n - 2) === 61 ? 2 : 1;
  if (n % 4 === 1) return `${text.length} characters (not a whole number of base64 groups)`;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let q = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    if (v < 0) return `${describe(text[i])} at character ${i} (not a base64 character)`;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[q++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function kindOf(value: unknown): string | undefined {
  // Exact classes only: a subclass (Node's Buffer is a Uint8Array) is not a state array.
  if (value === null || typeof value !== 'object') return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto === Float32Array.prototype) return 'float32';
  if (proto === Float64Array.prototype) return 'float64';
  if (proto === Int32Array.prototype) return 'int32';
  if (proto === Uint8Array.prototype) return 'uint8';
  return undefined;
}

/** Little-endian bytes of a typed array (a view on little-endian hosts). */
function leBytes(t: Typed): Uint8Array {
  const view = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  if (HOST_LITTLE_ENDIAN || t.BYTES_PER_ELEMENT === 1) return view;
  const copy = view.slice();
  swap(copy, t.BYTES_PER_ELEMENT);
  return copy;
}

function swap(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const x = b[lo]; b[lo] = b[hi]; b[hi] = x;
    }
  }
}

export function encodeState(value: unknown): unknown {
  const kind = kindOf(value);
  if (kind) {
    const t = value as Typed;
    return { $typed: kind, length: t.length, base64: base64Encode(leBytes(t)) };
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

/** A JSON value, briefly, for an error message. */
function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function decodeTyped(obj: Record<string, unknown>, argument: string, where: string): Typed {
  const at = where ? ` at ${where}` : '';
  const kind = obj.$typed;
  const ctor = typeof kind === 'string' && Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!ctor) throw new NapoodError(argument, `a typed array of float32, float64, int32 or uint8${at}`, `"$typed": ${show(kind)}`);
  if (typeof obj.base64 !== 'string') throw new NapoodError(argument, `the base64 text of a ${kind} array${at}`, `"base64": ${show(obj.base64)}`);
  const bytes = base64Decode(obj.base64);
  if (typeof bytes === 'string') throw new NapoodError(argument, `the base64 text of a ${kind} array${at}`, bytes);
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.length % size !== 0) {
    throw new NapoodError(argument, `a whole number of ${size}-byte ${kind} values${at}`, `${bytes.length} bytes (damaged state file?)`);
  }
  if (obj.length !== undefined && !(typeof obj.length === 'number' && Number.isSafeInteger(obj.length) && obj.length >= 0)) {
    throw new NapoodError(argument, `"length" a non-negative integer${at}`, show(obj.length));
  }
  if (!HOST_LITTLE_ENDIAN) swap(bytes, size);
  const arr = new ctor(bytes.buffer as ArrayBuffer);
  if (obj.length !== undefined && arr.length !== obj.length) throw new NapoodError(argument, `a typed array of length ${obj.length}${at}`, `${arr.length} values`);
  return arr;
}

/**
 * The state encoded by `encodeState`, from JSON. A marker object ({"$typed": …} or
 * {"$number": …}) that is not well-formed throws a NapoodError naming `argument`, as do base64
 * that does not decode, a byte length that is not a whole number of elements and a length that
 * disagrees; never another error type.
 */
export function decodeState(value: unknown, argument = '--state', where = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => decodeState(v, argument, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (Object.hasOwn(obj, '$typed')) return decodeTyped(obj, argument, where);
    if (Object.hasOwn(obj, '$number')) {
      const v = obj.$number;
      if (typeof v !== 'string' || !Object.hasOwn(NON_FINITE, v)) {
        throw new NapoodError(argument, `"$number" one of "NaN", "Infinity", "-Infinity"${where ? ` at ${where}` : ''}`, show(v));
      }
      return NON_FINITE[v];
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = decodeState(v, argument, where ? `${where}.${k}` : k);
    return out;
  }
  return value;
}

/** What a state field must hold (see checkStateFields). */
export type StateFieldKind = 'number' | 'integer' | 'boolean' | 'float32' | 'float64' | 'int32' | 'uint8';

/**
 * Check that a decoded state holds `fields` with the right kinds: 'number' a finite number,
 * 'integer' a safe integer, 'boolean', or a typed array of that kind (and, with `lengths`, of
 * that length). Methods call it on a state from a file before using it, so that a state of the
 * wrong form is a NapoodError naming `argument` rather than a TypeError deep inside a method.
 * Returns the state, typed as the caller's state type.
 */
export function checkStateFields<T>(state: unknown, fields: Readonly<Record<string, StateFieldKind>>, argument = '--state', what = 'a fitted state',
  lengths: Readonly<Record<string, number>> = {}): T {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new NapoodError(argument, `${what} (an object)`, state === null ? 'null' : Array.isArray(state) ? 'an array' : `a ${typeof state}`);
  }
  const s = state as Record<string, unknown>;
  for (const [name, kind] of Object.entries(fields)) {
    const v = Object.hasOwn(s, name) ? s[name] : undefined;
    let ok: boolean;
    switch (kind) {
      case 'number': ok = typeof v === 'number' && Number.isFinite(v); break;
      case 'integer': ok = typeof v === 'number' && Number.isSafeInteger(v); break;
      case 'boolean': ok = typeof v === 'boolean'; break;
      default: ok = kindOf(v) === kind;
    }
    const found = v === undefined ? 'nothing' : kindOf(v) ? `a ${kindOf(v)} array` : typeof v === 'number' ? String(v) : typeof v === 'string' ? describe(v) : `a ${typeof v}`;
    if (!ok) throw new NapoodError(argument, `${what} whose "${name}" is ${kind === 'number' ? 'a finite number' : kind === 'integer' ? 'an integer' : kind === 'boolean' ? 'true or false' : `a ${kind} array`}`, found);
    const want = lengths[name];
    if (want !== undefined && (v as Typed).length !== want) {
      throw new NapoodError(argument, `${what} whose "${name}" holds ${want} values`, `${(v as Typed).length}`);
    }
  }
  return state as T;
}
