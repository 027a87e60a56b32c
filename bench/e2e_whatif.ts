/**
 * What-if measurements behind the suggestions for src/ in bench/results/e2e.md: prototypes built
 * here from napood's public pieces, NOT napood's pipeline as it ships. Each experiment runs in a
 * child process pinned with taskset to T cores (as bench/e2e.ts), the variants interleaved.
 *
 * A. NAP's cost inside onnxruntime (both models): forward pass of a preloaded batch with
 *    - the unedited model (logits only),
 *    - napood's edited model (loadOnnxModel: the N×C×H×W feature map and the pooled z as extra
 *      outputs; what `run` returns),
 *    - model.napmax.onnx (tools/make_bench_models.py): a ReduceMax over H, W of the same map and
 *      the pooled z as extra outputs, N×C values each; NAP = mean_c (max / (z + ε))^p computed
 *      from them in JS (z is the channel mean for global-average-pooled models). Checked against
 *      the `nap` method on the full map.
 *    Median of --reps interleaved runs, plus NAP's own time (registry method on the map / the
 *    N×C formula).
 * B. smallcnn (32×32 PNGs): napood's loader (imageBatches: sharp decode, one libvips pipeline and
 *    one metadata call per image) against a prototype PNG reader (readFile + node:zlib inflate +
 *    PNG unfiltering in JS, 8-bit non-interlaced RGB only; pixel-checked against sharp on every
 *    image) feeding the same normalizeInto → run → nap + energy; whole passes over all images,
 *    alternated, best of --passes.
 *
 * Run: npm run build && node dist/bench/e2e_whatif.js [--dir /tmp/napood-bench] [--threads 1,2]
 *      [--reps 9] [--passes 3]      (~2 minutes; needs the files of tools/make_bench_models.py)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { expandImageInputs, imageBatches, loadImages, normalizeInto, PRESETS, type Preprocess } from '../src/node/images/index.js';
import { METHODS } from '../src/methods/registry.js';
import { loadOnnxModel } from '../src/node/onnx.js';
import type { Diagnostics } from '../src/types.js';

const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f = (x: number, d = 1): string => x.toFixed(d);

interface Manifest { models: Record<string, { onnx: string; onnx_napmax: string; images: string; preprocess: { preset: string } }> }

function args(): { dir: string; threads: number[]; reps: number; passes: number; child?: string; t: number } {
  const a = { dir: '/tmp/napood-bench', threads: [1, 2], reps: 9, passes: 3, child: undefined as string | undefined, t: 1 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[++i] ?? '';
    if (k === '--dir') a.dir = v;
    else if (k === '--threads') a.threads = v.split(',').map(Number);
    else if (k === '--reps') a.reps = Number(v);
    else if (k === '--passes') a.passes = Number(v);
    else if (k === '--child') a.child = v;
    else if (k === '--t') a.t = Number(v);
    else throw new Error(`bench/e2e_whatif: unknown argument ${JSON.stringify(k)}`);
  }
  return a;
}

const NAP = METHODS.get('nap')!;
const ENERGY = METHODS.get('energy')!;
const EPS = NAP.params.eps!.default;
const P = NAP.params.p!.default;
const ctx = (): { params: Record<string, number>; state: undefined; diagnostics: Diagnostics } => ({ params: { eps: EPS, p: P, t: 1 }, state: undefined, diagnostics: {} });

/** NAP from per-channel maxima and means (N×C each): mean_c (max / (mean + ε))^p, float64. */
function napFromMaxMean(max: Float32Array, mean: Float32Array, n: number, c: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = i * c, end = j + c; j < end; j++) {
      const r = max[j]! / (mean[j]! + EPS);
      acc += P === 2 ? r * r : Math.pow(r, P);
    }
    out[i] = acc / c;
  }
  return out;
}

