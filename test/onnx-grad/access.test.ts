/**
 * The generic model seam (ModelAccess): ODIN's math over any model (a JS linear model with its
 * exact input gradient), the ONNX access (one gradient model for every loss and temperature, any
 * seed, linearity in the seed), the odin method through ctx.model with its model-run count, and
 * the rule table listing every op the single-file backward pass had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NapoodError } from '../../src/errors.js';
import { createOdinScorer, modelAccess } from '../../src/app/model-access.js';
import { maxSoftmaxRows } from '../../src/methods/common.js';
import { odin, odinDetails, odinLogitGradient } from '../../src/methods/odin.js';
import { loadOnnxModel } from '../../src/node/onnx.js';
import { GRADIENT_OPS } from '../../src/onnx/grad/index.js';
import type { Layout, ModelAccess } from '../../src/types.js';
import { FIXTURES, gradMeta, maxAbs, maxAbsDiff, readF32 } from './helpers.js';

const STD = gradMeta().std;

/** f(x) = W x on inputs of `dims` (layout as given), with its exact input gradient Wᵀ · seed. */
function linearModel(dims: readonly number[], k: number, layout: Layout, std?: readonly number[]): ModelAccess & { runs: string[] } {
  const per = dims.reduce((a, b) => a * b, 1);
  const w = Float64Array.from({ length: k * per }, (_, i) => Math.sin(1 + i * 0.37));
  const runs: string[] = [];
  return {
    layout, inputDims: dims, numClasses: k, inputStd: std, runs,
    async forward(x, n) {
      runs.push('forward');
      const out = new Float32Array(n * k);
      for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) {
        let s = 0;
        for (let i = 0; i < per; i++) s += w[j * per + i]! * x[r * per + i]!;
        out[r * k + j] = s;
      }
      return out;
    },
    async inputGradient(x, n, seed) {
      runs.push('gradient');
      const out = new Float32Array(n * per);
      for (let r = 0; r < n; r++) for (let i = 0; i < per; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += w[j * per + i]! * seed[r * k + j]!;
        out[r * per + i] = s;
      }
      return out;
    },
  };
}

test('odinDetails over any ModelAccess: the seed, x′ per channel in the model\'s layout, max softmax(f(x′)/T)', async () => {
  for (const layout of ['nchw', 'nhwc'] as const) {
    const dims = layout === 'nchw' ? [2, 2, 3] : [2, 3, 2];
    const m = linearModel(dims, 4, layout);
    const n = 2;
    const x = Float32Array.from({ length: n * 12 }, (_, i) => Math.cos(i));
    const std = [0.5, 0.25];
    const d = await odinDetails(m, x, n, { temperature: 2, noise: 0.01, std });
    assert.deepEqual(m.runs, ['forward', 'gradient', 'forward'], 'three runs without the logits');
    const logits = await m.forward(x, n);
    const g = await m.inputGradient(x, n, odinLogitGradient(logits, n, 4, 2));
    assert.deepEqual(Array.from(d.gradient), Array.from(g));
    for (let i = 0; i < x.length; i++) {
      const c = layout === 'nchw' ? Math.floor((i % 12) / 6) : i % 2;
      const want = x[i]! - (g[i]! >= 0 ? 1 : -1) * 0.01 / std[c]!;
      assert.ok(Math.abs(d.perturbed[i]! - want) < 1e-6, `${layout} value ${i}`);
    }
    const want = maxSoftmaxRows(await m.forward(d.perturbed, n), n, 4, 2);
    assert.ok(maxAbsDiff(d.scores, want) <= 1e-12);
    // given the logits f(x): two runs
    m.runs.length = 0;
    const again = await odinDetails(m, x, n, { temperature: 2, noise: 0.01, std, logits });
    assert.deepEqual(m.runs, ['gradient', 'forward']);
    assert.deepEqual(Array.from(again.scores), Array.from(d.scores));
  }
  const m = linearModel([2, 2, 3], 4, 'nchw');
  await assert.rejects(odinDetails(m, new Float32Array(12), 1, { temperature: 1, noise: 0.1, std: [1, 1, 1] }),
    (e: unknown) => e instanceof NapoodError && e.argument === 'std' && /1 or 2 values/.test(e.message));
});

