/**
 * wat-asm.mjs — a tiny assembler for the flat subset of WebAssembly text (WAT) that
 * src/kernels/*.wat use, so napood can ship hand-written WASM SIMD kernels without wabt/clang.
 *
 * Supported module fields:
 *   (memory (export "name") MIN [MAX])
 *   (global $g (export "name") (mut i32|i64|f32|f64) (i32.const N))   — export and mut optional
 *   (func $f (export "name") (param $a T)* (result T)? (local $l T)* INSTR*)
 * Instructions are written flat (one after another, `end` closes block/loop/if), not folded.
 * Immediates: `$name` for locals/globals/labels/functions, memarg `offset=N align=N`,
 * numeric constants, `v128.const f32x4|i32x4|f64x2|i8x16 ...`, `i8x16.shuffle` with 16 lane indices,
 * `*.extract_lane N`. Anything else is an error naming the token.
 * Binary format: WebAssembly Core Specification 2.0 §5 (opcodes of the fixed-width SIMD proposal).
 *
 * Usage: import { assemble } from './wat-asm.mjs'; const bytes = assemble(watText);
 */

const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

// name → [opcode bytes (SIMD: 0xfd then LEB u32), immediate kind, natural alignment log2]
const OPS = new Map();
const op = (name, bytes, imm = 'none', align = 0) => OPS.set(name, { bytes, imm, align });
const simd = (name, code, imm = 'none', align = 0) => op(name, [0xfd, ...uleb(code)], imm, align);

op('unreachable', [0x00]); op('nop', [0x01]);
op('block', [0x02], 'block'); op('loop', [0x03], 'block'); op('if', [0x04], 'block');
op('else', [0x05]); op('end', [0x0b]);
op('br', [0x0c], 'label'); op('br_if', [0x0d], 'label'); op('return', [0x0f]);
op('call', [0x10], 'func'); op('drop', [0x1a]); op('select', [0x1b]);
op('local.get', [0x20], 'local'); op('local.set', [0x21], 'local'); op('local.tee', [0x22], 'local');
op('global.get', [0x23], 'global'); op('global.set', [0x24], 'global');
op('i32.load', [0x28], 'mem', 2); op('i64.load', [0x29], 'mem', 3);
op('f32.load', [0x2a], 'mem', 2); op('f64.load', [0x2b], 'mem', 3);
op('i32.store', [0x36], 'mem', 2); op('i64.store', [0x37], 'mem', 3);
op('f32.store', [0x38], 'mem', 2); op('f64.store', [0x39], 'mem', 3);
op('memory.size', [0x3f, 0x00]); op('memory.grow', [0x40, 0x00]);
op('i32.const', [0x41], 'i32'); op('i64.const', [0x42], 'i64');
op('f32.const', [0x43], 'f32'); op('f64.const', [0x44], 'f64');
[
  ['i32.eqz', 0x45], ['i32.eq', 0x46], ['i32.ne', 0x47], ['i32.lt_s', 0x48], ['i32.lt_u', 0x49],
  ['i32.gt_s', 0x4a], ['i32.gt_u', 0x4b], ['i32.le_s', 0x4c], ['i32.le_u', 0x4d], ['i32.ge_s', 0x4e],
  ['i32.ge_u', 0x4f],
  ['f32.eq', 0x5b], ['f32.ne', 0x5c], ['f32.lt', 0x5d], ['f32.gt', 0x5e], ['f32.le', 0x5f], ['f32.ge', 0x60],
  ['f64.eq', 0x61], ['f64.ne', 0x62], ['f64.lt', 0x63], ['f64.gt', 0x64], ['f64.le', 0x65], ['f64.ge', 0x66],
  ['i32.add', 0x6a], ['i32.sub', 0x6b], ['i32.mul', 0x6c], ['i32.and', 0x71], ['i32.or', 0x72],
  ['i32.shl', 0x74], ['i32.shr_s', 0x75], ['i32.shr_u', 0x76],
  ['f32.add', 0x92], ['f32.sub', 0x93], ['f32.mul', 0x94], ['f32.div', 0x95],
  ['f64.add', 0xa0], ['f64.sub', 0xa1], ['f64.mul', 0xa2], ['f64.div', 0xa3],
  ['f64.promote_f32', 0xbb], ['f64.convert_i32_s', 0xb7], ['f64.convert_i32_u', 0xb8],
].forEach(([name, code]) => op(name, [code]));

