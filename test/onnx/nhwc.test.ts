/**
 * Channels-last (Keras / tf2onnx-style) models: NHWC image input and a ReduceMean over the NHWC
 * axes [1, 2] (tools/make_onnx_nhwc_fixtures.py). The per-fixture comparison with the PyTorch hooks
 * (feature map in NCHW, pooled feature, logits, head) is in adapter.test.ts and graph.test.ts; here:
 * ODIN's input perturbation against PyTorch autograd on the NHWC input, images through the CLI in
 * the model's layout, and the layout errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nhwcToNchw } from '../../src/onnx/adapter.js';
import { loadOnnxModel } from '../../src/node/onnx.js';
import { createOdinScorer } from '../../src/app/model-access.js';
import { expandImageInputs, loadImages, PRESETS } from '../../src/node/images/index.js';
import { napKernelJs } from '../../src/methods/nap.js';
import { FIXTURES, readNpy } from './fixtures.js';

const NHWC = ['nhwc_transpose_op13', 'nhwc_relu_op13', 'nhwc_mlp_op17', 'nhwc_keepdims_op13'];
const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const tree = fileURLToPath(new URL('../../../test/fixtures/images/tree', import.meta.url));

function napood(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('nhwcToNchw moves the channel axis: out[n, c, h, w] = in[n, h, w, c]', () => {
  const n = 2, h = 3, w = 4, c = 5;
  const src = Float32Array.from({ length: n * h * w * c }, (_, i) => i);
  const out = nhwcToNchw(src, n, h, w, c);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    assert.equal(out[((i * c + k) * h + y) * w + x], src[((i * h + y) * w + x) * c + k]);
  }
});

for (const name of NHWC) {
  test(`${name}: ODIN with input perturbation on the NHWC input equals PyTorch autograd`, async () => {
    const dir = `${FIXTURES}${name}/`;
    const golden = JSON.parse(readFileSync(`${dir}odin.json`, 'utf8')) as { temperature: number; noise: number; std: number[]; scores: number[] };
    const x = readNpy(`${dir}input.npy`);
    const model = await loadOnnxModel(`${dir}model.onnx`, { threads: 1 });
    try {
      const n = x.shape[0]!;
      const odin = await createOdinScorer(model, { temperature: golden.temperature, noise: golden.noise, std: golden.std, threads: 1 });
      const plain = await createOdinScorer(model, { temperature: golden.temperature, noise: 0, std: golden.std, threads: 1 });
      const got = await odin.scores(x.data, n);
      const noNoise = await plain.scores(x.data, n);
      for (let i = 0; i < n; i++) {
        const want = golden.scores[i]!;
        assert.ok(Math.abs(got[i]! - want) <= 1e-8 * want, `row ${i}: ${got[i]} vs ${want}`);
        // the tolerance resolves the perturbation (and a channel-first step would land elsewhere)
        assert.ok(Math.abs(noNoise[i]! - want) > 100 * 1e-8 * want, `row ${i}: the perturbation moves the score`);
      }
      await odin.release();
      await plain.release();
    } finally {
      await model.release();
    }
  });
}

test('images through a channels-last model: napood feeds NHWC, NAP equals the map of the same tensors', async () => {
  const file = `${FIXTURES}nhwc_relu_op13/model.onnx`;
  const dir = mkdtempSync(join(tmpdir(), 'napood-nhwc-'));
  try {
    const out = join(dir, 'nap.csv');
    const r = napood('score', '--model', file, '--preset', 'cifar', '--features', tree, '--method', 'nap', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.slice(l.lastIndexOf(',') + 1)));
    // in process: the cifar preset in NHWC, the model, the NAP reference kernel on its NCHW map
    const list = await expandImageInputs([tree], { labels: 'auto' });
    const batch = await loadImages(list.items, { ...PRESETS.cifar!, layout: 'nhwc' }, { onSkip: () => undefined });
    const model = await loadOnnxModel(file, { threads: 1 });
    try {
      const run = await model.run(batch.data, batch.n, [batch.n, 32, 32, 3]);
      const want = napKernelJs(run.featureMap.data, run.n, 24, 64, 1, 2);
      assert.equal(rows.length, batch.n);
      rows.forEach((s, i) => assert.ok(Math.abs(s - want[i]!) <= 1e-9 * Math.abs(want[i]!), `row ${i}: ${s} vs ${want[i]}`));
    } finally {
      await model.release();
    }
    // A channels-first layout for this model is refused.
    const bad = napood('score', '--model', file, '--preset', 'cifar', '--layout', 'nchw', '--features', tree, '--method', 'nap', '--out', join(dir, 'bad.csv'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--layout: expected nhwc \(the model's input is channels last, \[N, H, W, C\]\), found nchw/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a preprocessed .npy for a channels-last model is NHWC: PyTorch input gives the PyTorch map\'s NAP; NCHW is refused', () => {
  const dir = `${FIXTURES}nhwc_transpose_op13/`;
  const tmp = mkdtempSync(join(tmpdir(), 'napood-nhwc-'));
  try {
    const out = join(tmp, 'nap.csv');
    let r = napood('score', '--model', `${dir}model.onnx`, '--features', `${dir}input.npy`, '--method', 'nap', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const got = readFileSync(out, 'utf8').trim().split('\n').slice(1).map(Number);
    const fm = readNpy(`${dir}feature_map.npy`);
    const want = napKernelJs(fm.data, 2, 24, 64, 1, 2);
    got.forEach((s, i) => assert.ok(Math.abs(s - want[i]!) <= 1e-4 * Math.abs(want[i]!), `row ${i}: ${s} vs ${want[i]}`));
    // an NCHW tensor (another model's input) is refused with the expected NHWC shape
    r = napood('score', '--model', `${dir}model.onnx`, '--features', `${FIXTURES}smallcnn_flatten_op13/input.npy`, '--method', 'nap', '--out', out);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected a preprocessed NHWC \(channels-last, as the model takes it\) tensor \[N, 32, 32, 3\]/);
  } finally {
    rmSync(tmp, { recursive: true });
  }
});
