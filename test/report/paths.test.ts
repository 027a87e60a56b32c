/** The report names its inputs as the config writes them, not by this machine's absolute paths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { asWritten } from '../../src/node/report-run.js';
import type { ModelConfig } from '../../src/app/report/config.js';

test('asWritten: every input path of a model, resolved, reads as the config writes it', () => {
  const dir = resolve('/srv/configs');
  const m = {
    name: 'vgg', path: '../zoo/vgg.onnx', preprocess: '../zoo/vgg.json',
    sets: { train: { path: '../zoo/data/train.npy', labels: '../zoo/data/train_labels.npy' }, id: { path: '../zoo/data/test.npy' }, ood: [{ name: 'mnist', path: '@lists/mnist.txt' }] },
    tune: { val: { path: 'val/' } },
  } as unknown as ModelConfig;
  const abs = (p: string) => resolve(dir, p);
  const note = `vgg: dice left out (models[3].sets.id ${abs('../zoo/data/test.npy')}: expected …; ${abs('../zoo/data/train_labels.npy')} and ${abs('../zoo/data/train.npy')}; @${abs('lists/mnist.txt')}; ${abs('val')})`;
  assert.equal(asWritten(note, m, dir), 'vgg: dice left out (models[3].sets.id ../zoo/data/test.npy: expected …; ../zoo/data/train_labels.npy and ../zoo/data/train.npy; @lists/mnist.txt; val)');
  // Text without those paths is left as it is; an absolute path in the config stays absolute.
  assert.equal(asWritten('nothing here /srv/other.npy', m, dir), 'nothing here /srv/other.npy');
  const absolute = { ...m, sets: { ...m.sets, id: { path: '/data/test.npy' } } } as unknown as ModelConfig;
  assert.equal(asWritten('at /data/test.npy', absolute, dir), 'at /data/test.npy');
});
