/**
 * What the CLI guards before and around the work: outputs that would overwrite an input, outputs
 * that cannot all be written, results that are not finite, option values written as exponents or
 * negative numbers, temporaries of killed runs, signals, and commands that must not load the
 * native runtimes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../helpers.js';

const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const mainPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const random = join(fixturesDir, 'golden', 'random');
const train = join(random, 'train');
const testSet = join(random, 'test');

function napood(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const tmp = () => mkdtempSync(join(tmpdir(), 'napood-guards-'));

test('an output that is one of the inputs (also through a hard or symbolic link, or inside a .npy dump folder) is refused before any work', () => {
  const dir = tmp();
  try {
    const dump = join(dir, 'test');
    cpSync(testSet, dump, { recursive: true });
    const before = readFileSync(join(dump, 'logits.npy'));
    let r = napood('score', '--features', dump, '--method', 'nap', '--out', join(dump, 'logits.npy'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out: expected a path that is not one of the inputs|--out: expected a path outside the input dump folders/);
    assert.deepEqual(readFileSync(join(dump, 'logits.npy')), before, 'the input is untouched');
    r = napood('score', '--features', dump, '--method', 'nap', '--out', join(dump, 'scores.npy'));
    assert.match(r.stderr, /--out: expected a path outside the input dump folders/);
    const state = join(dir, 's.json');
    assert.equal(napood('fit', '--fit', train, '--methods', 'react', '--out', state).code, 0);
    const stateBefore = readFileSync(state, 'utf8');
    linkSync(state, join(dir, 'hard.json'));
    symlinkSync(state, join(dir, 'soft.json'));
    for (const out of ['hard.json', 'soft.json']) {
      r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--methods', 'react', '--state', state, '--json', join(dir, out));
      assert.equal(r.code, 2, out);
      assert.match(r.stderr, /--json: expected a path that is not one of the inputs \(it would be overwritten\)/);
    }
    assert.equal(readFileSync(state, 'utf8'), stateBefore);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval writes all of --json, --csv, --md or none: a missing folder for one is refused before the work', () => {
  const dir = tmp();
  try {
    const r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--methods', 'nap', '--json', join(dir, 'r.json'), '--csv', join(dir, 'missing', 'r.csv'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--csv: expected a path in an existing directory/);
    assert.equal(r.stdout, '', 'no table: nothing was computed');
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a fitted state holding NaN is refused by --state before any work; score writes nothing', () => {
  const dir = tmp();
  try {
    const state = join(dir, 's.json');
    assert.equal(napood('fit', '--fit', train, '--methods', 'react', '--out', state).code, 0);
    const file = JSON.parse(readFileSync(state, 'utf8'));
    file.methods[0].state.threshold = { $number: 'NaN' };
    writeFileSync(state, JSON.stringify(file));
    let r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--methods', 'nap,react', '--state', state, '--bootstrap', '0');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /--state react: expected .*finite/);
    r = napood('score', '--features', testSet, '--method', 'react', '--state', state, '--out', join(dir, 'x.npy'));
    assert.equal(r.code, 2);
    assert.ok(!existsSync(join(dir, 'x.npy')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scores that are not finite are never summarised: the cells are n/a, the report says which method, set and how many', async () => {
  const { buildReport } = await import('../../src/app/evaluate.js');
  const { textTable, csvTable } = await import('../../src/app/report.js');
  const { parseMethodList } = await import('../../src/run/spec.js');
  const specs = parseMethodList('nap,energy');
  const run = (nap: number[], energy: number[]) => ({ n: nap.length, results: [
    { spec: specs[0]!, scores: Float64Array.from(nap), diagnostics: {} },
    { spec: specs[1]!, scores: Float64Array.from(energy), diagnostics: {} },
  ] });
  const report = buildReport(specs.map((s) => ({ spec: s, state: undefined })),
    { path: 'id', run: run([3, 4, 5, Infinity], [1, 2, 3, 4]) },
    [{ name: 'o', path: 'o', run: run([1, 2, NaN], [0, 1, 2]) }], { bootstrap: 0 });
  assert.deepEqual(report.nonFinite, [
    { method: 'nap', set: 'id', count: 1, of: 4, first_row: 3 },
    { method: 'nap', set: 'o', count: 1, of: 3, first_row: 2 },
  ]);
  assert.ok(report.methods[0]!.results.o!.invalid);
  assert.ok(Number.isNaN(report.methods[0]!.average.auroc));
  assert.ok(!report.methods[1]!.results.o!.invalid);
  const text = textTable(report);
  assert.match(text, /^nap\s+n\/a\s+n\/a\s+n\/a\s+n\/a/m);
  assert.match(text, /^energy\s+\d+\.\d\d\s+\d+\.\d\d/m);
  assert.match(text, /nap: 1 of 4 scores on the ID set are not finite \(first at row 3\); its metrics there are n\/a, not results\./);
  assert.match(csvTable(report), /^nap,o,,,,,,/m);
  assert.equal(JSON.parse(JSON.stringify(report)).methods[0].results.o.auroc, null);
});

test('integer options: exponents and fractions are refused, bounds and negative values are named', () => {
  let r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--bootstrap', '1e12');
  assert.match(r.stderr, /--bootstrap: expected an integer from 0 to 100000, in plain digits, found "1e12"/);
  r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--bootstrap', '-1');
  assert.match(r.stderr, /--bootstrap: expected an integer from 0 to 100000, found "-1"/);
  r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--bootstrap', '200000');
  assert.match(r.stderr, /--bootstrap: expected an integer from 0 to 100000/);
  r = napood('score', '--features', testSet, '--method', 'nap', '--batch-rows', '2.5', '--out', '/tmp/never.npy');
  assert.match(r.stderr, /--batch-rows: expected an integer from 1 to \d+, in plain digits, found "2\.5"/);
});

test('--method and --methods are one option; a .txt OOD list without @ gets the @ suggested; control characters in set names are refused', () => {
  const dir = tmp();
  try {
    assert.equal(napood('score', '--features', testSet, '--methods', 'nap', '--out', join(dir, 'a.npy')).code, 0);
    assert.equal(napood('eval', '--id', testSet, '--ood', `o=${train}`, '--method', 'nap,energy', '--bootstrap', '0').code, 0);
    let r = napood('eval', '--id', testSet, '--ood', 'inat=inat.txt', '--methods', 'nap');
    assert.match(r.stderr, /--ood inat: expected an image file, folder, dump or @list\.txt \(a list of image paths is named with @: inat=@inat\.txt\)/);
    r = napood('eval', '--id', testSet, '--ood', `o\rx=${train}`, '--methods', 'nap');
    assert.match(r.stderr, /--ood: expected a set name without control characters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('temporaries of a killed run (its pid gone) are removed by the next run of the same output; users\' files are not', () => {
  const dir = tmp();
  try {
    const stale = join(dir, '.s.json.999999999.0123456789ab.tmp');
    const mine = join(dir, '.s.json.2024-backup');
    writeFileSync(stale, 'half');
    writeFileSync(mine, 'keep');
    assert.equal(napood('fit', '--fit', train, '--methods', 'react', '--out', join(dir, 's.json')).code, 0);
    assert.ok(!existsSync(stale), 'stale temporary removed');
    assert.ok(existsSync(mine), "a user's file with a similar name is kept");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM during a fit leaves no replay folder or partial output', async () => {
  const dir = tmp();
  try {
    // A long list of the same images keeps the run busy long enough to be interrupted.
    const img = join(fixturesDir, 'images', 'tree', 'dog', 'd1.png');
    writeFileSync(join(dir, 'list.txt'), Array.from({ length: 4000 }, () => img).join('\n'));
    const model = join(fixturesDir, 'pipeline', 'model.onnx');
    const child = spawn(process.execPath, [binPath, 'fit', '--model', model, '--preset', 'cifar', '--fit', `@${join(dir, 'list.txt')}`, '--methods', 'react,vim', '--out', join(dir, 's.json')], { stdio: 'ignore' });
    const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith(`napood-replay-${child.pid}-`)));
    assert.equal(before.size, 0);
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = readdirSync(tmpdir()).some((f) => f.startsWith(`napood-replay-${child.pid}-`));
    }
    assert.ok(seen, 'the replay cache was being written');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 143);
    assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith(`napood-replay-${child.pid}-`)), [], 'replay folder removed');
    assert.deepEqual(readdirSync(dir), ['list.txt'], 'no output, no temporary');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dump-only score and `napood methods` load neither sharp nor onnxruntime', () => {
  const dir = tmp();
  try {
    const script = `
      import { main } from ${JSON.stringify(mainPath)};
      const code = await main(JSON.parse(process.argv[1]));
      const libs = process.report.getReport().sharedObjects.filter((s) => /sharp|vips|onnxruntime/i.test(s));
      process.stdout.write(JSON.stringify({ code, libs }));`;
    for (const args of [['methods'], ['score', '--features', testSet, '--method', 'nap', '--out', join(dir, 'a.npy')]]) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], { encoding: 'utf8' });
      const out = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{"code"')));
      assert.equal(out.code, 0, r.stderr);
      assert.deepEqual(out.libs, [], `${args[0]} loaded ${out.libs.join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--preprocess FILE with only mean and std takes size and channels from the model', () => {
  const dir = tmp();
  try {
    const pp = join(dir, 'pp.json');
    writeFileSync(pp, JSON.stringify({ mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] }));
    mkdirSync(join(dir, 'o'));
    const r = napood('score', '--model', join(fixturesDir, 'pipeline', 'model.onnx'), '--preprocess', pp, '--features', join(fixturesDir, 'images', 'tree', 'cat'), '--method', 'nap', '--out', join(dir, 'o', 'n.csv'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'o', 'n.csv'), 'utf8').trim().split('\n').length, 4, 'header and three images');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a fit set on another scale than the ID set (e.g. made without the normalisation) is warned about; so is an ID accuracy near chance', async () => {
  const { readNpy, writeNpy } = await import('../../src/node/io/npy.js');
  const dir = tmp();
  try {
    const scaled = join(dir, 'train');
    mkdirSync(scaled);
    for (const f of ['featureMap', 'pooled', 'logits', 'labels', 'head.weight', 'head.bias']) {
      const a = readNpy(join(train, `${f}.npy`));
      const data = f === 'featureMap' || f === 'pooled' ? (a.data as Float32Array).map((v) => v * 50) : a.data;
      writeNpy(join(scaled, `${f}.npy`), data as Float32Array, a.shape);
    }
    let r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--methods', 'mahalanobis,knn:k=5', '--fit', scaled, '--bootstrap', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --fit and --id features differ in scale \(mean pooled norm .* \d+\.\d×\): were both sets made with the same model and preprocessing/);
    r = napood('eval', '--id', testSet, '--ood', `o=${train}`, '--methods', 'mahalanobis', '--fit', train, '--bootstrap', '0');
    assert.doesNotMatch(r.stderr, /differ in scale/);
    // 200 labelled rows of 10 classes whose labels do not follow the logits.
    const shuffled = join(dir, 'id');
    cpSync(train, shuffled, { recursive: true });
    const labels = readNpy(join(train, 'labels.npy'));
    const logits = readNpy(join(train, 'logits.npy')).data as Float32Array;
    const wrong = new Int32Array(200).map((_, i) => {
      let best = 0;
      for (let j = 1; j < 10; j++) if (logits[i * 10 + j]! > logits[i * 10 + best]!) best = j;
      return (best + 1) % 10;
    });
    writeNpy(join(shuffled, 'labels.npy'), wrong, labels.shape);
    r = napood('eval', '--id', shuffled, '--ood', `o=${testSet}`, '--methods', 'energy', '--bootstrap', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --id: ID accuracy 0\.00% is near chance \(10\.00% for 10 classes\): are the labels in the model's class order/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dump --layers refuses names the dump reserves (__metadata__, featureMap, …) before running the model', () => {
  const dir = tmp();
  try {
    const fx = join(fixturesDir, 'onnx', 'resnet18_op13');
    for (const name of ['__metadata__', 'featureMap', 'head.weight']) {
      const r = napood('dump', '--model', join(fx, 'model.onnx'), '--input', join(fx, 'input.npy'), '--layers', name, '--out', join(dir, 'd.safetensors'));
      assert.equal(r.code, 2, name);
      assert.match(r.stderr, /--layers: expected names of model tensors other than the dump's own .*not starting with "__"/);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
