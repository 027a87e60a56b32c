/**
 * What `check` costs on top of scoring (issue #12 item 6; SPEC §7: ratios side by side in one run):
 *
 * - forward: the model alone (OnnxClassifier.run on each batch of a preprocessed tensor),
 * - score:   OodModel.score of the detector's method on the same inputs,
 * - check:   Detector.check on the same inputs (the method, the predicted class, max softmax,
 *            a p-value and a verdict per row).
 * Inputs: a preprocessed tensor (the forward pass dominates) and, for the fixture model, the same
 * images as decoded pixels (preprocessing included in score and check alike). Each round times the
 * paths one after the other, in alternating order, `rounds` times (default 21); the table gives the
 * median CPU time (user + system of the whole process: onnxruntime's threads included; wall time
 * on this shared 2-core machine varies 2–3× from call to call, CPU time much less). The models run
 * with one onnxruntime thread.
 * Also timed: `tune` itself (OodModel.tune with its default candidates: fit, ID-val and pseudo-OOD
 * scored once, the search) and `calibrate`.
 *
 * Models: test/fixtures/pipeline/model.onnx (a 4-conv CIFAR CNN, 32×32) on synthetic images, and,
 * when given (--zoo DIR, default /work/wt-zoo/examples/zoo if present; nothing is copied from
 * there), the zoo's Fashion-MNIST resnet.onnx with its uint8 .npy sets.
 *
 * Run: npm run build && node dist/bench/check.js [--rounds 5] [--zoo DIR | --no-zoo] [--no-write]
 * Writes bench/results/check.md unless --no-write.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arraySource } from '../src/app/model-source.js';
import { conformalPValue, isOodAt } from '../src/app/calibrate.js';
import { argmaxRow } from '../src/metrics/accuracy.js';
import { maxSoftmaxRows } from '../src/methods/common.js';
import type { Detector } from '../src/app/detector.js';
import { normalizeInto } from '../src/images/pixels.js';
import { imageShape } from '../src/images/preprocess.js';
import { openModel, type NodeOodModel } from '../src/node/index.js';
import { uint8NpyImages } from '../src/node/sources.js';
import { syntheticImages } from '../test/detector/helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Row { model: string; input: string; n: number; forward?: number; score: number; check: number }

const extraUs: { model: string; perRow: number; forwardPerRow: number }[] = [];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** CPU time (user + system, all threads of this process) of one call, in ms. */
async function cpuTimed(fn: () => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Preprocessed tensor of decoded pixel images, in the model's layout. */
function tensorOf(od: NodeOodModel, images: readonly { image: { data: Uint8Array } }[]): Float32Array {
  const [a, b, c] = imageShape(od.preprocess);
  const per = a * b * c;
  const out = new Float32Array(images.length * per);
  images.forEach((im, i) => normalizeInto(im.image.data, od.preprocess, out, i * per));
  return out;
}

async function compare(label: string, od: NodeOodModel, det: Detector, data: Float32Array, n: number, rounds: number, images?: readonly { name: string; image: unknown }[]): Promise<Row[]> {
  const shape = [n, ...od.classifier.info.inputDims];
  const per = data.length / n;
  const forward = async () => { for (let s = 0; s < n; s += 32) { const k = Math.min(32, n - s); await od.classifier.run(data.subarray(s * per, (s + k) * per), k); } };
  const score = () => od.score(od.tensor(data, shape));
  const check = () => det.check(arraySource(od.classifier, data, shape));
  const times: Record<string, number[]> = { forward: [], score: [], check: [], iscore: [], icheck: [] };
  await forward(); await score(); await check();
  // Alternate the order each round so that drift of the shared machine hits every path alike.
  const paths: [string, () => Promise<unknown>][] = [['forward', forward], ['score', score], ['check', check]];
  if (images) paths.push(['iscore', () => od.score(images as never)], ['icheck', () => det.check(images as never)]);
  for (let r = 0; r < rounds; r++) {
    for (const [key, fn] of r % 2 ? [...paths].reverse() : paths) times[key]!.push(await cpuTimed(fn));
  }
  const m = (k: string) => median(times[k]!);
  // check's own work alone, on logits and scores of one forward pass: class, max softmax, p-value, verdict, row object.
  const out = await od.classifier.run(data.subarray(0, Math.min(n, 256) * per), Math.min(n, 256));
  const k = out.logits.k;
  const rowsN = Math.min(n, 256);
  const cal = det.data.calibration.scores;
  const extra = () => {
    const conf = maxSoftmaxRows(out.logits.data, rowsN, k, 1);
    const list = [];
    for (let i = 0; i < rowsN; i++) {
      const score = conf[i]!;
      list.push({ name: `#${i}`, score, pValue: conformalPValue(cal, score), ood: isOodAt(cal, score, det.alpha), predicted: argmaxRow(out.logits.data, k, i), confidence: conf[i]! });
    }
    return list;
  };
  for (let i = 0; i < 200; i++) extra();
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < 300) { extra(); reps++; }
  extraUs.push({ model: label, perRow: ((performance.now() - t0) * 1000) / (reps * rowsN), forwardPerRow: (1000 * m('forward')) / n });
  const rows: Row[] = [{ model: label, input: 'preprocessed tensor', n, forward: m('forward'), score: m('score'), check: m('check') }];
  if (images) rows.push({ model: label, input: 'decoded pixels (preprocessing included)', n, score: m('iscore'), check: m('icheck') });
  return rows;
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const rounds = Number(opt('--rounds') ?? 21);
  const zooDir = argv.includes('--no-zoo') ? undefined : opt('--zoo') ?? (existsSync('/work/wt-zoo/examples/zoo/resnet.onnx') ? '/work/wt-zoo/examples/zoo' : undefined);
  const rows: Row[] = [];
  const tunes: string[] = [];

  // The fixture CNN on synthetic 32×32 images.
  {
    const od = await openModel(join(root, 'test', 'fixtures', 'pipeline', 'model.onnx'), { preprocess: 'cifar', threads: 1 });
    const val = syntheticImages(500, 1);
    const train = syntheticImages(500, 2);
    let report!: Awaited<ReturnType<NodeOodModel['tune']>>;
    const tuneMs = await timed(async () => { report = await od.tune(val, { train }); });
    let det!: Detector;
    const calMs = await timed(async () => { det = await od.calibrate(syntheticImages(500, 3)); });
    tunes.push(`| fixture CNN 3×32×32 | ${val.length} synthetic | ${train.length} synthetic | ${report.candidates.length} (${report.candidates.map((c) => c.method).join(', ')}) | ${(tuneMs / 1000).toFixed(2)} s | ${(calMs / 1000).toFixed(2)} s (500) | ${report.chosen} |`);
    const news = syntheticImages(2048, 4);
    rows.push(...await compare('fixture CNN 3×32×32', od, det, tensorOf(od, news), news.length, rounds, news));
    await det.release();
    await od.release();
  }

  if (zooDir) {
    const model = join(zooDir, 'resnet.onnx');
    const data = (s: string) => join(zooDir, 'data', `${s}.npy`);
    const od = await openModel(model, { preprocess: JSON.parse(readFileSync(join(zooDir, 'resnet.json'), 'utf8')), threads: 1 });
    let report!: Awaited<ReturnType<NodeOodModel['tune']>>;
    const tuneMs = await timed(async () => { report = await od.tune(data('fmnist_val'), { train: data('fmnist_train') }); });
    let det!: Detector;
    const calMs = await timed(async () => { det = await od.calibrate(data('fmnist_test')); });
    tunes.push(`| zoo resnet (ResNet-14, 1×28×28) | 2000 fmnist_val | 5000 fmnist_train | ${report.candidates.length} (${report.candidates.map((c) => c.method).join(', ')}) | ${(tuneMs / 1000).toFixed(2)} s | ${(calMs / 1000).toFixed(2)} s (2000) | ${report.chosen} |`);
    const mnist = uint8NpyImages(data('mnist'), 'mnist');
    const pixels = mnist.sources.map((s) => ({ image: (s.image as () => { data: Uint8Array })() }));
    mnist.close();
    rows.push(...await compare('zoo resnet 1×28×28', od, det, tensorOf(od, pixels), pixels.length, rounds));
    await det.release();
    await od.release();
  }

  const ms = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
  const pct = (a: number, b: number) => `${(100 * (a / b - 1)).toFixed(1)} %`;
  const md = [
    '# check vs plain score, side by side',
    '',
    `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores, shared with other jobs), onnxruntime-node CPU with 1 thread, batches of 32, median CPU time (user + system, all threads) of ${rounds} interleaved rounds (bench/check.ts). ` +
      'forward: the model alone; score: OodModel.score of the detector\'s method; check: Detector.check (method score, predicted class, max softmax, p-value, verdict) on the same inputs.',
    '',
    '| model | input | rows | forward CPU ms | score CPU ms | check CPU ms | check over score | check over forward |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.input} | ${r.n} | ${ms(r.forward)} | ${ms(r.score)} | ${ms(r.check)} | ${pct(r.check, r.score)} | ${r.forward === undefined ? '–' : pct(r.check, r.forward)} |`),
    '',
    'The end-to-end columns differ by the noise of a shared 2-core machine (the fixture CNN forwards 2048 images in ~40 ms: a difference of a few ms flips sign from run to run, and its check sits below the plain forward pass in one column and above score in another). What check adds is measured alone below.',
    '',
    'check\'s own work per row (predicted class, max softmax, conformal p-value by binary search, verdict, the row object), timed alone on logits of one forward pass, against the forward pass per row (CPU time above / rows):',
    '',
    '| model | check\'s own work µs / row | forward µs / row | share |',
    '|---|---:|---:|---:|',
    ...extraUs.map((e) => `| ${e.model} | ${e.perRow.toFixed(2)} | ${e.forwardPerRow.toFixed(1)} | ${(100 * e.perRow / e.forwardPerRow).toFixed(2)} % |`),
    '',
    '## tune and calibrate',
    '',
    'OodModel.tune with its default candidates (those the sets can score), pseudo-OOD = one random corruption (15 benchmark corruptions, severities 3–5) per ID-val image: fit, both sets scored once, the w search; then OodModel.calibrate on held-out ID images. Wall time, one run.',
    '',
    '| model | ID-val | ID-train | candidates | tune | calibrate | chosen |',
    '|---|---|---|---|---:|---:|---|',
    ...tunes,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (!argv.includes('--no-write')) {
    const out = join(root, 'bench', 'results', 'check.md');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, md);
  }
}

await main(process.argv.slice(2));
