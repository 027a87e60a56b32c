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
 *            Pillow-exact resize and normalisation on the main thread, `--concurrency` images in
 *            flight, default 4 as imageBatches) → loadOnnxModel(threads: T).run (onnxruntime-node,
 *            intra-op T threads) → the `nap` and `energy` methods of the registry (default
 *            parameters: ε = 1, p = 2, T = 1)
 *   napood, loader in a worker thread   napood's imageBatches, unchanged, on a worker thread
 *            (bench/e2e_loader_worker.ts), batches transferred to the main thread, which runs
 *            onnxruntime (its `run` blocks the calling thread) and the scores; --no-worker to skip
 *   napood, libvips resize   the same with `resampler: 'sharp'` (faster, approximate; models with
 *            a resize only; --no-sharp to skip)
 *   PyTorch  PIL open/convert → torchvision Resize/CenterCrop/ToTensor/Normalize → DataLoader
 *            (0 workers: decode in the main process; for T > 1 also T workers: T decoding
 *            processes; at T = 1 a worker process only takes turns with the forward pass on the
 *            one core: measured 11.3–11.4 against 11.8–12.3 img/s on resnet18, equal on smallcnn;
 *            --workers 0,1 to include it) → model(x)
 *            under inference_mode with a pre-hook on the pooling → NAP (amax / mean) + logsumexp;
 *            torch.set_num_threads(T). The faster worker setting is the baseline.
 * Timing: each child loads the model, runs --warmup batches, then --reps timed passes over all
 * images (wall time of a whole pass, files in the page cache); the contenders run in turn,
 * --rounds times; the best pass of each is kept (the machine is shared and noisy).
 * Separately (`parts` children): the forward pass alone on a preloaded batch (napood's session
 * with the feature map as an extra output, and the unedited model interleaved with it), the NAP
 * and energy methods alone on its outputs (median ms/batch), and the pieces of preprocessing per
 * image. Cross-checks: the scores of the two pipelines on the same images (max relative
 * difference) and the preprocessed tensors of the first batch (count of differing values).
 * Prints markdown tables and writes them to bench/results/e2e.md, keeping any "## Commentary"
 * section already at its end.
 *
 * Run: npm run build && node dist/bench/e2e.js [--dir /tmp/napood-bench] [--threads 1,2]
 *      [--models resnet18,smallcnn] [--batch resnet18=32,smallcnn=128] [--warmup 1] [--reps 1]
 *      [--rounds 2] [--forward-reps 5] [--concurrency 4] [--workers 0,1,2] [--resampler pil|sharp]
 *      [--no-sharp] [--no-worker] [--no-parts] [--no-write]
 * (~8 minutes on 2 cores; the models and images are made by tools/make_bench_models.py on the
 * first run, ~20 s.)
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readImageHeader } from '../src/images/header.js';
import { sniffFormat } from '../src/node/images/sources.js';
import { decodeImage, expandImageInputs, imageBatches, loadImages, normalizeInto, PRESETS, resamplePil, resizeGeometry, type Preprocess } from '../src/node/images/index.js';
import { METHODS } from '../src/methods/registry.js';
import type { OnnxRunResult } from '../src/onnx/adapter.js';
import { loadOnnxModel } from '../src/node/onnx.js';
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
  rounds: number;
  forwardReps: number;
  concurrency?: number;
  workers?: number[];
  resampler: 'pil' | 'sharp';
  sharpRow: boolean;
  /** sharp.concurrency (libvips threads per image); undefined: sharp's default (the number of cores). */
  vipsThreads?: number;
  /** napood's loader on the main thread (as the CLI) or in a worker thread (bench/e2e_loader_worker.ts). */
  loader: 'main' | 'worker';
  workerRow: boolean;
  parts: boolean;
  write: boolean;
  // child only
  model?: ModelName;
  threadsOne?: number;
  scores?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    dir: '/tmp/napood-bench', threads: [1, 2], models: [...MODELS], batch: { ...DEFAULT_BATCH }, warmup: 1, reps: 1, rounds: 2,
    forwardReps: 5, resampler: 'pil', sharpRow: true, loader: 'main', workerRow: true, parts: true, write: true,
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
      case '--no-sharp': a.sharpRow = false; break;
      case '--no-worker': a.workerRow = false; break;
      case '--loader': a.loader = v() === 'worker' ? 'worker' : 'main'; break;
      case '--rounds': a.rounds = Math.max(1, int(v(), k)); break;
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

