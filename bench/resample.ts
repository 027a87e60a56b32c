/**
 * Pillow-exact resize (src/images/resample.ts) against the implementation it replaced, on the
 * shapes napood's image pipeline sees (SPEC §7: ratios against a baseline run in the same script).
 *
 * Cases (HWC uint8, synthetic smooth image + noise, seeded):
 *   500×375×3 → shorter side 256 (341×256) → centre crop 224 (torchvision Resize(256) +
 *   CenterCrop(224)), bilinear / bicubic / lanczos; the same for 375×500 (portrait), for
 *   500×375×1 (grayscale) and for 1024×768×3 bicubic (13 taps a pass); 500×375×3 → 341×256
 *   without a crop; 32×32×3 → 32×32 (no resize: a copy, CIFAR-size inputs).
 * Contenders: `old` = the previous resamplePil (a copy is kept below: fixed-point int
 * coefficients, float64 sums, a variable-length tap loop per output pixel, an accumulator row for the
 * vertical pass), `new` = resamplePil from src/images. Both compute only the crop window.
 * Both must return the same bytes (checked before timing). Timing: warm-up, then `rounds` rounds
 * with the contenders in turn, each a timed loop of ≥ 0.2 s; ms per image of the best loop.
 * Unless --no-pillow, Pillow's C (/usr/bin/python3 with PIL; skipped when missing) is timed on the
 * same pixels for context: Image.resize of the whole image + crop, as torchvision does, so it does
 * more work than the window-only contenders; same best-of-loops rule.
 *
 * Run: npm run bench -- resample   (or: npm run build && node dist/bench/resample.js)
 *      [--rounds 5] [--no-pillow] [--no-write]
 * Writes bench/results/resample.md unless --no-write.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resamplePil, type PilFilter, type ResampleWindow } from '../src/images/resample.js';

// ---------------------------------------------------------------------------------------------
// Baseline: src/images/resample.ts before the fast rewrite, verbatim except for the names.

interface FilterDef {
  readonly support: number;
  readonly fn: (x: number) => number;
}

const F054 = Math.fround(0.54);
const F046 = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Readonly<Record<Exclude<PilFilter, 'nearest'>, FilterDef>> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    fn: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  hamming: {
    support: 1,
    fn: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      // Pillow: sin(x) / x * (0.54f + 0.46f * cos(x)) with float constants.
      return (Math.sin(px) / px) * (F054 + F046 * Math.cos(px));
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point coefficients for output indices [first, first + count) of a resize inSize → outSize. */
interface Coeffs {
  readonly ksize: number;
  /** Per output: first input index. */
  readonly start: Int32Array;
  /** Per output: number of input taps. */
  readonly taps: Int32Array;
  /** count × ksize fixed-point weights. */
  readonly k: Int32Array;
}

