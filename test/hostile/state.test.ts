/**
 * Fitted states of the wrong shape (issue #10): a state file can hold anything, and every fitted
 * method checks a loaded state before scoring (MethodDefinition.checkState, called by
 * app/fit.ts fitOrLoad): `--state SPEC: expected …, found …`, never an internal name, a crash
 * or NaN scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NapoodError } from '../../src/errors.js';
import { fitOrLoad } from '../../src/app/fit.js';
import { parseStateFile, stateFileText } from '../../src/app/state-file.js';
import { openDumpSource, resolveHead } from '../../src/node/sources.js';
import { fitMethods, scoreSource } from '../../src/run/pipeline.js';
import { parseMethodSpec } from '../../src/run/spec.js';
import type { Head } from '../../src/types.js';
import { fixturesDir } from '../helpers.js';

const random = join(fixturesDir, 'golden', 'random');
const SPECS = ['knn:k=5', 'mahalanobis', 'vim:dim=4', 'react:p=80', 'dice:p=70', 'nap-r:p=80', 'nap-d:p=70'];

async function setup() {
  const train = openDumpSource(join(random, 'train'), '--fit');
  const features = openDumpSource(join(random, 'test'), '--features');
  const head = resolveHead(undefined, [features, train])!;
  const specs = SPECS.map((s) => parseMethodSpec(s));
  const fitted = await fitMethods(specs, train, head);
  const text = stateFileText(fitted);
  return { train, features, head, specs, fitted, text, close: () => { train.close(); features.close(); } };
}

type State = Record<string, unknown>;

async function rejectsState(states: Map<string, unknown>, spec: string, head: Head | undefined, message: RegExp, channels?: number): Promise<void> {
  await assert.rejects(fitOrLoad([parseMethodSpec(spec)], { states, head, channels }), (e: unknown) => {
    assert.ok(e instanceof NapoodError, `${spec}: ${e}`);
    assert.match(e.message, message);
    assert.ok(e.message.startsWith(`--state ${parseMethodSpec(spec).text}: expected `), e.message);
    return true;
  });
}

test('loaded states of the right shape score as the fitted ones', async () => {
  const s = await setup();
  try {
    const states = parseStateFile(s.text, 'state.json');
    const loaded = await fitOrLoad(s.specs, { states, head: s.head, channels: s.features.channels });
    const a = await scoreSource(s.fitted, s.features, s.head);
    const b = await scoreSource(loaded, s.features, s.head);
    for (let i = 0; i < SPECS.length; i++) assert.deepEqual(b.results[i]!.scores, a.results[i]!.scores, SPECS[i]);
  } finally {
    s.close();
  }
});

test('a state of the wrong shape is refused naming --state and the spec', async () => {
  const s = await setup();
  try {
    const fresh = () => parseStateFile(s.text, 'state.json');
    const edit = (spec: string, change: (st: State) => State): Map<string, unknown> => {
      const states = fresh();
      const key = parseMethodSpec(spec).text;
      states.set(key, change(states.get(key) as State));
      return states;
    };
    const knn = fresh().get('knn:k=5') as { c: number; rows: number; bank: Float32Array };
    // knn: the row count, the dimension, the bank's type, non-finite norms, k above the rows.
    await rejectsState(edit('knn:k=5', (st) => ({ ...st, rows: (st.rows as number) + 1 })), 'knn:k=5', s.head,
      new RegExp(`expected "bank": rows × C = ${knn.rows + 1} × ${knn.c} = ${(knn.rows + 1) * knn.c} float32 values, found ${knn.bank.length}$`));
    await rejectsState(edit('knn:k=5', (st) => ({ ...st, c: knn.c * 2, rows: knn.rows / 2 })), 'knn:k=5', s.head,
      new RegExp(`expected a state fitted on pooled features of ${knn.c} channels \\(the head's C\\), found a state of ${knn.c * 2} channels$`));
    await rejectsState(edit('knn:k=5', (st) => ({ ...st, bank: [1, 2, 3] })), 'knn:k=5', s.head, /expected "bank": a float32 array of rows × C = \d+ × \d+ values, found a JSON array of 3 values$/);
    await rejectsState(edit('knn:k=5', (st) => ({ ...st, bankNorms: new Float64Array(knn.rows).fill(NaN) })), 'knn:k=5', s.head, /expected "bankNorms": finite values, found NaN at index 0$/);
    await rejectsState(edit('knn:k=5', (st) => ({ ...st, rows: 'many' })), 'knn:k=5', s.head, /expected "rows": an integer in \[1, …\], found string$/);
    const states = fresh();
    states.set('knn:k=500', states.get('knn:k=5'));
    await rejectsState(states, 'knn:k=500', s.head, new RegExp(`expected a bank of at least k = 500 ID-train rows \\(knn:k\\), found ${knn.rows} rows$`));
    // Without a head, the features' C given by the caller.
    await rejectsState(fresh(), 'knn:k=5', undefined, new RegExp(`pooled features of 7 channels \\(the features' C\\), found a state of ${knn.c} channels$`), 7);
    // mahalanobis
    await rejectsState(edit('mahalanobis', (st) => ({ ...st, precision: (st.precision as Float64Array).subarray(1) })), 'mahalanobis', s.head, /expected "precision": C × C = \d+ × \d+ = \d+ float64 values, found \d+$/);
    await rejectsState(edit('mahalanobis', (st) => ({ ...st, classes: new Int32Array(0) })), 'mahalanobis', s.head, /expected "classes": at least one class, found none$/);
    await rejectsState(edit('mahalanobis', (st) => ({ ...st, meanTerms: new Float64Array((st.meanTerms as Float64Array).length + 2) })), 'mahalanobis', s.head, /expected "means": classes × C = \d+ × \d+|expected "meanTerms": classes = \d+ = \d+ float64 values/);
    // vim
    await rejectsState(edit('vim:dim=4', (st) => ({ ...st, dim: 3 })), 'vim:dim=4', s.head, /expected "dim" 4 \(vim:dim=4 for C = \d+\), found 3$/);
    await rejectsState(edit('vim:dim=4', (st) => ({ ...st, residualBasis: new Float64Array(5) })), 'vim:dim=4', s.head, /expected "residualBasis": C × \(C − dim\) = \d+ × \d+ = \d+ float64 values, found 5$/);
    await rejectsState(edit('vim:dim=4', (st) => ({ ...st, alpha: NaN })), 'vim:dim=4', s.head, /expected "alpha": a finite number, found NaN$/);
    await rejectsState(edit('vim:dim=4', (st) => ({ ...st, c: 1000 })), 'vim:dim=4', s.head, /expected a state fitted with a linear head of \d+ channels \(the run's head\), found a state of 1000 channels$/);
    // react and dice (also inside nap-r / nap-d)
    await rejectsState(edit('react:p=80', (st) => ({ ...st, threshold: Infinity })), 'react:p=80', s.head, /expected "threshold": a finite number, found Infinity$/);
    await rejectsState(edit('react:p=80', (st) => ({ ...st, percentile: 90 })), 'react:p=80', s.head, /expected "percentile" 80 \(react:p=80\), found 90$/);
    await rejectsState(edit('nap-r:p=80', (st) => ({ ...st, threshold: 'x' })), 'nap-r:p=80', s.head, /expected "threshold": a finite number, found string$/);
    await rejectsState(edit('dice:p=70', (st) => ({ ...st, maskedWeight: new Float32Array(3) })), 'dice:p=70', s.head, /expected "maskedWeight": K × C = \d+ × \d+ = \d+ float32 values, found 3$/);
    await rejectsState(edit('nap-d:p=70', (st) => ({ ...st, mean: new Float64Array(2) })), 'nap-d:p=70', s.head, /channels/);
    await rejectsState(edit('dice:p=70', () => [] as unknown as State), 'dice:p=70', s.head, /expected a fitted dice state \(an object\), found a JSON array of 0 values$/);
  } finally {
    s.close();
  }
});

test('napood score --state with a knn state of the wrong dimension: the message names --state', () => {
  const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'napood-hostile-state-'));
  try {
    const fit = spawnSync(process.execPath, [bin, 'fit', '--fit', join(random, 'train'), '--methods', 'knn:k=5', '--out', join(dir, 's.json')], { encoding: 'utf8' });
    assert.equal(fit.status, 0, fit.stderr);
    const file = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { methods: { state: { c: number; rows: number } }[] };
    const st = file.methods[0]!.state;
    st.c *= 2;
    st.rows /= 2;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(file));
    const r = spawnSync(process.execPath, [bin, 'score', '--features', join(random, 'test'), '--state', join(dir, 'bad.json'), '--method', 'knn:k=5', '--out', join(dir, 'o.npy')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^napood score: --state knn:k=5: expected a state fitted on pooled features of \d+ channels \(the (?:head's|features') C\), found a state of \d+ channels$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RunSets.channels gives the C loaded states are checked against (no head needed)', async () => {
  const { RunSets } = await import('../../src/node/sets.js');
  const s = await setup();
  const sets = new RunSets({});
  try {
    await sets.open(join(random, 'test'), '--features', 'features');
    assert.equal(sets.channels(), s.features.channels);
    const states = parseStateFile(s.text, 'state.json');
    const st = states.get('knn:k=5') as Record<string, number>;
    states.set('knn:k=5', { ...st, c: st.c * 2, rows: st.rows / 2 });
    await rejectsState(states, 'knn:k=5', undefined, /pooled features of \d+ channels \(the features' C\), found a state of \d+ channels$/, sets.channels());
  } finally {
    s.close();
    await sets.close();
  }
});
