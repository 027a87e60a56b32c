/**
 * Tests of the onnxruntime-node adapter (src/onnx/adapter.ts): feature map, pooled feature, logits
 * and head equal the PyTorch hook outputs to 1e-4 on every fixture; dynamic batch; bad inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadOnnxModel } from '../../src/node/onnx.js';
import { decodeModel, tensorValues } from '../../src/onnx/proto.js';
import { readFields } from '../../src/onnx/wire.js';
import { FIXTURES, assertClose, expectOf, maxAbsDiff, modelFixtures, napoodError, readNpy } from './fixtures.js';

const TOL = 1e-4;
const worst = { featureMap: 0, pooled: 0, logits: 0, head: 0 };
let compared = 0;

for (const name of modelFixtures()) {
  test(`${name}: feature map, pooled feature, logits and head equal the PyTorch hooks`, async () => {
    const dir = `${FIXTURES}${name}/`;
    const ex = expectOf(name);
    const x = readNpy(`${dir}input.npy`);
    const fm = readNpy(`${dir}feature_map.npy`);
    const pooled = readNpy(`${dir}pooled.npy`);
    const logits = readNpy(`${dir}logits.npy`);
    const model = await loadOnnxModel(`${dir}model.onnx`, { threads: 1 });
    try {
      const info = model.info;
      assert.equal(info.pool?.kind, ex.pool_kind);
      assert.equal(info.headKind, ex.head_kind);
      assert.deepEqual(info.inputChw, ex.input_shape);
      assert.equal(info.inputLayout, ex.input_layout ?? 'nchw');
      assert.equal(info.featureLayout, ex.feature_layout ?? 'nchw');
      assert.deepEqual(info.inputDims, x.shape.slice(1), 'inputDims: one image as the model takes it');
      assert.deepEqual(info.featureShape, ex.feature_shape);
      assert.equal(info.pooledDim, ex.pooled_dim);
      assert.equal(info.numClasses, ex.num_classes);
      assert.deepEqual(info.addedOutputs, info.logitsIsGraphOutput ? [info.featureMap, info.pooled] : [info.featureMap, info.pooled, info.logits]);

      const n = x.shape[0]!;
      const r = await model.run(x.data, n, x.shape);
      assert.equal(r.n, n);
      assert.deepEqual([r.featureMap.c, r.featureMap.h, r.featureMap.w], ex.feature_shape);
      assert.equal(r.pooled!.c, ex.pooled_dim);
      assert.equal(r.logits.k, ex.num_classes);
      const d = {
        featureMap: maxAbsDiff(r.featureMap.data, fm.data),
        pooled: maxAbsDiff(r.pooled!.data, pooled.data),
        logits: maxAbsDiff(r.logits.data, logits.data),
      };
      assert.ok(d.featureMap <= TOL && d.pooled <= TOL && d.logits <= TOL, `${name}: ${JSON.stringify(d)}`);
      // the map is really non-trivial (after ReLU: ≥ 0, not all zero)
      assert.ok(r.featureMap.data.some((v) => v > 0.1));

      const head = model.head!;
      assert.equal(head.k, ex.num_classes);
      assert.equal(head.c, ex.pooled_dim);
      const hf = await head.forward(r.pooled!.data, n);
      const dh = maxAbsDiff(hf, logits.data);
      assert.ok(dh <= TOL, `${name}: head.forward(pooled) differs from the logits by ${dh}`);
      if (ex.head_kind === 'linear') {
        assert.deepEqual(head.linear!.weight, readNpy(`${dir}head_weight.npy`).data);
        assert.deepEqual(head.linear!.bias, readNpy(`${dir}head_bias.npy`).data);
      } else {
        assert.equal(head.linear, undefined);
      }
      worst.featureMap = Math.max(worst.featureMap, d.featureMap);
      worst.pooled = Math.max(worst.pooled, d.pooled);
      worst.logits = Math.max(worst.logits, d.logits);
      worst.head = Math.max(worst.head, dh);

      // the edited model is the original file plus appended bytes
      const orig = new Uint8Array(readFileSync(`${dir}model.onnx`));
      assert.deepEqual(model.modelBytes.subarray(0, orig.length), orig);
      const tail = readFields(model.modelBytes.subarray(orig.length), 'tail');
      assert.deepEqual(tail.map((f) => f.no), [7]);
      assert.deepEqual(decodeModel(model.modelBytes).graph.outputs.map((o) => o.name), ['logits', ...info.addedOutputs]);
      compared++;
    } finally {
      await model.release();
    }
  });
}

test('every fixture was compared; worst differences to PyTorch (printed)', () => {
  // tests in one file run in order: this one sees the results of all the per-model tests above
  console.log(`max |ONNX − PyTorch| over ${compared} models: ${JSON.stringify(worst)}`);
  assert.equal(compared, modelFixtures().length);
  assert.ok(Object.values(worst).every((v) => Number.isFinite(v) && v <= TOL));
});

test('the batch dimension stays dynamic: n = 1, 2, 3 and 0 give the matching rows', async () => {
  const dir = `${FIXTURES}densenet121_op17/`;
  const x = readNpy(`${dir}input.npy`);
  const logits = readNpy(`${dir}logits.npy`);
  const model = await loadOnnxModel(`${dir}model.onnx`, { threads: 1 });
  try {
    const per = 3 * 64 * 64;
    const one = await model.run(x.data.subarray(per, 2 * per), 1);
    assertClose(one.logits.data, logits.data.subarray(10, 20), TOL, 'second image alone');
    const three = new Float32Array(3 * per);
    three.set(x.data, 0);
    three.set(x.data.subarray(0, per), 2 * per);
    const r3 = await model.run(three, 3);
    assert.equal(r3.logits.data.length, 30);
    assertClose(r3.logits.data.subarray(20, 30), logits.data.subarray(0, 10), TOL, 'third row = first image');
    const r0 = await model.run(new Float32Array(0), 0);
    assert.equal(r0.n, 0);
    assert.equal(r0.featureMap.data.length, 0);
    assert.equal(r0.logits.k, 10);
    assert.deepEqual(await model.head!.forward(new Float32Array(0), 0), new Float32Array(0));
  } finally {
    await model.release();
  }
});

test('MLP head sub-model runs on modified pooled features (as ReAct does) like a float64 MLP', async () => {
  const dir = `${FIXTURES}vgg_mlp_op17/`;
  const pooled = readNpy(`${dir}pooled.npy`);
  const model = await loadOnnxModel(`${dir}model.onnx`, { threads: 1 });
  try {
    const clip = 0.3;
    const z = pooled.data.map((v) => Math.min(v, clip));
    assert.ok(z.some((v, i) => v !== pooled.data[i]), 'the clip changes some values');
    const got = await model.head!.forward(z, 2);
    // reference: the three Linear layers read from the file, ReLU between them
    const m = decodeModel(new Uint8Array(readFileSync(`${dir}model.onnx`)));
    const init = (n: string) => {
      const t = m.graph.initializers.find((q) => q.name === n)!;
      return { v: tensorValues(t), dims: t.dims };
    };
    let h: Float64Array[] = [0, 1].map((i) => Float64Array.from(z.subarray(i * 64, (i + 1) * 64)));
    for (const [layer, relu] of [['classifier.0', true], ['classifier.3', true], ['classifier.6', false]] as const) {
      const w = init(`${layer}.weight`);
      const b = init(`${layer}.bias`);
      const [k, c] = w.dims as [number, number];
      h = h.map((row) => {
        const out = new Float64Array(k);
        for (let j = 0; j < k; j++) {
          let acc = b.v[j]!;
          for (let q = 0; q < c; q++) acc += w.v[j * c + q]! * row[q]!;
          out[j] = relu ? Math.max(0, acc) : acc;
        }
        return out;
      });
    }
    assertClose(got, Float32Array.from([...h[0]!, ...h[1]!]), 1e-5, 'MLP head on clipped z');
    await assert.rejects(async () => model.head!.forward(z, 3), napoodError(/^z: expected 3×64 = 192 pooled values, found 128$/, 'z'));
  } finally {
    await model.release();
  }
});

test('wrong input size: NapoodError names the model file and the expected shape', async () => {
  const file = `${FIXTURES}resnet18_op13/model.onnx`;
  const model = await loadOnnxModel(file, { threads: 1 });
  try {
    await assert.rejects(model.run(new Float32Array(2 * 3 * 32 * 32), 2),
      napoodError(/resnet18_op13\/model\.onnx: expected NCHW float32 input \[N, 3, 64, 64\]: 2 × 12288 = 24576 values, found 6144 values$/, file));
    await assert.rejects(model.run(new Float32Array(2 * 3 * 64 * 64), 2, [2, 1, 64, 64]),
      napoodError(/model\.onnx: expected NCHW float32 input \[N, 3, 64, 64\] with N = 2, found input of shape \[2, 1, 64, 64\]$/, file));
    await assert.rejects(model.run(new Float32Array(0), -1), napoodError(/^n: expected a batch size ≥ 0, found -1$/, 'n'));
  } finally {
    await model.release();
  }
  await assert.rejects(loadOnnxModel(file, { inputShape: [3, 32, 32] }),
    napoodError(/^inputShape: expected \[C, H, W\] matching .*model\.onnx's input \[N, 3, 64, 64\], found \[3, 32, 32\]$/, 'inputShape'));
});

test('extraOutputs: named layers come back with their shapes; unknown names are refused', async () => {
  const file = `${FIXTURES}smallcnn_mean_op18/model.onnx`;
  const x = readNpy(`${FIXTURES}smallcnn_mean_op18/input.npy`);
  const fm = readNpy(`${FIXTURES}smallcnn_mean_op18/feature_map.npy`);
  const layers = ['/body/body.2/Relu_output_0', '/body/body.5/Relu_output_0', '/body/body.8/Relu_output_0'];
  const model = await loadOnnxModel(file, { threads: 1, extraOutputs: layers });
  try {
    assert.deepEqual(model.info.candidateLayers, layers);
    const r = await model.run(x.data, 2);
    assert.deepEqual(r.extra[layers[0]!]!.dims, [2, 8, 32, 32]);
    assert.deepEqual(r.extra[layers[1]!]!.dims, [2, 16, 16, 16]);
    assert.deepEqual(r.extra[layers[2]!]!.dims, [2, 24, 8, 8]);
    assertClose(r.extra[layers[2]!]!.data, fm.data, TOL, 'last layer = feature map');
  } finally {
    await model.release();
  }
  await assert.rejects(loadOnnxModel(file, { extraOutputs: ['conv9'] }),
    napoodError(/^extraOutputs: expected names of tensors computed by .*model\.onnx \(candidates: .*\), found "conv9"$/, 'extraOutputs'));
});

test('featureLayer: another layer as the feature map; pooled feature and head unchanged', async () => {
  const dir = `${FIXTURES}resnet18_op17/`;
  const x = readNpy(`${dir}input.npy`);
  const pooled = readNpy(`${dir}pooled.npy`);
  const model = await loadOnnxModel(`${dir}model.onnx`, { threads: 1, featureLayer: '/layer3/layer3.1/relu_1/Relu_output_0' });
  try {
    assert.deepEqual(model.info.featureShape, [64, 4, 4]);
    const r = await model.run(x.data, 2);
    assert.equal(r.featureMap.data.length, 2 * 64 * 16);
    assertClose(r.pooled!.data, pooled.data, TOL, 'pooled');
    assert.equal(model.head!.linear!.c, 128);
  } finally {
    await model.release();
  }
});

test('no global pooling: refused, or usable for NAP alone with featureLayer', async () => {
  const file = `${FIXTURES}bad/no_pool.onnx`;
  await assert.rejects(loadOnnxModel(file), napoodError(/no_pool\.onnx: expected a global pooling before the classifier/, file));
  const model = await loadOnnxModel(file, { threads: 1, featureLayer: '/features/features.4/Relu_output_0' });
  try {
    assert.equal(model.head, undefined);
    assert.deepEqual(model.info.featureShape, [8, 10, 10]);
    const r = await model.run(new Float32Array(3 * 32 * 32).fill(0.25), 1);
    assert.equal(r.pooled, undefined);
    assert.equal(r.featureMap.data.length, 800);
    assert.equal(r.logits.data.length, 10);
  } finally {
    await model.release();
  }
});

test('bad files: NapoodError naming the file and what was expected', async () => {
  const bad = `${FIXTURES}bad/`;
  await assert.rejects(loadOnnxModel(`${bad}not_onnx.onnx`),
    napoodError(/not_onnx\.onnx: expected an ONNX model \(a complete protobuf ModelProto\), found .*unsupported wire type/, `${bad}not_onnx.onnx`));
  await assert.rejects(loadOnnxModel(`${bad}truncated.onnx`),
    napoodError(/truncated\.onnx: expected an ONNX model \(a complete protobuf ModelProto\), found .*claims \d+ bytes but only \d+ remain \(truncated data\?\)/, `${bad}truncated.onnx`));
  await assert.rejects(loadOnnxModel(`${bad}two_inputs.onnx`),
    napoodError(/two_inputs\.onnx: expected a model with exactly one image input, found 2 inputs: "x", "y"$/, `${bad}two_inputs.onnx`));
  await assert.rejects(loadOnnxModel(`${bad}missing.onnx`),
    napoodError(/missing\.onnx: expected a readable ONNX file, found no such file$/, `${bad}missing.onnx`));
  // valid protobuf that is not a model (an empty message)
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const empty = `${mkdtempSync(`${tmpdir()}/napood-onnx-`)}/empty.onnx`;
  writeFileSync(empty, new Uint8Array([0x08, 0x07]));
  await assert.rejects(loadOnnxModel(empty), napoodError(/empty\.onnx: expected an ONNX model .*found .*no graph field/, empty));
});
