/**
 * Element types of stored tensors and their conversion to float32 / int32.
 *
 * Everything napood computes on is float32 (SPEC §1); dumps may hold float16, bfloat16, float64 or
 * integers (.npy descr codes, safetensors dtype names). The conversions here are exact where the
 * target can represent the value and otherwise round to nearest-even, as numpy's `astype(float32)`:
 *  - float16 → float32 is exact for every one of the 65536 bit patterns (normals, subnormals, ±0,
 *    ±Inf, NaN with its payload and sign), done by a 64K-entry table of float32 bit patterns built
 *    from the IEEE 754 binary16 definition (as numpy's npy_halfbits_to_floatbits).
 *  - bfloat16 → float32 is exact (the top 16 bits of a float32).
 *  - float64 → float32 rounds to nearest-even (the Float32Array store).
 *  - int64 → float32 rounds once, to nearest-even, also above 2^53 (round-to-odd at 53 bits first).
 * Byte order: the caller states the file's order; data in the other order is swapped in place.
 */

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'uint8' | 'int8';

const SIZES: Readonly<Record<DType, number>> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, uint8: 1, int8: 1,
};

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  return SIZES[dtype];
}

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float64';
}

export function isIntegerDType(dtype: DType): boolean {
  return !isFloatDType(dtype);
}

/** True on little-endian hosts (every platform Node ships prebuilt binaries for). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverse the byte order of each `size`-byte element of `bytes` (in place). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  const n = bytes.length - (bytes.length % size);
  if (size === 2) {
    for (let i = 0; i < n; i += 2) {
      const a = bytes[i]; bytes[i] = bytes[i + 1]; bytes[i + 1] = a;
    }
  } else if (size === 4) {
    for (let i = 0; i < n; i += 4) {
      const a = bytes[i], b = bytes[i + 1];
      bytes[i] = bytes[i + 3]; bytes[i + 1] = bytes[i + 2]; bytes[i + 2] = b; bytes[i + 3] = a;
    }
  } else {
    for (let i = 0; i < n; i += size) {
      for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
        const a = bytes[lo]; bytes[lo] = bytes[hi]; bytes[hi] = a;
      }
    }
  }
}

/** float32 bit pattern of a binary16 bit pattern (IEEE 754; exact). */
export function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // ±Inf, NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 → 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal: value = mant · 2^-24; normalise the mantissa.
  let e = 113; // 127 - 14
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

let halfTable: Uint32Array | undefined;

/** The 65536-entry float16 → float32 bit-pattern table (256 KiB, built on first use). */
export function float16Table(): Uint32Array {
  if (!halfTable) {
    const t = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = halfBitsToFloatBits(h);
    halfTable = t;
  }
  return halfTable;
}

/** float16 value of a bit pattern, as a number. */
export function float16ToNumber(h: number): number {
  const u = new Uint32Array([halfBitsToFloatBits(h & 0xffff)]);
  return new Float32Array(u.buffer)[0];
}

const TWO32 = 4294967296;

/** int64 (as low unsigned / high signed 32-bit halves) → the nearest number, or float32-exact rounding when `toF32`. */
function int64ToNumber(lo: number, hi: number, toF32: boolean): number {
  // |value| < 2^53: hi·2^32 + lo is exact in a double.
  if (hi >= -0x200000 && hi < 0x200000) return hi * TWO32 + lo;
  let v = (BigInt(hi) << 32n) | BigInt(lo);
  const neg = v < 0n;
  if (neg) v = -v;
  if (!toF32) return neg ? -Number(v) : Number(v);
  // Round to odd at 53 bits, then the float32 store rounds once more: equal to a single rounding.
  const bits = v.toString(2).length;
  const shift = BigInt(bits - 53);
  let top = v >> shift;
  if ((v & ((1n << shift) - 1n)) !== 0n) top |= 1n;
  const r = Number(top) * 2 ** Number(shift);
  return neg ? -r : r;
}

