/**
 * `napood score / eval / fit / dump --model`: images (files, class folders, lists) through an ONNX
 * model to scores, end to end as a user runs it (child processes of the built binary).
 *
 * Golden values: tools/golden_image_pipeline.py scores the same images with the same model in
 * PyTorch (torchvision preprocessing, forward hooks, autograd for ODIN, sklearn metrics).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDump } from '../../src/node/io/dump.js';
import { readNpy as readNpyFile, writeNpy } from '../../src/node/io/npy.js';
import { expandImageInputs, sampleItems } from '../../src/node/images/index.js';
import { fixturesDir, repoRoot } from '../helpers.js';

const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const pipeline = join(fixturesDir, 'pipeline');
const model = join(pipeline, 'model.onnx');
const tree = join(fixturesDir, 'images', 'tree');
const extra = join(fixturesDir, 'images', 'extra');

interface Expected {
  classes: string[];
  id: { paths: string[]; labels: number[]; accuracy: number; scores: Record<string, number[]> };
  ood: { paths: string[]; scores: Record<string, number[]> };
  metrics: Record<string, { auroc: number; fpr95: number }>;
}
const expected = JSON.parse(readFileSync(join(pipeline, 'expected.json'), 'utf8')) as Expected;

function napood(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  // Run from the repository root so that paths print as in the golden file.
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const rel = (p: string) => relative(repoRoot, p);
const tmp = () => mkdtempSync(join(tmpdir(), 'napood-model-sets-'));

function readCsvScores(path: string): Map<string, number> {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'path,score');
  return new Map(lines.slice(1).map((l) => {
    const i = l.lastIndexOf(',');
    return [l.slice(0, i), Number(l.slice(i + 1))] as [string, number];
  }));
}

function assertClose(got: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
}

const cifar = ['--model', rel(model), '--preset', 'cifar'];

test('the golden ODIN perturbation is resolvable at the tolerance used below', () => {
  expected.id.scores.odin!.forEach((s, i) => {
    const t = expected.id.scores['odin:noise=0']![i]!;
    assert.ok(Math.abs(s - t) > 100 * 1e-8 * Math.abs(t), `row ${i}: ${s} vs ${t}`);
  });
});

test('score --model over a class-folder tree equals PyTorch (nap, energy, msp, odin, odin:noise=0)', () => {
  const dir = tmp();
  for (const method of ['nap', 'energy', 'msp', 'odin', 'odin:noise=0']) {
    const out = join(dir, `${method.replace(/[:=]/g, '_')}.csv`);
    const r = napood(['score', ...cifar, '--features', rel(tree), '--method', method, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const got = readCsvScores(out);
    assert.deepEqual([...got.keys()], expected.id.paths, `${method}: one row per decodable image, in folder order`);
    // ODIN at T = 1000 moves the score by ~1e-5 relative: its tolerance must resolve that.
    const tol = method.startsWith('odin') ? 1e-8 : 1e-4;
    expected.id.paths.forEach((p, i) => assertClose(got.get(p)!, expected.id.scores[method]![i]!, tol, `${method} ${p}`));
    // The corrupt files are named on stderr, with the count.
    for (const bad of ['x_bad.jpg', 'x_cut.png', 'x_text.png']) assert.match(r.stderr, new RegExp(`skipped \\S*${bad.replace('.', '\\.')}`));
    assert.match(r.stderr, /3 of 9 images skipped/);
  }
  rmSync(dir, { recursive: true });
});

test('score --model: react fitted on images, and OOD images with converted colour spaces', () => {
  const dir = tmp();
  const out = join(dir, 'react.csv');
  let r = napood(['score', ...cifar, '--features', rel(tree), '--fit', rel(tree), '--method', 'react', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  let got = readCsvScores(out);
  expected.id.paths.forEach((p, i) => assertClose(got.get(p)!, expected.id.scores.react![i]!, 1e-4, `react ${p}`));
  const napOut = join(dir, 'nap-ood.csv');
  r = napood(['score', ...cifar, '--features', rel(extra), '--method', 'nap', '--out', napOut]);
  assert.equal(r.code, 0, r.stderr);
  got = readCsvScores(napOut);
  assert.deepEqual([...got.keys()], expected.ood.paths);
  expected.ood.paths.forEach((p, i) => assertClose(got.get(p)!, expected.ood.scores.nap![i]!, 1e-4, `nap ${p}`));
  rmSync(dir, { recursive: true });
});

test('eval --model: images to the paper table; metrics and ID accuracy equal sklearn / PyTorch', () => {
  const dir = tmp();
  const json = join(dir, 'report.json');
  const methods = ['nap', 'energy', 'msp', 'odin', 'odin:noise=0', 'react'];
  const r = napood(['eval', ...cifar, '--id', rel(tree), '--ood', `extra=${rel(extra)}`, '--fit', rel(tree),
    '--methods', methods.join(','), '--bootstrap', '0', '--json', json]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(report.id.n, expected.id.paths.length, 'ID rows: the decodable images');
  assert.equal(report.ood[0].n, expected.ood.paths.length);
  assert.equal(report.model, rel(model));
  assertClose(report.id.accuracy, 100 * expected.id.accuracy, 1e-9, 'ID accuracy');
  for (const [i, m] of methods.entries()) {
    assert.equal(report.methods[i].method, m);
    assertClose(report.methods[i].results.extra.auroc, 100 * expected.metrics[m]!.auroc, 1e-9, `${m} AUROC`);
    assertClose(report.methods[i].results.extra.fpr95, 100 * expected.metrics[m]!.fpr95, 1e-9, `${m} FPR95`);
  }
  assert.match(r.stdout, /extra/);
  assert.match(r.stderr, /--id: 3 of 9 images skipped/);
  rmSync(dir, { recursive: true });
});

test('dump --images writes the same features as scoring the images; paths, classes and labels kept', () => {
  const dir = tmp();
  const out = join(dir, 'tree.safetensors');
  let r = napood(['dump', ...cifar, '--images', rel(tree), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const dump = openDump(out);
  try {
    assert.equal(dump.n, 6);
    assert.deepEqual(JSON.parse(dump.metadata.paths!), expected.id.paths);
    assert.deepEqual(JSON.parse(dump.metadata.classes!), expected.classes);
    assert.deepEqual([...dump.readLabels(0, 6)], expected.id.labels);
    assert.deepEqual(dump.featureMapShape, [6, 24, 8, 8]);
    assert.ok(dump.linearHead(), 'linear head weights in the dump');
  } finally {
    dump.close();
  }
  r = napood(['score', '--features', out, '--method', 'nap', '--out', join(dir, 'nap.csv')]);
  assert.equal(r.code, 0, r.stderr);
  // The dump keeps the image paths: score writes them as for the images themselves.
  const fromDump = readCsvScores(join(dir, 'nap.csv'));
  assert.deepEqual([...fromDump.keys()], expected.id.paths);
  expected.id.paths.forEach((p, i) => assertClose(fromDump.get(p)!, expected.id.scores.nap![i]!, 1e-4, `nap from dump ${p}`));
  rmSync(dir, { recursive: true });
});

test('eval --model reads dump sets next to image sets: --fit from a napood dump gives the all-images results', () => {
  const dir = tmp();
  const train = join(dir, 'train.safetensors');
  let r = napood(['dump', ...cifar, '--images', rel(tree), '--out', train]);
  assert.equal(r.code, 0, r.stderr);
  const json = join(dir, 'report.json');
  const methods = ['nap', 'react', 'energy'];
  r = napood(['eval', ...cifar, '--id', rel(tree), '--ood', `extra=${rel(extra)}`, '--fit', train,
    '--methods', methods.join(','), '--bootstrap', '0', '--json', json]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /napood: warning/, 'the dump holds this model\'s head: no warning');
  const report = JSON.parse(readFileSync(json, 'utf8'));
  for (const [i, m] of methods.entries()) {
    assertClose(report.methods[i].results.extra.auroc, 100 * expected.metrics[m]!.auroc, 1e-9, `${m} AUROC`);
    assertClose(report.methods[i].results.extra.fpr95, 100 * expected.metrics[m]!.fpr95, 1e-9, `${m} FPR95`);
  }
  assertClose(report.id.accuracy, 100 * expected.id.accuracy, 1e-9, 'ID accuracy');

  // The ID test set as a dump too: same scores as from the images.
  const out = join(dir, 'react.csv');
  r = napood(['score', ...cifar, '--features', train, '--fit', rel(tree), '--method', 'react', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const fromDump = readCsvScores(out);
  assert.deepEqual([...fromDump.keys()], expected.id.paths);
  expected.id.paths.forEach((p, i) => assertClose(fromDump.get(p)!, expected.id.scores.react![i]!, 1e-4, `react from dump ${p}`));

  // ODIN's input perturbation needs the images, not a dump of them.
  r = napood(['score', ...cifar, '--features', train, '--method', 'odin', '--out', join(dir, 'o.npy')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /odin: expected model input .*found a feature dump \(--features /);

  // A dump from another model is refused, naming the set and what the model gives.
  const demo = join(repoRoot, 'test', 'fixtures', 'golden', 'random', 'train');
  r = napood(['eval', ...cifar, '--id', rel(tree), '--ood', `extra=${rel(extra)}`, '--fit', demo, '--methods', 'react', '--json', join(dir, 'x.json')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--fit .*random\/train: expected .*as .*model\.onnx gives/);
  assert.ok(!readdirSync(dir).includes('x.json'), 'no report written');

  // A dump with this model's shapes but another head: used with a warning (the model's head wins).
  const dumped = openDump(train);
  const head = dumped.linearHead()!;
  const first = [...dumped.batches({ fields: ['pooled'] })][0]!;
  const pooled = first.pooled!;
  dumped.close();
  const other = join(dir, 'other');
  spawnSync('mkdir', [other]);
  writeNpy(join(other, 'pooled.npy'), pooled.data, [first.n, pooled.c]);
  writeNpy(join(other, 'head.weight.npy'), head.weight.map((x) => x + 0.5), [head.k, head.c]);
  r = napood(['score', ...cifar, '--features', rel(tree), '--fit', other, '--method', 'react', '--out', join(dir, 'r2.npy')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: --fit .*other: its head weights differ from .*model\.onnx's head .*the model's head is used/);
  rmSync(dir, { recursive: true });
});

test('--fit-sample N: a seeded sample of the --fit images, the same as listing those images; refused for dumps and .npy', async () => {
  const dir = tmp();
  try {
    const run = (...more: string[]) => napood(['fit', ...cifar, '--fit', rel(tree), '--methods', 'react,mahalanobis', ...more]);
    const a = join(dir, 'a.json');
    let r = run('--fit-sample', '4', '--out', a);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--fit: .*a seeded sample of 4 of 9 images \(--fit-sample 4, --sample-seed 0\)/);
    // the same sample, written out as a list: the same fitted state
    const list = await expandImageInputs([tree], { labels: 'auto' });
    const picked = sampleItems(list.items, 4, 0);
    const listFile = join(dir, 'sample.txt');
    writeFileSync(listFile, picked.map((it) => `${it.path}\t${list.classes[it.label]}`).join('\n') + '\n');
    writeFileSync(join(dir, 'classes.txt'), list.classes.join('\n') + '\n');
    const b = join(dir, 'b.json');
    r = napood(['fit', ...cifar, '--classes', join(dir, 'classes.txt'), '--fit', `@${listFile}`, '--methods', 'react,mahalanobis', '--out', b]);
    assert.equal(r.code, 0, r.stderr);
    const states = [a, b].map((f) => JSON.parse(readFileSync(f, 'utf8')).methods.map((m: { state: unknown }) => m.state));
    assert.deepEqual(states[0], states[1]);
    // another seed: another sample, another ReAct threshold
    const c = join(dir, 'c.json');
    r = run('--fit-sample', '4', '--sample-seed', '7', '--out', c);
    assert.equal(r.code, 0, r.stderr);
    assert.notDeepEqual(JSON.parse(readFileSync(c, 'utf8')).methods[0].state, states[0][0]);
    // refusals
    const train = join(dir, 'train.safetensors');
    assert.equal(napood(['dump', ...cifar, '--images', rel(tree), '--out', train]).code, 0);
    for (const [args, pattern] of [
      [['fit', ...cifar, '--fit', train, '--fit-sample', '2', '--methods', 'react', '--out', join(dir, 'x.json')], /--fit-sample: expected images as --fit .*found a feature dump/],
      [['fit', ...cifar, '--fit', join(fixturesDir, 'onnx', 'smallcnn_flatten_op13', 'input.npy'), '--fit-sample', '2', '--methods', 'react', '--out', join(dir, 'x.json')], /--fit-sample: expected images .*found a preprocessed \.npy tensor/],
      [['fit', '--fit', train, '--fit-sample', '2', '--methods', 'react', '--out', join(dir, 'x.json')], /--fit-sample: expected --model MODEL\.onnx/],
      [['fit', ...cifar, '--fit', rel(tree), '--sample-seed', '2', '--methods', 'react', '--out', join(dir, 'x.json')], /--sample-seed: expected --fit-sample N with it/],
      [['fit', ...cifar, '--fit', rel(tree), '--fit-sample', '0', '--methods', 'react', '--out', join(dir, 'x.json')], /--fit-sample: expected an integer ≥ 1, found "0"/],
    ] as [string[], RegExp][]) {
      const res = napood(args);
      assert.equal(res.code, 2, `${args.join(' ')}\n${res.stderr}`);
      assert.match(res.stderr, pattern);
    }
    assert.ok(!readdirSync(dir).includes('x.json'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('--id-labels / --fit-labels: labels of preprocessed .npy sets give the same report as a labelled dump', () => {
  const dir = tmp();
  try {
    const m = join(fixturesDir, 'onnx', 'smallcnn_flatten_op13');
    const x = join(m, 'input.npy');
    const logits = readNpyFile(join(m, 'logits.npy'));
    // labels: the PyTorch argmax for row 0, another class for row 1 → ID accuracy 50 %
    const top = (r: number) => { let b = 0; for (let j = 1; j < 10; j++) if (logits.data[r * 10 + j]! > logits.data[r * 10 + b]!) b = j; return b; };
    const labels = join(dir, 'y.npy');
    writeNpy(labels, Int32Array.from([top(0), (top(1) + 1) % 10]), [2]);
    const ood = join(dir, 'ood.npy');
    writeNpy(ood, Float32Array.from({ length: 3 * 3072 }, (_, i) => Math.sin(i) * 2), [3, 3, 32, 32]);
    const json1 = join(dir, 'a.json');
    let r = napood(['eval', '--model', join(m, 'model.onnx'), '--id', x, '--id-labels', labels, '--fit', x, '--fit-labels', labels,
      '--ood', `noise=${ood}`, '--methods', 'mahalanobis,react,nap', '--bootstrap', '0', '--json', json1]);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(readFileSync(json1, 'utf8'));
    assert.equal(a.id.accuracy, 50, 'ID accuracy from --id-labels');
    // the same through dumps
    const d = join(dir, 'id.safetensors');
    const o = join(dir, 'ood.safetensors');
    assert.equal(napood(['dump', '--model', join(m, 'model.onnx'), '--input', x, '--labels', labels, '--out', d]).code, 0);
    assert.equal(napood(['dump', '--model', join(m, 'model.onnx'), '--input', ood, '--out', o]).code, 0);
    const json2 = join(dir, 'b.json');
    r = napood(['eval', '--id', d, '--fit', d, '--ood', `noise=${o}`, '--methods', 'mahalanobis,react,nap', '--bootstrap', '0', '--json', json2]);
    assert.equal(r.code, 0, r.stderr);
    const b = JSON.parse(readFileSync(json2, 'utf8'));
    assert.equal(b.id.accuracy, 50);
    for (let i = 0; i < 3; i++) assert.deepEqual(a.methods[i].results, b.methods[i].results, a.methods[i].method);
    // refusals: labels for images, for a dump, out-of-range labels, without --model
    const bad = join(dir, 'bad.npy');
    writeNpy(bad, Int32Array.from([0, 10]), [2]);
    for (const [args, pattern] of [
      [['eval', ...cifar, '--id', rel(tree), '--id-labels', labels, '--ood', `x=${rel(extra)}`, '--methods', 'nap'], /--id-labels: expected a preprocessed \.npy tensor as --id .*found ".*tree"/],
      [['eval', '--model', join(m, 'model.onnx'), '--id', d, '--id-labels', labels, '--ood', `x=${o}`, '--methods', 'nap'], /--id-labels: expected a preprocessed \.npy tensor/],
      [['eval', '--model', join(m, 'model.onnx'), '--id', x, '--id-labels', bad, '--ood', `x=${ood}`, '--methods', 'nap'], /--id-labels: expected class indices in \[0, 10\) \(or −1 for none\), found 10 at row 1/],
      [['eval', '--id', d, '--fit-labels', labels, '--ood', `x=${o}`, '--methods', 'nap'], /--fit-labels: expected --model MODEL\.onnx/],
    ] as [string[], RegExp][]) {
      const res = napood(args);
      assert.equal(res.code, 2, `${args.join(' ')}\n${res.stderr}`);
      assert.match(res.stderr, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('fit --model: multi-pass fits replay cached features and leave no temporary files; --state gives the same scores', () => {
  const dir = tmp();
  const privateTmp = mkdtempSync(join(tmpdir(), 'napood-private-tmp-'));
  const state = join(dir, 'state.json');
  let r = napood(['fit', ...cifar, '--fit', rel(tree), '--methods', 'react,vim:dim=8,mahalanobis', '--out', state], { TMPDIR: privateTmp });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(privateTmp), [], 'the replay cache is removed');
  const saved = JSON.parse(readFileSync(state, 'utf8'));
  assert.deepEqual(saved.methods.map((m: { spec: string }) => m.spec), ['react', 'vim:dim=8', 'mahalanobis']);
  const out = join(dir, 'react.csv');
  r = napood(['score', ...cifar, '--features', rel(tree), '--state', state, '--method', 'react', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const got = readCsvScores(out);
  expected.id.paths.forEach((p, i) => assertClose(got.get(p)!, expected.id.scores.react![i]!, 1e-4, `react from state ${p}`));
  rmSync(dir, { recursive: true });
  rmSync(privateTmp, { recursive: true });
});

test('ODIN on a preprocessed .npy tensor needs the normalisation std', () => {
  const dir = tmp();
  const input = join(fixturesDir, 'onnx', 'smallcnn_flatten_op13', 'input.npy');
  let r = napood(['score', '--model', model, '--features', input, '--method', 'odin', '--out', join(dir, 'a.npy')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--std/);
  assert.deepEqual(readdirSync(dir), [], 'no output file');
  r = napood(['score', '--model', model, '--std', '0.25,0.25,0.26', '--features', input, '--method', 'odin', '--out', join(dir, 'a.npy')]);
  assert.equal(r.code, 0, r.stderr);
  rmSync(dir, { recursive: true });
});

test('bad input with --model: clear messages, exit 2, no output file', () => {
  const dir = tmp();
  const out = join(dir, 's.csv');
  const cases: [string[], RegExp][] = [
    [['score', ...cifar, '--head', 'h.npy', '--features', rel(tree), '--method', 'nap', '--out', out], /--head: expected no --head with --model/],
    [['score', '--preset', 'cifar', '--features', rel(tree), '--method', 'nap', '--out', out], /--preset: expected --model MODEL\.onnx/],
    [['score', ...cifar, '--batch-rows', '4', '--features', rel(tree), '--method', 'nap', '--out', out], /--batch-rows: expected --batch-size/],
    [['score', ...cifar, '--size', '28', '--features', rel(tree), '--method', 'nap', '--out', out], /preprocessing.*32/],
    [['score', ...cifar, '--channel-mismatch', 'error', '--features', rel(tree), '--method', 'nap', '--out', out], /d1\.png.*3 channels/],
    [['score', ...cifar, '--channel-mismatch', 'sometimes', '--features', rel(tree), '--method', 'nap', '--out', out], /--channel-mismatch: expected convert, skip or error/],
    [['score', '--model', join(fixturesDir, 'onnx', 'bad', 'not_onnx.onnx'), '--features', rel(tree), '--method', 'nap', '--out', out], /not_onnx\.onnx: expected an ONNX model/],
    [['score', ...cifar, '--features', join(dir, 'missing'), '--method', 'nap', '--out', out], /--features: expected an existing image file, folder or @list\.txt/],
    [['eval', ...cifar, '--id', rel(tree), '--ood', `x=${rel(extra)}`, '--methods', 'dice'], /--fit/],
  ];
  for (const [args, pattern] of cases) {
    const r = napood(args);
    assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.deepEqual(readdirSync(dir), [], `no output file after: ${args.join(' ')}`);
  }
  // A folder in which nothing decodes.
  const junk = join(dir, 'junk');
  spawnSync('mkdir', [junk]);
  writeFileSync(join(junk, 'a.png'), 'not a png');
  const r = napood(['score', ...cifar, '--features', junk, '--method', 'nap', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /none: all 1 skipped/);
  assert.deepEqual(readdirSync(dir), ['junk']);
  rmSync(dir, { recursive: true });
});
