/**
 * NAP kernel on WebAssembly SIMD (source: src/kernels/nap.wat, assembled by tools/wat-asm.mjs into
 * src/kernels/nap_wasm.ts). Same result as the JS reference `napKernelJs` in src/methods/nap.ts
 * (per-channel max, float64 sum, (max / (mean + ε))^p averaged over channels) up to the order of
 * the float64 additions.
 *
 * WASM code can only read its own linear memory, so the map is streamed through a small buffer
 * there: whole samples (or, for big samples, runs of whole channels) of ~32 KB are copied with
 * TypedArray.set (a memcpy, the one read of the map from RAM) and reduced while they are in L1/L2.
 * The module also counts negative activations (only when a chunk's minimum is below zero).
 * Returns null where WebAssembly SIMD is not available (the caller falls back to JS).
 */
import { NAP_WASM_BASE64 } from './nap_wasm.js';

interface NapWasmExports {
  readonly memory: WebAssembly.Memory;
  readonly neg: WebAssembly.Global;
  nap_chunk(ptr: number, nch: number, hw: number, invHw: number, eps: number, rout: number): number;
  count_neg(start: number, stop: number): number;
}

/** Floats copied into WASM memory per call (32 KB: stays in L1/L2 between copy and reduction). */
let CHUNK_FLOATS = 8192;
export function _setChunkFloats(v: number): void { CHUNK_FLOATS = v; }
/** Byte address of the input buffer in WASM memory. */
const IN_OFF = 64;

let cached: NapWasmExports | null | undefined;

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
  } catch {
    cached = null;
  }
  return cached;
}

/** Whether the WebAssembly SIMD path can run here. */
export function napWasmAvailable(): boolean {
  return loadNapWasm() !== null;
}

function ensureMemory(w: NapWasmExports, bytes: number): void {
  const have = w.memory.buffer.byteLength;
  if (bytes > have) w.memory.grow(Math.ceil((bytes - have) / 65536));
}

/**
 * NAP scores of the n samples of an n×c×hw map on the WASM SIMD path; null if unavailable.
 * `stats.negatives` receives the number of negative values in the map.
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
  const sampleLen = c * hw;
  const invHw = 1 / hw;
  const square = p === 2;
  // Whole samples per copy when a sample fits the chunk, else runs of whole channels.
  const samplesPerCopy = sampleLen <= CHUNK_FLOATS ? Math.max(1, Math.floor(CHUNK_FLOATS / sampleLen)) : 0;
  const chansPerCopy = samplesPerCopy > 0 ? c : Math.max(1, Math.floor(CHUNK_FLOATS / hw));
  const inFloats = samplesPerCopy > 0 ? samplesPerCopy * sampleLen : chansPerCopy * hw;
  const ratioOff = (IN_OFF + inFloats * 4 + 15) & ~15;
  ensureMemory(w, ratioOff + chansPerCopy * 8);
  // Views are taken after any grow (growing detaches the old buffer).
  const heap = new Float32Array(w.memory.buffer);
  const ratios = new Float64Array(w.memory.buffer, ratioOff, chansPerCopy);
  const inIdx = IN_OFF >> 2;
  w.neg.value = 0;

  if (samplesPerCopy > 0) {
    const sampleBytes = sampleLen * 4;
    for (let i0 = 0; i0 < n; i0 += samplesPerCopy) {
      const m = Math.min(samplesPerCopy, n - i0);
      heap.set(map.subarray(i0 * sampleLen, (i0 + m) * sampleLen), inIdx);
      for (let k = 0; k < m; k++) {
        const ptr = IN_OFF + k * sampleBytes;
        let acc: number;
        if (square) {
          acc = w.nap_chunk(ptr, c, hw, invHw, eps, 0);
        } else {
          w.nap_chunk(ptr, c, hw, invHw, eps, ratioOff);
          acc = 0;
          for (let ch = 0; ch < c; ch++) acc += Math.pow(ratios[ch], p);
        }
        out[i0 + k] = acc / c;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const base = i * sampleLen;
      for (let ch0 = 0; ch0 < c; ch0 += chansPerCopy) {
        const k = Math.min(chansPerCopy, c - ch0);
        const from = base + ch0 * hw;
        heap.set(map.subarray(from, from + k * hw), inIdx);
        if (square) {
          acc += w.nap_chunk(IN_OFF, k, hw, invHw, eps, 0);
        } else {
          w.nap_chunk(IN_OFF, k, hw, invHw, eps, ratioOff);
          for (let j = 0; j < k; j++) acc += Math.pow(ratios[j], p);
        }
      }
      out[i] = acc / c;
    }
  }
  if (stats) stats.negatives = w.neg.value as number;
  return out;
}
