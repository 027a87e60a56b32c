/**
 * The fuzzer's targets: napood's parsers of untrusted files, each with its seed inputs (the
 * committed fixtures), where its length fields lie, format-aware mutations, and how to run one
 * input. `run` returns what happened ('parsed' or 'refused: <error name>') and throws when the
 * parser failed in a way it must not: an exception other than napood's own error type (for the
 * PNG decoder: any exception, it has a documented fallback instead), or a result that breaks
 * its own invariants.
 */
import * as fs from 'node:fs';
import { nodeZlib } from '../../src/node/images/zlib.js';
import * as path from 'node:path';
import { NapoodError } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';
import { parseNpyHeader, readNpy } from '../../src/node/io/npy.js';
import { parseSafetensorsHeader } from '../../src/node/io/safetensors.js';
import { openDump } from '../../src/node/io/dump.js';
import { decodeModel, tensorValues } from '../../src/onnx/proto.js';
import { decodePng, isPng } from '../../src/images/png.js';
import { readImageHeader } from '../../src/images/header.js';
import * as zlib from 'node:zlib';
import { type LengthField, type Rng, editLength, editNumberText, swapToken } from './mutate.js';

export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface Target {
  readonly name: string;
  readonly seeds: readonly Seed[];
  /** Length fields of a (seed) input. */
  lengthFields(b: Uint8Array): LengthField[];
  /** A format-aware mutation (headers rewritten with consistent lengths, CRCs fixed, …). */
  structured(b: Uint8Array, rng: Rng): [Uint8Array, string];
  /** Run one input; `scratch` is a private temp dir for inputs read from disk. */
  run(b: Uint8Array, rng: Rng, scratch: string): string;
}

function seedsFrom(dir: string, ext: string, maxBytes: number): Seed[] {
  const out: Seed[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(ext) && fs.statSync(p).size <= maxBytes) out.push({ name: path.relative(dir, p), bytes: new Uint8Array(fs.readFileSync(p)) });
    }
  };
  walk(dir);
  return out;
}