/** napood's imageBatches run in a worker thread (bench/e2e_loader_worker.ts), `prefetch` batches ahead. */
async function* workerBatches(paths: string[], pp: Preprocess, batchSize: number, concurrency: number, prefetch = 2): AsyncGenerator<{ n: number; data: Float32Array }> {
  const worker = new Worker(new URL('./e2e_loader_worker.js', import.meta.url), { workerData: { paths, pp, batchSize, concurrency, prefetch } });
  const inbox: any[] = [];
  let wake: (() => void) | null = null;
  const push = (m: unknown): void => {
    inbox.push(m);
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ error: String(err?.stack ?? err) }));
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((r) => { wake = r; });
      const m = inbox.shift();
      if (m.error) throw new Error(`bench/e2e: loader worker: ${m.error}`);
      if (m.done) return;
      worker.postMessage('ack');
      yield { n: m.n, data: m.data as Float32Array };
    }
  } finally {
    await worker.terminate();
  }
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
    threads, batch: batchSize, concurrency, resampler: pp.resampler, loader: a.loader, uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    sharpConcurrency: sharp.concurrency(), napParams: napCtx.params, featureMap: cls.info.featureMap, featureShape: cls.info.featureShape,
  };

  if (a.child === 'e2e') {
    const pass = async (subset: typeof items): Promise<{ n: number; nap: Float64Array[]; energy: Float64Array[] }> => {
      const nap: Float64Array[] = [];
      const energy: Float64Array[] = [];
      let n = 0;
      const batches = a.loader === 'worker'
        ? workerBatches(subset.map((it) => it.path), pp, batchSize, concurrency)
        : imageBatches(subset, pp, { batchSize, concurrency });
      for await (const b of batches) {
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
    // Per-image pieces, one image at a time on the main thread's schedule (median of 2 passes).
    const perImage = async (fn: (path: string, i: number) => Promise<unknown> | unknown, passes = 2): Promise<number> => {
      const ts: number[] = [];
      for (let r = 0; r < passes; r++) {
        const t = now();
        for (let i = 0; i < items.length; i++) await fn(items[i]!.path, i);
        ts.push((now() - t) / items.length);
      }
      return 1e3 * median(ts);
    };
    out.read_ms_per_img = await perImage((p) => readFile(p));
    const buffers = await Promise.all(items.map((it) => readFile(it.path)));
    out.metadata_ms_per_img = await perImage((_, i) => readImageHeader(buffers[i]!, sniffFormat(buffers[i]!) ?? 'jpeg'));
    out.decode_ms_per_img = await perImage((p) => decodeImage(p));
    const decoded = await Promise.all(items.map((it) => decodeImage(it.path)));
    out.resample_ms_per_img = await perImage((_, i) => {
      const d = decoded[i]!;
      return resamplePil(d.data, d.width, d.height, d.channels, pp.interpolation, resizeGeometry(d.width, d.height, pp));
    });
    {
      const [h, w] = pp.size;
      const px = new Uint8Array(h * w * pp.channels).map((_, i) => (i * 37) & 255);
      const buf = new Float32Array(h * w * pp.channels);
      for (let r = 0; r < 50; r++) normalizeInto(px, pp, buf, 0);
      const k = Math.max(200, Math.round(2e7 / (h * w)));
      const t = now();
      for (let r = 0; r < k; r++) normalizeInto(px, pp, buf, 0);
      out.normalize_ms_per_img = (1e3 * (now() - t)) / k;
    }
    // The loader alone: whole imageBatches passes without the model.
    {
      for await (const _ of imageBatches(items.slice(0, a.warmup * batchSize), pp, { batchSize, concurrency })) { /* warm */ }
      let best = Infinity;
      for (let r = 0; r < Math.max(1, a.reps); r++) {
        const t = now();
        for await (const _ of imageBatches(items, pp, { batchSize, concurrency })) { /* decode only */ }
        best = Math.min(best, now() - t);
      }
      out.loader_img_per_s = items.length / best;
    }
    // Forward and scores on a preloaded batch (the first B images).
    const x = await loadImages(items.slice(0, batchSize), pp);
    if (a.scores) writeFileSync(a.scores + '.input.f32', Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength));
    const n = x.n;
    // The unedited model (logits only): what the extra graph outputs cost onnxruntime.
    const plain = await ort.InferenceSession.create(join(a.dir, m.onnx), {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    });
    const feeds = { [plain.inputNames[0]!]: new ort.Tensor('float32', x.data, [n, ...cls.info.inputChw]) };
    let r: OnnxRunResult = await cls.run(x.data, n);
    await plain.run(feeds);
    r = await cls.run(x.data, n);
    await plain.run(feeds);
    // napood's run (extra outputs) and the plain model, interleaved (the machine is noisy)
    const withOut: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < a.forwardReps; i++) {
      let t = now();
      r = await cls.run(x.data, n);
      withOut.push(now() - t);
      t = now();
      await plain.run(feeds);
      without.push(now() - t);
    }
    await plain.release();
    out.forward_ms = 1e3 * median(withOut);
    out.plain_forward_ms = 1e3 * median(without);
    const reps = Math.max(30, a.forwardReps);
    out.nap_ms = 1e3 * (await medianTime(() => napDef.score(r, napCtx), reps, 3));
    out.energy_ms = 1e3 * (await medianTime(() => energyDef.score(r, energyCtx), reps, 3));
  }
  await cls.release();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driver

