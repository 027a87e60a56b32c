/**
 * NAP kernel: golden values (numpy float64, tools/golden_nap.py), the WASM SIMD path against the
 * plain-JS reference on random maps, negative counting folded into the pass, edge cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countNegatives, nap, napKernel, napKernelJs, type NapStats } from '../../src/methods/nap.js';
import { NAP_WASM_MAX_HW, firstNonFiniteWasm, loadNapWasm, napKernelWasm, napWasmAvailable, napWasmStagingBuffer } from '../../src/kernels/nap_simd.js';
import { NapoodError } from '../../src/errors.js';
import type { Diagnostics } from '../../src/types.js';

function repoFile(rel: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    const up = dirname(dir);
    if (up === dir) throw new Error(`${rel}: not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

interface GoldenCase {
  name: string;
  shape: [number, number, number, number];
  map: number[];
  negatives: number;
  scores: { eps: number; p: number; values: number[] }[];
}
const golden = JSON.parse(readFileSync(repoFile('test/nap/fixtures/nap_golden.json'), 'utf8')) as { cases: GoldenCase[] };

function assertClose(actual: Float64Array, expected: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const d = Math.abs(actual[i] - e) / Math.max(Math.abs(e), 1e-300);
    assert.ok(d <= rel, `${what}[${i}]: expected ${e}, found ${actual[i]} (rel diff ${d})`);
  }
}

/** Seeded uniform in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/** Post-ReLU-like map: about 40 % zeros, some all-zero channels, optional negatives. */
function randomMap(n: number, c: number, hw: number, seed: number, negatives = false): Float32Array {
  const u = rng(seed);
  const x = new Float32Array(n * c * hw);
  for (let i = 0; i < x.length; i++) {
    const v = u() * 4 - 1.5;
    x[i] = negatives ? v : v > 0 ? v : 0;
  }
  // every 7th channel all zero
  for (let k = 0; k < n * c; k += 7) x.fill(0, k * hw, (k + 1) * hw);
  return x;
}

test('golden values (numpy float64): napKernel, napKernelJs and the WASM path', () => {
  for (const gc of golden.cases) {
    const [n, c, h, w] = gc.shape;
    const map = Float32Array.from(gc.map);
    for (const s of gc.scores) {
      const what = `${gc.name} eps=${s.eps} p=${s.p}`;
      assertClose(napKernelJs(map, n, c, h * w, s.eps, s.p), s.values, 1e-14, `js ${what}`);
      assertClose(napKernel(map, n, c, h * w, s.eps, s.p), s.values, 1e-14, `napKernel ${what}`);
      // the WASM path directly (napKernel takes the JS kernel for maps under 128 values)
      assertClose(napKernelWasm(map, n, c, h * w, s.eps, s.p, new Float64Array(n)) as Float64Array, s.values, 1e-14, `wasm ${what}`);
    }
    const stats: NapStats = { negatives: -1 };
    napKernel(map, n, c, h * w, 1, 2, undefined, stats);
    assert.equal(stats.negatives, gc.negatives, `${gc.name}: negatives`);
    const sw: NapStats = { negatives: -1 };
    napKernelWasm(map, n, c, h * w, 1, 2, new Float64Array(n), sw);
    assert.equal(sw.negatives, gc.negatives, `${gc.name}: negatives (wasm)`);
  }
});

test('hand-computed value: one sample, channels [1,2,3,6] and all zeros', () => {
  // ch0: max 6, mean 3 → 6/(3+1) = 1.5, squared 2.25; ch1: 0/(0+1) = 0 → S = 1.125
  const map = Float32Array.from([1, 2, 3, 6, 0, 0, 0, 0]);
  assert.deepEqual([...napKernel(map, 1, 2, 4, 1, 2)], [1.125]);
  assert.deepEqual([...napKernelJs(map, 1, 2, 4, 1, 2)], [1.125]);
  // p = 1, eps = 0.5: (6 / 3.5 + 0) / 2
  assert.ok(Math.abs(napKernel(map, 1, 2, 4, 0.5, 1)[0] - 6 / 3.5 / 2) < 1e-15);
});