function precomputeCoeffs(inSize: number, outSize: number, filter: FilterDef, first: number, count: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const taps = new Int32Array(count);
  const k = new Int32Array(count * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let i = 0; i < count; i++) {
    const xx = first + i;
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = filter.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      // normalize_coeffs_8bpc: (int)(±0.5 + v · 2^22), truncation toward zero.
      k[i * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[i] = xmin;
    taps[i] = xmax;
  }
  return { ksize, start, taps, k };
}

/** Pillow's clip8: arithmetic shift by 22 bits, clamped to 0…255. */
function clip8(ss: number): number {
  const v = Math.floor(ss / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

interface OldResampleWindow {
  /** Size of the full resized image. */
  readonly resizeW: number;
  readonly resizeH: number;
  /** Window of it to compute (a crop); defaults to the whole image. */
  readonly left?: number;
  readonly top?: number;
  readonly outW?: number;
  readonly outH?: number;
}

/**
 * Resize `src` (HWC uint8, `w × h`, `ch` channels) to `resizeW × resizeH` with Pillow's algorithm
 * and return the window [left, left + outW) × [top, top + outH) as HWC uint8.
 */
export function resamplePilOld(src: Uint8Array, w: number, h: number, ch: number, filter: PilFilter, win: OldResampleWindow): Uint8Array {
  const { resizeW, resizeH } = win;
  const left = win.left ?? 0;
  const top = win.top ?? 0;
  const outW = win.outW ?? resizeW;
  const outH = win.outH ?? resizeH;
  if (src.length !== w * h * ch) throw new RangeError(`resamplePilOld: expected ${w * h * ch} bytes (${w}×${h}×${ch}), found ${src.length}`);
  if (left < 0 || top < 0 || left + outW > resizeW || top + outH > resizeH || outW < 1 || outH < 1) {
    throw new RangeError(`resamplePilOld: window ${outW}×${outH} at (${left}, ${top}) outside ${resizeW}×${resizeH}`);
  }
  if (filter === 'nearest') return nearest(src, w, h, ch, resizeW, resizeH, left, top, outW, outH);
  const f = FILTERS[filter];
  const needH = resizeW !== w;
  const needV = resizeH !== h;
  if (!needH && !needV) return cropCopy(src, w, ch, left, top, outW, outH);

  // Horizontal pass over the source rows the vertical pass will read.
  let rowFirst = top;
  let rowCount = outH;
  let vert: Coeffs | undefined;
  if (needV) {
    vert = precomputeCoeffs(h, resizeH, f, top, outH);
    rowFirst = vert.start[0]!;
    rowCount = vert.start[outH - 1]! + vert.taps[outH - 1]! - rowFirst;
  }
  const tmp = needH
    ? horizontalPass(src, w, ch, precomputeCoeffs(w, resizeW, f, left, outW), rowFirst, rowCount, outW)
    : cropCopy(src, w, ch, left, rowFirst, outW, rowCount); // Pillow skips the pass: columns as they are
  return vert ? verticalPass(tmp, outW * ch, vert, rowFirst, outH) : tmp;
}

/** Rows [rowFirst, rowFirst + rowCount) of `src`, resampled horizontally to `outW` columns. */
function horizontalPass(src: Uint8Array, w: number, ch: number, hc: Coeffs, rowFirst: number, rowCount: number, outW: number): Uint8Array {
  const out = new Uint8Array(rowCount * outW * ch);
  const { ksize, start, taps, k } = hc;
  let o = 0;
  for (let y = 0; y < rowCount; y++) {
    const rowIn = (rowFirst + y) * w * ch;
    for (let xx = 0; xx < outW; xx++) {
      const n = taps[xx]!;
      const kb = xx * ksize;
      let p = rowIn + start[xx]! * ch;
      if (ch === 3) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < n; x++, p += 3) {
          const kx = k[kb + x]!;
          s0 += src[p]! * kx;
          s1 += src[p + 1]! * kx;
          s2 += src[p + 2]! * kx;
        }
        out[o++] = clip8(s0);
        out[o++] = clip8(s1);
        out[o++] = clip8(s2);
      } else {
        for (let c = 0; c < ch; c++) {
          let ss = HALF;
          for (let x = 0, q = p + c; x < n; x++, q += ch) ss += src[q]! * k[kb + x]!;
          out[o++] = clip8(ss);
        }
      }
    }
  }
  return out;
}

/** Vertical resampling of `tmp` (rows from source row `rowFirst` on, `stride` bytes each). */
function verticalPass(tmp: Uint8Array, stride: number, vc: Coeffs, rowFirst: number, outH: number): Uint8Array {
  const out = new Uint8Array(outH * stride);
  const acc = new Float64Array(stride);
  const { ksize, start, taps, k } = vc;
  for (let yy = 0; yy < outH; yy++) {
    acc.fill(HALF);
    const ymin = start[yy]! - rowFirst;
    const n = taps[yy]!;
    const kb = yy * ksize;
    for (let y = 0; y < n; y++) {
      const ky = k[kb + y]!;
      const row = (ymin + y) * stride;
      for (let i = 0; i < stride; i++) acc[i] += tmp[row + i]! * ky;
    }
    const rowOut = yy * stride;
    for (let i = 0; i < stride; i++) out[rowOut + i] = clip8(acc[i]!);
  }
  return out;
}

function cropCopy(src: Uint8Array, w: number, ch: number, left: number, top: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH * ch);
  for (let y = 0; y < outH; y++) {
    const from = ((top + y) * w + left) * ch;
    out.set(src.subarray(from, from + outW * ch), y * outW * ch);
  }
  return out;
}