interface Child { json: Record<string, any>; wall: number; load: number }

function cpuList(t: number): string {
  return t === 1 ? '0' : `0-${t - 1}`;
}

function runChild(cmd: string, args: string[], t: number): Child {
  const load = os.loadavg()[0]!;
  const t0 = now();
  const r = spawnSync('taskset', ['-c', cpuList(t), cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = now() - t0;
  if (r.status !== 0) {
    throw new Error(`bench/e2e: ${cmd} ${args.join(' ')} failed (status ${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { json: JSON.parse(line), wall, load };
  } catch {
    throw new Error(`bench/e2e: no JSON from ${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  }
}

function readF(path: string, bytes: 4 | 8): Float64Array | Float32Array {
  const b = readFileSync(path);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return bytes === 8 ? new Float64Array(ab) : new Float32Array(ab);
}

interface Agreement { rel: number; abs: number; n: number }

function compare(a: ArrayLike<number>, ref: ArrayLike<number>): Agreement {
  if (a.length !== ref.length) throw new Error(`bench/e2e: ${a.length} values against ${ref.length}`);
  let rel = 0;
  let abs = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    const r = d / Math.max(Math.abs(ref[i]!), 1e-12);
    if (!(r <= rel)) rel = r;
    if (!(d <= abs)) abs = d;
    if (d !== 0) n++;
  }
  return { rel, abs, n };
}

const f = (x: number, d = 1): string => x.toFixed(d);
const e = (x: number): string => (x === 0 ? '0' : x.toExponential(1));

interface Contender { name: string; key: string; torch: boolean; ips: number; passes: number[]; loads: number[] }

interface Row {
  model: ModelName; t: number; batch: number;
  napood: Contender; sharpRow?: Contender; workerRow?: Contender; torch: Contender[];
  agreeWorker?: { nap: Agreement; energy: Agreement };
  agreeNap: Agreement; agreeEnergy: Agreement;
  agreeSharp?: { nap: Agreement; energy: Agreement };
  pixels?: Agreement;
  parts?: { napood: Record<string, any>; torch: Record<string, any> };
}

function machine(manifest: Manifest): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'CPU'}, ${cpus.length} cores (KVM guest, shared with other jobs), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB. ` +
    `Node ${process.version}, onnxruntime-node ${ort.env.versions?.node ?? '?'}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, mozjpeg, libspng), ` +
    `PyTorch ${manifest.versions.torch} (Debian build, oneDNN), torchvision ${manifest.versions.torchvision}, Pillow ${manifest.versions.PIL} (libjpeg-turbo), numpy ${manifest.versions.numpy}.`;
}

function hasResize(manifest: Manifest, model: ModelName): boolean {
  return (manifest.models[model]?.preprocess as { resize?: number | null } | undefined)?.resize != null;
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
  const startLoad = os.loadavg()[0]!;
  for (const model of a.models) {
    for (const t of a.threads) {
      const batch = a.batch[model];
      const common = ['--dir', a.dir, '--model', model, '--batch', `${model}=${batch}`, '--warmup', String(a.warmup), '--reps', String(a.reps), '--forward-reps', String(a.forwardReps)];
      const conc = [...(a.concurrency !== undefined ? ['--concurrency', String(a.concurrency)] : []), ...(a.vipsThreads !== undefined ? ['--vips-threads', String(a.vipsThreads)] : [])];
      const log = (s: string): void => { process.stderr.write(`[${f(now() - started, 0)} s, load ${f(os.loadavg()[0]!, 2)}] ${model} T=${t}: ${s}\n`); };
      const nPrefix = join(scoreDir, `${model}.t${t}.napood`);
      const tPrefix = join(scoreDir, `${model}.t${t}.torch`);
      const workers = [...new Set(a.workers ?? (t === 1 ? [0] : [0, t]))];
      const contenders: { c: Contender; run: () => Child }[] = [];
      const add = (name: string, key: string, cmd: string, args: string[]): void => {
        contenders.push({ c: { name, key, torch: cmd === PYTHON, ips: 0, passes: [], loads: [] }, run: () => runChild(cmd, args, t) });
      };
      add('napood', 'napood', process.execPath, [self, '--child', 'e2e', '--t', String(t), '--resampler', a.resampler, '--scores', nPrefix, ...common, ...conc]);
      const withSharp = a.sharpRow && a.resampler === 'pil' && hasResize(manifest, model);
      if (a.workerRow && a.loader === 'main') add('napood, loader in a worker thread', 'worker', process.execPath, [self, '--child', 'e2e', '--t', String(t), '--resampler', a.resampler, '--loader', 'worker', '--scores', nPrefix + '-worker', ...common, ...conc]);
      if (withSharp) add('napood, libvips resize', 'sharp', process.execPath, [self, '--child', 'e2e', '--t', String(t), '--resampler', 'sharp', '--scores', nPrefix + '-sharp', ...common, ...conc]);
      for (const w of workers) {
        add(`PyTorch, ${w} workers`, `w${w}`, PYTHON, [join(root, 'bench', 'e2e_torch.py'), 'e2e', '--dir', a.dir, '--model', model, '--threads', String(t), '--batch', String(batch),
          '--workers', String(w), '--warmup', String(a.warmup), '--reps', String(a.reps), '--scores', `${tPrefix}.w${w}`]);
      }
      // Rounds: every contender once per round, in turn; the best pass over all rounds is kept.
      for (let round = 0; round < a.rounds; round++) {
        for (const { c, run } of contenders) {
          const ch = run();
          c.passes.push(...ch.json.pass_s);
          c.loads.push(ch.load);
          c.ips = Math.max(c.ips, ch.json.img_per_s);
          log(`round ${round + 1}: ${c.name} ${f(ch.json.img_per_s)} img/s (passes ${ch.json.pass_s.map((x: number) => f(x, 2)).join(', ')} s)`);
        }
      }
      const napoodC = contenders[0]!.c;
      const torchC = contenders.filter((x) => x.c.torch).map((x) => x.c);
      const w0 = workers[0]!;
      const tn = readF(`${tPrefix}.w${w0}.nap.f64`, 8);
      const te = readF(`${tPrefix}.w${w0}.energy.f64`, 8);
      const row: Row = {
        model, t, batch, napood: napoodC, torch: torchC,
        agreeNap: compare(readF(nPrefix + '.nap.f64', 8), tn), agreeEnergy: compare(readF(nPrefix + '.energy.f64', 8), te),
      };
      const workerC = contenders.find((x) => x.c.key === 'worker');
      if (workerC) {
        row.workerRow = workerC.c;
        row.agreeWorker = { nap: compare(readF(nPrefix + '-worker.nap.f64', 8), tn), energy: compare(readF(nPrefix + '-worker.energy.f64', 8), te) };
      }
      if (withSharp) {
        row.sharpRow = contenders.find((x) => x.c.key === 'sharp')!.c;
        row.agreeSharp = { nap: compare(readF(nPrefix + '-sharp.nap.f64', 8), tn), energy: compare(readF(nPrefix + '-sharp.energy.f64', 8), te) };
      }
      if (a.parts) {
        const pn = runChild(process.execPath, [self, '--child', 'parts', '--t', String(t), '--resampler', a.resampler, '--scores', nPrefix, ...common, ...conc], t);
        const ptp = runChild(PYTHON, [join(root, 'bench', 'e2e_torch.py'), 'parts', '--dir', a.dir, '--model', model, '--threads', String(t), '--batch', String(batch),
          '--workers', '0', '--warmup', String(a.warmup), '--reps', String(a.reps), '--forward-reps', String(a.forwardReps), '--scores', tPrefix], t);
        row.parts = { napood: pn.json, torch: ptp.json };
        row.pixels = compare(readF(nPrefix + '.input.f32', 4), readF(tPrefix + '.input.f32', 4));
        log(`forward napood ${f(pn.json.forward_ms)} ms (plain model ${f(pn.json.plain_forward_ms)}) / PyTorch ${f(ptp.json.forward_ms)} ms per batch of ${batch}; NAP napood ${f(pn.json.nap_ms, 3)} ms / PyTorch ${f(ptp.json.nap_ms, 3)} ms; input tensors differ in ${row.pixels.n} values`);
      }
      rows.push(row);
    }
  }
  const total = now() - started;
  const md = report(a, rows, manifest, total, startLoad);
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

function bestTorch(r: Row): Contender {
  return r.torch.reduce((b, c) => (c.ips > b.ips ? c : b));
}

function report(a: Args, rows: Row[], manifest: Manifest, total: number, startLoad: number): string {
  const L: string[] = [];
  const endLoad = os.loadavg()[0]!;
  L.push('### End-to-end images per second (bench/e2e.ts)', '');
  L.push(`Machine: ${machine(manifest)} Load average (1 min) ${f(startLoad, 2)} at the start, ${f(endLoad, 2)} at the end; full run ${f(total, 0)} s.`, '');
  L.push('Pipeline: image files (page cache) → decode → preprocess → normalise → forward → NAP (ε = 1, p = 2) and energy (T = 1) scores of every image. ' +
    `resnet18: torchvision resnet18, random seeded weights, ${manifest.models.resnet18?.count ?? '?'} synthetic JPEGs of ~500×375, Resize 256 + CenterCrop 224 (bilinear, Pillow-exact on both sides), ImageNet mean/std; ` +
    `smallcnn: 4 × conv+bn+relu, GAP, linear, ${manifest.models.smallcnn?.count ?? '?'} synthetic 32×32 PNGs, no resize, CIFAR mean/std (tools/make_bench_models.py).`, '');
  L.push(`Fairness: each contender is its own process, pinned with taskset to the same T cores. napood: onnxruntime-node intra-op threads = T; sharp decodes in libuv's pool (4 threads) on those cores, ${a.concurrency ?? 4} images in flight (imageBatches' concurrency); ` +
    `${a.resampler === 'pil' ? "napood's Pillow-exact resize" : 'libvips resize'} and normalisation on the main thread. PyTorch: torch.set_num_threads(T), inference_mode, DataLoader with ${a.workers ? a.workers.join(' and ') : '0 worker processes (decode in the main process) and, for T > 1, also T'} worker processes; the faster setting is the baseline. ` +
    `Each contender: ${a.warmup} warm-up batch${a.warmup === 1 ? '' : 'es'}, then ${a.reps} timed pass${a.reps === 1 ? '' : 'es'} over all images; ${a.rounds} round${a.rounds === 1 ? '' : 's'} with the contenders in turn; img/s of the best pass. ` +
    `Forward and NAP ms/batch: median over ${a.forwardReps} runs on a preloaded batch (napood's onnxruntime session with the feature map as an extra output; NAP = the registry's \`nap\` method, WASM kernel, including the copy into WASM memory).`, '');
  L.push('| model | threads | batch | napood img/s | PyTorch img/s | ratio | forward ms/batch | NAP ms/batch | NAP share % | scores vs PyTorch: max rel diff NAP / energy | napood, loader in a worker thread: img/s (ratio) |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const bt = bestTorch(r);
    const p = r.parts?.napood;
    L.push(`| ${r.model} | ${r.t} | ${r.batch} | ${f(r.napood.ips)} | ${f(bt.ips)} (${bt.key.slice(1)} workers) | ${f(r.napood.ips / bt.ips, 2)} | ${p ? f(p.forward_ms, 1) : '—'} | ${p ? f(p.nap_ms, 3) : '—'} | ${p ? f((100 * p.nap_ms) / p.forward_ms, 2) : '—'} | ${e(r.agreeNap.rel)} / ${e(r.agreeEnergy.rel)} | ${r.workerRow ? `${f(r.workerRow.ips)} (${f(r.workerRow.ips / bt.ips, 2)})` : '—'} |`);
  }
  L.push('');
  L.push('All runs (seconds per timed pass over all images, in round order; load average when each child started):', '');
  L.push('| model | threads | contender | img/s (best) | passes s | load | ratio napood ÷ this | max rel diff NAP / energy vs PyTorch |');
  L.push('|---|---:|---|---:|---|---|---:|---:|');
  for (const r of rows) {
    const all = [r.napood, ...(r.workerRow ? [r.workerRow] : []), ...(r.sharpRow ? [r.sharpRow] : []), ...r.torch];
    for (const c of all) {
      const agree = c === r.napood ? `${e(r.agreeNap.rel)} / ${e(r.agreeEnergy.rel)}` : c === r.workerRow ? `${e(r.agreeWorker!.nap.rel)} / ${e(r.agreeWorker!.energy.rel)}` : c === r.sharpRow ? `${e(r.agreeSharp!.nap.rel)} / ${e(r.agreeSharp!.energy.rel)}` : c === r.torch[0] ? '(reference)' : '';
      L.push(`| ${r.model} | ${r.t} | ${c.name} | ${f(c.ips)} | ${c.passes.map((x) => f(x, 2)).join(', ')} | ${c.loads.map((x) => f(x, 1)).join(', ')} | ${c === r.napood ? '—' : f(r.napood.ips / c.ips, 2)} | ${agree} |`);
    }
  }
  if (rows.some((r) => r.parts)) {
    L.push('', 'Where the time goes. Per image, one image at a time (await each), on the T cores: read = the file read; decode = read + header + decode to RGB (napood: readFile, header parsed in JS, then the napood PNG decoder for small PNGs or the sharp raw decode; PyTorch: PIL open + convert + load); resize = resize + centre crop of a decoded image (napood: Pillow-exact JS port; PyTorch: Pillow C); normalise = to float32 with mean/std (napood normalizeInto; PyTorch ToTensor + Normalize). Loader = a whole pass of the data loader without the model (napood imageBatches; PyTorch DataLoader, 0 workers). Forward per batch (napood: with / without the extra graph outputs, interleaved runs).', '');
    L.push('| model | T | side | read ms | header ms | decode ms | resize ms | normalise ms | loader img/s | forward ms/batch | forward ms/img | NAP ms/batch | energy ms/batch |');
    L.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      if (!r.parts) continue;
      const n = r.parts.napood;
      const p = r.parts.torch;
      L.push(`| ${r.model} | ${r.t} | napood | ${f(n.read_ms_per_img, 3)} | ${f(n.metadata_ms_per_img, 3)} | ${f(n.decode_ms_per_img, 3)} | ${f(n.resample_ms_per_img, 3)} | ${f(n.normalize_ms_per_img, 3)} | ${f(n.loader_img_per_s)} | ${f(n.forward_ms)} / ${f(n.plain_forward_ms)} | ${f(n.forward_ms / r.batch, 2)} | ${f(n.nap_ms, 3)} | ${f(n.energy_ms, 3)} |`);
      L.push(`| ${r.model} | ${r.t} | PyTorch | — | — | ${f(p.decode_ms_per_img, 3)} | ${f(p.resize_ms_per_img, 3)} | ${f(p.normalize_ms_per_img, 3)} | ${f(p.loader_img_per_s)} | ${f(p.forward_ms)} | ${f(p.forward_ms / r.batch, 2)} | ${f(p.nap_ms, 3)} | ${f(p.energy_ms, 3)} |`);
    }
  }
  L.push('', `Targets: napood ≥ ${TARGET_RATIO}× PyTorch end to end (against the faster PyTorch worker setting); NAP < ${100 * TARGET_SHARE} % of the forward pass.`, '');
  for (const r of rows) {
    const bt = bestTorch(r);
    const ratio = r.napood.ips / bt.ips;
    const p = r.parts?.napood;
    const share = p ? p.nap_ms / p.forward_ms : undefined;
    const added = p ? (p.forward_ms - p.plain_forward_ms + p.nap_ms) / p.plain_forward_ms : undefined;
    L.push(`- ${r.model}, T=${r.t}: ratio ${f(ratio, 2)} ${ratio >= TARGET_RATIO ? 'meets' : 'MISSES'} ${TARGET_RATIO}×` +
      (share !== undefined ? `; NAP share ${f(100 * share, 2)} % ${share < TARGET_SHARE ? 'meets' : 'MISSES'} < ${100 * TARGET_SHARE} %` : '') +
      (added !== undefined ? ` (with the cost of exposing the feature map as a graph output, forward with − without + NAP = ${f(100 * added, 1)} % of the plain forward; the difference of two noisy medians)` : '') +
      `; scores vs PyTorch on the same ${r.model === 'resnet18' ? 'JPEGs' : 'PNGs'}: NAP max rel diff ${e(r.agreeNap.rel)} (abs ${e(r.agreeNap.abs)}), energy ${e(r.agreeEnergy.rel)} (abs ${e(r.agreeEnergy.abs)})` +
      (r.pixels ? `; preprocessed input of the first batch: ${r.pixels.n} of ${r.batch * (r.model === 'resnet18' ? 3 * 224 * 224 : 3 * 32 * 32)} values differ (max abs ${e(r.pixels.abs)})` : '') +
      (r.workerRow ? `; with the loader in a worker thread: ${f(r.workerRow.ips)} img/s (${f(r.workerRow.ips / bt.ips, 2)}× ${r.workerRow.ips / bt.ips >= TARGET_RATIO ? 'meets' : 'misses'}), same scores (NAP max rel diff ${e(r.agreeWorker!.nap.rel)})` : '') +
      (r.agreeSharp ? `; with the libvips resize: ${f(r.sharpRow!.ips)} img/s (${f(r.sharpRow!.ips / bt.ips, 2)}×), NAP max rel diff ${e(r.agreeSharp.nap.rel)}, energy ${e(r.agreeSharp.energy.rel)}` : '') + '.');
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