test('the WASM SIMD path is available in Node 20 and equals the JS kernel on random maps', () => {
  assert.equal(napWasmAvailable(), true, 'WebAssembly SIMD should compile in Node ≥ 16.4');
  const shapes: [number, number, number][] = [
    // [n, c, hw]: hw = 7×7, 4×4, 14×14, 1×1, 2, 3, 5, 6, 9 (not divisible by 4), 8, 12, 100
    [5, 64, 49], [9, 32, 16], [3, 20, 196], [4, 33, 1], [2, 17, 2], [3, 15, 3], [2, 9, 5],
    [2, 11, 6], [1, 13, 9], [3, 10, 8], [2, 7, 12], [2, 5, 100],
    [1, 1, 49], [1, 1, 4], [1, 3, 7], // single sample, odd channel counts
    [2, 700, 49], // a sample bigger than one copy chunk (runs of channels)
    [300, 3, 4], // many samples per copy chunk
    [1, 3, 16384], // one channel as big as the copy buffer
  ];
  let seed = 1;
  for (const [n, c, hw] of shapes) {
    for (const neg of [false, true]) {
      const map = randomMap(n, c, hw, seed++, neg);
      for (const [eps, p] of [[1, 2], [1, 3], [0.1, 0.5], [2, 1]]) {
        const what = `n=${n} c=${c} hw=${hw} eps=${eps} p=${p}${neg ? ' with negatives' : ''}`;
        const sj: NapStats = { negatives: -1 };
        const sw: NapStats = { negatives: -1 };
        const ref = napKernelJs(map, n, c, hw, eps, p, new Float64Array(n), sj);
        const fast = napKernelWasm(map, n, c, hw, eps, p, new Float64Array(n), sw);
        assert.ok(fast !== null);
        if (!neg || p === 2 || p === 1) assertClose(fast, ref, 1e-14, what);
        else for (let i = 0; i < n; i++) assert.ok(Object.is(fast[i], ref[i]) || Math.abs(fast[i] - ref[i]) <= 1e-14 * Math.abs(ref[i]), `${what}[${i}]: ${fast[i]} vs ${ref[i]}`);
        assert.equal(sw.negatives, sj.negatives, `${what}: negatives`);
        assert.equal(sj.negatives, countNegatives(map), `${what}: negatives vs countNegatives`);
      }
    }
  }
});

test('napKernel: maps under 128 values take the JS kernel, larger ones the WASM path; both agree', () => {
  for (const [n, c, hw] of [[1, 31, 4], [1, 32, 4], [2, 8, 8], [1, 1, 127], [1, 1, 128], [3, 7, 9]] as [number, number, number][]) {
    const map = randomMap(n, c, hw, n * 1000 + c * 10 + hw, true);
    const sj: NapStats = { negatives: -1 };
    const sk: NapStats = { negatives: -1 };
    const ref = napKernelJs(map, n, c, hw, 1, 2, new Float64Array(n), sj);
    assertClose(napKernel(map, n, c, hw, 1, 2, new Float64Array(n), sk), ref, 1e-14, `n=${n} c=${c} hw=${hw}`);
    assert.equal(sk.negatives, sj.negatives);
  }
});

test('all-zero map scores 0; empty batch gives an empty result', () => {
  const zeros = new Float32Array(3 * 5 * 49);
  assert.deepEqual([...napKernel(zeros, 3, 5, 49, 1, 2)], [0, 0, 0]);
  assert.deepEqual([...napKernelJs(zeros, 3, 5, 49, 1, 2)], [0, 0, 0]);
  assert.equal(napKernel(new Float32Array(0), 0, 5, 49, 1, 2).length, 0);
});

test('a NaN in a channel makes that sample NaN on both paths, other samples are unaffected', () => {
  for (const hw of [49, 16, 3]) {
    const map = randomMap(2, 6, hw, 99);
    map[6 * hw + 2 * hw + 1] = NaN; // sample 1, channel 2
    const a = napKernelJs(map, 2, 6, hw, 1, 2);
    const b = napKernelWasm(map, 2, 6, hw, 1, 2, new Float64Array(2)) as Float64Array;
    assert.ok(Number.isFinite(a[0]) && Number.isNaN(a[1]), `js hw=${hw}: ${a}`);
    assert.ok(Number.isFinite(b[0]) && Number.isNaN(b[1]), `wasm hw=${hw}: ${b}`);
    assert.ok(Math.abs(a[0] - b[0]) <= 1e-14 * a[0]);
  }
});

