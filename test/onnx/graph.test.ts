/**
 * Tests of the static graph analysis (src/onnx/graph.ts) on every fixture model exported from
 * PyTorch by tools/make_onnx_fixtures.py: pooling kind, head kind, W and b, chosen tensors, errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NapoodError } from '../../src/errors.js';
import { analyseGraph, headSubModel } from '../../src/onnx/graph.js';
import { decodeModel, tensorValues } from '../../src/onnx/proto.js';
import { FIXTURES, expectOf, modelFixtures, napoodError, readNpy } from './fixtures.js';

const load = (name: string) => decodeModel(new Uint8Array(readFileSync(`${FIXTURES}${name}/model.onnx`)), name);

test('fixtures are all present: 4 torchvision nets and the small-CNN head styles at opsets 13 and 17, plus variants and channels-last (Keras-style) models', () => {
  assert.deepEqual(modelFixtures(), [
    'densenet121_op13', 'densenet121_op17', 'mobilenet_v2_op13', 'mobilenet_v2_op17',
    'nhwc_keepdims_op13', 'nhwc_mlp_op17', 'nhwc_relu_op13', 'nhwc_transpose_op13', 'resnet18_op13', 'resnet18_op17',
    'smallcnn_flatten_op13', 'smallcnn_flatten_op17', 'smallcnn_initinputs_op11', 'smallcnn_matmul_op13', 'smallcnn_matmul_op17',
    'smallcnn_mean_op13', 'smallcnn_mean_op17', 'smallcnn_mean_op18', 'smallcnn_softmax_op13', 'smallcnn_view_op13', 'smallcnn_view_op17',
    'vgg_mlp_op13', 'vgg_mlp_op17',
  ]);
});

for (const name of modelFixtures()) {
  test(`analysis of ${name}: pooling kind, head kind and weights`, () => {
    const ex = expectOf(name);
    const m = load(name);
    assert.equal(m.opsetImports.find((o) => o.domain === '')!.version, ex.opset);
    const a = analyseGraph(m, { file: name });
    assert.equal(a.pool?.kind, ex.pool_kind);
    assert.equal(a.headKind, ex.head_kind);
    const nhwc = ex.input_layout === 'nhwc';
    const softmax = name.includes('softmax') || nhwc;
    const logitsName = !nhwc ? '/0/fc/Gemm_output_0' : name === 'nhwc_mlp_op17' ? '/head/head.2/Add_output_0' : name === 'nhwc_keepdims_op13' ? '/Reshape_output_0' : '/head/Add_output_0';
    assert.equal(a.logits, softmax ? logitsName : 'logits');
    assert.equal(a.logitsIsGraphOutput, !softmax);
    if (softmax) assert.ok(a.reasoning.includes(`output "logits" is Softmax of "${logitsName}": using that as the logits`));
    assert.equal(a.input.name, 'input');
    const [c, h, w] = ex.input_shape;
    assert.deepEqual(a.input.shape, nhwc ? ['N', h, w, c] : ['N', c, h, w]);
    assert.equal(a.inputLayout, nhwc ? 'nhwc' : 'nchw');
    assert.equal(a.pool!.layout, nhwc ? 'nhwc' : 'nchw');
    assert.equal(a.featureLayout, ex.feature_layout ?? 'nchw');
    assert.equal(a.featureLayerOverride, false);
    assert.ok(a.reasoning.length >= 4);
    // the feature map is the output of the last activation (or MaxPool in VGG), never a Pad
    const producer = m.graph.nodes.find((n) => n.outputs.includes(a.featureMap))!;
    assert.equal(producer.opType, name.startsWith('vgg') ? 'MaxPool' : name.startsWith('mobilenet') ? 'Clip' : 'Relu');
    if (!name.startsWith('vgg')) assert.equal(a.candidateLayers.at(-1), a.featureMap);
    if (ex.head_kind === 'linear') {
      assert.equal(a.linear?.op, ex.linear_op);
      assert.deepEqual(a.headOps, ex.linear_op === 'Gemm' ? ['Gemm'] : ['MatMul', 'Add']);
      assert.equal(a.linear!.k, ex.num_classes);
      assert.equal(a.linear!.c, ex.pooled_dim);
      // W [K, C] and b [K] exactly as PyTorch holds them (MatMul weights come transposed)
      assert.deepEqual(a.linear!.weight, readNpy(`${FIXTURES}${name}/head_weight.npy`).data);
      assert.deepEqual(a.linear!.bias, readNpy(`${FIXTURES}${name}/head_bias.npy`).data);
    } else {
      assert.equal(a.linear, undefined);
      const mlpOps: Record<string, string[]> = {
        nhwc_mlp_op17: ['MatMul', 'Add', 'Relu', 'MatMul', 'Add'],
        // the Dense head on [N, 1, 1, C], then reshape(N, -1): not one linear layer on [N, C]
        nhwc_keepdims_op13: ['MatMul', 'Add', 'Reshape'],
      };
      assert.deepEqual(a.headOps, mlpOps[name] ?? ['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
      if (name === 'nhwc_keepdims_op13') assert.equal(a.pooledRank, 4, 'the head reads [N, 1, 1, C]');
    }
  });
}

test('resnet18: the chosen tensors are the layer4 output, the Flatten output and the fc Gemm', () => {
  const a = analyseGraph(load('resnet18_op17'));
  assert.equal(a.featureMap, '/layer4/layer4.1/relu_1/Relu_output_0');
  assert.equal(a.pooled, '/Flatten_output_0');
  assert.equal(a.pooledRank, 2);
  assert.deepEqual(a.pool!.reshapeOps, ['Flatten']);
  assert.equal(a.pool!.output, '/avgpool/GlobalAveragePool_output_0');
  // conv1's relu, then two per BasicBlock × 8 blocks
  assert.equal(a.candidateLayers.length, 17);
  assert.equal(a.candidateLayers[0], '/relu/Relu_output_0');
});

test('densenet121: the last GlobalAveragePool is chosen, not the transition AveragePools', () => {
  const a = analyseGraph(load('densenet121_op13'));
  assert.equal(a.featureMap, '/Relu_output_0');
  assert.equal(a.pool!.node, '/GlobalAveragePool');
  assert.equal(a.candidateLayers.length, 121);
});

test('ReduceMean axes as attribute (opset 13/17) and as input (opset 18)', () => {
  for (const [name, how] of [['smallcnn_mean_op13', 'as attribute'], ['smallcnn_mean_op18', 'as input']] as const) {
    const a = analyseGraph(load(name));
    assert.equal(a.pool!.keepdims, false);
    assert.deepEqual(a.pool!.reshapeOps, []);
    assert.equal(a.pooled, a.pool!.output);
    assert.ok(a.reasoning.some((r) => r.includes(`axes [2, 3] ${how}, keepdims 0`)), a.reasoning.join('\n'));
  }
});

test('view(N, -1): Pad(0) → AveragePool(8×8) → Reshape, the Pad is looked through', () => {
  const a = analyseGraph(load('smallcnn_view_op13'));
  assert.equal(a.featureMap, '/body/body.8/Relu_output_0');
  assert.deepEqual(a.pool!.kernel, [8, 8]);
  assert.deepEqual(a.pool!.reshapeOps, ['Reshape']);
  assert.ok(a.reasoning.some((r) => r.startsWith('looked through Pad')));
});

test('VGG-style MLP head: the head sub-model holds exactly the head nodes and weights, byte for byte', () => {
  const m = load('vgg_mlp_op13');
  const a = analyseGraph(m);
  const sub = decodeModel(headSubModel(m, a, 64), 'head');
  assert.deepEqual(sub.graph.nodes.map((n) => n.opType), ['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  const orig = m.graph.nodes.slice(-5);
  sub.graph.nodes.forEach((n, i) => assert.deepEqual(n.raw, orig[i]!.raw));
  assert.deepEqual(sub.graph.initializers.map((t) => t.name).sort(),
    ['classifier.0.bias', 'classifier.0.weight', 'classifier.3.bias', 'classifier.3.weight', 'classifier.6.bias', 'classifier.6.weight']);
  const w0 = sub.graph.initializers.find((t) => t.name === 'classifier.0.weight')!;
  assert.deepEqual(tensorValues(w0), tensorValues(m.graph.initializers.find((t) => t.name === 'classifier.0.weight')!));
  assert.deepEqual(sub.graph.inputs.map((v) => [v.name, v.elemType, v.shape]), [['/Flatten_output_0', 1, ['N', 64]]]);
  assert.deepEqual(sub.graph.outputs.map((v) => v.name), ['logits']);
  assert.equal(sub.irVersion, m.irVersion);
  assert.deepEqual(sub.opsetImports.map((o) => o.version), [13]);
});

test('no global pooling (LeNet flattens the whole map): NapoodError names the file and what was looked for', () => {
  const m = decodeModel(new Uint8Array(readFileSync(`${FIXTURES}bad/no_pool.onnx`)));
  assert.throws(() => analyseGraph(m, { file: 'no_pool.onnx' }), (e: unknown) => {
    assert.ok(e instanceof NapoodError);
    assert.equal(e.argument, 'no_pool.onnx');
    assert.match(e.message, /^no_pool\.onnx: expected a global pooling before the classifier \(GlobalAveragePool, ReduceMean over axes \[2, 3\] \(or \[1, 2\] on a channels-last map\), or AveragePool/);
    assert.match(e.message, /featureLayer/);
    assert.match(e.message, /found none on the path to "logits" \(ops: .*MaxPool/);
    return true;
  });
  // with featureLayer the model is usable for NAP, without pooled feature or head
  const a = analyseGraph(m, { file: 'no_pool.onnx', featureLayer: '/features/features.4/Relu_output_0' });
  assert.equal(a.featureMap, '/features/features.4/Relu_output_0');
  assert.equal(a.pooled, undefined);
  assert.equal(a.headKind, undefined);
  assert.deepEqual(a.candidateLayers, ['/features/features.1/Relu_output_0', '/features/features.4/Relu_output_0']);
});

test('featureLayer: a name the graph does not compute is a NapoodError on featureLayer', () => {
  assert.throws(() => analyseGraph(load('smallcnn_flatten_op13'), { file: 'f.onnx', featureLayer: 'nope' }),
    napoodError(/^featureLayer: expected the name of a tensor computed by f\.onnx \(e\.g\. .*Relu_output_0.*\), found "nope"$/, 'featureLayer'));
  const a = analyseGraph(load('resnet18_op13'), { featureLayer: '/layer3/layer3.1/relu_1/Relu_output_0' });
  assert.equal(a.featureMap, '/layer3/layer3.1/relu_1/Relu_output_0');
  assert.equal(a.featureLayerOverride, true);
  assert.equal(a.pooled, '/Flatten_output_0');
  assert.equal(a.headKind, 'linear');
  assert.equal(a.candidateLayers.length, 13);
});

test('initializers listed as graph inputs (keep_initializers_as_inputs) are not image inputs', () => {
  const m = load('smallcnn_initinputs_op11');
  assert.equal(m.graph.inputs.length, 9);
  assert.equal(analyseGraph(m).input.name, 'input');
});

test('a model with two inputs is refused with both names', () => {
  const m = decodeModel(new Uint8Array(readFileSync(`${FIXTURES}bad/two_inputs.onnx`)));
  assert.throws(() => analyseGraph(m, { file: 'two_inputs.onnx' }),
    napoodError(/^two_inputs\.onnx: expected a model with exactly one image input, found 2 inputs: "x", "y"$/, 'two_inputs.onnx'));
});