simd('v128.load', 0x00, 'mem', 4); simd('v128.store', 0x0b, 'mem', 4);
simd('v128.load32_zero', 0x5c, 'mem', 2); simd('v128.load64_zero', 0x5d, 'mem', 3);
simd('v128.const', 0x0c, 'v128'); simd('i8x16.shuffle', 0x0d, 'shuffle');
simd('i32x4.splat', 0x11); simd('f32x4.splat', 0x13); simd('f64x2.splat', 0x14);
simd('i32x4.extract_lane', 0x1b, 'lane'); simd('f32x4.extract_lane', 0x1f, 'lane');
simd('f64x2.extract_lane', 0x21, 'lane');
[
  ['f32x4.eq', 0x41], ['f32x4.ne', 0x42], ['f32x4.lt', 0x43], ['f32x4.gt', 0x44], ['f32x4.le', 0x45],
  ['f32x4.ge', 0x46], ['v128.not', 0x4d], ['v128.and', 0x4e], ['v128.or', 0x50], ['v128.any_true', 0x53],
  ['f64x2.promote_low_f32x4', 0x5f],
  ['i32x4.eq', 0x37], ['i32x4.lt_s', 0x39], ['i32x4.gt_s', 0x3b],
  ['i32x4.add', 0xae], ['i32x4.sub', 0xb1],
  ['f32x4.add', 0xe4], ['f32x4.sub', 0xe5], ['f32x4.mul', 0xe6], ['f32x4.div', 0xe7],
  ['f32x4.min', 0xe8], ['f32x4.max', 0xe9], ['f32x4.pmin', 0xea], ['f32x4.pmax', 0xeb],
  ['f64x2.add', 0xf0], ['f64x2.sub', 0xf1], ['f64x2.mul', 0xf2], ['f64x2.div', 0xf3],
  ['v128.andnot', 0x4f], ['v128.xor', 0x51], ['i32x4.lt_u', 0x3a], ['i32x4.gt_u', 0x3c], ['i32x4.ge_u', 0x40],
  ['i32x4.all_true', 0xa3], ['i32x4.bitmask', 0xa4],
  ['i32x4.shl', 0xab], ['i32x4.shr_s', 0xac], ['i32x4.shr_u', 0xad],
  ['i32x4.min_u', 0xb7], ['i32x4.max_s', 0xb8], ['i32x4.max_u', 0xb9],
  ['i64x2.extend_low_i32x4_u', 0xc9], ['i64x2.extend_high_i32x4_u', 0xca],
  ['i64x2.shl', 0xcb], ['i64x2.shr_u', 0xcd], ['i64x2.add', 0xce],
].forEach(([name, code]) => simd(name, code));
simd('v128.load32x2_u', 0x06, 'mem', 3);

function uleb(value) {
  let v = BigInt(value);
  if (v < 0n) throw new Error(`wat-asm: expected an unsigned integer, found ${value}`);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

function sleb(value) {
  let v = BigInt(value);
  const out = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function floatBytes(value, size) {
  const buf = new DataView(new ArrayBuffer(size));
  if (size === 4) buf.setFloat32(0, value, true);
  else buf.setFloat64(0, value, true);
  return [...new Uint8Array(buf.buffer)];
}

function parseNumber(token) {
  const t = token.replace(/_/g, '');
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  const v = Number(t);
  if (Number.isNaN(v)) throw new Error(`wat-asm: expected a number, found "${token}"`);
  return v;
}

function integer(token) {
  const v = parseNumber(token);
  if (!Number.isInteger(v)) throw new Error(`wat-asm: expected an integer, found "${token}"`);
  return BigInt(token.replace(/_/g, ''));
}

/** Tokenise into nested arrays: lists for (...), strings as {str}, atoms as strings. */
function parse(text) {
  const tokens = [];
  const re = /\s+|;;[^\n]*|\(;[\s\S]*?;\)|\(|\)|"(?:[^"\\]|\\.)*"|[^\s()";]+/gy;
  let m;
  while (re.lastIndex < text.length) {
    const start = re.lastIndex;
    m = re.exec(text);
    if (!m) throw new Error(`wat-asm: unexpected character at offset ${start}: "${text.slice(start, start + 20)}"`);
    const t = m[0];
    if (/^\s/.test(t) || t.startsWith(';;') || t.startsWith('(;')) continue;
    tokens.push(t);
  }
  let i = 0;
  function list() {
    const out = [];
    while (i < tokens.length) {
      const t = tokens[i++];
      if (t === '(') out.push(list());
      else if (t === ')') return out;
      else if (t.startsWith('"')) out.push({ str: JSON.parse(t) });
      else out.push(t);
    }
    return out;
  }
  const top = list();
  if (top.length !== 1 || !Array.isArray(top[0]) || top[0][0] !== 'module') {
    throw new Error('wat-asm: expected one (module ...) form');
  }
  return top[0].slice(1);
}

const section = (id, body) => [id, ...uleb(body.length), ...body];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const name = (s) => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};