test('countNegatives counts values < 0 only (not -0, not NaN)', () => {
  const map = Float32Array.from([-1, 0, -0, 2, NaN, -Infinity, 1e-30, -1e-30]);
  assert.equal(countNegatives(map), 3);
  const sj: NapStats = { negatives: -1 };
  const sw: NapStats = { negatives: -1 };
  napKernelJs(map, 1, 2, 4, 1, 2, undefined, sj);
  napKernelWasm(map, 1, 2, 4, 1, 2, new Float64Array(1), sw);
  assert.equal(sj.negatives, 3);
  assert.equal(sw.negatives, 3);
  // -0 alone is not a negative
  const negZero = Float32Array.from([-0, -0, -0, -0, 1, 2, 3, 4]);
  napKernelWasm(negZero, 1, 2, 4, 1, 2, new Float64Array(1), sw);
  assert.equal(sw.negatives, 0);
  napKernel(negZero, 1, 2, 4, 1, 2, undefined, sw);
  assert.equal(sw.negatives, 0);
});

test('nap.score reports negative activations in the diagnostics, and nothing for a post-ReLU map', () => {
  const ctx = (d: Diagnostics) => ({ params: { eps: 1, p: 2 }, state: undefined, diagnostics: d });
  const neg = randomMap(2, 3, 9, 5, true);
  const d1: Diagnostics = {};
  const s1 = nap.score({ n: 2, featureMap: { data: neg, c: 3, h: 3, w: 3 } }, ctx(d1)) as Float64Array;
  assert.equal(d1.negativeActivations, countNegatives(neg));
  assertClose(s1, napKernelJs(neg, 2, 3, 9, 1, 2), 1e-14, 'score');
  const d2: Diagnostics = {};
  nap.score({ n: 2, featureMap: { data: randomMap(2, 3, 9, 6), c: 3, h: 3, w: 3 } }, ctx(d2));
  assert.equal(d2.negativeActivations, undefined);
});

test('a map shorter than n·c·h·w, or a zero-sized channel, is refused with a message naming it', () => {
  assert.throws(() => napKernel(new Float32Array(10), 1, 3, 4, 1, 2), (e: unknown) =>
    e instanceof NapoodError && e.message === 'featureMap: expected at least n·c·h·w = 12 values, found 10');
  assert.throws(() => napKernelJs(new Float32Array(10), 1, 3, 4, 1, 2), NapoodError);
  assert.throws(() => napKernel(new Float32Array(10), 1, 0, 4, 1, 2), (e: unknown) =>
    e instanceof NapoodError && /expected integer n ≥ 0, c ≥ 1 and h·w ≥ 1, found n=1, c=0, h·w=4/.test(e.message));
});

test('channels larger than the copy buffer (H·W > NAP_WASM_MAX_HW) go to the JS kernel', () => {
  const hw = NAP_WASM_MAX_HW + 17;
  const big = randomMap(2, 2, hw, 7);
  assert.equal(napKernelWasm(big, 2, 2, hw, 1, 2, new Float64Array(2)), null);
  assertClose(napKernel(big, 2, 2, hw, 1, 2), napKernelJs(big, 2, 2, hw, 1, 2), 0, 'fallback');
  // one channel exactly as big as the copy buffer stays on the WASM path
  const edge = randomMap(1, 2, NAP_WASM_MAX_HW, 8);
  assertClose(napKernelWasm(edge, 1, 2, NAP_WASM_MAX_HW, 1, 2, new Float64Array(1)) as Float64Array, napKernelJs(edge, 1, 2, NAP_WASM_MAX_HW, 1, 2), 1e-14, 'edge');
});