/** napood's own errors are fine; anything else is a finding. */
function refused(e: unknown): string {
  if (e instanceof NapoodError) {
    if (!e.message || !e.argument) throw new Error(`a NapoodError without argument or message: ${String(e.message)}`);
    return `refused: ${e.name}`;
  }
  throw e;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

// ---------------------------------------------------------------------------------------------
// .npy

const NPY_SWAPS: Readonly<Record<string, readonly string[]>> = {
  "'<f4'": ["'|O'", "'<O8'", "'<c8'", "'>f4'", "'<f8'", "'|u1'", "'<U3'", "'|b1'", "'<f4", "'<M8[s]'", "[('a', '<f4')]", "'toString'", "''"],
  "'<f8'": ["'<i8'", "'|O'", "'<f2'"],
  False: ['True', 'None', '0', 'Fals'],
  True: ['False', '1'],
  "'shape'": ["'shapes'", "'descr'", "'__proto__'"],
  "'descr'": ["'shape'", "'__proto__'", "'constructor'"],
  '(': ['((((((((((((((((((((((((((((((((((', '('.repeat(100_000), '[', '{', '(-1, ', '(9007199254740993, 3, '],
  ')': [',)', ')))', ', 0)', ', 100000, 100000)'],
  '}': [", 'extra': 1}", ', }', '}}'],
  ', ': [',', ' , ', ",'shape': (1,), "],
};

function npyFrame(b: Uint8Array): { major: number; headerStart: number; headerLen: number } | undefined {
  if (b.length < 10 || b[0] !== 0x93) return undefined;
  const major = b[6]!;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (major === 1) return { major, headerStart: 10, headerLen: dv.getUint16(8, true) };
  if (b.length < 12) return undefined;
  return { major, headerStart: 12, headerLen: dv.getUint32(8, true) };
}

export function npyTarget(fixtures: string): Target {
  const seeds = [...seedsFrom(path.join(fixtures, 'io', 'npy'), '.npy', 1 << 16), ...seedsFrom(path.join(fixtures, 'golden', 'random'), '.npy', 1 << 16)];
  return {
    name: 'npy',
    seeds,
    lengthFields: (b) => {
      const f = npyFrame(b);
      return f ? [{ offset: 8, size: f.major === 1 ? 2 : 4, littleEndian: true }] : [];
    },
    structured(b, rng) {
      const f = npyFrame(b);
      if (!f || f.headerStart + f.headerLen > b.length) return [b, 'npy(no frame)'];
      let text = latin1(b.subarray(f.headerStart, f.headerStart + f.headerLen));
      const log: string[] = [];
      for (let k = 1 + rng.int(2); k > 0; k--) {
        const [t, what] = rng.chance(0.5) ? editNumberText(text, rng) : swapToken(text, NPY_SWAPS, rng);
        text = t;
        log.push(what);
      }
      const header = Buffer.from(text, 'latin1');
      // Keep the frame consistent: version 1 while the length fits 16 bits.
      const v1 = f.major === 1 && header.length <= 0xffff;
      const pre = new Uint8Array(v1 ? 10 : 12);
      pre.set(b.subarray(0, 8));
      pre[6] = v1 ? 1 : f.major === 1 ? 2 : f.major;
      const dv = new DataView(pre.buffer);
      if (v1) dv.setUint16(8, header.length, true);
      else dv.setUint32(8, header.length, true);
      const data = b.subarray(f.headerStart + f.headerLen);
      return [Buffer.concat([pre, header, data]), `npy-header{${log.join(';')}}`];
    },
    run(b, rng, scratch) {
      let viaBytes: string;
      try {
        const d = parseNpyHeader(b, 'fuzz.npy');
        if (d.dataOffset + d.byteLength > b.length) throw new Error(`parsed a header whose data (${d.dataOffset}+${d.byteLength}) is past the end (${b.length})`);
        viaBytes = 'parsed';
      } catch (e) {
        viaBytes = refused(e);
      }
      // Some inputs also through the file path (header, then the data through TensorReader).
      if (rng.chance(0.25)) {
        const file = path.join(scratch, 'x.npy');
        fs.writeFileSync(file, b);
        let viaFile: string;
        try {
          const r = readNpy(file, 'fuzz.npy');
          if (r.data.length !== r.shape.reduce((a, x) => a * x, 1)) throw new Error('readNpy: data length differs from the shape');
          viaFile = 'parsed';
        } catch (e) {
          viaFile = refused(e);
        }
        if (viaFile !== viaBytes) throw new Error(`bytes and file paths disagree: ${viaBytes} vs ${viaFile}`);
      }
      return viaBytes;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// .safetensors

const ST_SWAPS: Readonly<Record<string, readonly string[]>> = {
  '"F32"': ['"F64"', '"F16"', '"BF16"', '"I64"', '"U8"', '"BOOL"', '"toString"', '"__proto__"', '"f32"', '32', 'null'],
  '"I64"': ['"I32"', '"F32"', '"U64"'],
  '"shape"': ['"shap"', '"dtype"', '"data_offsets"'],
  '"data_offsets"': ['"offsets"', '"shape"'],
  '[': ['[[', '[-1,', '[1e400,', '[9007199254740993,', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', '{'],
  ']': [']]', ',0]', ',100000,100000]', ',]'],
  '{': ['{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},', '{{', '{"__metadata__":{"a":1},'],
  ',': [',,', ' , ', ',"x":{},'],
};

function stFrame(b: Uint8Array): number | undefined {
  if (b.length < 8) return undefined;
  const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return n <= BigInt(b.length - 8) ? Number(n) : undefined;
}

/** Rewrite a header object: a duplicated entry, a deep nesting, an absurd shape or offsets. */
function stObjectEdit(text: string, rng: Rng): [string, string] {
  try {
    return stObjectEditUnsafe(text, rng);
  } catch {
    // Not JSON, or too deep for JSON.parse / JSON.stringify (an earlier mutation nested it).
    return [text, 'st-object(not JSON)'];
  }
}

function stObjectEditUnsafe(text: string, rng: Rng): [string, string] {
  const obj = JSON.parse(text) as Record<string, unknown>;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [text, 'st-object(not an object)'];
  const names = Object.keys(obj).filter((k) => k !== '__metadata__');
  const body = (o: Record<string, unknown>): string => JSON.stringify(o).slice(1, -1);
  switch (rng.int(5)) {
    case 0: {
      // The same key twice (JSON.parse would keep the last).
      const k = names.length ? rng.pick(names) : '__metadata__';
      return [`{${body(obj)},${JSON.stringify(k)}:${JSON.stringify(obj[k] ?? {})}}`, `st-duplicate(${k})`];
    }
    case 1: {
      const depth = rng.pick([17, 100, 5000, 300_000]);
      return [`{${body(obj)}${names.length ? ',' : ''}"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`, `st-deep(${depth})`];
    }
    case 2: {
      if (!names.length) return [text, 'st-shape(none)'];
      const k = rng.pick(names);
      const e = obj[k] as Record<string, unknown>;
      const shapes = [[1, 100000, 100000, 1], [2 ** 53, 2], [-1, 4], [4294967296, 4294967296], [1e6, 1e6], [0, 2 ** 52, 2 ** 52], [3.5], []];
      if (e && typeof e === 'object') e.shape = rng.pick(shapes);
      return [JSON.stringify(obj), `st-shape(${k}=${JSON.stringify(e?.shape)})`];
    }
    case 3: {
      if (!names.length) return [text, 'st-offsets(none)'];
      const k = rng.pick(names);
      const e = obj[k] as Record<string, unknown>;
      const offs = [[0, 40000000000], [4, 0], [-4, 0], [0, 2 ** 53], [1, 5], [0, 0], ['0', '4']];
      if (e && typeof e === 'object') e.data_offsets = rng.pick(offs);
      return [JSON.stringify(obj), `st-offsets(${k}=${JSON.stringify(e?.data_offsets)})`];
    }
    default: {
      const k = names.length ? rng.pick(names) : 'x';
      const e = obj[k] as Record<string, unknown>;
      if (e && typeof e === 'object') e.dtype = rng.pick(['F64', 'I8', 'BF16', 'toString', 'constructor', 'F8_E4M3', 7]);
      return [JSON.stringify(obj), `st-dtype(${k}=${JSON.stringify(e?.dtype)})`];
    }
  }
}

export function safetensorsTarget(fixtures: string): Target {
  const all = [...seedsFrom(path.join(fixtures, 'io', 'st'), '.safetensors', 1 << 16), ...seedsFrom(path.join(fixtures, 'io'), 'dump.safetensors', 1 << 16)];
  // The valid files four times over: most fixtures are already broken in one way.
  const good = all.filter((s) => /(^|\/)(good|dump)\.safetensors$/.test(s.name));
  const seeds = [...all, ...good, ...good, ...good];
  return {
    name: 'safetensors',
    seeds,
    lengthFields: () => [{ offset: 0, size: 8, littleEndian: true }],
    structured(b, rng) {
      const n = stFrame(b);
      if (n === undefined) return [b, 'st(no frame)'];
      let text = Buffer.from(b.subarray(8, 8 + n)).toString('utf8');
      const log: string[] = [];
      for (let k = 1 + rng.int(2); k > 0; k--) {
        const r = rng.int(3);
        const [t, what] = r === 0 ? stObjectEdit(text, rng) : r === 1 ? editNumberText(text, rng) : swapToken(text, ST_SWAPS, rng);
        text = t;
        log.push(what);
      }
      const header = Buffer.from(text, 'utf8');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      return [Buffer.concat([len, header, b.subarray(8 + n)]), `st-header{${log.join(';')}}`];
    },
    run(b, rng, scratch) {
      let viaBytes: string;
      try {
        const h = parseSafetensorsHeader(b, 'fuzz.safetensors');
        for (const t of h.tensors.values()) {
          if (t.dataOffset + t.byteLength > b.length) throw new Error(`tensor ${t.name} parsed with data past the end of the file`);
        }
        viaBytes = 'parsed';
      } catch (e) {
        viaBytes = refused(e);
      }
      // Some inputs also as a dump on disk: open, every batch, the head.
      if (rng.chance(0.25)) {
        const file = path.join(scratch, 'x.safetensors');
        fs.writeFileSync(file, b);
        let viaFile: string;
        try {
          const d = openDump(file, { argument: '--features' });
          try {
            for (const batch of d.batches({ maxBatchBytes: 1 << 16 })) void batch;
            d.linearHead();
          } finally {
            d.close();
          }
          viaFile = 'parsed';
        } catch (e) {
          viaFile = refused(e);
        }
        // The file path checks more (shapes of a dump, finite values): it may refuse what parses.
        if (viaBytes !== 'parsed' && viaFile === 'parsed') throw new Error(`openDump accepted a file whose header is refused (${viaBytes})`);
      }
      return viaBytes;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// ONNX (protobuf)

interface ProtoSpot {
  /** Offset and byte size of a varint: a LEN field's length or a VARINT field's value. */
  readonly offset: number;
  readonly size: number;
  readonly kind: 'len' | 'value';
  /** Field numbers from the top, e.g. "7.5.1" (ModelProto.graph → GraphProto.initializer → TensorProto.dims). */
  readonly path: string;
  /** The LEN fields enclosing it, outermost first: where their length varints lie and their values. */
  readonly parents: readonly Enclosing[];
}

interface Enclosing { readonly offset: number; readonly size: number; readonly value: number }

/** Paths of TensorProto.dims: of initializers, and of tensors in node attributes. */
const DIMS_PATHS = new Set(['7.5.1', '7.1.5.5.1']);

/** Where the varints of a protobuf message lie, descending into LEN payloads that parse as messages. */
export function protoSpots(b: Uint8Array, base = 0, depth = 0, out: ProtoSpot[] = [], prefix = '', parents: readonly Enclosing[] = []): ProtoSpot[] {
  const varint = (p: number): [number, number] | undefined => {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (p + i >= b.length) return undefined;
      const x = b[p + i]!;
      v += (x & 0x7f) * 2 ** (7 * i);
      if (x < 0x80) return [v, i + 1];
    }
    return undefined;
  };
  const spots: ProtoSpot[] = [];
  const payloads: [number, number, string, Enclosing][] = [];
  let p = 0;
  while (p < b.length) {
    const tag = varint(p);
    if (!tag || tag[0] < 8) return out;
    p += tag[1];
    const wire = tag[0] % 8;
    const at = prefix + String(Math.floor(tag[0] / 8));
    if (wire === 0) {
      const v = varint(p);
      if (!v) return out;
      spots.push({ offset: base + p, size: v[1], kind: 'value', path: at, parents });
      p += v[1];
    } else if (wire === 2) {
      const v = varint(p);
      if (!v || p + v[1] + v[0] > b.length) return out;
      spots.push({ offset: base + p, size: v[1], kind: 'len', path: at, parents });
      const self: Enclosing = { offset: base + p, size: v[1], value: v[0] };
      if (DIMS_PATHS.has(at)) {
        // Packed dims: each varint of the payload.
        for (let q = p + v[1], e = q + v[0]; q < e;) {
          const d = varint(q);
          if (!d || q + d[1] > e) break;
          spots.push({ offset: base + q, size: d[1], kind: 'value', path: at, parents: [...parents, self] });
          q += d[1];
        }
      } else payloads.push([p + v[1], v[0], at, self]);
      p += v[1] + v[0];
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else return out;
  }
  if (p !== b.length) return out;
  out.push(...spots);
  if (depth < 6) for (const [s, n, at, self] of payloads) protoSpots(b.subarray(s, s + n), base + s, depth + 1, out, `${at}.`, [...parents, self]);
  return out;
}

function splice(b: Uint8Array, offset: number, size: number, bytes: readonly number[]): Uint8Array {
  const out = new Uint8Array(b.length - size + bytes.length);
  out.set(b.subarray(0, offset));
  out.set(bytes, offset);
  out.set(b.subarray(offset + size), offset + bytes.length);
  return out;
}

function encodeVarint(v: bigint, minBytes = 1): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n || out.length + 1 < minBytes) byte |= 0x80;
    out.push(byte);
  } while (x !== 0n || out.length < minBytes);
  return out;
}

const VARINT_VALUES = [0n, 1n, -1n, -10n, 127n, 128n, 1000000n, 2147483647n, 2147483648n, 4294967295n, 4294967296n, 9007199254740993n, (1n << 63n) - 1n, 1n << 63n];

export function onnxTarget(fixtures: string): Target {
  const seeds = seedsFrom(fixtures, '.onnx', 24_000);
  return {
    name: 'onnx',
    seeds,
    lengthFields: () => [],
    structured(b, rng) {
      const spots = protoSpots(b);
      if (spots.length === 0) return [b, 'onnx(no spots)'];
      // A third of the edits go to tensor dims (absurd, negative, overflowing shapes).
      const dims = spots.filter((x) => DIMS_PATHS.has(x.path));
      const s = dims.length && rng.chance(0.33) ? rng.pick(dims) : rng.pick(spots);
      let bytes: number[];
      let what: string;
      if (s.kind === 'len' || rng.chance(0.3)) {
        // Same width (padded continuation bytes) so the rest stays aligned, or any width.
        const old = b.subarray(s.offset, s.offset + s.size).reduce((a, x, i) => a + BigInt(x & 0x7f) * (1n << BigInt(7 * i)), 0n);
        const v = rng.chance(0.5) ? old + BigInt(rng.int(9) - 4) : rng.pick(VARINT_VALUES);
        bytes = encodeVarint(v, rng.chance(0.5) ? s.size : 1);
        what = `varint-${s.kind}@${s.offset}(${s.path}):${old}->${v}`;
      } else {
        const v = rng.pick(VARINT_VALUES);
        bytes = encodeVarint(v);
        what = `varint-value@${s.offset}(${s.path})=${v}`;
      }
      if (rng.chance(0.1)) {
        // A varint over 64 bits.
        bytes = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        what += '(overlong)';
      }
      let out = splice(b, s.offset, s.size, bytes);
      // Mostly keep the enclosing messages' lengths right, so that the edit reaches the decoder
      // of its own message (innermost first: an outer length lies before the inner ones).
      let delta = bytes.length - s.size;
      if (delta !== 0 && rng.chance(0.8)) {
        for (let k = s.parents.length - 1; k >= 0; k--) {
          const e = s.parents[k]!;
          const enc = encodeVarint(BigInt(e.value + delta));
          out = splice(out, e.offset, e.size, enc);
          delta += enc.length - e.size;
        }
        what += '(lengths fixed)';
      }
      return [out, what];
    },
    run(b) {
      try {
        const m = decodeModel(b, 'fuzz.onnx');
        let values = 0;
        for (const t of m.graph.initializers) {
          if (t.external) continue;
          try {
            values += tensorValues(t).length;
          } catch (e) {
            refused(e);
          }
        }
        for (const n of m.graph.nodes) {
          for (const a of n.attributes) {
            if (!a.t) continue;
            try {
              values += tensorValues(a.t).length;
            } catch (e) {
              refused(e);
            }
          }
        }
        void values;
        return 'parsed';
      } catch (e) {
        return refused(e);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PNG


interface PngChunk { readonly offset: number; readonly len: number; readonly type: string }

function pngChunks(b: Uint8Array): PngChunk[] {
  const out: PngChunk[] = [];
  let p = 8;
  while (p + 12 <= b.length) {
    const len = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const type = String.fromCharCode(b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    if (p + 12 + len > b.length) break;
    out.push({ offset: p, len, type });
    p += 12 + len;
  }
  return out;
}

/** Recompute every chunk's CRC, so that mutations reach past the CRC check. */
function fixCrcs(b: Uint8Array): Uint8Array {
  const out = b.slice();
  for (const c of pngChunks(out)) {
    const crc = zlib.crc32(out.subarray(c.offset + 4, c.offset + 8 + c.len));
    new DataView(out.buffer, out.byteOffset).setUint32(c.offset + 8 + c.len, crc >>> 0, false);
  }
  return out;
}

export function pngTarget(fixtures: string): Target {
  const dir = path.join(fixtures, 'images');
  // PNGs, and the JPEG / WebP header fixtures for header.ts's other readers.
  const seeds = [...seedsFrom(path.join(dir, 'png'), '.png', 1 << 16), ...seedsFrom(path.join(dir, 'extra'), '.png', 1 << 16),
    ...seedsFrom(path.join(dir, 'png', 'headers'), '.jpg', 1 << 16), ...seedsFrom(path.join(dir, 'png', 'headers'), '.webp', 1 << 16)];
  return {
    name: 'png',
    seeds,
    lengthFields: (b) => pngChunks(b).map((c) => ({ offset: c.offset, size: 4, littleEndian: false })),
    structured(b, rng) {
      const chunks = pngChunks(b);
      const ihdr = chunks.find((c) => c.type === 'IHDR');
      let out: Uint8Array = b.slice();
      let what: string;
      const r = rng.int(4);
      if (r === 0 && ihdr) {
        // Width or height (the CRC fixed below).
        const at = ihdr.offset + 8 + (rng.chance(0.5) ? 0 : 4);
        const v = rng.pick([0, 1, 2, 3, 7, 255, 256, 65535, 65536, 40_000_001, 0x7fffffff, 0x80000000, 0xffffffff]);
        new DataView(out.buffer).setUint32(at, v, false);
        what = `ihdr@${at}=${v}`;
      } else if (r === 1 && ihdr) {
        // Bit depth, colour type, compression, filter or interlace.
        const at = ihdr.offset + 16 + rng.int(5);
        out[at] = rng.pick([0, 1, 2, 3, 4, 6, 8, 16, 255]);
        what = `ihdr@${at}=${out[at]}`;
      } else if (r === 2 && chunks.length) {
        const c = rng.pick(chunks);
        const [m, w] = editLength(out, { offset: c.offset, size: 4, littleEndian: false }, rng);
        out = m;
        what = `${c.type}-${w}`;
      } else {
        // A byte inside the zlib data of an IDAT.
        const idats = chunks.filter((c) => c.type === 'IDAT' && c.len > 0);
        if (!idats.length) return [out, 'png(no IDAT)'];
        const c = rng.pick(idats);
        const at = c.offset + 8 + rng.int(c.len);
        out[at] = rng.chance(0.5) ? out[at]! ^ (1 << rng.int(8)) : rng.int(256);
        what = `idat@${at}`;
      }
      return [fixCrcs(out), `${what}+crc`];
    },
    run(b, rng) {
      if (!isPng(b)) {
        // JPEG / WebP: the header readers answer a header or undefined, never throw.
        for (const format of ['jpeg', 'webp'] as const) {
          const h = readImageHeader(b, format);
          if (h && !(Number.isInteger(h.width) && h.width > 0 && Number.isInteger(h.height) && h.height > 0)) {
            throw new Error(`readImageHeader(${format}): a header of ${h.width}×${h.height}`);
          }
        }
        return 'header only';
      }
      // With some odds, make any mutation's CRCs right first.
      const input = rng.chance(0.5) ? fixCrcs(b) : b;
      // No exception of any kind: undefined (header) or { fallback } (decoder) instead.
      const h = readImageHeader(input, 'png');
      if (!h) return 'refused: no header';
      if (!h.png) throw new Error('readImageHeader: a PNG header without its IHDR fields');
      const px = decodePng(input, h.png, nodeZlib);
      if ('fallback' in px) {
        if (typeof px.fallback !== 'string' || !px.fallback) throw new Error('decodePng: an empty fallback reason');
        return 'refused: fallback';
      }
      if (px.width !== h.width || px.height !== h.height || px.data.length !== px.width * px.height * px.channels) {
        throw new Error(`decodePng: ${px.width}×${px.height}×${px.channels} pixels in ${px.data.length} bytes (header ${h.width}×${h.height})`);
      }
      return 'parsed';
    },
  };
}

/** Every target, by name. */
export function allTargets(): Target[] {
  const f = fixturesDir;
  return [npyTarget(f), safetensorsTarget(f), onnxTarget(f), pngTarget(f)];
}

