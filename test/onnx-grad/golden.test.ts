/**
 * Input gradients and ODIN scores of the generated gradient models against PyTorch autograd
 * (float64), on the real-architecture ONNX fixtures (resnet18, mobilenet_v2, densenet121, vgg_mlp,
 * the small CNNs, at several opsets) and the synthetic op models of tools/make_grad_fixtures.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createOdinScorer } from '../../src/app/model-access.js';
import { odinLogitGradient } from '../../src/methods/odin.js';
import { nodeRuntime as ORT } from '../../src/node/onnx.js';
import { maxSoftmaxRows } from '../../src/methods/common.js';
import { FIXTURES, gradMeta, maxAbs, maxAbsDiff, readF32, readNpy, relErrorPerRow } from './helpers.js';

const meta = gradMeta();

test('meta.json covers every architecture the issue names', () => {
  const names = meta.models.map((m) => m.name);
  for (const arch of ['resnet18', 'mobilenet_v2', 'densenet121', 'vgg_mlp', 'smallcnn_flatten', 'smallcnn_mean', 'smallcnn_view', 'smallcnn_matmul', 'opsnet', 'opsnet2', 'opsnet3']) {
    assert.ok(names.some((n) => n.startsWith(arch + '_op')), `no fixture for ${arch}`);
  }
  assert.equal(meta.T, 1000);
  assert.equal(meta.noise, 0.0014);
});

for (const m of meta.models) {
  test(`${m.name}: ∇ₓ CE(f/T, ŷ) and ODIN scores match PyTorch autograd`, async () => {
    const bytes = new Uint8Array(readFileSync(FIXTURES + m.model));
    const x = readF32(FIXTURES + m.input);
    const ref = (f: string) => readNpy(`${FIXTURES}${m.ref}/${f}`).data;
    const gRef = readF32(`${FIXTURES}${m.ref}/grad.npy`);
    const n = 2;
    const per = gRef.length / n;
    const scorer = await createOdinScorer(bytes, { std: meta.std, temperature: meta.T, noise: meta.noise, file: m.name }, ORT);
    try {
      const d = await scorer.details(x, n);
      const k = scorer.numClasses;
      // forward and dL/df
      const fRef = ref('logits.npy');
      assert.ok(maxAbsDiff(d.logits, fRef) <= 1e-4 * Math.max(1, maxAbs(fRef)), `logits off by ${maxAbsDiff(d.logits, fRef)}`);
      const seed = odinLogitGradient(d.logits, n, k, meta.T);
      const seedRef = ref('dlogits.npy');
      assert.ok(maxAbsDiff(seed, seedRef) <= 1e-5 * maxAbs(seedRef), `dL/df off by ${maxAbsDiff(seed, seedRef)}`);
      // gradient: per sample, relative to its largest value
      const rel = relErrorPerRow(d.gradient, gRef, per);
      for (const [r, e] of rel.entries()) assert.ok(e <= 1e-4, `sample ${r}: max |g − g_ref| / max |g_ref| = ${e}`);
      // sign agreement wherever |g_ref| is not tiny
      for (let r = 0; r < n; r++) {
        const row = gRef.subarray(r * per, (r + 1) * per);
        const top = maxAbs(row);
        const floor = 1e-3 * top;
        let checked = 0;
        let nonzero = 0;
        for (let i = 0; i < per; i++) {
          const gr = row[i]!;
          const got = d.gradient[r * per + i]!;
          if (gr === 0) {
            // inputs no window reaches (opsnet's stride-2 dilation-2 conv skips 3 pixels in 4)
            assert.ok(Math.abs(got) <= 1e-6 * top, `sample ${r} pixel ${i}: ${got} where PyTorch has 0`);
            continue;
          }
          nonzero++;
          if (Math.abs(gr) <= floor) continue;
          checked++;
          assert.equal(got >= 0, gr >= 0, `sample ${r} pixel ${i}: sign of ${got} vs ${gr}`);
        }
        assert.ok(checked > 0.5 * nonzero, `sample ${r}: only ${checked} of ${nonzero} non-zero gradient values above the tiny floor`);
      }
      // ODIN scores, and the perturbation's own effect on them (it is ~1e-7 – 1e-4 at T = 1000)
      const odinRef = ref('odin.npy');
      assert.ok(maxAbsDiff(d.scores, odinRef) <= 1e-5, `ODIN scores off by ${maxAbsDiff(d.scores, odinRef)}`);
      const plainRef = maxSoftmaxRows(Float32Array.from(fRef), n, k, meta.T);
      const plain = maxSoftmaxRows(d.logits, n, k, meta.T);
      for (let r = 0; r < n; r++) {
        const effRef = odinRef[r]! - plainRef[r]!;
        const eff = d.scores[r]! - plain[r]!;
        assert.ok(Math.abs(eff - effRef) <= 1e-2 * Math.abs(effRef) + 1e-12,
          `sample ${r}: perturbation moves the score by ${eff}, PyTorch by ${effRef}`);
      }
    } finally {
      await scorer.release();
    }
    // T = 1: the same η moves the score much more
    const s1 = await createOdinScorer(bytes, { std: meta.std, temperature: 1, noise: meta.noise, file: m.name }, ORT);
    try {
      const got = await s1.scores(x, n);
      const want = ref('odin_t1.npy');
      assert.ok(maxAbsDiff(got, want) <= 1e-5, `T = 1 scores ${Array.from(got)} vs ${Array.from(want)}`);
    } finally {
      await s1.release();
    }
  });
}