test('module: nap_fast equals nap_chunk on post-ReLU maps (bit for bit outside 4 ≤ hw ≤ 16); a negative, -0, inf or NaN sends the region to nap_chunk', () => {
  const w = loadNapWasm();
  assert.ok(w !== null);
  /** Both kernels on `map` (one sample of c channels) staged in WASM memory: scores and ratios. */
  const both = (map: Float32Array, c: number, hw: number) => {
    const floats = Math.ceil(map.length / 2) * 2; // ratios 8-byte aligned after the map
    const staged = napWasmStagingBuffer(floats + 2 * c) as Float32Array;
    staged.set(map);
    const ptr = staged.byteOffset;
    const rout = ptr + floats * 4;
    const ratios = () => [...new Float64Array(staged.buffer, rout, c)];
    const flags = new Int32Array(w.memory.buffer, 0, 2); // [negatives, fell]
    const run = (fn: 'nap_chunk' | 'nap_fast') => {
      flags.fill(0);
      const score = w[fn](ptr, c, hw, 1 / hw, 1, 0);
      const [neg, fell] = flags;
      w[fn](ptr, c, hw, 1 / hw, 1, rout);
      return { score, ratios: ratios(), neg, fell };
    };
    return { exact: run('nap_chunk'), fast: run('nap_fast') };
  };
  /** nap_quads (4 ≤ hw ≤ 16) adds in another order: equal to 1e-15; otherwise bit for bit. */
  const same = (a: number, b: number, hw: number): boolean =>
    Object.is(a, b) || (hw >= 4 && hw <= 16 && Math.abs(a - b) <= 1e-15 * Math.abs(b));
  const sameAll = (a: number[], b: number[], hw: number): boolean => a.length === b.length && a.every((x, k) => same(x, b[k], hw));
  let seed = 500;
  for (const hw of [3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 49, 63, 64, 65, 100, 196, 1000]) {
    for (const c of [1, 2, 3, 4, 5, 8, 33]) {
      const map = randomMap(1, c, hw, seed++);
      const { exact, fast } = both(map, c, hw);
      assert.ok(same(fast.score, exact.score, hw), `hw=${hw} c=${c}: ${fast.score} vs ${exact.score}`);
      assert.ok(sameAll(fast.ratios, exact.ratios, hw), `hw=${hw} c=${c}: ratios`);
      assert.equal(fast.fell, 0, `hw=${hw} c=${c}: no fallback on a post-ReLU map`);
      assertClose(Float64Array.of(fast.score / c), napKernelJs(map, 1, c, hw, 1, 2), 1e-14, `hw=${hw} c=${c} vs js`);
      // one special value anywhere (first value, a middle one, the last one)
      for (const special of [-2.5, -0, Infinity, NaN, -Infinity, -1e-40]) {
        for (const at of [0, Math.floor(map.length / 2), map.length - 1]) {
          const m = map.slice();
          m[at] = special;
          const r = both(m, c, hw);
          assert.ok(same(r.fast.score, r.exact.score, hw), `hw=${hw} c=${c} ${special}@${at}: ${r.fast.score} vs ${r.exact.score}`);
          assert.ok(sameAll(r.fast.ratios, r.exact.ratios, hw), `hw=${hw} c=${c} ${special}@${at}: ratios`);
          assert.equal(r.fast.neg, r.exact.neg);
          assert.equal(r.fast.neg, countNegatives(m));
          assert.equal(r.fast.fell, hw < 4 ? 0 : 1, `hw=${hw} c=${c} ${special}@${at}: handed to nap_chunk (hw < 4: nap_small, exact itself)`);
        }
      }
    }
  }
});

test('napKernel on a map of several copy chunks: a negative, -0, inf or NaN in the first, a middle or the last chunk', () => {
  const c = 64, hw = 49;
  const n = Math.ceil((4 * NAP_WASM_MAX_HW) / (c * hw)) + 1; // at least four copy chunks
  const base = randomMap(n, c, hw, 77);
  const sampleLen = c * hw;
  for (const special of [-0.75, -0, Infinity, NaN]) {
    for (const sample of [0, Math.floor(n / 2), n - 1]) {
      const m = base.slice();
      m[sample * sampleLen + 3 * hw + 5] = special;
      m[(n - 1 - sample) * sampleLen + 7] = special === -0.75 ? -0.25 : 0; // a second negative elsewhere
      const sj: NapStats = { negatives: -1 };
      const ref = napKernelJs(m, n, c, hw, 1, 2, new Float64Array(n), sj);
      for (const staged of [false, true]) {
        let map: Float32Array = m;
        if (staged) {
          map = napWasmStagingBuffer(m.length) as Float32Array;
          map.set(m);
        }
        for (const p of [2, 3]) {
          const refP = p === 2 ? ref : napKernelJs(m, n, c, hw, 1, p);
          const sw: NapStats = { negatives: -1 };
          const got = napKernel(map, n, c, hw, 1, p, new Float64Array(n), sw);
          const what = `${special} in sample ${sample}${staged ? ' (staged)' : ''} p=${p}`;
          for (let i = 0; i < n; i++) {
            assert.ok(Object.is(got[i], refP[i]) || Math.abs(got[i] - refP[i]) <= 1e-14 * Math.abs(refP[i]), `${what}[${i}]: ${got[i]} vs ${refP[i]}`);
          }
          assert.equal(sw.negatives, sj.negatives, `${what}: negatives`);
        }
      }
    }
  }
  // the clean map: no fallback needed, same scores
  assertClose(napKernel(base, n, c, hw, 1, 2), napKernelJs(base, n, c, hw, 1, 2), 1e-14, 'clean');
});

