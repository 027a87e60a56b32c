/**
 * Each differentiable op on its own, with the attribute combinations PyTorch exports rarely or
 * never (auto_pad, asymmetric pads, ceil_mode, count_include_pad = 1 with padding, dilated
 * pooling, negative Pad, Slice, Split, opset 11 / 13 / 17 forms): the generated gradient must
 * equal Jᵀ · seed with J read from onnxruntime's own forward runs (exact for these piecewise
 * linear ops), for a batch of two seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildGradientModel } from '../../src/onnx/grad/index.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { buildModel, distinct, jacobian, jacobianTransposeSeed, rand, type InitSpec, type ModelSpec } from './build.js';
import { maxAbs } from './helpers.js';

interface Case {
  name: string;
  spec: ModelSpec;
  /** 'distinct' integer inputs for max pooling (locally linear within ±0.5). */
  x?: 'rand' | 'distinct';
  /** Smooth nonlinear: central differences, looser tolerance. */
  smooth?: boolean;
  /** MaxPool routes to check by name of the op used in the generated model. */
  expectOps?: string[];
}

const w = (name: string, dims: number[], seed: number): InitSpec => ({ name, dims, values: rand(dims.reduce((a, b) => a * b, 1), seed) });
const i64 = (name: string, values: number[]): InitSpec => ({ name, dims: [values.length], values, type: 'int64' });

const conv = (input: number[], wDims: number[], attrs: ModelSpec['nodes'][0]['attrs'], bias = true, opset = 13): ModelSpec => ({
  opset, input,
  nodes: [{ op: 'Conv', inputs: bias ? ['x', 'W', 'B'] : ['x', 'W'], outputs: ['y'], attrs }],
  inits: [w('W', wDims, 11), ...(bias ? [w('B', [wDims[0]!], 12)] : [])],
});

const pool = (op: string, input: number[], attrs: ModelSpec['nodes'][0]['attrs'], opset = 13): ModelSpec => ({
  opset, input, nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }],
});

