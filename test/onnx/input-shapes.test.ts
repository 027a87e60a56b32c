/**
 * Input-shape variants (tools/make_onnx_shape_fixtures.py). Models exported with a fixed batch size
 * (batch 1 with a Reshape to the constant [1, 24], and batch 3): napood runs any number of rows in
 * slices of that size; the features, logits and ODIN scores equal PyTorch's on 5 rows (slices
 * 1+1+1+1+1 and 3+2). A model with symbolic H and W: the size comes from --input-shape or the
 * preprocessing flags, and without either the refusal says so. A VGG-style head that reads the
 * whole map (no global pooling) is refused, naming the map to pass as featureLayer. A model whose
 * first output is an int64 label takes its logits from the float output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnnxModel } from '../../src/node/onnx.js';
import { createOdinScorer } from '../../src/app/model-access.js';
import { napKernelJs } from '../../src/methods/nap.js';
import { maxAbsDiff, readNpy } from './fixtures.js';

const DIR = fileURLToPath(new URL('../../../test/fixtures/onnx-shapes/', import.meta.url));
const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

for (const [name, batch] of [['smallcnn_view_b1', 1], ['smallcnn_flatten_b3', 3]] as const) {
  test(`${name}: fixed batch ${batch}, 5 rows in slices equal the PyTorch hooks; ODIN equals autograd`, async () => {
    const d = `${DIR}${name}/`;
    const x = readNpy(`${d}input.npy`);
    const golden = JSON.parse(readFileSync(`${d}odin.json`, 'utf8')) as { batch: number; temperature: number; noise: number; std: number[]; scores: number[]; scores_noise0: number[] };
    assert.equal(golden.batch, batch);
    const model = await loadOnnxModel(`${d}model.onnx`, { threads: 1 });
    try {
      assert.equal(model.info.fixedBatch, batch);
      assert.ok(model.info.reasoning.some((r) => r.includes(`fixed at ${batch}`)));
      const r = await model.run(x.data, 5, x.shape);
      assert.equal(r.n, 5);
      assert.ok(maxAbsDiff(r.featureMap.data, readNpy(`${d}feature_map.npy`).data) <= 1e-4);
      assert.ok(maxAbsDiff(r.pooled!.data, readNpy(`${d}pooled.npy`).data) <= 1e-4);
      assert.ok(maxAbsDiff(r.logits.data, readNpy(`${d}logits.npy`).data) <= 1e-4);
      // rows do not depend on their slice: row 4 alone gives the same logits
      const alone = await model.run(x.data.subarray(4 * 3072), 1);
      assert.ok(maxAbsDiff(alone.logits.data, r.logits.data.subarray(40)) <= 1e-6);
      assert.equal((await model.run(new Float32Array(0), 0)).n, 0);
      const odin = await createOdinScorer(model, { temperature: golden.temperature, noise: golden.noise, std: golden.std, threads: 1 });
      try {
        const s = await odin.scores(x.data, 5);
        for (let i = 0; i < 5; i++) {
          const want = golden.scores[i]!;
          assert.ok(Math.abs(s[i]! - want) <= 1e-8 * want, `row ${i}: ${s[i]} vs ${want}`);
          assert.ok(Math.abs(golden.scores_noise0[i]! - want) > 100 * 1e-8 * want, `row ${i}: the perturbation is resolved`);
        }
      } finally {
        await odin.release();
      }
    } finally {
      await model.release();
    }
  });
}

test('inspect shows the fixed batch; score --input runs every row', () => {
  const model = `${DIR}smallcnn_view_b1/model.onnx`;
  const r = spawnSync(process.execPath, [binPath, 'inspect', model], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^input:\s+"input" \[1, 3, 32, 32\] float32 \(fixed batch: runs in slices of 1\)$/m);
  const j = spawnSync(process.execPath, [binPath, 'inspect', model, '--json'], { encoding: 'utf8' });
  assert.equal(JSON.parse(j.stdout).input.fixedBatch, 1);
  // batches of 4 images through a batch-1 model: 5 scores, as NAP of the PyTorch map
  const dir = mkdtempSync(join(tmpdir(), 'napood-static-'));
  try {
    const out = join(dir, 'nap.csv');
    const s = spawnSync(process.execPath, [binPath, 'score', '--model', model, '--features', `${DIR}smallcnn_view_b1/input.npy`, '--batch-size', '4', '--method', 'nap', '--out', out], { encoding: 'utf8' });
    assert.equal(s.status, 0, s.stderr);
    const got = readFileSync(out, 'utf8').trim().split('\n').slice(1).map(Number);
    const want = napKernelJs(readNpy(`${DIR}smallcnn_view_b1/feature_map.npy`).data, 5, 24, 64, 1, 2);
    assert.equal(got.length, 5);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-4 * want[i]!, `row ${i}: ${v} vs ${want[i]}`));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('symbolic H, W: refused without a size, naming --input-shape; with one it equals the hooks', async () => {
  const d = `${DIR}smallcnn_mean_dynhw/`;
  await assert.rejects(loadOnnxModel(`${d}model.onnx`), (e: unknown) => e instanceof Error && /inputShape: expected \[C, H, W\] for .*symbolic dims \[N, 3, H, W\]/.test(e.message));
  const model = await loadOnnxModel(`${d}model.onnx`, { inputShape: [3, 32, 32], threads: 1 });
  try {
    assert.deepEqual(model.info.inputChw, [3, 32, 32]);
    assert.equal(model.info.fixedBatch, undefined);
    const x = readNpy(`${d}input.npy`);
    const r = await model.run(x.data, 5, x.shape);
    assert.ok(maxAbsDiff(r.featureMap.data, readNpy(`${d}feature_map.npy`).data) <= 1e-4);
    assert.ok(maxAbsDiff(r.logits.data, readNpy(`${d}logits.npy`).data) <= 1e-4);
  } finally {
    await model.release();
  }
  const cli = (...args: string[]) => spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
  let r = cli('inspect', `${d}model.onnx`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^napood inspect: --input-shape: expected \[C, H, W\] for .*symbolic dims \[N, 3, H, W\] \(CLI: --input-shape C,H,W, or the size from --size \/ --preset\), found none$/m);
  r = cli('inspect', `${d}model.onnx`, '--input-shape', '3,32,32');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^input:\s+"input" \[N, 3, 32, 32\] float32 \(size not fixed by the model: from --input-shape or the preprocessing\)$/m);
  assert.match(r.stdout, /feature map: .* \[C, H, W\] = \[24, 8, 8\]/);
  r = cli('inspect', `${d}model.onnx`, '--input-shape', '3,32');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--input-shape: expected three positive integers C,H,W \(e\.g\. 3,224,224\), found "3,32"/);
  // score: the size from the preset (cifar: 3×32×32), no --input-shape needed
  const dir = mkdtempSync(join(tmpdir(), 'napood-dynhw-'));
  try {
    const out = join(dir, 'nap.csv');
    r = cli('score', '--model', `${d}model.onnx`, '--preset', 'cifar', '--features', `${d}input.npy`, '--method', 'nap', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const got = readFileSync(out, 'utf8').trim().split('\n').slice(1).map(Number);
    const want = napKernelJs(readNpy(`${d}feature_map.npy`).data, 5, 24, 64, 1, 2);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-4 * want[i]!, `row ${i}`));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('no global pooling (VGG-style AdaptiveAvgPool to the map size, a 1×1 AveragePool): refused naming the map; with it as featureLayer the map equals the hook', async () => {
  const file = `${DIR}vgg_identity_pool/model.onnx`;
  let message = '';
  await assert.rejects(loadOnnxModel(file), (e: unknown) => {
    message = (e as Error).message;
    return /vgg_identity_pool\/model\.onnx: expected the AveragePool "\/avgpool\/AveragePool" before the classifier to cover the whole 2×2 map, found kernel \[1, 1\]: the classifier reads the map itself/.test(message);
  });
  const name = /featureLayer "([^"]+)"/.exec(message)![1]!;
  assert.match(message, /\(CLI: --feature-layer "\/features\/features\.5\/MaxPool_output_0"\)$/);
  const model = await loadOnnxModel(file, { featureLayer: name, threads: 1 });
  try {
    const x = readNpy(`${DIR}vgg_identity_pool/input.npy`);
    const r = await model.run(x.data, 2);
    assert.deepEqual(model.info.featureShape, [16, 2, 2]);
    assert.ok(maxAbsDiff(r.featureMap.data, readNpy(`${DIR}vgg_identity_pool/feature_map.npy`).data) <= 1e-4);
    assert.ok(maxAbsDiff(r.logits.data, readNpy(`${DIR}vgg_identity_pool/logits.npy`).data) <= 1e-4);
  } finally {
    await model.release();
  }
});

test('a model whose first output is the predicted label (int64 ArgMax): the logits come from the float output', async () => {
  const model = await loadOnnxModel(`${DIR}label_first/model.onnx`, { threads: 1 });
  try {
    assert.equal(model.info.logits, '/0/fc/Gemm_output_0');
    assert.ok(model.info.reasoning.includes('the model has 2 outputs ("label", "logits"); using the first float [N, K] one, "logits"'));
    const ref = `${DIR}../onnx/smallcnn_softmax_op13/`;
    const x = readNpy(`${ref}input.npy`);
    const r = await model.run(x.data, 2);
    assert.ok(maxAbsDiff(r.logits.data, readNpy(`${ref}logits.npy`).data) <= 1e-4);
    assert.ok(maxAbsDiff(r.featureMap.data, readNpy(`${ref}feature_map.npy`).data) <= 1e-4);
  } finally {
    await model.release();
  }
});