async function experimentA(dir: string, model: string, t: number, reps: number): Promise<Record<string, number | string>> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const m = manifest.models[model]!;
  const pp = PRESETS[m.preprocess.preset]!;
  const list = await expandImageInputs([join(dir, m.images)], { labels: 'none' });
  const batch = model === 'resnet18' ? 32 : 128;
  const x = await loadImages(list.items.slice(0, batch), pp);
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: t, interOpNumThreads: 1 };
  const cls = await loadOnnxModel(join(dir, m.onnx), { threads: t });
  const plain = await ort.InferenceSession.create(join(dir, m.onnx), opts);
  const napmax = await ort.InferenceSession.create(join(dir, m.onnx_napmax), opts);
  const chw = cls.info.inputChw;
  const feeds = { [plain.inputNames[0]!]: new ort.Tensor('float32', x.data, [x.n, ...chw]) };
  const pooledName = napmax.outputNames.find((o) => o !== 'nap_max' && o !== plain.outputNames[0])!;
  const times = { plain: [] as number[], napood: [] as number[], napmax: [] as number[] };
  let full = await cls.run(x.data, x.n);
  let mx = await napmax.run(feeds);
  await plain.run(feeds);
  for (let r = 0; r < reps; r++) {
    let s = now();
    await plain.run(feeds);
    times.plain.push(now() - s);
    s = now();
    full = await cls.run(x.data, x.n);
    times.napood.push(now() - s);
    s = now();
    mx = await napmax.run(feeds);
    times.napmax.push(now() - s);
  }
  const c = cls.info.featureShape[0];
  const maxData = mx.nap_max!.data as Float32Array;
  const meanData = mx[pooledName]!.data as Float32Array;
  const ref = await NAP.score(full, ctx());
  const alt = napFromMaxMean(maxData, meanData, x.n, c);
  let rel = 0;
  for (let i = 0; i < x.n; i++) rel = Math.max(rel, Math.abs(alt[i]! - ref[i]!) / Math.abs(ref[i]!));
  const napMs: number[] = [];
  const altMs: number[] = [];
  for (let r = 0; r < 30; r++) {
    let s = now();
    await NAP.score(full, ctx());
    napMs.push(now() - s);
    s = now();
    napFromMaxMean(maxData, meanData, x.n, c);
    altMs.push(now() - s);
  }
  await cls.release();
  await plain.release();
  await napmax.release();
  return {
    model, t, batch, plain_ms: 1e3 * median(times.plain), napood_ms: 1e3 * median(times.napood), napmax_ms: 1e3 * median(times.napmax),
    nap_map_ms: 1e3 * median(napMs), nap_maxmean_ms: 1e3 * median(altMs), rel_diff: rel,
  };
}

/** Minimal PNG reader: 8-bit, colour type 2 (RGB), not interlaced; null for anything else. */
function decodePngRgb8(buf: Buffer): { data: Uint8Array; width: number; height: number } | null {
  if (buf.length < 33 || buf.readUInt32BE(0) !== 0x89504e47) return null;
  let p = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (p + 8 <= buf.length) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    if (type === 'IHDR') {
      width = buf.readUInt32BE(p + 8);
      height = buf.readUInt32BE(p + 12);
      if (buf[p + 16] !== 8 || buf[p + 17] !== 2 || buf[p + 20] !== 0) return null;
    } else if (type === 'IDAT') idat.push(buf.subarray(p + 8, p + 8 + len));
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  const raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat));
  const bpp = 3;
  const stride = width * bpp;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const ft = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const o = y * stride;
    const up = o - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[o + i - bpp]! : 0;
      const b = y > 0 ? out[up + i]! : 0;
      const c = i >= bpp && y > 0 ? out[up + i - bpp]! : 0;
      let v = raw[src + i]!;
      if (ft === 1) v += a;
      else if (ft === 2) v += b;
      else if (ft === 3) v += (a + b) >> 1;
      else if (ft === 4) {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[o + i] = v & 255;
    }
  }
  return { data: out, width, height };
}