const cases: Case[] = [
  { name: 'Conv group 2, strides [2, 3], dilations [2, 1], pads [1, 0, 2, 1], bias',
    spec: conv([4, 9, 10], [6, 2, 3, 2], [{ name: 'group', i: 2 }, { name: 'strides', ints: [2, 3] }, { name: 'dilations', ints: [2, 1] }, { name: 'pads', ints: [1, 0, 2, 1] }]) },
  { name: 'Conv stride 1, group 2, dilations [2, 1], pads [1, 0, 2, 1] (flipped-kernel Conv route)',
    spec: conv([4, 9, 10], [6, 2, 3, 2], [{ name: 'group', i: 2 }, { name: 'dilations', ints: [2, 1] }, { name: 'pads', ints: [1, 0, 2, 1] }]) },
  { name: 'Conv stride 1, pads 3 > k − 1 (ConvTranspose route)',
    spec: conv([2, 5, 6], [3, 2, 3, 3], [{ name: 'pads', ints: [3, 0, 1, 3] }], false) },
  { name: 'Conv auto_pad SAME_UPPER stride 2',
    spec: conv([2, 8, 7], [3, 2, 3, 3], [{ name: 'strides', ints: [2, 2] }, { name: 'auto_pad', s: 'SAME_UPPER' }], false) },
  { name: 'Conv auto_pad SAME_LOWER kernel 4 stride 2',
    spec: conv([2, 7, 8], [3, 2, 4, 4], [{ name: 'strides', ints: [2, 2] }, { name: 'auto_pad', s: 'SAME_LOWER' }]) },
  { name: 'Conv stride 3 leaving input rows no window reaches (output_padding)',
    spec: conv([2, 10, 11], [3, 2, 3, 3], [{ name: 'strides', ints: [3, 3] }]) },
  { name: 'Conv depthwise (group = C) at opset 11',
    spec: conv([3, 6, 6], [3, 1, 3, 3], [{ name: 'group', i: 3 }, { name: 'pads', ints: [1, 1, 1, 1] }], true, 11) },
  { name: 'Conv 1-D, stride 3, pads [2, 1]',
    spec: conv([3, 11], [4, 3, 4], [{ name: 'strides', ints: [3] }, { name: 'pads', ints: [2, 1] }]) },
  { name: 'AveragePool 3×3 / 2, pads 1, count_include_pad 1, ceil_mode 1',
    spec: pool('AveragePool', [2, 8, 9], [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [2, 2] }, { name: 'pads', ints: [1, 1, 1, 1] }, { name: 'count_include_pad', i: 1 }, { name: 'ceil_mode', i: 1 }]) },
  { name: 'AveragePool 3×2 / 2, pads [1, 0, 0, 1], count_include_pad 0',
    spec: pool('AveragePool', [2, 7, 6], [{ name: 'kernel_shape', ints: [3, 2] }, { name: 'strides', ints: [2, 2] }, { name: 'pads', ints: [1, 0, 0, 1] }]) },
  { name: 'AveragePool 2×2 / 2 on an odd map (last row dropped)',
    spec: pool('AveragePool', [2, 7, 7], [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }]) },
  { name: 'AveragePool auto_pad SAME_UPPER 3×3 / 2',
    spec: pool('AveragePool', [1, 6, 7], [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [2, 2] }, { name: 'auto_pad', s: 'SAME_UPPER' }]) },
  { name: 'GlobalAveragePool', spec: pool('GlobalAveragePool', [3, 4, 5], []) },
  ...[11, 13, 16, 17].map((opset): Case => ({
    name: `MaxPool 3×3 / 2, pads 1 (overlapping windows), opset ${opset}`, x: 'distinct',
    spec: pool('MaxPool', [2, 9, 8], [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [2, 2] }, { name: 'pads', ints: [1, 1, 1, 1] }], opset),
  })),
  ...[13, 17].map((opset): Case => ({
    name: `MaxPool 3×3 / 1, dilations 2, ceil_mode 1, pads [1, 1, 0, 0], opset ${opset}`, x: 'distinct',
    spec: pool('MaxPool', [2, 8, 7], [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [1, 1] }, { name: 'dilations', ints: [2, 2] }, { name: 'pads', ints: [1, 1, 0, 0] }, { name: 'ceil_mode', i: 1 }], opset),
  })),
  { name: 'MaxPool 2×2 / 2, ceil_mode 1 on an odd map', x: 'distinct',
    spec: pool('MaxPool', [2, 7, 7], [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }, { name: 'ceil_mode', i: 1 }]) },
  { name: 'Pad with negative and positive pads',
    spec: { opset: 13, input: [2, 6, 6], nodes: [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['y'] }], inits: [i64('pads', [0, 0, 2, -1, 0, 0, -2, 3])] } },
  { name: 'Slice starts [1, −5] ends [100, −1] on axes [2, 3]',
    spec: { opset: 13, input: [2, 6, 7], nodes: [{ op: 'Slice', inputs: ['x', 's', 'e', 'a'], outputs: ['y'] }], inits: [i64('s', [1, -5]), i64('e', [100, -1]), i64('a', [2, 3])] } },
  { name: 'Split [1, 2, 1] on channels, one part unused, Concat of the others',
    spec: { opset: 13, input: [4, 3, 3], inits: [i64('split', [1, 2, 1])],
      nodes: [{ op: 'Split', inputs: ['x', 'split'], outputs: ['a', 'b', 'c'], attrs: [{ name: 'axis', i: 1 }] },
        { op: 'Concat', inputs: ['c', 'a', 'c'], outputs: ['y'], attrs: [{ name: 'axis', i: 1 }] }] } },
  { name: 'Concat of an activation with a tensor computed from its shape only (no gradient)', x: 'distinct',
    spec: { opset: 13, input: [2, 3, 3], inits: [{ name: 'half', dims: [], values: [0.5] }],
      nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'ConstantOfShape', inputs: ['s'], outputs: ['z'], attrs: [] },
        { op: 'Add', inputs: ['z', 'half'], outputs: ['h'] },
        { op: 'Relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Concat', inputs: ['h', 'r', 'x'], outputs: ['y'], attrs: [{ name: 'axis', i: 1 }] }] } },
  { name: 'Transpose [0, 2, 3, 1] and Reshape',
    spec: { opset: 13, input: [2, 3, 4], inits: [i64('shape', [-1, 6, 4])],
      nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: [{ name: 'perm', ints: [0, 2, 3, 1] }] },
        { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['y'] }] } },
  { name: 'ReduceSum axes [1, 3] keepdims 0 (axes input, opset 13)',
    spec: { opset: 13, input: [3, 4, 5], inits: [i64('axes', [1, 3])], nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attrs: [{ name: 'keepdims', i: 0 }] }] } },
  { name: 'ReduceMean axes [2, 3] keepdims 1 (attribute, opset 11)',
    spec: { opset: 11, input: [3, 4, 5], nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: [{ name: 'axes', ints: [2, 3] }] }] } },
  { name: 'ReduceMean axes [−1] keepdims 0 (axes input, opset 18)',
    spec: { opset: 18, input: [3, 4, 5], inits: [i64('axes', [-1])], nodes: [{ op: 'ReduceMean', inputs: ['x', 'axes'], outputs: ['y'], attrs: [{ name: 'keepdims', i: 0 }] }] } },
  { name: 'BatchNormalization (inference)',
    spec: { opset: 13, input: [3, 4, 4], inits: [w('s', [3], 1), w('b', [3], 2), w('m', [3], 3), { name: 'v', dims: [3], values: [0.5, 1.5, 2] }],
      nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: [{ name: 'epsilon', f: 1e-3 }] }] } },
  { name: 'Flatten, Gemm alpha 0.5 transB 0, Identity',
    spec: { opset: 13, input: [2, 3, 3], inits: [w('B', [18, 4], 5), w('C', [4], 6)],
      nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'B', 'C'], outputs: ['g'], attrs: [{ name: 'alpha', f: 0.5 }] },
        { op: 'Identity', inputs: ['g'], outputs: ['y'] }] } },
  { name: 'Squeeze / Unsqueeze, MatMul by a constant, Add with broadcasting',
    spec: { opset: 13, input: [1, 3, 4], inits: [i64('ax', [1]), w('M', [4, 5], 7), w('b', [1, 1, 5], 8)],
      nodes: [{ op: 'Squeeze', inputs: ['x', 'ax'], outputs: ['s'] },
        { op: 'MatMul', inputs: ['s', 'M'], outputs: ['m'] },
        { op: 'Unsqueeze', inputs: ['m', 'ax'], outputs: ['u'] },
        { op: 'Add', inputs: ['u', 'b'], outputs: ['y'] }] } },
  { name: 'Mul, Div, Sub of two activations with broadcasting, Sigmoid, Tanh, LeakyRelu (smooth)', smooth: true,
    spec: { opset: 13, input: [3, 4, 4], inits: [{ name: 'one', dims: [], values: [1.5] }],
      nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['m'], attrs: [{ name: 'axes', ints: [2, 3] }] },
        { op: 'Sigmoid', inputs: ['m'], outputs: ['s'] },
        { op: 'Mul', inputs: ['x', 's'], outputs: ['a'] },
        { op: 'Tanh', inputs: ['x'], outputs: ['t'] },
        { op: 'Mul', inputs: ['t', 't'], outputs: ['t2'] },
        { op: 'Add', inputs: ['t2', 'one'], outputs: ['d'] },
        { op: 'Div', inputs: ['a', 'd'], outputs: ['q'] },
        { op: 'Sub', inputs: ['q', 'm'], outputs: ['r'] },
        { op: 'LeakyRelu', inputs: ['r'], outputs: ['y'], attrs: [{ name: 'alpha', f: 0.2 }] }] } },
  { name: 'LayerNorm as exported (ReduceMean, Sub, Pow, Sqrt, Div), GELU (Div, Erf, Add, Mul), Exp, Neg (smooth)', smooth: true,
    spec: { opset: 13, input: [3, 4, 4], inits: [{ name: 'two', dims: [], values: [2] }, { name: 'eps', dims: [], values: [1e-5] },
      { name: 'r2', dims: [], values: [Math.SQRT2] }, { name: 'one', dims: [], values: [1] }, { name: 'half', dims: [], values: [0.5] }],
      nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['mu'], attrs: [{ name: 'axes', ints: [1] }] },
        { op: 'Sub', inputs: ['x', 'mu'], outputs: ['d'] },
        { op: 'Pow', inputs: ['d', 'two'], outputs: ['d2'] },
        { op: 'ReduceMean', inputs: ['d2'], outputs: ['var'], attrs: [{ name: 'axes', ints: [1] }] },
        { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
        { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
        { op: 'Div', inputs: ['d', 'sd'], outputs: ['ln'] },
        { op: 'Div', inputs: ['ln', 'r2'], outputs: ['u'] },
        { op: 'Erf', inputs: ['u'], outputs: ['e'] },
        { op: 'Add', inputs: ['e', 'one'], outputs: ['e1'] },
        { op: 'Mul', inputs: ['ln', 'e1'], outputs: ['g1'] },
        { op: 'Mul', inputs: ['g1', 'half'], outputs: ['gelu'] },
        { op: 'Neg', inputs: ['gelu'], outputs: ['ng'] },
        { op: 'Exp', inputs: ['ng'], outputs: ['ex'] },
        { op: 'Add', inputs: ['ex', 'gelu'], outputs: ['y'] }] } },
  { name: 'LayerNormalization (opset 17) over the last axis and over axes 1 … 3, with scale and bias (smooth)', smooth: true,
    spec: { opset: 17, input: [3, 4, 5], inits: [w('g1', [5], 21), w('b1', [5], 22), w('g2', [3, 4, 5], 23), w('b2', [3, 4, 5], 24)],
      nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g1', 'b1'], outputs: ['a'], attrs: [{ name: 'epsilon', f: 1e-3 }] },
        { op: 'LayerNormalization', inputs: ['a', 'g2', 'b2'], outputs: ['y'], attrs: [{ name: 'axis', i: 1 }] }] } },
  { name: 'LayerNormalization at opset 18 (ReduceMean axes as input in the backward graph) (smooth)', smooth: true,
    spec: { opset: 18, input: [2, 6], inits: [w('g', [6], 25)],
      nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g'], outputs: ['y'] }] } },
  // distinct inputs 1 … 50 → s = 0.37 (x − 25) in [−8.9, 9.3]: every region, no value within 0.03 of a kink
  { name: 'HardSigmoid and HardSwish (MobileNetV3), on values reaching both clipped regions (smooth)', smooth: true, x: 'distinct',
    spec: { opset: 14, input: [2, 5, 5], inits: [{ name: 'c', dims: [], values: [25] }, { name: 'k', dims: [], values: [0.37] }],
      nodes: [{ op: 'Sub', inputs: ['x', 'c'], outputs: ['xc'] },
        { op: 'Mul', inputs: ['xc', 'k'], outputs: ['s'] },
        { op: 'HardSwish', inputs: ['s'], outputs: ['hw'] },
        { op: 'HardSigmoid', inputs: ['s'], outputs: ['hs'], attrs: [{ name: 'alpha', f: 0.25 }, { name: 'beta', f: 0.4 }] },
        { op: 'Add', inputs: ['hw', 'hs'], outputs: ['y'] }] } },
];

for (const c of cases) {
  test(`gradient of ${c.name} equals Jᵀ·seed`, async () => {
    const bytes = buildModel(c.spec);
    const per = c.spec.input.reduce((a, b) => a * b, 1);
    const x = c.x === 'distinct' ? distinct(per, 3) : rand(per, 3);
    const gm = await buildGradientModel(bytes, { file: c.name }, ort);
    const q = gm.outputDims.reduce((a, b) => a * b, 1);
    const seeds = rand(2 * q, 9);
    const session = await ort.InferenceSession.create(gm.bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
    let got: Float32Array;
    try {
      const xx = new Float32Array(2 * per);
      xx.set(x, 0);
      xx.set(x, per);
      const r = await session.run({
        [gm.input]: new ort.Tensor('float32', xx, [2, ...c.spec.input]),
        [gm.seed]: new ort.Tensor('float32', seeds, [2, ...gm.outputDims]),
      });
      got = r[gm.gradient]!.data as Float32Array;
      assert.deepEqual(r[gm.gradient]!.dims, [2, ...c.spec.input]);
    } finally {
      await session.release();
    }
    const j = c.smooth ? await jacobian(bytes, x, c.spec.input, 1e-2, true) : await jacobian(bytes, x, c.spec.input);
    for (let r = 0; r < 2; r++) {
      const want = jacobianTransposeSeed(j, seeds.subarray(r * q, (r + 1) * q));
      const top = maxAbs(want);
      assert.ok(top > 0, 'reference gradient is zero');
      let worst = 0;
      for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(got[r * per + i]! - want[i]!));
      const tol = c.smooth ? 2e-3 : 1e-5;
      assert.ok(worst <= tol * top, `row ${r}: max |got − Jᵀs| = ${worst} (max |Jᵀs| = ${top})`);
    }
  });
}

test('MaxPool gradients use ScatterElements reduction=add from opset 16 and disjoint phases below', async () => {
  const spec = (opset: number) => buildModel(pool('MaxPool', [1, 9, 8], [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [2, 2] }, { name: 'pads', ints: [1, 1, 1, 1] }], opset));
  const ops = async (opset: number) => decodeModel((await buildGradientModel(spec(opset), {}, ort)).bytes).graph.nodes.filter((n) => n.opType === 'ScatterElements');
  const s13 = await ops(13);
  assert.equal(s13.length, 4, 'opset 13: one scatter per phase (2 × 2)');
  assert.ok(s13.every((n) => n.attributes.every((a) => a.name !== 'reduction')));
  const s17 = await ops(17);
  assert.equal(s17.length, 1);
  assert.equal(s17[0]!.attributes.find((a) => a.name === 'reduction')?.s, 'add');
});
