/** The report config: defaults, the paper's w presets, shared and per-model sets, and errors naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_METHODS, parseReportConfig, parseReportConfigText } from '../../src/app/report/config.js';
import { NapoodError } from '../../src/errors.js';

const sets = { id: 'val/', ood: [{ name: 'svhn', path: 'svhn/', group: 'near' }] };

test('defaults: the paper\'s methods, w grid 0..1 step 0.1, NAP p/ε grids, 1000 bootstrap replicates', () => {
  const c = parseReportConfig({ models: [{ name: 'r18', path: 'r18.onnx', preprocess: 'cifar' }], sets });
  assert.deepEqual(c.methods.map((m) => m.text), [...DEFAULT_METHODS]);
  assert.equal(c.defaultMethods, true);
  assert.deepEqual(c.sweeps.w, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  assert.deepEqual(c.sweeps.nap, { p: [1, 2, 3, 4], eps: [0.01, 0.1, 1, 10] });
  assert.equal(c.bootstrap, 1000);
  assert.equal(c.models[0].layers, 'auto');
  assert.equal(c.methods.find((m) => m.name === 'nap-e')!.params.w, 0.6, 'ImageNet w by default');
});

test('paperW sets the paper\'s w of NAP-X given without w; an explicit w wins', () => {
  const c = parseReportConfig({ models: [{ name: 'a', path: 'a.onnx' }], sets, paperW: 'cifar10', methods: ['nap-e', 'nap-r:p=95', 'nap-a:w=0.7'] });
  assert.deepEqual(c.methods.map((m) => m.text), ['nap-e:w=0.4', 'nap-r:w=0.4,p=95', 'nap-a:w=0.7']);
});

test('per-model sets override the shared ones key by key', () => {
  const c = parseReportConfig({
    models: [{ name: 'a', path: 'a.onnx' }, { name: 'b', path: 'b.onnx', sets: { id: { path: 'b.npy', labels: 'y.npy' } } }],
    sets: { ...sets, train: 'train/' },
  });
  assert.equal(c.models[0].sets.id.path, 'val/');
  assert.deepEqual(c.models[1].sets.id, { path: 'b.npy', labels: 'y.npy' });
  assert.equal(c.models[1].sets.train!.path, 'train/');
  assert.equal(c.models[1].sets.ood[0].group, 'near');
});

test('errors name the field, what was expected and what was found', () => {
  const bad: [unknown, RegExp][] = [
    [{ models: [] }, /^models: expected a non-empty array/],
    [{ models: [{ name: 'a', path: 'a.onnx' }] }, /^models\[0\]\.sets\.id: expected an ID test set/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets: { id: 'x', ood: [{ name: 'o', path: 'p', group: 'middle' }] } }, /^sets\.ood\[0\]\.group: expected "near" or "far", found "middle"/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets: { id: 'x', ood: [{ name: 'id', path: 'p', group: 'far' }] } }, /^sets\.ood\[0\]\.name: expected distinct set names/],
    [{ models: [{ name: 'a b', path: 'a.onnx' }], sets }, /^models\[0\]\.name: expected a distinct name/],
    [{ models: [{ name: 'a', path: 'a.onnx', colour: 1 }], sets }, /^models\[0\]\.colour: expected one of the fields/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, methods: ['nap', 'bogus'] }, /^methods\[1\]: expected one of nap, msp/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, methods: ['nap', 'nap:p=2'] }, /^methods\[1\]: expected each method spec once \(nap:p=2 is nap\)/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, sweeps: { w: [0, 1.5] } }, /^sweeps\.w\[1\]: expected a number in \[0, 1\], found 1\.5/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, sweeps: { nap: { eps: [] } } }, /^sweeps\.nap\.eps: expected a non-empty array/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, bootstrap: -1 }, /^bootstrap: expected an integer in \[0, 100000\], found -1/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, paperW: 'svhn' }, /^paperW: expected "imagenet", "cifar10" or "cifar100"/],
    [{ models: [{ name: 'a', path: 'a.onnx' }], sets, layerCombos: [['x']] }, /^layerCombos\[0\]: expected an array of at least two layer names/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseReportConfig(json), (e: unknown) => e instanceof NapoodError && re.test(e.message), JSON.stringify(json));
  assert.throws(() => parseReportConfigText('{', 'c.json'), { message: /^c\.json: expected a JSON report configuration/ });
  assert.throws(() => parseReportConfigText('{"models": 3}', 'c.json'), { message: /^c\.json: models: expected/ });
});

test('the example configs validate (examples/report/cifar10.json, zoo.json)', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { repoRoot } = await import('../helpers.js');
  for (const f of ['cifar10.json', 'zoo.json']) {
    const path = join(repoRoot, 'examples', 'report', f);
    const c = parseReportConfigText(readFileSync(path, 'utf8'), path);
    assert.ok(c.models.length >= 2, f);
  }
});