test('the odin method through ctx.model: two model runs per batch beyond the shared forward; the std error without --std', async () => {
  const m = linearModel([2, 2, 3], 4, 'nchw', [0.5, 0.25]);
  const n = 3;
  const input = Float32Array.from({ length: n * 12 }, (_, i) => Math.sin(i * 0.7));
  const logits = await m.forward(input, n);
  m.runs.length = 0;
  const ctx = { params: { t: 1000, noise: 0.0014 }, state: undefined, diagnostics: {}, model: m };
  const s = await odin.score({ n, input, logits: { data: logits, k: 4 } }, ctx);
  assert.deepEqual(m.runs, ['gradient', 'forward']);
  const want = await odinDetails(m, input, n, { temperature: 1000, noise: 0.0014, std: [0.5, 0.25] });
  assert.deepEqual(Array.from(s), Array.from(want.scores));
  const noStd = { ...m, inputStd: undefined };
  await assert.rejects(async () => odin.score({ n, input, logits: { data: logits, k: 4 } }, { ...ctx, model: noStd }),
    (e: unknown) => e instanceof NapoodError && e.argument === 'odin' && /--std/.test(e.message));
});

test('ONNX access: one gradient model for every loss and temperature, linear in the seed, released', async () => {
  const file = `${FIXTURES}onnx/resnet18_op13/model.onnx`;
  const x = readF32(`${FIXTURES}onnx/resnet18_op13/input.npy`);
  const clf = await loadOnnxModel(file, { threads: 1 });
  const access = modelAccess(clf, STD, 1);
  try {
    assert.equal(access.layout, 'nchw');
    assert.deepEqual(access.inputDims, [3, 64, 64]);
    assert.equal(access.numClasses, 10);
    const f = await access.forward(x, 2);
    assert.deepEqual(Array.from(f), Array.from((await clf.run(x, 2)).logits.data));
    // two different losses: ODIN's cross-entropy at T = 1000 and the energy −logsumexp(f) (dL/df = −softmax(f))
    const ce = odinLogitGradient(f, 2, 10, 1000);
    const energy = new Float32Array(20);
    for (let r = 0; r < 2; r++) {
      const row = f.subarray(r * 10, r * 10 + 10);
      const max = Math.max(...row);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      row.forEach((v, j) => { energy[r * 10 + j] = -Math.exp(v - max) / sum; });
    }
    const gm1 = await access.gradientModel();
    const g1 = await access.inputGradient(x, 2, ce);
    const g2 = await access.inputGradient(x, 2, energy);
    const both = await access.inputGradient(x, 2, Float32Array.from(ce, (v, i) => v + energy[i]!));
    assert.equal(await access.gradientModel(), gm1, 'the same gradient model for every seed');
    const sum = Float32Array.from(g1, (v, i) => v + g2[i]!);
    assert.ok(maxAbsDiff(both, sum) <= 1e-5 * maxAbs(sum), `linear in the seed: ${maxAbsDiff(both, sum)}`);
    // ODIN at two temperatures through one access equals the scorers'
    for (const t of [1, 1000]) {
      const viaAccess = await odin.score({ n: 2, input: x, logits: { data: f, k: 10 } },
        { params: { t, noise: 0.0014 }, state: undefined, diagnostics: {}, model: access });
      const scorer = await createOdinScorer(clf, { temperature: t, std: STD, threads: 1 });
      try {
        assert.ok(maxAbsDiff(viaAccess, await scorer.scores(x, 2)) <= 1e-12, `T = ${t}`);
      } finally {
        await scorer.release();
      }
    }
    await assert.rejects(access.inputGradient(x, 2, new Float32Array(19)), (e: unknown) => e instanceof NapoodError && e.argument === 'seed');
    assert.equal((await access.inputGradient(new Float32Array(0), 0, new Float32Array(0))).length, 0);
  } finally {
    await access.release();
    await clf.release();
  }
});

test('the rule table covers every op the gradient generation differentiated before the split', () => {
  assert.deepEqual([...GRADIENT_OPS], [
    'Add', 'AveragePool', 'BatchNormalization', 'Clip', 'Concat', 'Conv', 'Div', 'Dropout', 'Erf', 'Exp', 'Flatten', 'Gemm',
    'GlobalAveragePool', 'HardSigmoid', 'HardSwish', 'Identity', 'LayerNormalization', 'LeakyRelu', 'MatMul', 'MaxPool', 'Mul', 'Neg', 'Pad', 'Pow',
    'ReduceMean', 'ReduceSum', 'Relu', 'Reshape', 'Sigmoid', 'Slice', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'Transpose', 'Unsqueeze',
  ]);
  assert.ok(Object.isFrozen(GRADIENT_OPS));
});