test('a map in the staging buffer is scored in place, equal to the JS kernel; growing it detaches older views', () => {
  for (const [n, c, hw] of [[3, 40, 49], [5, 16, 16], [2, 9, 5], [2, 3, 17000], [1, 9000, 2]] as [number, number, number][]) {
    const src = randomMap(n, c, hw, n * c + hw, true);
    const staged = napWasmStagingBuffer(src.length);
    assert.ok(staged !== null);
    staged.set(src);
    for (const p of [2, 3]) {
      const sw: NapStats = { negatives: -1 };
      const sj: NapStats = { negatives: -1 };
      const ref = napKernelJs(src, n, c, hw, 1, p, new Float64Array(n), sj);
      assertClose(napKernel(staged, n, c, hw, 1, p, new Float64Array(n), sw), ref, 1e-14, `staged n=${n} c=${c} hw=${hw} p=${p}`);
      assert.equal(sw.negatives, sj.negatives);
    }
  }
  const small = napWasmStagingBuffer(10) as Float32Array;
  small.fill(2);
  const again = napWasmStagingBuffer(10) as Float32Array;
  assert.equal(again[3], 2, 'same length: same bytes');
  const larger = napWasmStagingBuffer(4_000_000) as Float32Array;
  assert.equal(larger.length, 4_000_000);
  assert.equal(small.length, 0, 'the older view is detached after the memory grew');
  // the copy path still works after the growth
  const m = randomMap(4, 8, 49, 8);
  assertClose(napKernelWasm(m, 4, 8, 49, 1, 3, new Float64Array(4)) as Float64Array, napKernelJs(m, 4, 8, 49, 1, 3), 1e-14, 'after grow');
});

test('firstNonFiniteWasm: the first NaN / ±Infinity, in place or through the copy buffer; -0, denormals and ±3.4e38 are finite', () => {
  const jsFirst = (a: Float32Array, start: number, end: number): number => {
    for (let i = start; i < end; i++) if (a[i] - a[i] !== 0) return i;
    return -1;
  };
  const u = rng(31);
  for (const len of [0, 1, 15, 63, 64, 65, 1000, 3 * NAP_WASM_MAX_HW + 37]) {
    const base = new Float32Array(len);
    for (let i = 0; i < len; i++) base[i] = [0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1.5, -2][Math.floor(u() * 8)];
    const cases: [number, number][] = [[-1, 0]];
    for (const at of [0, 1, 15, 16, 17, 63, Math.floor(len / 2), len - 17, len - 2, len - 1]) {
      if (at < 0 || at >= len) continue;
      for (const v of [NaN, Infinity, -Infinity]) cases.push([at, v]);
    }
    for (const [at, v] of cases) {
      const a = base.slice();
      if (at >= 0) {
        a[at] = v;
        if (at + 5 < len) a[at + 5] = NaN; // a later one must not be reported
      }
      const staged = napWasmStagingBuffer(len) as Float32Array;
      staged.set(a);
      for (const [start, end] of [[0, len], [Math.min(len, 3), len], [0, Math.max(0, len - 3)], [Math.min(len, 17), Math.max(Math.min(len, 17), len - 17)]]) {
        const want = jsFirst(a, start, end);
        assert.equal(firstNonFiniteWasm(a, start, end), want, `len=${len} ${v}@${at} [${start}, ${end}) copied`);
        assert.equal(firstNonFiniteWasm(staged, start, end), want, `len=${len} ${v}@${at} [${start}, ${end}) staged`);
      }
    }
  }
  assert.equal(firstNonFiniteWasm(Float32Array.of(1, 2, 3)), -1);
});