/**
 * Convert `count` elements of `dtype` stored in `src` (host byte order: swap first if needed)
 * to float32, writing `out[outOffset …]`. `src` must start at a multiple of the element size within
 * its ArrayBuffer (napood's reader guarantees this).
 */
export function toFloat32(src: Uint8Array, dtype: DType, count: number, out: Float32Array, outOffset = 0): void {
  const buf = src.buffer;
  const off = src.byteOffset;
  switch (dtype) {
    case 'float32':
      new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * 4).set(src.subarray(0, count * 4));
      return;
    case 'float16': {
      const t = float16Table();
      const s = new Uint16Array(buf, off, count);
      const o = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, count);
      for (let i = 0; i < count; i++) o[i] = t[s[i]];
      return;
    }
    case 'bfloat16': {
      const s = new Uint16Array(buf, off, count);
      const o = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, count);
      for (let i = 0; i < count; i++) o[i] = s[i] << 16;
      return;
    }
    case 'float64': {
      const s = new Float64Array(buf, off, count);
      for (let i = 0; i < count; i++) out[outOffset + i] = s[i];
      return;
    }
    case 'int64': {
      const s = new Int32Array(buf, off, count * 2);
      const loIdx = HOST_LITTLE_ENDIAN ? 0 : 1;
      const hiIdx = 1 - loIdx;
      for (let i = 0; i < count; i++) out[outOffset + i] = int64ToNumber(s[2 * i + loIdx] >>> 0, s[2 * i + hiIdx], true);
      return;
    }
    case 'int32': {
      const s = new Int32Array(buf, off, count);
      for (let i = 0; i < count; i++) out[outOffset + i] = s[i];
      return;
    }
    case 'int16': {
      const s = new Int16Array(buf, off, count);
      for (let i = 0; i < count; i++) out[outOffset + i] = s[i];
      return;
    }
    case 'uint8':
      for (let i = 0; i < count; i++) out[outOffset + i] = src[i];
      return;
    case 'int8': {
      const s = new Int8Array(buf, off, count);
      for (let i = 0; i < count; i++) out[outOffset + i] = s[i];
      return;
    }
  }
}

/**
 * Convert `count` elements to numbers (float64) for integer checks: integers exactly (int64 to the
 * nearest double), floats exactly. Used for labels.
 */
export function toFloat64(src: Uint8Array, dtype: DType, count: number, out: Float64Array, outOffset = 0): void {
  const buf = src.buffer;
  const off = src.byteOffset;
  switch (dtype) {
    case 'float64':
      out.set(new Float64Array(buf, off, count), outOffset);
      return;
    case 'int64': {
      const s = new Int32Array(buf, off, count * 2);
      const loIdx = HOST_LITTLE_ENDIAN ? 0 : 1;
      const hiIdx = 1 - loIdx;
      for (let i = 0; i < count; i++) out[outOffset + i] = int64ToNumber(s[2 * i + loIdx] >>> 0, s[2 * i + hiIdx], false);
      return;
    }
    case 'int32':
      out.set(new Int32Array(buf, off, count), outOffset);
      return;
    case 'int16':
      out.set(new Int16Array(buf, off, count), outOffset);
      return;
    case 'int8':
      out.set(new Int8Array(buf, off, count), outOffset);
      return;
    case 'uint8':
      out.set(src.subarray(0, count), outOffset);
      return;
    default: {
      // float32 / float16 / bfloat16: every value is exact in float32, hence in float64.
      const tmp = new Float32Array(count);
      toFloat32(src, dtype, count, tmp);
      out.set(tmp, outOffset);
    }
  }
}

/**
 * Index of the first non-finite element (NaN, +Inf, −Inf) of `a[start … end)`, or −1.
 * `x - x` is 0 for every finite x and NaN otherwise: one comparison per element.
 */
export function firstNonFinite(a: Float32Array, start = 0, end = a.length): number {
  for (let i = start; i < end; i++) {
    const x = a[i];
    if (x - x !== 0) return i;
  }
  return -1;
}
