/**
 * resample.ts (fixed-tap-count coefficients, int32 sums, passes over the crop window only) against
 * Pillow 9.4 on 576 random cases (tools/make_resample_fixtures.py: fixtures/images/resample-fast/),
 * and against a plain port of Pillow's Resample.c on many more random cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { resamplePil, type PilFilter, type ResampleWindow } from '../../src/images/resample.js';
import { img, ref } from './helpers.js';

type Row = [number, PilFilter, number, number, number, number, number, number, number];
const fixture: { pillow: string; sources: [number, number, number][]; cases: Row[] } = JSON.parse(fs.readFileSync(img('resample-fast', 'cases.json'), 'utf8'));

const FILTERS: readonly PilFilter[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];

function firstDiff(a: Uint8Array, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `length ${a.length}, expected ${b.length}`;
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  return count === 0 ? '' : `${count} bytes differ, first at ${first}: ${a[first]} vs ${b[first]}`;
}

test('resamplePil equals Pillow Image.resize + crop on 576 random cases (1, 3, 4 channels, every filter, up to 20× down, 3.5× up)', () => {
  assert.equal(fixture.pillow, '9.4.0');
  assert.equal(fixture.cases.length, 576);
  const srcs = fixture.sources.map((_, i) => Uint8Array.from(ref(`resample-fast/src_${i}.npy`).data));
  const expected = ref('resample-fast/out.npy').data;
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const [s, filter, resizeW, resizeH, left, top, outW, outH, offset] of fixture.cases) {
    const [w, h, ch] = fixture.sources[s]!;
    const out = resamplePil(srcs[s]!, w, h, ch, filter, { resizeW, resizeH, left, top, outW, outH });
    const d = firstDiff(out, expected.subarray(offset, offset + outW * outH * ch));
    if (d) failures.push(`${w}×${h}×${ch} → ${resizeW}×${resizeH} ${filter}, window ${outW}×${outH} at (${left}, ${top}): ${d}`);
    seen.add(`${filter} ${ch} ${resizeW < w ? 'down' : resizeW > w ? 'up' : 'same'} ${resizeH < h ? 'down' : resizeH > h ? 'up' : 'same'}`);
  }
  assert.deepEqual(failures, []);
  // The cases cover every filter and channel count, each axis shrunk, enlarged and unchanged.
  for (const f of FILTERS) {
    for (const ch of [1, 3, 4]) assert.ok([...seen].some((k) => k.startsWith(`${f} ${ch} `)), `${f} ${ch}`);
    for (const dir of ['down', 'up', 'same']) {
      assert.ok([...seen].some((k) => k.startsWith(`${f} `) && k.split(' ')[2] === dir), `${f} horizontal ${dir}`);
      assert.ok([...seen].some((k) => k.startsWith(`${f} `) && k.split(' ')[3] === dir), `${f} vertical ${dir}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// A plain port of Pillow 9.4 Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
// ImagingResampleHorizontal_8bpc / Vertical_8bpc, ImagingResampleInner without a box): each output
// with its own taps, the whole image, then cropped. Independent of resample.ts's layout.

const SUPPORT: Record<Exclude<PilFilter, 'nearest'>, number> = { box: 0.5, bilinear: 1, hamming: 1, bicubic: 2, lanczos: 3 };

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function filterFn(f: Exclude<PilFilter, 'nearest'>, x: number): number {
  switch (f) {
    case 'box':
      return x > -0.5 && x <= 0.5 ? 1 : 0;
    case 'bilinear':
      return Math.abs(x) < 1 ? 1 - Math.abs(x) : 0;
    case 'hamming': {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(px));
    }
    case 'bicubic': {
      const t = Math.abs(x);
      if (t < 1) return (1.5 * t - 2.5) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * -0.5;
      return 0;
    }
    case 'lanczos':
      return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
  }
}

function refCoeffs(inSize: number, outSize: number, f: Exclude<PilFilter, 'nearest'>): { bounds: [number, number][]; k: number[][] } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = SUPPORT[f] * filterscale;
  const bounds: [number, number][] = [];
  const k: number[][] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const w: number[] = [];
    for (let x = 0; x < xmax; x++) w.push(filterFn(f, (x + xmin - center + 0.5) / filterscale));
    const ww = w.reduce((a, b) => a + b, 0);
    k.push(w.map((v) => (ww !== 0 ? v / ww : v)).map((v) => (v < 0 ? Math.trunc(-0.5 + v * 2 ** 22) : Math.trunc(0.5 + v * 2 ** 22))));
    bounds.push([xmin, xmax]);
  }
  return { bounds, k };
}

const clip8 = (ss: number): number => Math.min(255, Math.max(0, Math.floor(ss / 2 ** 22)));

/** Whole-image Pillow resize (not nearest), then the window. */
function reference(src: Uint8Array, w: number, h: number, ch: number, f: Exclude<PilFilter, 'nearest'>, win: Required<ResampleWindow>): Uint8Array {
  let img = src;
  let iw = w;
  if (win.resizeW !== w) {
    const { bounds, k } = refCoeffs(w, win.resizeW, f);
    const out = new Uint8Array(win.resizeW * h * ch);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < win.resizeW; x++) {
        const [xmin, n] = bounds[x]!;
        for (let c = 0; c < ch; c++) {
          let ss = 2 ** 21;
          for (let t = 0; t < n; t++) ss += img[(y * iw + xmin + t) * ch + c]! * k[x]![t]!;
          out[(y * win.resizeW + x) * ch + c] = clip8(ss);
        }
      }
    }
    img = out;
    iw = win.resizeW;
  }
  if (win.resizeH !== h) {
    const { bounds, k } = refCoeffs(h, win.resizeH, f);
    const out = new Uint8Array(iw * win.resizeH * ch);
    for (let y = 0; y < win.resizeH; y++) {
      const [ymin, n] = bounds[y]!;
      for (let i = 0; i < iw * ch; i++) {
        let ss = 2 ** 21;
        for (let t = 0; t < n; t++) ss += img[(ymin + t) * iw * ch + i]! * k[y]![t]!;
        out[y * iw * ch + i] = clip8(ss);
      }
    }
    img = out;
  }
  const crop = new Uint8Array(win.outW * win.outH * ch);
  for (let y = 0; y < win.outH; y++) {
    const from = ((win.top + y) * iw + win.left) * ch;
    crop.set(img.subarray(from, from + win.outW * ch), y * win.outW * ch);
  }
  return crop;
}

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

