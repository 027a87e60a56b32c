/**
 * `OodModel.tune` on the fixture model (test/fixtures/pipeline/model.onnx, cifar preset) with
 * synthetic ID images, against a reference written here: the pseudo-OOD set made by hand
 * (corruptionPlan + corruptImage on the prepared pixels), S_X and S_NAP scored by
 * `OodModel.score`, the blend and the grid search brute-forced; the tuned specs score what the
 * report says; a w given is kept; p is tuned when asked; oracle sets change nothing but their
 * own columns; library code writes nothing to stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openModel } from '../../src/node/index.js';
import { auroc } from '../../src/metrics/binary.js';
import { modelPath, pseudoByHand, syntheticImages } from './helpers.js';

const val = syntheticImages(30, 1);
const train = syntheticImages(30, 2);

function blend(x: Float64Array, nap: Float64Array, w: number): Float64Array {
  return Float64Array.from(x, (v, i) => (w === 0 ? nap[i]! : w === 1 ? v : v > 0 ? Math.exp(w * Math.log(v) + (1 - w) * Math.log(nap[i]!)) : 0));
}

test('tune: the grid and tuned w of NAP-E / NAP-R equal a brute-force search over S_X and S_NAP scored by OodModel.score', async () => {
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  const ref = await openModel(modelPath, { preprocess: 'cifar' });
  const original = process.stderr.write.bind(process.stderr);
  const written: string[] = [];
  process.stderr.write = ((c: unknown) => { written.push(String(c)); return true; }) as typeof process.stderr.write;
  try {
    const report = await od.tune(val, { methods: 'nap,energy,msp,react,nap-e,nap-r,nap-m:w=0.4', train });
    process.stderr.write = original;
    assert.deepEqual(written, [], 'library code wrote to stderr');
    await ref.fit('nap,energy,msp,react', train);
    const clean = await ref.score(val);
    const pseudo = await ref.score(pseudoByHand(val));
    assert.equal(report.val.n, 30);
    assert.equal(report.pseudo_ood.n, 30);
    for (const [name, x] of [['nap-e', 'energy'], ['nap-r', 'react']] as const) {
      const c = report.candidates.find((k) => k.method === name)!;
      assert.deepEqual(c.tuned_params, ['w']);
      const grid = c.search![0]!.grid;
      let bestW = -1;
      let best = -1;
      for (let i = 0; i <= 20; i++) {
        const w = Math.round(i * 0.05 * 1e4) / 1e4;
        const a = auroc(blend(clean.scores[x]!, clean.scores.nap!, w), blend(pseudo.scores[x]!, pseudo.scores.nap!, w));
        assert.equal(grid[i]!.w, w);
        assert.ok(Math.abs(grid[i]!.auroc - 100 * a) < 1e-9, `${name} w=${w}: ${grid[i]!.auroc} vs ${100 * a}`);
        if (a > best) { best = a; bestW = w; }
      }
      assert.equal(c.search![0]!.grid_best, bestW, `${name}: grid best`);
      assert.ok(c.auroc >= 100 * best - 1e-9, 'the refined w is never worse');
      // The tuned spec, scored as any method, gives the AUROC the report states.
      const w = c.params.w!;
      assert.equal(c.tuned, `${name}:w=${w}`);
      const a = auroc(blend(clean.scores[x]!, clean.scores.nap!, w), blend(pseudo.scores[x]!, pseudo.scores.nap!, w));
      assert.ok(Math.abs(c.auroc - 100 * a) < 1e-9);
      const direct = await ref.fit(c.tuned, train).then(() => ref.score(val));
      const byBlend = blend(clean.scores[x]!, clean.scores.nap!, w);
      direct.scores[c.tuned]!.forEach((s, i) => assert.ok(Math.abs(s - byBlend[i]!) <= 1e-12 * Math.max(1, Math.abs(s)), 'S_X^w S_NAP^(1−w) is what the method scores'));
    }
    const fixed = report.candidates.find((k) => k.method === 'nap-m:w=0.4')!;
    assert.equal(fixed.tuned, 'nap-m:w=0.4', 'a w given is kept');
    assert.deepEqual(fixed.tuned_params, []);
    assert.equal(fixed.search, undefined);
    // Ranking: by AUROC, best first; the chosen one is the first and is the model's method now.
    for (let i = 1; i < report.candidates.length; i++) assert.ok(report.candidates[i - 1]!.auroc >= report.candidates[i]!.auroc);
    assert.equal(report.chosen, report.candidates[0]!.tuned);
    assert.deepEqual(od.methods.map((m) => m.text), [report.chosen]);
    const plain = report.candidates.find((k) => k.method === 'msp')!;
    assert.ok(Math.abs(plain.auroc - 100 * auroc(clean.scores.msp!, pseudo.scores.msp!)) < 1e-9);
  } finally {
    process.stderr.write = original;
    await od.release();
    await ref.release();
  }
});

test('tune: NAP p over a list, the FPR95 criterion, and oracle sets that change nothing but their own columns', async () => {
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    const base = await od.tune(val, { methods: 'nap,nap-e', napP: [1, 2, 3], criterion: 'fpr95', gridStep: 0.1 });
    const withOracle = await od.tune(val, { methods: 'nap,nap-e', napP: [1, 2, 3], criterion: 'fpr95', gridStep: 0.1, oracle: { other: syntheticImages(12, 9, 32).map((e) => ({ ...e, image: { ...e.image, data: e.image.data.map((v) => 255 - v) } })) } });
    const strip = (r: typeof base) => JSON.stringify(r.candidates.map(({ oracle: _o, ...c }) => c));
    assert.equal(strip(withOracle), strip(base), 'the oracle set does not change the tuning');
    assert.equal(withOracle.chosen, base.chosen);
    assert.ok(withOracle.oracle && /research only/.test(withOracle.oracle.note));
    const napE = withOracle.candidates.find((c) => c.method === 'nap-e')!;
    assert.deepEqual(napE.tuned_params, ['w', 'nap_p']);
    assert.equal(napE.search!.length, 3, 'one w search per p');
    assert.ok(napE.oracle!.other!.best_w !== undefined && napE.oracle!.other!.at_best_w!.fpr95 <= napE.oracle!.other!.at_tuned.fpr95);
    assert.ok([1, 2, 3].includes(napE.params.nap_p!));
    for (let i = 1; i < base.candidates.length; i++) assert.ok(base.candidates[i - 1]!.fpr95 <= base.candidates[i]!.fpr95, 'ranked by FPR95, lowest first');
    const nap = base.candidates.find((c) => c.method === 'nap')!;
    assert.match(nap.tuned, /^nap(:p=[123])?$/);
  } finally {
    await od.release();
  }
});
