/**
 * NAP kernel on WebAssembly SIMD (source: src/kernels/nap.wat, assembled by tools/wat-asm.mjs into
 * src/kernels/nap_wasm.ts). Same result as the JS reference `napKernelJs` in src/methods/nap.ts
 * (per-channel max, float64 sum, (max / (mean + ε))^p averaged over channels) up to the order of
 * the float64 additions.
 *
 * WASM code can only read its own linear memory, so a map that lives elsewhere is streamed
 * through a buffer there: whole samples (or, for big samples, runs of whole channels) of at most
 * CHUNK_FLOATS values are copied with TypedArray.set (a memmove: the one read of the map from RAM)
 * and reduced while they are in L2. Copy and reduction run one after the other (one thread), so
 * the time on a map from RAM is about copy + reduction of cached data; hence the fast reduction
 * `nap_fast` (unsigned-integer max, no sign tracking) for maps with no negative, infinite or NaN
 * value, and the exact `nap_chunk` (which also counts negatives) for the rest: `nap_fast` hands
 * such a region to `nap_chunk` itself, and after the first such region this file calls
 * `nap_chunk` directly for the rest of the map.
 * A map that already lives in the module's memory (see `napWasmStagingBuffer`) is reduced in
 * place, without the copy.
 * Returns null where WebAssembly SIMD is not available, and for channels larger than the copy
 * buffer (H·W > CHUNK_FLOATS) of a map outside the module: the caller then uses the JS kernel.
 *
 * Memory layout (bytes): [0, 4) the i32 count of negatives the kernel found, [4, 8) its `fell`
 * flag (nap_fast handed a region to nap_chunk), [8, 64) unused · [64, 64 + 4·CHUNK_FLOATS) copy
 * buffer · then 64 KB of float64 ratios (p ≠ 2) · from STAGING_OFF: the staging buffer, if one was
 * asked for. The module never grows its memory except once at load (to STAGING_OFF) and in
 * `napWasmStagingBuffer`.
 */
import { NAP_WASM_BASE64 } from './nap_wasm.js';

interface NapWasmExports {
  readonly memory: WebAssembly.Memory;
  nap_chunk(ptr: number, nch: number, hw: number, invHw: number, eps: number, rout: number): number;
  nap_fast(ptr: number, nch: number, hw: number, invHw: number, eps: number, rout: number): number;
  count_neg(start: number, stop: number): number;
  first_non_finite(start: number, stop: number): number;
}

/** Floats copied into WASM memory per call: 256 KB, reduced from L2 (on the bench machine 256 and
 *  512 KB were within 2 % of each other and 0–5 % faster than 64 KB: fewer restarts of the copy's
 *  memory stream; 1 MB, the whole L2, was slower on the 4×4 maps). */
const CHUNK_FLOATS = 65536;
/** Byte address of the copy buffer. */
const IN_OFF = 64;
/** Byte address of the float64 ratio buffer (p ≠ 2), RATIO_MAX entries. */
const RATIO_OFF = IN_OFF + CHUNK_FLOATS * 4;
const RATIO_MAX = 8192;
/** Byte address of the staging buffer (after the ratio buffer, page aligned). */
const STAGING_OFF = Math.ceil((RATIO_OFF + 8 * RATIO_MAX) / 65536) * 65536;

/** The largest H·W the WASM path takes for a map outside the module's memory (the copy buffer). */
export const NAP_WASM_MAX_HW = CHUNK_FLOATS;

let cached: NapWasmExports | null | undefined;

/** Views of the module's memory, made again after the memory grew (a growth detaches them). */
interface Views {
  buffer: ArrayBuffer;
  /** [negatives, fell] */
  flags: Int32Array;
  heap: Float32Array;
  ratios: Float64Array;
}
let views: Views | undefined;

