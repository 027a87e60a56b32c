/**
 * The report's reuse of scores: an NAP-X w sweep from S_X and S_NAP of one pass gives exactly the
 * scores of `nap-x:w=…` scored directly; NAP's (p, ε) grid from channel stats gives the scores of
 * `nap:eps=…,p=…`; the plan scores each computation once; and the whole analysis runs on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReportConfig } from '../../src/app/report/config.js';
import { blendSweep, computeModel, planSpecs, scoresOf, type ModelInput } from '../../src/app/report/compute.js';
import { analyseModel } from '../../src/app/report/analyse.js';
import { figureData } from '../../src/app/report/figdata.js';
import { modelFigures } from '../../src/app/report/figures.js';
import { fitMethods, scoreSource } from '../../src/run/pipeline.js';
import { parseMethodSpec } from '../../src/run/spec.js';
import { memorySet, randomHead } from './memory-source.js';

const head = randomHead(6, 12, 1);
const sets = {
  train: memorySet('train', 120, 12, 16, head, 2, 4),
  id: memorySet('id', 90, 12, 16, head, 3, 4),
  near: memorySet('near', 70, 12, 16, head, 4, 1.5),
  far: memorySet('far', 60, 12, 16, head, 5, 0.2),
};
const config = parseReportConfig({
  models: [{ name: 'mem', path: 'unused.onnx' }],
  sets: { train: 'x', id: 'x', ood: [{ name: 'near', path: 'x', group: 'near' }, { name: 'far', path: 'x', group: 'far' }] },
  methods: ['msp', 'energy', 'react', 'ash-s', 'dice', 'nap', 'nap-e', 'nap-r:p=85', 'nap-a', 'nap-d', 'nap-m:w=0.4,nap_eps=0.5'],
  bootstrap: 50, figureSample: 40,
});
const input: ModelInput = {
  name: 'mem', file: 'memory', head, train: sets.train.source,
  id: { name: 'id', path: 'id', source: sets.id.source },
  oods: [{ name: 'near', path: 'near', group: 'near', source: sets.near.source }, { name: 'far', path: 'far', group: 'far', source: sets.far.source }],
  layers: [], featureMap: 'featureMap',
};

test('planSpecs: each NAP-X adds its X (with X\'s parameters) and its NAP; equal computations are scored once', () => {
  const plan = planSpecs(config, config.methods);
  const texts = plan.all.map((s) => s.text);
  assert.ok(texts.includes('react:p=85'), 'nap-r:p=85 sweeps ReAct at p = 85');
  assert.ok(texts.includes('nap:eps=0.5'), 'nap-m:nap_eps=0.5 uses NAP with ε = 0.5');
  assert.equal(texts.filter((t) => t === 'react:p=90' || t === 'react').length, 1, 'react and react:p=90 (the percentile sweep) are one computation');
  assert.equal(new Set(texts).size, texts.length);
  assert.deepEqual(plan.napx.map((p) => p.inner.text), ['energy', 'react:p=85', 'ash-s', 'dice', 'msp']);
});

test('the w sweep from one pass equals scoring nap-x:w=… directly, for every NAP-X and every w (exactly)', async () => {
  const model = await computeModel(config, input);
  for (const p of model.plan.napx) {
    const ws = config.sweeps.w;
    const direct = ws.map((w) => parseMethodSpec(`${p.spec.name}:${Object.entries({ ...p.spec.given, w }).map(([k, v]) => `${k}=${v}`).join(',')}`, 'test'));
    const fitted = await fitMethods(direct, sets.train.source, head);
    for (const set of [model.id, ...model.oods]) {
      const src = set.name === 'id' ? sets.id.source : set.name === 'near' ? sets.near.source : sets.far.source;
      const run = await scoreSource(fitted, src, head);
      const swept = blendSweep(model, set, p, ws).scores;
      ws.forEach((w, k) => assert.deepEqual(swept[k], run.results[k].scores, `${direct[k].text} on ${set.name}`));
    }
  }
});

test('NAP\'s (p, ε) grid from channel stats equals nap:eps=…,p=… to 1e-13; the analysis and figures run on the pass', async () => {
  const model = await computeModel(config, input);
  const specs = model.plan.grid.map((g) => parseMethodSpec(`nap:eps=${g.eps},p=${g.p}`, 'test'));
  const run = await scoreSource(await fitMethods(specs, undefined, head), sets.id.source, head);
  model.plan.grid.forEach((_, k) => model.id.collector.grid[k].forEach((x, i) => {
    const y = run.results[k].scores[i];
    assert.ok(Math.abs(x - y) <= 1e-13 * Math.abs(y), `${specs[k].text} row ${i}: ${x} vs ${y}`);
  }));
  const result = analyseModel(model, config, undefined);
  for (const v of Object.values(result.consistency)) assert.equal(v, 0, 'the configured NAP-X equals its blend');
  assert.equal(result.tables.main.methods.length, config.methods.length);
  assert.deepEqual(Object.keys(result.tables.main.methods[0].groups!), ['near', 'far']);
  assert.ok(result.tables.main.methods[0].results.near.fpr95_ci, 'bootstrap intervals');
  assert.equal(result.tables.wSweeps.length, 5);
  assert.equal(result.tables.wSweeps[0].report.methods.length, 11);
  const ids = result.claims.map((c) => c.id);
  for (const id of ['nap-vs-msp', 'nap-e-vs-x', 'nap-r-vs-x', 'nap-a-vs-x', 'nap-e-w-curve', 'penultimate-best', 'accuracy-unchanged']) assert.ok(ids.includes(id), id);
  for (const c of result.claims) assert.ok(['holds', 'does not hold', 'not measured'].includes(c.verdict));
  assert.equal(result.claims.find((c) => c.id === 'accuracy-unchanged')!.verdict, 'holds');
  assert.equal(result.claims.find((c) => c.id === 'penultimate-best')!.verdict, 'not measured', 'one layer only');
  // w = 1 of the sweep is X's own scores; w = 0 is NAP's.
  const e = model.plan.napx[0];
  assert.deepEqual(blendSweep(model, model.id, e, [1]).scores[0], scoresOf(model, model.id, e.inner));
  assert.deepEqual(blendSweep(model, model.id, e, [0]).scores[0], scoresOf(model, model.id, e.nap));
  const figs = modelFigures('mem', figureData(model, result));
  assert.deepEqual(figs.map((f) => f.id).slice(0, 5), ['mem-prior', 'mem-energy-nap', 'mem-pareto', 'mem-depths', 'mem-w-curves']);
  assert.equal(figs.length, 5 + 2 * 2);
});