export function assemble(text) {
  const fields = parse(text);
  const types = []; // signature strings
  const typeBytes = [];
  const funcs = [];
  const globals = [];
  const memories = [];
  const exports = [];
  const funcIndex = new Map();
  const globalIndex = new Map();

  for (const f of fields) {
    if (!Array.isArray(f)) throw new Error(`wat-asm: expected a module field, found "${f}"`);
    const kind = f[0];
    let rest = f.slice(1);
    let id;
    if (typeof rest[0] === 'string' && rest[0].startsWith('$')) { id = rest[0]; rest = rest.slice(1); }
    const exportNames = [];
    while (Array.isArray(rest[0]) && rest[0][0] === 'export') { exportNames.push(rest[0][1].str); rest = rest.slice(1); }
    if (kind === 'memory') {
      const min = Number(rest[0]);
      const max = rest[1] !== undefined ? Number(rest[1]) : undefined;
      memories.push(max === undefined ? [0x00, ...uleb(min)] : [0x01, ...uleb(min), ...uleb(max)]);
      for (const e of exportNames) exports.push([...name(e), 0x02, ...uleb(memories.length - 1)]);
    } else if (kind === 'global') {
      const t = rest[0];
      const mut = Array.isArray(t) && t[0] === 'mut';
      const vt = mut ? t[1] : t;
      if (!(vt in VALTYPE)) throw new Error(`wat-asm: global ${id}: expected a value type, found ${JSON.stringify(vt)}`);
      const init = rest[1];
      const initOp = OPS.get(init[0]);
      if (!initOp) throw new Error(`wat-asm: global ${id}: expected a constant initialiser, found ${JSON.stringify(init)}`);
      const body = [...initOp.bytes, ...constImm(initOp.imm, init[1]), 0x0b];
      if (id) globalIndex.set(id, globals.length);
      globals.push({ type: VALTYPE[vt], bytes: [VALTYPE[vt], mut ? 1 : 0, ...body] });
      for (const e of exportNames) exports.push([...name(e), 0x03, ...uleb(globals.length - 1)]);
    } else if (kind === 'func') {
      if (id) funcIndex.set(id, funcs.length);
      funcs.push({ id, rest, exportNames });
    } else {
      throw new Error(`wat-asm: unsupported module field "${kind}"`);
    }
  }

  const codes = [];
  const funcTypes = [];
  funcs.forEach((fn, index) => {
    let rest = fn.rest;
    const locals = new Map();
    const localTypes = [];
    const params = [];
    const results = [];
    const declared = [];
    while (Array.isArray(rest[0]) && ['param', 'result', 'local'].includes(rest[0][0])) {
      const [k, ...vals] = rest[0];
      rest = rest.slice(1);
      const named = typeof vals[0] === 'string' && vals[0].startsWith('$');
      const names = named ? [vals[0]] : vals.map(() => undefined);
      const tys = named ? [vals[1]] : vals;
      tys.forEach((ty, j) => {
        if (!(ty in VALTYPE)) throw new Error(`wat-asm: func ${fn.id}: expected a value type, found ${JSON.stringify(ty)}`);
        if (k === 'result') { results.push(VALTYPE[ty]); return; }
        if (names[j]) locals.set(names[j], localTypes.length);
        localTypes.push(VALTYPE[ty]);
        if (k === 'param') params.push(VALTYPE[ty]);
        else declared.push(VALTYPE[ty]);
      });
    }
    const sig = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
    const key = sig.join(',');
    let ti = types.indexOf(key);
    if (ti < 0) { ti = types.length; types.push(key); typeBytes.push(sig); }
    funcTypes.push(uleb(ti));
    for (const e of fn.exportNames) exports.push([...name(e), 0x00, ...uleb(index)]);

    // locals: run-length groups
    const groups = [];
    for (const t of declared) {
      if (groups.length && groups[groups.length - 1][1] === t) groups[groups.length - 1][0]++;
      else groups.push([1, t]);
    }
    const body = [...uleb(groups.length), ...groups.flatMap(([n, t]) => [...uleb(n), t])];
    const labels = []; // stack of label names (undefined for unnamed)
    let depth = 0;
    let i = 0;
    const next = () => {
      if (i >= rest.length) throw new Error(`wat-asm: func ${fn.id}: unexpected end of body`);
      return rest[i++];
    };
    const lookup = (map, token, what) => {
      if (typeof token !== 'string') throw new Error(`wat-asm: func ${fn.id}: expected a ${what}, found ${JSON.stringify(token)}`);
      if (map.has(token)) return map.get(token);
      if (/^\d+$/.test(token)) return Number(token);
      throw new Error(`wat-asm: func ${fn.id}: unknown ${what} "${token}"`);
    };
    while (i < rest.length) {
      const tok = next();
      if (Array.isArray(tok)) throw new Error(`wat-asm: func ${fn.id}: folded instructions are not supported, found (${tok[0]} ...)`);
      const info = OPS.get(tok);
      if (!info) throw new Error(`wat-asm: func ${fn.id}: unknown instruction "${tok}"`);
      body.push(...info.bytes);
      switch (info.imm) {
        case 'none':
          if (tok === 'end') {
            if (depth === 0) throw new Error(`wat-asm: func ${fn.id}: "end" without an open block`);
            labels.pop(); depth--;
          }
          break;
        case 'block': {
          let label;
          if (typeof rest[i] === 'string' && rest[i].startsWith('$')) label = next();
          if (Array.isArray(rest[i]) && rest[i][0] === 'result') body.push(VALTYPE[next()[1]]);
          else body.push(0x40);
          labels.push(label); depth++;
          break;
        }
        case 'label': {
          const t = next();
          let rel;
          if (/^\d+$/.test(t)) rel = Number(t);
          else {
            const pos = labels.lastIndexOf(t);
            if (pos < 0) throw new Error(`wat-asm: func ${fn.id}: unknown label "${t}"`);
            rel = labels.length - 1 - pos;
          }
          body.push(...uleb(rel));
          break;
        }
        case 'local': body.push(...uleb(lookup(locals, next(), 'local'))); break;
        case 'global': body.push(...uleb(lookup(globalIndex, next(), 'global'))); break;
        case 'func': body.push(...uleb(lookup(funcIndex, next(), 'function'))); break;
        case 'mem': {
          let offset = 0, align = info.align;
          while (typeof rest[i] === 'string' && /^(offset|align)=/.test(rest[i])) {
            const [k, v] = next().split('=');
            if (k === 'offset') offset = Number(v);
            else align = Math.log2(Number(v));
          }
          body.push(...uleb(align), ...uleb(offset));
          break;
        }
        case 'lane': body.push(Number(next())); break;
        case 'shuffle':
          for (let k = 0; k < 16; k++) {
            const lane = Number(next());
            if (!(lane >= 0 && lane < 32)) throw new Error(`wat-asm: func ${fn.id}: i8x16.shuffle lane must be 0..31`);
            body.push(lane);
          }
          break;
        case 'v128': {
          const shape = next();
          const lanes = { i8x16: [16, 1], i16x8: [8, 2], i32x4: [4, 4], i64x2: [2, 8], f32x4: [4, 4], f64x2: [2, 8] }[shape];
          if (!lanes) throw new Error(`wat-asm: func ${fn.id}: v128.const: expected a lane shape, found "${shape}"`);
          const dv = new DataView(new ArrayBuffer(16));
          for (let k = 0; k < lanes[0]; k++) {
            const t = next();
            const off = k * lanes[1];
            if (shape === 'f32x4') dv.setFloat32(off, parseNumber(t), true);
            else if (shape === 'f64x2') dv.setFloat64(off, parseNumber(t), true);
            else if (lanes[1] === 8) dv.setBigUint64(off, BigInt.asUintN(64, integer(t)), true);
            else {
              const v = Number(BigInt.asUintN(lanes[1] * 8, integer(t)));
              if (lanes[1] === 1) dv.setUint8(off, v);
              else if (lanes[1] === 2) dv.setUint16(off, v, true);
              else dv.setUint32(off, v, true);
            }
          }
          body.push(...new Uint8Array(dv.buffer));
          break;
        }
        default: body.push(...constImm(info.imm, next()));
      }
    }
    if (depth !== 0) throw new Error(`wat-asm: func ${fn.id}: ${depth} block(s) not closed with "end"`);
    body.push(0x0b);
    codes.push([...uleb(body.length), ...body]);
  });

  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (typeBytes.length) out.push(...section(1, vec(typeBytes)));
  if (funcTypes.length) out.push(...section(3, vec(funcTypes)));
  if (memories.length) out.push(...section(5, vec(memories)));
  if (globals.length) out.push(...section(6, vec(globals.map((g) => g.bytes))));
  if (exports.length) out.push(...section(7, vec(exports)));
  if (codes.length) out.push(...section(10, vec(codes)));
  return new Uint8Array(out);
}

function constImm(kind, token) {
  switch (kind) {
    case 'i32': return sleb(BigInt.asIntN(32, integer(token)));
    case 'i64': return sleb(BigInt.asIntN(64, integer(token)));
    case 'f32': return floatBytes(parseNumber(token), 4);
    case 'f64': return floatBytes(parseNumber(token), 8);
    default: throw new Error(`wat-asm: unsupported immediate kind ${kind}`);
  }
}