/**
 * Pillow NEAREST (Geometry.c `ImagingScaleAffine`): source index = trunc(x0 + i·scale) with
 * x0 = scale / 2, accumulated by repeated addition exactly as Pillow does.
 */
function nearest(src: Uint8Array, w: number, h: number, ch: number, resizeW: number, resizeH: number, left: number, top: number, outW: number, outH: number): Uint8Array {
  const xs = nearestIndices(w, resizeW, left, outW);
  const ys = nearestIndices(h, resizeH, top, outH);
  const out = new Uint8Array(outW * outH * ch);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const row = ys[y]! * w;
    for (let x = 0; x < outW; x++) {
      const p = (row + xs[x]!) * ch;
      for (let c = 0; c < ch; c++) out[o++] = src[p + c]!;
    }
  }
  return out;
}

function nearestIndices(inSize: number, outSize: number, first: number, count: number): Int32Array {
  const a = inSize / outSize;
  const idx = new Int32Array(count);
  let xo = a * 0.5;
  for (let x = 0; x < first + count; x++) {
    if (x >= first) {
      const v = xo < 0 ? -1 : Math.trunc(xo);
      idx[x - first] = v < 0 ? 0 : v >= inSize ? inSize - 1 : v;
    }
    xo += a;
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------

interface Case { label: string; w: number; h: number; ch: number; filter: PilFilter; win: ResampleWindow }

function image(w: number, h: number, ch: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const px = new Uint8Array(w * h * ch);
  for (let y = 0, o = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        const v = 128 + 90 * Math.sin(x / (7 + 3 * c) + y / 11) * Math.cos(y / (5 + c)) + 30 * (rnd() - 0.5);
        px[o++] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  return px;
}

/** torchvision Resize(r) + CenterCrop(size) geometry (as src/images/pixels.ts resizeGeometry). */
function centreCrop(w: number, h: number, r: number, size: number): ResampleWindow {
  const resizeW = w <= h ? r : Math.trunc((r * w) / h);
  const resizeH = w <= h ? Math.trunc((r * h) / w) : r;
  const half = (v: number): number => { const f = Math.floor(v); return v - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(v); };
  return { resizeW, resizeH, left: half((resizeW - size) / 2), top: half((resizeH - size) / 2), outW: size, outH: size };
}

const now = (): number => performance.now();

/** ms per call of the best of `rounds` loops of ≥ minMs each. */
function timeIt(fn: () => unknown, minMs: number): number {
  let n = 0;
  const t0 = now();
  let t = t0;
  do { fn(); n++; t = now(); } while (t - t0 < minMs);
  return (t - t0) / n;
}

function pillow(cases: Case[], srcs: Uint8Array[], rounds: number): (number | null)[] | null {
  const dir = mkdtempSync(join(os.tmpdir(), 'napood-resample-'));
  try {
    const specs = cases.map((c, i) => {
      const f = join(dir, `${i}.raw`);
      writeFileSync(f, srcs[i]!);
      const win = c.win;
      const left = win.left ?? 0;
      const top = win.top ?? 0;
      return { file: f, w: c.w, h: c.h, ch: c.ch, filter: c.filter, size: [win.resizeW, win.resizeH], box: [left, top, left + (win.outW ?? win.resizeW), top + (win.outH ?? win.resizeH)] };
    });
    const py = `
import json, sys, time
from PIL import Image
F = {'nearest': Image.NEAREST, 'box': Image.BOX, 'bilinear': Image.BILINEAR, 'hamming': Image.HAMMING, 'bicubic': Image.BICUBIC, 'lanczos': Image.LANCZOS}
out = []
for s in json.load(sys.stdin):
    im = Image.frombytes('RGB' if s['ch'] == 3 else 'L', (s['w'], s['h']), open(s['file'], 'rb').read())
    f = lambda: im.resize(tuple(s['size']), F[s['filter']]).crop(tuple(s['box'])).load()
    for _ in range(20): f()
    best = float('inf')
    for _ in range(${rounds}):
        n, t0 = 0, time.perf_counter()
        while True:
            f(); n += 1
            t = time.perf_counter()
            if t - t0 >= 0.2: break
        best = min(best, (t - t0) / n)
    out.append(best * 1e3)
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(specs), encoding: 'utf8' });
    if (r.status !== 0) return null;
    return JSON.parse(r.stdout.trim()) as number[];
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(argv: string[]): void {
  const opt = (name: string, def: number): number => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : def; };
  const rounds = opt('--rounds', 5);
  const cases: Case[] = [];
  for (const filter of ['bilinear', 'bicubic', 'lanczos'] as const) {
    cases.push({ label: `500×375×3 → 341×256 → crop 224, ${filter}`, w: 500, h: 375, ch: 3, filter, win: centreCrop(500, 375, 256, 224) });
  }
  cases.push({ label: '375×500×3 → 256×341 → crop 224, bilinear', w: 375, h: 500, ch: 3, filter: 'bilinear', win: centreCrop(375, 500, 256, 224) });
  cases.push({ label: '500×375×1 → 341×256 → crop 224, bilinear', w: 500, h: 375, ch: 1, filter: 'bilinear', win: centreCrop(500, 375, 256, 224) });
  cases.push({ label: '1024×768×3 → 341×256 → crop 224, bicubic', w: 1024, h: 768, ch: 3, filter: 'bicubic', win: centreCrop(1024, 768, 256, 224) });
  cases.push({ label: '500×375×3 → 341×256 (no crop), bilinear', w: 500, h: 375, ch: 3, filter: 'bilinear', win: { resizeW: 341, resizeH: 256 } });
  cases.push({ label: '32×32×3 → 32×32 (no resize), bilinear', w: 32, h: 32, ch: 3, filter: 'bilinear', win: { resizeW: 32, resizeH: 32 } });
  const srcs = cases.map((c, i) => image(c.w, c.h, c.ch, 1234 + i));
  const rows: { label: string; old: number; neu: number }[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const src = srcs[i]!;
    const a = resamplePilOld(src, c.w, c.h, c.ch, c.filter, c.win);
    const b = resamplePil(src, c.w, c.h, c.ch, c.filter, c.win);
    if (a.length !== b.length || a.some((v, j) => v !== b[j])) throw new Error(`${c.label}: old and new differ`);
    const fOld = (): Uint8Array => resamplePilOld(src, c.w, c.h, c.ch, c.filter, c.win);
    const fNew = (): Uint8Array => resamplePil(src, c.w, c.h, c.ch, c.filter, c.win);
    timeIt(fOld, 100);
    timeIt(fNew, 100);
    let old = Infinity;
    let neu = Infinity;
    for (let r = 0; r < rounds; r++) {
      old = Math.min(old, timeIt(fOld, 200));
      neu = Math.min(neu, timeIt(fNew, 200));
    }
    rows.push({ label: c.label, old, neu });
    process.stderr.write(`${c.label}: old ${old.toFixed(4)} ms, new ${neu.toFixed(4)} ms\n`);
  }
  const pil = argv.includes('--no-pillow') ? null : pillow(cases, srcs, rounds);
  const fmt = (ms: number): string => (ms >= 0.1 ? ms.toFixed(3) : ms.toFixed(4));
  const lines = [
    '# Pillow-exact resize: old vs new resamplePil',
    '',
    `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, 1 thread. ms per image, best of ${rounds} loops of ≥ 0.2 s (bench/resample.ts). Old and new return identical bytes on every case; they run in turn, so their ratio holds even where the machine's speed drifts between runs (a shared VM here: absolute times vary by up to ~20 % from run to run).${pil ? ' Pillow: /usr/bin/python3 PIL ' + '(Image.resize + crop, C, same pixels), for context.' : ''}`,
    '',
    `| case | old ms | new ms | old / new |${pil ? ' Pillow ms | new / Pillow |' : ''}`,
    `|---|---|---|---|${pil ? '---|---|' : ''}`,
    ...rows.map((r, i) => `| ${r.label} | ${fmt(r.old)} | ${fmt(r.neu)} | ${(r.old / r.neu).toFixed(2)}× |${pil ? ` ${pil[i] != null ? fmt(pil[i]!) : '–'} | ${pil[i] != null ? (r.neu / pil[i]!).toFixed(2) + '×' : '–'} |` : ''}`),
    '',
  ];
  const md = lines.join('\n');
  process.stdout.write(md);
  if (!argv.includes('--no-write')) {
    const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'resample.md');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, md);
  }
}

main(process.argv.slice(2));
