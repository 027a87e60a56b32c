/**
 * The 19 corruptions against tools/golden_corruptions.py (the hendrycks/robustness functions run
 * with numpy / scipy / skimage / OpenCV / ImageMagick (Wand) / Pillow on the same random fields):
 * 32×32 RGB, 32×32 and 28×28 grey (CIFAR-C parameters, severities 1–5), 72×64 RGB (ImageNet-C
 * parameters, severities 2 and 5). Each differs from the reference by at most one level (all are
 * equal when generated: the test prints the counts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifest, npy, loadImage, runGolden, diffU8 } from './helpers.js';

for (const name of manifest.corruptions) {
  test(`${name} equals the reference on every golden image and severity`, (t) => {
    const notes: string[] = [];
    for (const g of manifest.images) {
      const img = loadImage(g);
      const z = npy(`${g.name}_z.npy`).data;
      const exp = npy(`${g.name}_expected.npy`).data;
      const per = g.width * g.height * g.channels;
      const ci = manifest.corruptions.indexOf(name);
      g.severities.forEach((sev, si) => {
        const out = runGolden(name, img, sev, g.params, g.index, z);
        assert.equal(out.length, per);
        const off = (ci * g.severities.length + si) * per;
        const d = diffU8(out, exp.subarray(off, off + per));
        notes.push(`${g.name} s${sev}: max ${d.max}, ${d.count} differ`);
        assert.ok(d.max <= 1, `${name} ${g.name} severity ${sev}: max difference ${d.max} (${d.over1} values off by more than 1)`);
        assert.ok(d.count <= per * 0.01, `${name} ${g.name} severity ${sev}: ${d.count} of ${per} values differ`);
      });
    }
    t.diagnostic(notes.join('; '));
  });
}