test('resamplePil equals a plain port of Pillow on 1500 random sizes, windows, filters and 1–4 channels', () => {
  const r = rng(7);
  const failures: string[] = [];
  for (let it = 0; it < 1500; it++) {
    const w = 1 + r(it % 10 === 0 ? 160 : 40);
    const h = 1 + r(it % 10 === 5 ? 160 : 40);
    const ch = 1 + r(4);
    const f = (['box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const)[r(5)]!;
    const pick = (n: number): number => (r(4) === 0 ? n : 1 + r(r(2) === 0 ? Math.max(1, n >> 2) : 3 * n));
    const resizeW = pick(w);
    const resizeH = pick(h);
    const outW = 1 + r(resizeW);
    const outH = 1 + r(resizeH);
    const win = { resizeW, resizeH, left: r(resizeW - outW + 1), top: r(resizeH - outH + 1), outW, outH };
    const src = new Uint8Array(w * h * ch);
    const mode = r(3);
    for (let i = 0; i < src.length; i++) src[i] = mode === 0 ? r(256) : mode === 1 ? (r(2) ? 255 : 0) : (i * 7 + r(9)) & 255;
    const got = resamplePil(src, w, h, ch, f, win);
    const d = firstDiff(got, reference(src, w, h, ch, f, win));
    if (d) failures.push(`${w}×${h}×${ch} → ${resizeW}×${resizeH} ${f}, window ${outW}×${outH} at (${win.left}, ${win.top}): ${d}`);
  }
  assert.deepEqual(failures.slice(0, 5), []);
});

test('torchvision Resize(256) + CenterCrop(224) geometry on photo sizes equals the plain port', () => {
  const r = rng(11);
  for (const [w, h] of [[500, 375], [375, 500], [640, 427], [256, 256], [300, 257]] as const) {
    const src = new Uint8Array(w * h * 3);
    for (let i = 0; i < src.length; i++) src[i] = (r(256) + ((i / 3) % w)) & 255;
    const resizeW = w <= h ? 256 : Math.trunc((256 * w) / h);
    const resizeH = w <= h ? Math.trunc((256 * h) / w) : 256;
    const win = { resizeW, resizeH, left: Math.round((resizeW - 224) / 2), top: Math.round((resizeH - 224) / 2), outW: 224, outH: 224 };
    for (const f of ['bilinear', 'bicubic', 'lanczos'] as const) {
      assert.equal(firstDiff(resamplePil(src, w, h, 3, f, win), reference(src, w, h, 3, f, win)), '', `${w}×${h} ${f}`);
    }
  }
});

test('results do not depend on earlier calls (reused buffers, cached coefficients)', () => {
  const r = rng(3);
  const make = (w: number, h: number, ch: number): Uint8Array => Uint8Array.from({ length: w * h * ch }, () => r(256));
  const a = make(40, 30, 3);
  const b = make(90, 70, 1);
  const winA = { resizeW: 17, resizeH: 13, left: 2, top: 1, outW: 12, outH: 11 };
  const winB = { resizeW: 200, resizeH: 9, left: 5, top: 0, outW: 150, outH: 9 };
  const first = resamplePil(a, 40, 30, 3, 'bicubic', winA);
  const firstCopy = Uint8Array.from(first);
  for (const f of ['bilinear', 'hamming', 'bicubic', 'lanczos', 'box'] as const) resamplePil(b, 90, 70, 1, f, winB);
  // Same geometry, another filter of the same support (bilinear vs hamming): no cache mix-up.
  const bil = resamplePil(a, 40, 30, 3, 'bilinear', winA);
  const ham = resamplePil(a, 40, 30, 3, 'hamming', winA);
  assert.deepEqual(bil, reference(a, 40, 30, 3, 'bilinear', winA));
  assert.deepEqual(ham, reference(a, 40, 30, 3, 'hamming', winA));
  assert.deepEqual(resamplePil(a, 40, 30, 3, 'bicubic', winA), firstCopy);
  // The returned arrays are the caller's: a later call does not overwrite them.
  assert.deepEqual(first, firstCopy);
  // A subarray source (offset into a larger buffer) reads the right bytes.
  const big = new Uint8Array(a.length + 10);
  big.set(a, 7);
  assert.deepEqual(resamplePil(big.subarray(7, 7 + a.length), 40, 30, 3, 'bicubic', winA), firstCopy);
});