function viewsOf(w: NapWasmExports): Views {
  const buffer = w.memory.buffer;
  if (views?.buffer !== buffer) {
    views = {
      buffer,
      flags: new Int32Array(buffer, 0, 2),
      heap: new Float32Array(buffer, IN_OFF, CHUNK_FLOATS),
      ratios: new Float64Array(buffer, RATIO_OFF, RATIO_MAX),
    };
  }
  return views;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The instantiated module, or null when this runtime has no WebAssembly (SIMD). */
export function loadNapWasm(): NapWasmExports | null {
  if (cached !== undefined) return cached;
  try {
    const module = new WebAssembly.Module(decodeBase64(NAP_WASM_BASE64));
    cached = new WebAssembly.Instance(module).exports as unknown as NapWasmExports;
    if (cached.memory.buffer.byteLength < STAGING_OFF) cached.memory.grow(Math.ceil((STAGING_OFF - cached.memory.buffer.byteLength) / 65536));
  } catch {
    cached = null;
  }
  return cached;
}

/** Whether the WebAssembly SIMD path can run here. */
export function napWasmAvailable(): boolean {
  return loadNapWasm() !== null;
}

/**
 * A Float32Array of `length` values inside the kernel's WASM memory, or null without WASM SIMD.
 * A map written there is scored in place by `napKernel` (no copy: about 1.5× faster on maps
 * that come from RAM, see bench/results/nap.md). There is one staging buffer: a call with a
 * larger length than before grows the memory, which detaches (empties) every earlier view; a call
 * with the same or a smaller length returns a view of the same bytes.
 */
export function napWasmStagingBuffer(length: number): Float32Array | null {
  const w = loadNapWasm();
  if (!w) return null;
  const need = STAGING_OFF + length * 4;
  const have = w.memory.buffer.byteLength;
  if (need > have) w.memory.grow(Math.ceil((need - have) / 65536));
  return new Float32Array(w.memory.buffer, STAGING_OFF, length);
}

/**
 * NAP scores of the n samples of an n×c×hw map on the WASM SIMD path; null if that path cannot
 * run (see the header). `stats.negatives` receives the number of negative values in the map.
 * Requires hw ≥ 1, c ≥ 1 and map.length ≥ n·c·hw (checked by the caller).
 */
export function napKernelWasm(
  map: Float32Array,
  n: number,
  c: number,
  hw: number,
  eps: number,
  p: number,
  out: Float64Array,
  stats?: { negatives: number },
): Float64Array | null {
  const w = loadNapWasm();
  if (!w) return null;
  const { buffer, flags, heap, ratios } = viewsOf(w);
  const inPlace = map.buffer === buffer && map.byteOffset >= STAGING_OFF;
  if (!inPlace && hw > CHUNK_FLOATS) return null;
  const sampleLen = c * hw;
  const invHw = 1 / hw;
  const square = p === 2;
  flags[0] = 0;
  flags[1] = 0;
  // nap_fast until a region has a negative, infinite or NaN value, then nap_chunk
  let kernel = w.nap_fast;
  let exact = false;

  /** Σ_c r_c^p over `nch` channels at byte address `ptr` (nch ≤ RATIO_MAX when p ≠ 2). */
  const reduce = (ptr: number, nch: number): number => {
    let acc: number;
    if (square) acc = kernel(ptr, nch, hw, invHw, eps, 0);
    else {
      kernel(ptr, nch, hw, invHw, eps, RATIO_OFF);
      acc = 0;
      for (let ch = 0; ch < nch; ch++) acc += Math.pow(ratios[ch], p);
    }
    if (!exact && flags[1] !== 0) {
      exact = true;
      kernel = w.nap_chunk;
    }
    return acc;
  };

  if (inPlace) {
    const maxCh = square ? c : RATIO_MAX;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let ch0 = 0; ch0 < c; ch0 += maxCh) {
        acc += reduce(map.byteOffset + (i * sampleLen + ch0 * hw) * 4, Math.min(maxCh, c - ch0));
      }
      out[i] = acc / c;
    }
  } else {
    if (sampleLen <= CHUNK_FLOATS) {
      // whole samples per copy
      const samplesPerCopy = Math.floor(CHUNK_FLOATS / sampleLen);
      const sampleBytes = sampleLen * 4;
      for (let i0 = 0; i0 < n; i0 += samplesPerCopy) {
        const m = Math.min(samplesPerCopy, n - i0);
        heap.set(map.subarray(i0 * sampleLen, (i0 + m) * sampleLen));
        for (let k = 0; k < m; k++) out[i0 + k] = reduce(IN_OFF + k * sampleBytes, c) / c;
      }
    } else {
      // runs of whole channels per copy
      const chansPerCopy = Math.floor(CHUNK_FLOATS / hw);
      for (let i = 0; i < n; i++) {
        let acc = 0;
        const base = i * sampleLen;
        for (let ch0 = 0; ch0 < c; ch0 += chansPerCopy) {
          const k = Math.min(chansPerCopy, c - ch0);
          const from = base + ch0 * hw;
          heap.set(map.subarray(from, from + k * hw));
          acc += reduce(IN_OFF, k);
        }
        out[i] = acc / c;
      }
    }
  }
  if (stats) stats.negatives = flags[0];
  return out;
}

/**
 * Index of the first NaN or ±Infinity among a[start … end − 1] (0 ≤ start ≤ end ≤ a.length), or
 * −1 if there is none; null where WebAssembly SIMD is not available (the caller then scans in JS).
 * The same check as `x - x !== 0` per value, 16 values per SIMD step: an array in the module's
 * memory (see `napWasmStagingBuffer`) is scanned in place, any other one is copied chunk by chunk
 * into the copy buffer as `napKernelWasm` does (still several times faster than a JS loop).
 */
export function firstNonFiniteWasm(a: Float32Array, start = 0, end = a.length): number | null {
  const w = loadNapWasm();
  if (!w) return null;
  if (end - start < 64) {
    for (let i = start; i < end; i++) {
      const x = a[i];
      if (x - x !== 0) return i;
    }
    return -1;
  }
  const { buffer, heap } = viewsOf(w);
  if (a.buffer === buffer && a.byteOffset >= STAGING_OFF) {
    const base = a.byteOffset;
    const at = w.first_non_finite(base + start * 4, base + end * 4);
    return at < 0 ? -1 : (at - base) / 4;
  }
  for (let i = start; i < end; i += CHUNK_FLOATS) {
    const m = Math.min(CHUNK_FLOATS, end - i);
    heap.set(a.subarray(i, i + m));
    const at = w.first_non_finite(IN_OFF, IN_OFF + m * 4);
    if (at >= 0) return i + (at - IN_OFF) / 4;
  }
  return -1;
}