async function experimentB(dir: string, t: number, passes: number): Promise<Record<string, number | string>> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const m = manifest.models.smallcnn!;
  const pp: Preprocess = PRESETS[m.preprocess.preset]!;
  const folder = join(dir, m.images);
  const paths = readdirSync(folder).filter((n) => n.endsWith('.png')).sort().map((n) => join(folder, n));
  const items = paths.map((path) => ({ path, label: -1 }));
  // pixel check against sharp, every image
  let differ = 0;
  for (const path of paths) {
    const buf = readFileSync(path);
    const mine = decodePngRgb8(buf);
    const ref = await sharp(buf).removeAlpha().toColourspace('srgb').raw().toBuffer();
    if (!mine || Buffer.compare(Buffer.from(mine.data), ref) !== 0) differ++;
  }
  const cls = await loadOnnxModel(join(dir, m.onnx), { threads: t });
  const batch = 128;
  const per = 3 * pp.size[0] * pp.size[1];
  const score = async (data: Float32Array, n: number): Promise<void> => {
    const r = await cls.run(data, n);
    await NAP.score(r, ctx());
    await ENERGY.score(r, ctx());
  };
  const napoodPass = async (): Promise<void> => {
    for await (const b of imageBatches(items, pp, { batchSize: batch })) await score(b.data, b.n);
  };
  const protoPass = async (): Promise<void> => {
    for (let i0 = 0; i0 < paths.length; i0 += batch) {
      const n = Math.min(batch, paths.length - i0);
      const data = new Float32Array(n * per);
      const bufs = await Promise.all(paths.slice(i0, i0 + n).map((p) => readFile(p)));
      for (let k = 0; k < n; k++) {
        const img = decodePngRgb8(bufs[k]!);
        if (!img || img.width !== pp.size[1] || img.height !== pp.size[0]) throw new Error(`bench/e2e_whatif: ${paths[i0 + k]}: not a ${pp.size[1]}×${pp.size[0]} 8-bit RGB PNG`);
        normalizeInto(img.data, pp, data, k * per);
      }
      await score(data, n);
    }
  };
  await napoodPass();
  await protoPass();
  let bestN = Infinity;
  let bestP = Infinity;
  for (let r = 0; r < passes; r++) {
    let s = now();
    await napoodPass();
    bestN = Math.min(bestN, now() - s);
    s = now();
    await protoPass();
    bestP = Math.min(bestP, now() - s);
  }
  await cls.release();
  return { t, images: paths.length, pixel_mismatches: differ, napood_img_s: paths.length / bestN, proto_img_s: paths.length / bestP };
}

async function main(): Promise<void> {
  const a = args();
  if (a.child === 'A-resnet18' || a.child === 'A-smallcnn') {
    process.stdout.write(JSON.stringify(await experimentA(a.dir, a.child.slice(2), a.t, a.reps)) + '\n');
    return;
  }
  if (a.child === 'B') {
    process.stdout.write(JSON.stringify(await experimentB(a.dir, a.t, a.passes)) + '\n');
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const run = (child: string, t: number): Record<string, any> => {
    const r = spawnSync('taskset', ['-c', t === 1 ? '0' : `0-${t - 1}`, process.execPath, self, '--child', child, '--t', String(t), '--dir', a.dir, '--reps', String(a.reps), '--passes', String(a.passes)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/e2e_whatif: ${child} T=${t} failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const L: string[] = [];
  L.push('#### What-if A: NAP inside onnxruntime (forward ms per batch, median of interleaved runs)', '');
  L.push('| model | T | batch | unedited model | napood (map + z as outputs) | + map | ReduceMax(map) + z as outputs | + max | NAP on the map ms | NAP from max, z ms | max rel diff of NAP |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const model of ['resnet18', 'smallcnn']) {
    for (const t of a.threads) {
      const r = run(`A-${model}`, t);
      const pct = (x: number): string => `${x >= r.plain_ms ? '+' : ''}${f((100 * (x - r.plain_ms)) / r.plain_ms, 1)} %`;
      L.push(`| ${model} | ${t} | ${r.batch} | ${f(r.plain_ms)} | ${f(r.napood_ms)} | ${pct(r.napood_ms)} | ${f(r.napmax_ms)} | ${pct(r.napmax_ms)} | ${f(r.nap_map_ms, 3)} | ${f(r.nap_maxmean_ms, 3)} | ${r.rel_diff.toExponential(1)} |`);
      process.stderr.write(`A ${model} T=${t} done\n`);
    }
  }
  L.push('', '#### What-if B: smallcnn end to end, napood loader (sharp) vs a prototype PNG reader (node:zlib), same forward and scores', '');
  L.push('| T | images | napood img/s | prototype img/s | speed-up | PNGs whose pixels differ from sharp |');
  L.push('|---:|---:|---:|---:|---:|---:|');
  for (const t of a.threads) {
    const r = run('B', t);
    L.push(`| ${t} | ${r.images} | ${f(r.napood_img_s)} | ${f(r.proto_img_s)} | ${f(r.proto_img_s / r.napood_img_s, 2)}× | ${r.pixel_mismatches} |`);
    process.stderr.write(`B T=${t} done\n`);
  }
  L.push('');
  process.stdout.write(L.join('\n'));
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
