/**
 * End-to-end images per second (issue #3, item 7): decode → preprocess → forward → NAP and energy
 * scores, napood against a PyTorch eager pipeline (bench/e2e_torch.py) on the same model, the same
 * image files and the same cores; plus NAP's added cost as a share of the forward pass, and a
 * cross-check that both pipelines give the same scores on the same images.
 *
 * Models and images: tools/make_bench_models.py (run automatically when --dir has no manifest):
 * torchvision resnet18 at 224×224 with 256 synthetic ~500×375 JPEGs (imagenet preprocessing:
 * Resize 256 + CenterCrop 224, PIL-exact bilinear), and a small 4-conv CNN at 32×32 with 1024
 * synthetic PNGs (cifar mean/std, no resize). Random (seeded) weights: speed and agreement do not
 * depend on training.
 *
 * Contenders, each a child process pinned with `taskset` to the same T cores (T = --threads):
 *   napood   expandImageInputs → imageBatches (sharp decode in libuv's pool of 4 threads, napood's
 *            PIL-exact resize and normalisation on the main thread, `concurrency` images in
 *            flight) → loadOnnxModel(threads: T).run (onnxruntime-node, intra-op T threads) → the
 *            `nap` and `energy` methods of the registry (default parameters: ε = 1, p = 2, T = 1)
 *   PyTorch  PIL open/convert → torchvision Resize/CenterCrop/ToTensor/Normalize → DataLoader
 *            (workers 0: decode in the main process; workers W: W decoding processes) → model(x)
 *            under inference_mode with a pre-hook on the pooling → NAP (amax / mean) + logsumexp;
 *            torch.set_num_threads(T)
 * Each child: --warmup batches, then --reps timed passes over all images (wall time of a whole
 * pass), best pass kept. img/s "PyTorch" in the main table = the faster of its worker settings.
 * Separately (`parts` children): the forward pass alone on a preloaded batch, NAP and energy alone
 * on its outputs (median ms/batch), the same model with no extra outputs (what exposing the
 * feature map costs onnxruntime), and the pieces of preprocessing per image.
 *
 * Run: npm run build && node dist/bench/e2e.js [--dir /tmp/napood-bench] [--threads 1,2]
 *      [--models resnet18,smallcnn] [--batch resnet18=32,smallcnn=128] [--warmup 2] [--reps 2]
 *      [--concurrency 8] [--workers 0,T] [--sharp] [--no-parts] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { decodeImage, expandImageInputs, imageBatches, loadImages, normalizeInto, prepareImage, PRESETS, resamplePil, resizeGeometry, type Preprocess } from '../src/images/index.js';
import { METHODS } from '../src/methods/registry.js';
import { loadOnnxModel, type OnnxRunResult } from '../src/onnx/adapter.js';
import type { Diagnostics, MethodDefinition, Params } from '../src/types.js';

const PYTHON = '/usr/bin/python3';
const MODELS = ['resnet18', 'smallcnn'] as const;
type ModelName = (typeof MODELS)[number];
const DEFAULT_BATCH: Record<ModelName, number> = { resnet18: 32, smallcnn: 128 };
const TARGET_RATIO = 1.5;
const TARGET_SHARE = 0.02;

interface Manifest {
  models: Record<string, { onnx: string; state_dict: string; images: string; count: number; preprocess: { preset: string } }>;
  versions: Record<string, string>;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench', 'e2e_torch.py'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('bench/e2e: could not find the repository root (package.json + bench/e2e_torch.py) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments

interface Args {
  child?: 'e2e' | 'parts';
  dir: string;
  threads: number[];
  models: ModelName[];
  batch: Record<ModelName, number>;
  warmup: number;
  reps: number;
  forwardReps: number;
  concurrency?: number;
  workers?: number[];
  resampler: 'pil' | 'sharp';
  sharpRow: boolean;
  /** sharp.concurrency (libvips threads per image); undefined: sharp's default (the number of cores). */
  vipsThreads?: number;
  parts: boolean;
  write: boolean;
  // child only
  model?: ModelName;
  threadsOne?: number;
  scores?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    dir: '/tmp/napood-bench', threads: [1, 2], models: [...MODELS], batch: { ...DEFAULT_BATCH }, warmup: 2, reps: 2,
    forwardReps: 5, resampler: 'pil', sharpRow: false, parts: true, write: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`bench/e2e: ${k} needs a value`);
      return x;
    };
    const int = (s: string, what: string): number => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new Error(`bench/e2e: ${what}: expected a non-negative integer, found ${JSON.stringify(s)}`);
      return n;
    };
    switch (k) {
      case '--child': a.child = v() as 'e2e' | 'parts'; break;
      case '--dir': a.dir = v(); break;
      case '--threads': a.threads = v().split(',').map((s) => int(s, '--threads')); break;
      case '--models': a.models = v().split(',').map((s) => {
        if (!(MODELS as readonly string[]).includes(s)) throw new Error(`bench/e2e: --models: expected names from ${MODELS.join(', ')}, found ${JSON.stringify(s)}`);
        return s as ModelName;
      }); break;
      case '--batch': for (const kv of v().split(',')) {
        const [m, b] = kv.split('=');
        if (b === undefined) { for (const mm of MODELS) a.batch[mm] = int(m!, '--batch'); } else a.batch[m as ModelName] = int(b, '--batch');
      } break;
      case '--warmup': a.warmup = int(v(), k); break;
      case '--reps': a.reps = int(v(), k); break;
      case '--forward-reps': a.forwardReps = int(v(), k); break;
      case '--concurrency': a.concurrency = int(v(), k); break;
      case '--workers': a.workers = v().split(',').map((s) => int(s, k)); break;
      case '--resampler': a.resampler = v() === 'sharp' ? 'sharp' : 'pil'; break;
      case '--sharp': a.sharpRow = true; break;
      case '--vips-threads': a.vipsThreads = int(v(), k); break;
      case '--no-parts': a.parts = false; break;
      case '--no-write': a.write = false; break;
      case '--model': a.model = v() as ModelName; break;
      case '--t': a.threadsOne = int(v(), k); break;
      case '--scores': a.scores = v(); break;
      default: throw new Error(`bench/e2e: unknown argument ${JSON.stringify(k)}`);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// napood child

function defaults(def: MethodDefinition<any>): Params {
  return Object.fromEntries(Object.entries(def.params).map(([k, s]) => [k, s.default]));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

async function medianTime(fn: () => unknown, reps: number, warm = 1): Promise<number> {
  for (let i = 0; i < warm; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = now();
    await fn();
    ts.push(now() - t);
  }
  return median(ts);
}

async function napoodChild(a: Args): Promise<Record<string, unknown>> {
  const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8')) as Manifest;
  const m = manifest.models[a.model!]!;
  const threads = a.threadsOne!;
  if (a.vipsThreads !== undefined) sharp.concurrency(a.vipsThreads);
  const batchSize = a.batch[a.model!];
  const concurrency = a.concurrency ?? 4;
  const pp: Preprocess = { ...PRESETS[m.preprocess.preset]!, resampler: a.resampler };
  const list = await expandImageInputs([join(a.dir, m.images)], { labels: 'none' });
  const items = list.items;
  const cls = await loadOnnxModel(join(a.dir, m.onnx), { threads });
  const napDef = METHODS.get('nap')!;
  const energyDef = METHODS.get('energy')!;
  const napCtx = { params: defaults(napDef), state: undefined, diagnostics: {} as Diagnostics };
  const energyCtx = { params: defaults(energyDef), state: undefined, diagnostics: {} as Diagnostics };
  const out: Record<string, unknown> = {
    threads, batch: batchSize, concurrency, resampler: pp.resampler, uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    sharpConcurrency: sharp.concurrency(), napParams: napCtx.params, featureMap: cls.info.featureMap, featureShape: cls.info.featureShape,
  };

  if (a.child === 'e2e') {
    const pass = async (subset: typeof items): Promise<{ n: number; nap: Float64Array[]; energy: Float64Array[] }> => {
      const nap: Float64Array[] = [];
      const energy: Float64Array[] = [];
      let n = 0;
      for await (const b of imageBatches(subset, pp, { batchSize, concurrency })) {
        const r = await cls.run(b.data, b.n);
        nap.push(await napDef.score(r, napCtx));
        energy.push(await energyDef.score(r, energyCtx));
        n += b.n;
      }
      return { n, nap, energy };
    };
    await pass(items.slice(0, a.warmup * batchSize));
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof pass>> | undefined;
    for (let r = 0; r < a.reps; r++) {
      const t = now();
      last = await pass(items);
      times.push(now() - t);
    }
    if (a.scores && last) {
      const cat = (parts: Float64Array[]): Buffer => {
        const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
        let k = 0;
        for (const p of parts) { all.set(p, k); k += p.length; }
        return Buffer.from(all.buffer);
      };
      writeFileSync(a.scores + '.nap.f64', cat(last.nap));
      writeFileSync(a.scores + '.energy.f64', cat(last.energy));
    }
    out.images = last!.n;
    out.pass_s = times;
    out.img_per_s = last!.n / Math.min(...times);
    out.diagnostics = napCtx.diagnostics;
  } else {
    // Per-image pieces, one image at a time (median of 3 passes over all images).
    const perImage = async (fn: (path: string) => Promise<unknown> | unknown): Promise<number> => {
      const ts: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t = now();
        for (const it of items) await fn(it.path);
        ts.push((now() - t) / items.length);
      }
      return 1e3 * median(ts);
    };
    out.decode_ms_per_img = await perImage((p) => decodeImage(p));
    out.prepare_ms_per_img = await perImage((p) => prepareImage(p, pp));
    const decoded = await Promise.all(items.map((it) => decodeImage(it.path)));
    {
      const ts: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t = now();
        for (const d of decoded) resamplePil(d.pixels, d.width, d.height, d.channels, pp.interpolation, resizeGeometry(d.width, d.height, pp));
        ts.push((now() - t) / decoded.length);
      }
      out.resample_ms_per_img = 1e3 * median(ts);
    }
    {
      const [h, w] = pp.size;
      const px = new Uint8Array(h * w * pp.channels).map((_, i) => (i * 37) & 255);
      const buf = new Float32Array(h * w * pp.channels);
      const t = now();
      const k = 2000;
      for (let r = 0; r < k; r++) normalizeInto(px, pp, buf, 0);
      out.normalize_ms_per_img = (1e3 * (now() - t)) / k;
    }
    // The loader alone: a whole imageBatches pass without the model.
    {
      for await (const _ of imageBatches(items.slice(0, a.warmup * batchSize), pp, { batchSize, concurrency })) { /* warm */ }
      let best = Infinity;
      for (let r = 0; r < a.reps; r++) {
        const t = now();
        for await (const _ of imageBatches(items, pp, { batchSize, concurrency })) { /* decode only */ }
        best = Math.min(best, now() - t);
      }
      out.loader_img_per_s = items.length / best;
    }
    // Forward and scores on a preloaded batch (the first B images).
    const x = await loadImages(items.slice(0, batchSize), pp);
    const n = x.n;
    let r: OnnxRunResult | undefined;
    out.forward_ms = 1e3 * (await medianTime(async () => { r = await cls.run(x.data, n); }, a.forwardReps, 2));
    const reps = Math.max(20, a.forwardReps);
    out.nap_ms = 1e3 * (await medianTime(() => napDef.score(r!, napCtx), reps, 3));
    out.energy_ms = 1e3 * (await medianTime(() => energyDef.score(r!, energyCtx), reps, 3));
    // The unedited model (logits only): what the extra graph outputs cost onnxruntime.
    const plain = await ort.InferenceSession.create(join(a.dir, m.onnx), {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    });
    const feeds = { [plain.inputNames[0]!]: new ort.Tensor('float32', x.data, [n, ...cls.info.inputChw]) };
    out.plain_forward_ms = 1e3 * (await medianTime(() => plain.run(feeds), a.forwardReps, 2));
    // forward with and without the extra outputs once more, interleaved (noise)
    const withOut: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < a.forwardReps; i++) {
      let t = now();
      await cls.run(x.data, n);
      withOut.push(now() - t);
      t = now();
      await plain.run(feeds);
      without.push(now() - t);
    }
    out.forward_ms_interleaved = 1e3 * median(withOut);
    out.plain_forward_ms_interleaved = 1e3 * median(without);
    await plain.release();
  }
  await cls.release();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driver

