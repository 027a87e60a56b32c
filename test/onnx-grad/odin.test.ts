/**
 * ODIN on ONNX models: the JS kernels (dL/df, the sign perturbation), the OnnxClassifier path,
 * edge cases (empty batch, η = 0, batch independence) and the errors for unsupported graphs and
 * bad arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NapoodError } from '../../src/errors.js';
import { loadOnnxModel, nodeRuntime as ORT } from '../../src/node/onnx.js';
import { buildGradientModel } from '../../src/onnx/grad/index.js';
import { createOdinScorer, odinScores } from '../../src/app/model-access.js';
import { odinLogitGradient, odinPerturb } from '../../src/methods/odin.js';
import { maxSoftmaxRows } from '../../src/methods/common.js';
import { buildModel, rand, type ModelSpec } from './build.js';
import { FIXTURES, gradMeta, maxAbsDiff, readF32, readNpy } from './helpers.js';

const meta = gradMeta();
const STD = meta.std;

function napoodError(re: RegExp, argument?: string): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof NapoodError, `expected a NapoodError, got ${String(e)}`);
    assert.match(e.message, re);
    if (argument !== undefined) assert.equal(e.argument, argument);
    return true;
  };
}

test('odinLogitGradient: (softmax(f/T) − onehot(argmax f)) / T, first index on ties, stable at ±1000', () => {
  const f = Float32Array.from([1, 2, 3, 5, 5, 1, 1000, -1000, 0]);
  const g = odinLogitGradient(f, 3, 3, 2);
  const sm = (row: number[], t: number) => { const e = row.map((v) => Math.exp(v / t)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };
  const p0 = sm([1, 2, 3], 2);
  const want0 = [p0[0]! / 2, p0[1]! / 2, (p0[2]! - 1) / 2];
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(g[j]! - want0[j]!) < 1e-7, `row 0 col ${j}`);
  const p1 = sm([5, 5, 1], 2);
  assert.ok(Math.abs(g[3]! - (p1[0]! - 1) / 2) < 1e-7, 'ties: the first maximum is ŷ');
  assert.ok(Math.abs(g[4]! - p1[1]! / 2) < 1e-7);
  assert.ok(Array.from(g).every(Number.isFinite));
  assert.ok(Math.abs(g[6]!) < 1e-7 && g[7] === 0 && g[8] === 0, 'softmax of (1000, −1000, 0)/2 is onehot(0): zero gradient');
  // each row sums to 0
  for (let r = 0; r < 3; r++) assert.ok(Math.abs(g[3 * r]! + g[3 * r + 1]! + g[3 * r + 2]!) < 1e-7);
  assert.throws(() => odinLogitGradient(f, 2, 3, 1), napoodError(/6 values/, 'logits'));
});

test('odinPerturb: x − η·s(g)/std_c with s = +1 for g ≥ 0 (also −0 and 0), −1 for g < 0 and NaN', () => {
  const x = new Float32Array(12).fill(0.5);
  const g = Float32Array.from([0, -0, 1e-30, -1e-30, NaN, 3, -2, 0, 0, 0, 0, 0]);
  const out = odinPerturb(x, g, 2, 2, 0.01, [0.5, 0.25]);
  // sample 0: channel 0 = [0, −0, 1e-30], channel 1 = [−1e-30, NaN, 3]
  const want = [0.5 - 0.02, 0.5 - 0.02, 0.5 - 0.02, 0.5 + 0.04, 0.5 + 0.04, 0.5 - 0.04, 0.5 + 0.02, 0.5 - 0.02, 0.5 - 0.02, 0.5 - 0.04, 0.5 - 0.04, 0.5 - 0.04];
  assert.ok(maxAbsDiff(out, want) < 1e-7, `${Array.from(out)}`);
  const one = odinPerturb(x, g, 2, 2, 0.01, [0.5]);
  assert.ok(Math.abs(one[3]! - 0.52) < 1e-7, 'one std value serves every channel');
  assert.throws(() => odinPerturb(x, g.subarray(1), 2, 2, 0.01, [1]), napoodError(/12 values/, 'gradient'));
});

test('OnnxClassifier path: same scores as the raw bytes and as PyTorch; η = 0 is MSP at temperature T', async () => {
  const file = `${FIXTURES}onnx/resnet18_op13/model.onnx`;
  const x = readF32(`${FIXTURES}onnx/resnet18_op13/input.npy`);
  const ref = readNpy(`${FIXTURES}onnx-grad/resnet18/odin.npy`).data;
  const clf = await loadOnnxModel(file);
  try {
    const s1 = await odinScores(clf, x, 2, { std: STD });
    const s2 = await odinScores(new Uint8Array(readFileSync(file)), x, 2, { std: STD }, ORT);
    assert.ok(maxAbsDiff(s1, s2) <= 1e-9, `${Array.from(s1)} vs ${Array.from(s2)}`);
    assert.ok(maxAbsDiff(s1, ref) <= 1e-5);
    const plain = await odinScores(clf, x, 2, { std: STD, noise: 0, temperature: 10 });
    const logits = (await clf.run(x, 2)).logits.data;
    assert.ok(maxAbsDiff(plain, maxSoftmaxRows(logits, 2, 10, 10)) <= 1e-12);
    assert.ok(maxAbsDiff(plain, s1) > 1e-4, 'T = 10 without noise differs from the default ODIN score');
    const scorer = await createOdinScorer(clf, { std: STD, noise: 0 });
    assert.equal(scorer.gradientModel, undefined);
    await assert.rejects(scorer.inputGradient(x, 2, new Float32Array(20)), napoodError(/gradient model/, 'noise'));
    await scorer.release();
  } finally {
    await clf.release();
  }
});

test('gradient model facts for resnet18: dims, dynamic batch, ops differentiated', async () => {
  const gm = await buildGradientModel(new Uint8Array(readFileSync(`${FIXTURES}onnx/resnet18_op13/model.onnx`)), {}, ORT);
  assert.deepEqual(gm.inputDims, [3, 64, 64]);
  assert.deepEqual(gm.outputDims, [10]);
  assert.equal(gm.output, 'logits');
  assert.equal(gm.opset, 13);
  assert.deepEqual(gm.differentiated, { Gemm: 1, Flatten: 1, GlobalAveragePool: 1, Relu: 17, Add: 8, Conv: 20, MaxPool: 1 });
});

test('batch independence and empty batches', async () => {
  const bytes = new Uint8Array(readFileSync(`${FIXTURES}onnx/mobilenet_v2_op17/model.onnx`));
  const x = readF32(`${FIXTURES}onnx/mobilenet_v2_op17/input.npy`);
  const per = x.length / 2;
  const scorer = await createOdinScorer(bytes, { std: STD }, ORT);
  try {
    const both = await scorer.details(x, 2);
    const first = await scorer.details(x.slice(0, per), 1);
    const second = await scorer.details(x.slice(per), 1);
    assert.ok(Math.abs(both.scores[0]! - first.scores[0]!) <= 1e-9);
    assert.ok(Math.abs(both.scores[1]! - second.scores[0]!) <= 1e-9);
    const three = new Float32Array(3 * per);
    three.set(x, 0);
    three.set(x.subarray(0, per), 2 * per);
    const s3 = await scorer.scores(three, 3);
    assert.ok(Math.abs(s3[2]! - s3[0]!) <= 1e-9);
    const empty = await scorer.scores(new Float32Array(0), 0);
    assert.ok(empty instanceof Float64Array && empty.length === 0);
  } finally {
    await scorer.release();
  }
});

test('argument errors name the argument, what was expected and what was found', async () => {
  const bytes = new Uint8Array(readFileSync(`${FIXTURES}onnx/smallcnn_flatten_op13/model.onnx`));
  await assert.rejects(createOdinScorer(bytes, { std: [0.2, 0.2] }, ORT), napoodError(/std: expected 1 or 3 values .* found 2/, 'std'));
  await assert.rejects(createOdinScorer(bytes, { std: [0.2, 0, 0.2] }, ORT), napoodError(/> 0/, 'std'));
  await assert.rejects(createOdinScorer(bytes, { std: STD, temperature: 0 }, ORT), napoodError(/> 0, found 0/, 'temperature'));
  await assert.rejects(createOdinScorer(bytes, { std: STD, noise: -1 }, ORT), napoodError(/≥ 0, found -1/, 'noise'));
  const scorer = await createOdinScorer(bytes, { std: STD }, ORT);
  try {
    await assert.rejects(scorer.scores(new Float32Array(100), 1), napoodError(/\[1, 3, 32, 32\] = 3072 values, found 100 values/, 'input'));
    await assert.rejects(scorer.scores(new Float32Array(0), -1), napoodError(/batch size/, 'n'));
  } finally {
    await scorer.release();
  }
});

const headTail = (op: string, attrs: ModelSpec['nodes'][0]['attrs'] = [], opset = 13, extraInputs: string[] = []): ModelSpec => ({
  opset, input: [3, 8, 8],
  inits: [{ name: 'W', dims: [4, 3, 3, 3], values: rand(108, 1) }, { name: 'F', dims: [5, 4], values: rand(20, 2) },
    { name: 'pads', dims: [8], values: [0, 0, 1, 1, 0, 0, 1, 1], type: 'int64' }],
  nodes: [
    { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: [{ name: 'pads', ints: [1, 1, 1, 1] }], name: 'conv' },
    { op, inputs: ['c', ...extraInputs], outputs: ['a'], attrs, name: 'the_node' },
    { op: 'GlobalAveragePool', inputs: ['a'], outputs: ['p'], name: 'gap' },
    { op: 'Flatten', inputs: ['p'], outputs: ['z'], name: 'flat' },
    { op: 'Gemm', inputs: ['z', 'F'], outputs: ['logits'], attrs: [{ name: 'transB', i: 1 }], name: 'fc' },
  ],
});

test('an unsupported op on the path to the logits is refused, naming the op and the node', async () => {
  for (const op of ['Softplus', 'Selu', 'Elu']) {
    const bytes = buildModel(headTail(op));
    await assert.rejects(buildGradientModel(bytes, { file: 'net.onnx' }, ORT),
      napoodError(new RegExp(`net.onnx: expected ops napood can differentiate \\(Add, .*\\), found op ${op} \\(node the_node \\(${op}\\)\\) on the path from the input to the logits`), 'net.onnx'));
    await assert.rejects(odinScores(bytes, new Float32Array(192), 1, { std: STD, file: 'net.onnx' }, ORT), napoodError(new RegExp(op), 'net.onnx'));
  }
  await assert.rejects(buildGradientModel(buildModel(headTail('Pad', [{ name: 'mode', s: 'reflect' }], 13, ['pads'])), { file: 'm' }, ORT),
    napoodError(/expected Pad mode "constant" \(node the_node \(Pad\)\), found "reflect"/, 'm'));
  await assert.rejects(buildGradientModel(buildModel({ ...headTail('Relu'), opset: 10 }), { file: 'old.onnx' }, ORT),
    napoodError(/opset ≥ 11 .*found opset 10/, 'old.onnx'));
  const batchMean = buildModel({
    opset: 13, input: [3, 4, 4],
    nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['m'], attrs: [{ name: 'axes', ints: [0, 2, 3] }], name: 'mean_over_batch' }],
  });
  await assert.rejects(buildGradientModel(batchMean, { file: 'b' }, ORT), napoodError(/batch as their first axis/, 'b'));
});

test('model files that are not single-input ONNX classifiers are refused', async () => {
  const read = (f: string) => new Uint8Array(readFileSync(`${FIXTURES}onnx/bad/${f}`));
  await assert.rejects(buildGradientModel(read('two_inputs.onnx'), { file: 'two_inputs.onnx' }, ORT),
    napoodError(/one image input, found 2 inputs \("x", "y"\)/, 'two_inputs.onnx'));
  await assert.rejects(buildGradientModel(read('not_onnx.onnx'), { file: 'not_onnx.onnx' }, ORT), napoodError(/an ONNX model/, 'not_onnx.onnx'));
  await assert.rejects(buildGradientModel(read('truncated.onnx'), { file: 'truncated.onnx' }, ORT), napoodError(/an ONNX model/, 'truncated.onnx'));
  await assert.rejects(buildGradientModel(read('no_pool.onnx'), { file: 'lenet', output: 'nope' }, ORT), napoodError(/a tensor computed by lenet, found "nope"/, 'output'));
});
