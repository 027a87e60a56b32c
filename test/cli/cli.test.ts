/**
 * The CLI end to end, as a user runs it: a child process of the built binary, its exit code,
 * stdout/stderr, and the files it leaves (or must not leave) behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy, writeNpy } from '../../src/node/io/npy.js';
import { fixturesDir } from '../helpers.js';

// The binary of the same build as this test (dist/ or a helper's build folder).
const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const golden = join(fixturesDir, 'golden');
const random = join(golden, 'random');

function napood(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'napood-cli-'));
}

const expected = JSON.parse(readFileSync(join(random, 'expected.json'), 'utf8')).methods as Record<string, number[]>;

function assertClose(got: ArrayLike<number>, want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${what} row ${i}: ${got[i]} vs ${want[i]}`);
  }
}

test('score writes float64 .npy scores equal to the reference', () => {
  const dir = tmp();
  const out = join(dir, 'nap.npy');
  const r = napood('score', '--features', join(random, 'test'), '--method', 'nap:eps=0.5,p=1', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const arr = readNpy(out);
  assert.deepEqual(arr.shape, [expected['nap:eps=0.5,p=1'].length]);
  assert.equal(arr.dtype, 'float64');
  assertClose(arr.data, expected['nap:eps=0.5,p=1'], 'nap');
  assert.doesNotMatch(r.stderr, /\r/, 'no progress line when stderr is not a TTY');
  rmSync(dir, { recursive: true });
});

test('score writes .csv and fits with --fit', () => {
  const dir = tmp();
  const out = join(dir, 'react.csv');
  const r = napood('score', '--features', join(random, 'test'), '--method', 'react:p=80', '--fit', join(random, 'train'), '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'score');
  assertClose(lines.slice(1).map(Number), expected['react:p=80'], 'react');
  rmSync(dir, { recursive: true });
});

test('fit saves a state that score reuses with identical results', () => {
  const dir = tmp();
  const state = join(dir, 'state.json');
  const fit = napood('fit', '--fit', join(random, 'train'), '--methods', 'vim:dim=4,mahalanobis,knn:k=5,dice', '--out', state);
  assert.equal(fit.code, 0, fit.stderr);
  const saved = JSON.parse(readFileSync(state, 'utf8'));
  assert.deepEqual(saved.methods.map((m: { spec: string }) => m.spec), ['vim:dim=4', 'mahalanobis', 'knn:k=5', 'dice']);
  for (const spec of ['vim:dim=4', 'mahalanobis', 'knn:k=5', 'dice']) {
    const out = join(dir, 's.npy');
    const r = napood('score', '--features', join(random, 'test'), '--method', spec, '--state', state, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assertClose(readNpy(out).data, expected[spec], spec);
  }
  rmSync(dir, { recursive: true });
});

test('eval prints the table, and --json - puts only JSON on stdout', () => {
  const dir = tmp();
  const sign = join(golden, 'sign');
  const args = ['eval', '--id', join(sign, 'id'), '--ood', `flat=${join(sign, 'ood')}`, '--methods', 'nap,energy,react,nap-r:w=0.5', '--fit', join(sign, 'train'), '--bootstrap', '50'];
  const table = napood(...args, '--md', join(dir, 't.md'), '--csv', join(dir, 't.csv'));
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /FPR95↓ AUROC↑/);
  assert.match(table.stdout, /^nap-r:w=0\.5\s+0\.00 100\.00/m);
  assert.match(readFileSync(join(dir, 't.md'), 'utf8'), /^\| Method \| flat FPR95↓ \| flat AUROC↑ \| Average FPR95↓/);
  assert.equal(readFileSync(join(dir, 't.csv'), 'utf8').trim().split('\n').length, 1 + 4 * 2);
  const json = napood(...args, '--json', '-');
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.units, 'percent');
  assert.deepEqual(report.methods.map((m: { method: string }) => m.method), ['nap', 'energy', 'react', 'nap-r:w=0.5']);
  const react = report.methods[2];
  for (const key of ['fpr95', 'auroc', 'aupr_in', 'aupr_out', 'detection_error']) assert.equal(typeof react.results.flat[key], 'number');
  assert.equal(react.results.flat.auroc_ci.length, 2);
  assert.equal(typeof react.id_accuracy, 'number', 'react changes logits: ID accuracy reported');
  assert.equal(report.methods[0].id_accuracy, undefined, 'nap does not change logits');
  assert.match(json.stderr, /FPR95↓ AUROC↑/, 'the table goes to stderr with --json -');
  rmSync(dir, { recursive: true });
});

test('--help works for every command', () => {
  for (const cmd of ['score', 'eval', 'fit', 'methods']) {
    const r = napood(cmd, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^napood ${cmd} — `));
    assert.match(r.stdout, /Usage: /);
  }
  const top = napood('--help');
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Commands:/);
  const list = napood('methods');
  for (const name of ['nap:eps=1,p=2', 'ash-s:p=90', 'nap-e:w=0.6', 'knn:k=50']) assert.ok(list.stdout.includes(name), name);
});

function assertFails(r: { code: number; stderr: string }, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}: ${r.stderr}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
}

test('bad input: clear messages, exit code 2, no output file left behind', () => {
  const dir = tmp();
  const out = join(dir, 'out.npy');
  const features = join(random, 'test');
  assertFails(napood('score', '--features', features, '--method', 'napp', '--out', out), /--method: expected one of nap, msp/, /found "napp"/);
  assertFails(napood('score', '--features', features, '--method', 'nap:q=2', '--out', out), /--method nap: expected a parameter among eps, p, found "q"/);
  assertFails(napood('score', '--features', features, '--method', 'nap:p=-1', '--out', out), /nap:p: expected a value ≥ 0.1, found -1/);
  assertFails(napood('score', '--features', features, '--method', 'react', '--out', out), /--fit: expected ID-train features to fit react/);
  assertFails(napood('score', '--features', features, '--method', 'nap', '--out', join(dir, 'x.txt')), /--out: expected a file name ending in \.npy or \.csv/);
  assertFails(napood('score', '--features', join(dir, 'missing'), '--method', 'nap', '--out', out), /--features/);
  assertFails(napood('score', '--method', 'nap', '--out', out), /--features: expected a value/);
  assertFails(napood('score', '--features', features, '--method', 'odin', '--out', out), /odin: expected model input .*odin:noise=0, found a feature dump/);
  assertFails(napood('eval', '--id', features, '--ood', 'x', '--methods', 'nap'), /--ood: expected NAME=DUMP/);
  assertFails(napood('score', '--features', features, '--bogus', '--out', out), /arguments: expected options listed by napood score --help/);

  // A dump without a head: react cannot run.
  const noHead = join(dir, 'nohead');
  cpSync(features, noHead, { recursive: true });
  rmSync(join(noHead, 'head.weight.npy'));
  rmSync(join(noHead, 'head.bias.npy'));
  assertFails(napood('score', '--features', noHead, '--method', 'react', '--fit', noHead, '--out', out), /classifier head/, /no head/);
  assertFails(napood('score', '--features', join(noHead, 'missing.npy'), '--method', 'nap', '--out', out), /--features/);

  // NaN in the logits at row 3: the message names the tensor and the row.
  const nan = join(dir, 'nan');
  cpSync(features, nan, { recursive: true });
  const logits = readNpy(join(nan, 'logits.npy'));
  logits.data[3 * logits.shape[1] + 1] = NaN;
  writeNpy(join(nan, 'logits.npy'), logits.data, logits.shape);
  assertFails(napood('score', '--features', nan, '--method', 'energy', '--out', out), /logits/, /row 3/);

  // A truncated feature map.
  const cut = join(dir, 'cut');
  cpSync(features, cut, { recursive: true });
  const bytes = readFileSync(join(cut, 'featureMap.npy'));
  writeFileSync(join(cut, 'featureMap.npy'), bytes.subarray(0, bytes.length - 100));
  assertFails(napood('score', '--features', cut, '--method', 'nap', '--out', out), /featureMap/);

  assert.ok(!existsSync(out), 'no output file after failures');
  assert.deepEqual(readdirSync(dir).sort(), ['cut', 'nan', 'nohead'], 'no temporary files left');
  rmSync(dir, { recursive: true });
});

test('negative activations given to NAP raise a warning, and scores are still written', () => {
  const dir = tmp();
  const neg = join(dir, 'neg');
  cpSync(join(random, 'test'), neg, { recursive: true });
  const fm = readNpy(join(neg, 'featureMap.npy'));
  fm.data[0] = -0.5;
  fm.data[17] = -1;
  writeNpy(join(neg, 'featureMap.npy'), fm.data, fm.shape);
  const r = napood('score', '--features', neg, '--method', 'nap', '--out', join(dir, 'o.npy'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*2 negative activations/);
  rmSync(dir, { recursive: true });
});