interface Child { json: Record<string, any>; wall: number }

function cpuList(t: number): string {
  return t === 1 ? '0' : `0-${t - 1}`;
}

function runChild(cmd: string, args: string[], t: number, env: NodeJS.ProcessEnv = {}): Child {
  const t0 = now();
  const r = spawnSync('taskset', ['-c', cpuList(t), cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  const wall = now() - t0;
  if (r.status !== 0) {
    throw new Error(`bench/e2e: ${cmd} ${args.join(' ')} failed (status ${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { json: JSON.parse(line), wall };
  } catch {
    throw new Error(`bench/e2e: no JSON from ${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  }
}

function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function compare(a: Float64Array, ref: Float64Array): { rel: number; abs: number } {
  if (a.length !== ref.length) throw new Error(`bench/e2e: ${a.length} scores against ${ref.length}`);
  let rel = 0;
  let abs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    const r = d / Math.max(Math.abs(ref[i]!), 1e-12);
    if (!(r <= rel)) rel = r;
    if (!(d <= abs)) abs = d;
  }
  return { rel, abs };
}

const f = (x: number, d = 1): string => x.toFixed(d);
const e = (x: number): string => x.toExponential(1);

interface Row {
  model: ModelName; t: number; batch: number;
  napood: number; napoodPasses: number[]; napoodSharp?: number;
  torch: Record<number, number>; torchPasses: Record<number, number[]>;
  agreeNap: { rel: number; abs: number }; agreeEnergy: { rel: number; abs: number };
  agreeSharp?: { nap: { rel: number; abs: number }; energy: { rel: number; abs: number } };
  parts?: { napood: Record<string, any>; torch: Record<string, any> };
}

function machine(manifest: Manifest): string {
  const cpus = os.cpus();
  let load = os.loadavg().map((x) => x.toFixed(2)).join(', ');
  return `${cpus[0]?.model ?? 'CPU'}, ${cpus.length} cores (shared VM, noisy), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average at the end ${load}. ` +
    `Node ${process.version}, onnxruntime-node ${ort.env.versions?.node ?? '?'}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}); ` +
    `PyTorch ${manifest.versions.torch}, torchvision ${manifest.versions.torchvision}, Pillow ${manifest.versions.PIL}, numpy ${manifest.versions.numpy} (Debian, /usr/bin/python3).`;
}

async function driver(a: Args): Promise<void> {
  const root = repoRoot();
  if (!existsSync(join(a.dir, 'manifest.json'))) {
    process.stderr.write(`bench/e2e: generating models and images in ${a.dir} (tools/make_bench_models.py)\n`);
    const r = spawnSync(PYTHON, [join(root, 'tools', 'make_bench_models.py'), a.dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('bench/e2e: tools/make_bench_models.py failed');
  }
  const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8')) as Manifest;
  const self = fileURLToPath(import.meta.url);
  const scoreDir = join(a.dir, 'scores');
  mkdirSync(scoreDir, { recursive: true });
  const rows: Row[] = [];
  const started = now();
  for (const model of a.models) {
    for (const t of a.threads) {
      const batch = a.batch[model];
      const common = ['--dir', a.dir, '--model', model, '--batch', `${model}=${batch}`, '--warmup', String(a.warmup), '--reps', String(a.reps), '--forward-reps', String(a.forwardReps)];
      const conc = [...(a.concurrency !== undefined ? ['--concurrency', String(a.concurrency)] : []), ...(a.vipsThreads !== undefined ? ['--vips-threads', String(a.vipsThreads)] : [])];
      const log = (s: string): void => { process.stderr.write(`[${f(now() - started, 0)} s] ${model} T=${t}: ${s}\n`); };
      const nPrefix = join(scoreDir, `${model}.t${t}.napood`);
      const np = runChild(process.execPath, [self, '--child', 'e2e', '--t', String(t), '--resampler', a.resampler, '--scores', nPrefix, ...common, ...conc], t);
      log(`napood ${f(np.json.img_per_s)} img/s (passes ${np.json.pass_s.map((x: number) => f(x, 2)).join(', ')} s)`);
      let sharpRow: Child | undefined;
      if (a.sharpRow) {
        sharpRow = runChild(process.execPath, [self, '--child', 'e2e', '--t', String(t), '--resampler', 'sharp', '--scores', nPrefix + '-sharp', ...common, ...conc], t);
        log(`napood (sharp resize) ${f(sharpRow.json.img_per_s)} img/s`);
      }
      const torch: Record<number, number> = {};
      const torchPasses: Record<number, number[]> = {};
      const workers = a.workers ?? [0, t];
      const tPrefix = join(scoreDir, `${model}.t${t}.torch`);
      for (const w of [...new Set(workers)]) {
        const pt = runChild(PYTHON, [join(root, 'bench', 'e2e_torch.py'), 'e2e', '--dir', a.dir, '--model', model, '--threads', String(t), '--batch', String(batch),
          '--workers', String(w), '--warmup', String(a.warmup), '--reps', String(a.reps), '--scores', `${tPrefix}.w${w}`], t);
        torch[w] = pt.json.img_per_s;
        torchPasses[w] = pt.json.pass_s;
        log(`PyTorch workers=${w} ${f(pt.json.img_per_s)} img/s (passes ${pt.json.pass_s.map((x: number) => f(x, 2)).join(', ')} s)`);
      }
      const w0 = [...new Set(workers)][0]!;
      const tn = readF64(`${tPrefix}.w${w0}.nap.f64`);
      const te = readF64(`${tPrefix}.w${w0}.energy.f64`);
      const row: Row = {
        model, t, batch, napood: np.json.img_per_s, napoodPasses: np.json.pass_s, torch, torchPasses,
        agreeNap: compare(readF64(nPrefix + '.nap.f64'), tn), agreeEnergy: compare(readF64(nPrefix + '.energy.f64'), te),
      };
      if (sharpRow) {
        row.napoodSharp = sharpRow.json.img_per_s;
        row.agreeSharp = { nap: compare(readF64(nPrefix + '-sharp.nap.f64'), tn), energy: compare(readF64(nPrefix + '-sharp.energy.f64'), te) };
      }
      if (a.parts) {
        const pn = runChild(process.execPath, [self, '--child', 'parts', '--t', String(t), '--resampler', a.resampler, ...common, ...conc], t);
        const ptp = runChild(PYTHON, [join(root, 'bench', 'e2e_torch.py'), 'parts', '--dir', a.dir, '--model', model, '--threads', String(t), '--batch', String(batch),
          '--workers', '0', '--warmup', String(a.warmup), '--reps', String(a.reps), '--forward-reps', String(a.forwardReps)], t);
        row.parts = { napood: pn.json, torch: ptp.json };
        log(`forward napood ${f(pn.json.forward_ms)} ms / PyTorch ${f(ptp.json.forward_ms)} ms per batch of ${batch}; NAP napood ${f(pn.json.nap_ms, 3)} ms / PyTorch ${f(ptp.json.nap_ms, 3)} ms`);
      }
      rows.push(row);
    }
  }
  const total = now() - started;
  const md = report(a, rows, manifest, total);
  process.stdout.write(md);
  if (a.write) {
    const file = join(root, 'bench', 'results', 'e2e.md');
    mkdirSync(dirname(file), { recursive: true });
    // Keep a hand-written commentary (everything from "## Commentary" on) across runs.
    let keep = '';
    if (existsSync(file)) {
      const old = readFileSync(file, 'utf8');
      const at = old.indexOf('\n## Commentary');
      if (at >= 0) keep = old.slice(at);
    }
    writeFileSync(file, md + keep);
    process.stderr.write(`bench/e2e: wrote ${file}\n`);
  }
}

function bestTorch(r: Row): { w: number; ips: number } {
  let best = { w: -1, ips: 0 };
  for (const [w, ips] of Object.entries(r.torch)) if (ips > best.ips) best = { w: Number(w), ips };
  return best;
}

function report(a: Args, rows: Row[], manifest: Manifest, total: number): string {
  const L: string[] = [];
  L.push('### End-to-end images per second (bench/e2e.ts)', '');
  L.push(`Machine: ${machine(manifest)}`, '');
  L.push('Pipeline: files → decode → preprocess (resnet18: Resize 256 + CenterCrop 224, bilinear, PIL-exact on both sides; smallcnn: 32×32 PNGs, no resize) → normalise → forward → NAP (ε = 1, p = 2) and energy (T = 1) scores. ' +
    `Models and images from tools/make_bench_models.py (random seeded weights; resnet18: ${manifest.models.resnet18?.count} synthetic JPEGs of ~500×375; smallcnn: ${manifest.models.smallcnn?.count} synthetic 32×32 PNGs). ` +
    `Each contender is a child process pinned with taskset to the same T cores; napood: onnxruntime intra-op threads = T, sharp decodes in libuv's pool (4 threads, default) on those cores, ${a.concurrency ?? 4} images in flight (imageBatches' concurrency), ${a.resampler === 'pil' ? 'PIL-exact' : 'libvips'} resize on the main thread; ` +
    'PyTorch: torch.set_num_threads(T), DataLoader with 0 workers (decode in the main process) and with T worker processes, the faster kept. ' +
    `${a.warmup} warm-up batches, then img/s of the best of ${a.reps} timed passes over all images (files in the page cache). Forward / NAP ms per batch: median over a preloaded batch (onnxruntime, napood's registry method). Full run: ${f(total, 0)} s.`, '');
  L.push('| model | threads | batch | napood img/s | PyTorch img/s | ratio | forward ms/batch | NAP ms/batch | NAP share % | max rel diff NAP / energy vs PyTorch |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const bt = bestTorch(r);
    const p = r.parts?.napood;
    L.push(`| ${r.model} | ${r.t} | ${r.batch} | ${f(r.napood)} | ${f(bt.ips)} (w=${bt.w}) | ${f(r.napood / bt.ips, 2)} | ${p ? f(p.forward_ms, 1) : '—'} | ${p ? f(p.nap_ms, 3) : '—'} | ${p ? f((100 * p.nap_ms) / p.forward_ms, 3) : '—'} | ${e(r.agreeNap.rel)} / ${e(r.agreeEnergy.rel)} |`);
  }
  L.push('');
  L.push('Every run, all passes (seconds per pass over all images) and each PyTorch worker setting:', '');
  L.push('| model | threads | napood passes s | PyTorch passes s (per workers) | PyTorch img/s per workers |' + (rows.some((r) => r.napoodSharp) ? ' napood, libvips resize img/s | its max rel diff NAP / energy |' : ''));
  L.push('|---|---:|---|---|---|' + (rows.some((r) => r.napoodSharp) ? '---:|---:|' : ''));
  for (const r of rows) {
    const tp = Object.entries(r.torchPasses).map(([w, ps]) => `w=${w}: ${ps.map((x) => f(x, 2)).join(', ')}`).join('; ');
    const ti = Object.entries(r.torch).map(([w, ips]) => `w=${w}: ${f(ips)}`).join('; ');
    const extra = r.napoodSharp !== undefined ? ` ${f(r.napoodSharp)} | ${e(r.agreeSharp!.nap.rel)} / ${e(r.agreeSharp!.energy.rel)} |` : '';
    L.push(`| ${r.model} | ${r.t} | ${r.napoodPasses.map((x) => f(x, 2)).join(', ')} | ${tp} | ${ti} |${extra}`);
  }
  if (rows.some((r) => r.parts)) {
    L.push('', 'Where the time goes (per image unless said; decode / resize / normalise measured one image at a time on one thread; loader = a whole pass of the data loader without the model, on the T cores):', '');
    L.push('| model | T | side | decode ms | resize+crop ms | normalise ms | loader img/s | forward ms/batch | forward ms/img | NAP ms/batch | energy ms/batch | forward without extra outputs ms/batch (interleaved: with / without) |');
    L.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of rows) {
      if (!r.parts) continue;
      const n = r.parts.napood;
      const p = r.parts.torch;
      L.push(`| ${r.model} | ${r.t} | napood | ${f(n.decode_ms_per_img, 3)} | ${f(n.resample_ms_per_img, 3)} | ${f(n.normalize_ms_per_img, 3)} | ${f(n.loader_img_per_s)} | ${f(n.forward_ms)} | ${f(n.forward_ms / r.batch, 2)} | ${f(n.nap_ms, 3)} | ${f(n.energy_ms, 3)} | ${f(n.plain_forward_ms)} (${f(n.forward_ms_interleaved)} / ${f(n.plain_forward_ms_interleaved)}) |`);
      L.push(`| ${r.model} | ${r.t} | PyTorch | ${f(p.decode_ms_per_img, 3)} | ${f(p.resize_ms_per_img, 3)} | ${f(p.normalize_ms_per_img, 3)} | ${f(p.loader_img_per_s)} | ${f(p.forward_ms)} | ${f(p.forward_ms / r.batch, 2)} | ${f(p.nap_ms, 3)} | ${f(p.energy_ms, 3)} | — |`);
    }
  }
  L.push('', `Targets: napood ≥ ${TARGET_RATIO}× PyTorch end to end (against the faster PyTorch worker setting); NAP < ${100 * TARGET_SHARE} % of the forward pass.`, '');
  for (const r of rows) {
    const bt = bestTorch(r);
    const ratio = r.napood / bt.ips;
    const p = r.parts?.napood;
    const share = p ? p.nap_ms / p.forward_ms : undefined;
    const extraOut = p ? (p.forward_ms_interleaved - p.plain_forward_ms_interleaved) / p.plain_forward_ms_interleaved : undefined;
    L.push(`- ${r.model}, T=${r.t}: ratio ${f(ratio, 2)} ${ratio >= TARGET_RATIO ? 'meets' : 'MISSES'} ${TARGET_RATIO}×` +
      (share !== undefined ? `; NAP share ${f(100 * share, 3)} % ${share < TARGET_SHARE ? 'meets' : 'MISSES'} < ${100 * TARGET_SHARE} %` : '') +
      (extraOut !== undefined ? ` (exposing the feature map as an extra output: ${extraOut >= 0 ? '+' : ''}${f(100 * extraOut, 1)} % forward time, within noise unless large)` : '') +
      `; scores vs PyTorch: NAP max rel diff ${e(r.agreeNap.rel)} (abs ${e(r.agreeNap.abs)}), energy ${e(r.agreeEnergy.rel)} (abs ${e(r.agreeEnergy.abs)}).`);
  }
  L.push('');
  return L.join('\n');
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) {
    const out = await napoodChild(a);
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  await driver(a);
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
