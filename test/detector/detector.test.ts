/**
 * Detectors in the library: tune → calibrate → save → loadDetector → check gives the scores of
 * OodModel.score, the p-values of a count written here, the predicted class and MSP confidence of
 * the model; fitted states with typed arrays survive the file; the file says who chose the method
 * (tune, or the user when nothing was tuned); and every refusal of the issue:
 * a truncated, edited or newer-version file, a file that is no detector, a model that does not
 * match, a calibration set too small or shared with ID-val, an empty or all-corrupt set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDetector, openModel } from '../../src/node/index.js';
import { decodeDetector } from '../../src/app/detector-file.js';
import { NapoodError } from '../../src/errors.js';
import { repoRoot } from '../helpers.js';
import { modelPath, syntheticImages, tempDir, treeDir, writePngs } from './helpers.js';

const demoModel = join(repoRoot, 'examples', 'zoo', 'resnet.onnx');
const demoDump = join(repoRoot, 'test', 'fixtures', 'io', 'dump.safetensors');

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NapoodError, `a NapoodError, not ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('tune → calibrate → save → load → check: the scores of OodModel.score, conformal p-values, class and confidence', async () => {
  const t = tempDir();
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  const ref = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    const report = await od.tune(syntheticImages(30, 1), { methods: 'nap-e,nap-r,energy', train: syntheticImages(30, 2) });
    const det = await od.calibrate(syntheticImages(40, 3));
    const file = join(t.dir, 'model.detector');
    await det.save(file);
    const news = syntheticImages(12, 4);
    const folder = join(t.dir, 'new');
    await writePngs(folder, news);
    const loaded = await loadDetector(file, { model: modelPath });
    try {
      assert.equal(loaded.method, report.chosen);
      assert.equal(loaded.data.tune?.chosen, report.chosen, 'the tune report travels in the file');
      assert.equal(loaded.data.chosenBy, 'tune');
      await ref.fit(`${report.chosen},msp,maxlogit`, syntheticImages(30, 2));
      const want = await ref.score(news);
      for (const r of [await loaded.check(news), await loaded.check(folder)]) {
        assert.equal(r.rows.length, 12);
        const cal = loaded.data.calibration.scores;
        r.rows.forEach((row) => {
          const i = Number(/syn-4-(\d+)(\.png)?$/.exec(row.name)![1]);  // a folder lists its files sorted by name
          assert.equal(row.score, want.scores[report.chosen]![i], 'same score as OodModel.score');
          let count = 0;
          for (const s of cal) if (s <= row.score) count++;
          assert.equal(row.pValue, (1 + count) / (cal.length + 1));
          assert.equal(row.ood, row.score < loaded.threshold, 'OOD iff below the threshold at the detector\'s α');
          assert.ok(Math.abs(row.confidence - want.scores.msp![i]!) < 1e-12, 'confidence = max softmax');
        });
      }
      // Detector.check at another α; a level below 1/(n+1) is refused.
      const loose = await loaded.check(news, { alpha: 0.5 });
      loose.rows.forEach((row) => assert.equal(row.ood, row.pValue <= 0.5));
      await rejects(loaded.check(news, { alpha: 0.01 }), /alpha: expected a level α ≥ 1\/\(n \+ 1\)/);
      // The same bytes, from memory, without a model: images need one.
      const bare = await loadDetector(readFileSync(file));
      await rejects(bare.check(news), /a model to run images through/);
      await bare.release();
    } finally {
      await loaded.release();
    }
  } finally {
    await od.release();
    await ref.release();
    t.remove();
  }
});

test('fit() after tune() forgets the tune: the detector says the user chose the method, with no tune report', async () => {
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    const report = await od.tune(syntheticImages(30, 1), { methods: 'nap-e,energy', train: syntheticImages(30, 2) });
    const tuned = await od.calibrate(syntheticImages(25, 3), { tpr: 0.9 });
    assert.equal(tuned.data.chosenBy, 'tune');
    // The same spec, fitted again by the user (possibly on other data): no longer tune's choice.
    await od.fit(report.chosen, syntheticImages(30, 5));
    const refit = await od.calibrate(syntheticImages(25, 3), { tpr: 0.9 });
    assert.equal(refit.data.chosenBy, 'user');
    assert.equal(refit.data.tune, undefined);
  } finally {
    await od.release();
  }
});

test('a fitted state with typed arrays (DICE) round-trips through the file as tensors', async () => {
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    await od.fit('dice:p=70', syntheticImages(30, 2));
    const det = await od.calibrate(syntheticImages(25, 3), { tpr: 0.9 });
    const back = await decodeDetector(await det.bytes());
    assert.deepEqual(back.method.state, det.data.method.state);
    assert.deepEqual(Array.from(back.calibration.scores), Array.from(det.data.calibration.scores));
    assert.equal(back.calibration.threshold, det.threshold);
    assert.equal(back.chosenBy, 'user', 'fitted and calibrated without tune: fixed by the user');
    assert.equal(back.tune, undefined);
    const again = await decodeDetector(await (await (await import('../../src/app/detector.js')).openDetector(await det.bytes())).bytes());
    assert.deepEqual(again.method.state, det.data.method.state);
  } finally {
    await od.release();
  }
});

test('refused: truncated, edited, newer-version files, a file that is no detector, a different model', async () => {
  const t = tempDir();
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    await od.fit('nap');
    const bytes = await (await od.calibrate(syntheticImages(20, 3))).bytes();
    await rejects(decodeDetector(bytes.subarray(0, bytes.length - 3), 'd'), /^d: expected a file of \d+ bytes \(its header says so\), found \d+ bytes: truncated$/);
    await rejects(decodeDetector(bytes.subarray(0, 40), 'd'), /truncated/);
    await rejects(decodeDetector(bytes.subarray(0, 5), 'd'), /found 5 bytes/);
    const flipped = bytes.slice();
    flipped[flipped.length - 2] ^= 1;
    await rejects(decodeDetector(flipped, 'd'), /^d: expected contents that match the checksum .*edited or damaged/);
    const edited = bytes.slice();
    const at = Buffer.from(edited.buffer).indexOf('\\"tpr\\":0.95');
    assert.ok(at > 0);
    edited.set(new TextEncoder().encode('\\"tpr\\":0.90'), at);
    await rejects(decodeDetector(edited, 'd'), /checksum/);
    // A newer format version: the header rewritten with version "2".
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    header.__metadata__.version = '2';
    const json = new TextEncoder().encode(JSON.stringify(header));
    const newer = new Uint8Array(8 + json.length + bytes.length - 8 - n);
    new DataView(newer.buffer).setBigUint64(0, BigInt(json.length), true);
    newer.set(json, 8);
    newer.set(bytes.subarray(8 + n), 8 + json.length);
    await rejects(decodeDetector(newer, 'd'), /version 2, made by a newer napood: upgrade napood/);
    await rejects(decodeDetector(readFileSync(demoDump), 'dump'), /without napood detector metadata/);
    await rejects(decodeDetector(new TextEncoder().encode('{"not": "a detector"}'), 'j'), /a header length no detector has|truncated|bytes/);
    // A different model is refused before it is loaded; the same model as bytes is accepted.
    const file = join(t.dir, 'd.safetensors');
    writeFileSync(file, bytes);
    await rejects(loadDetector(file, { model: demoModel }), /^model: expected the model the detector .* was made with \(sha256 [0-9a-f]{12}…, model\.onnx\), found ".*zoo\/resnet\.onnx", a different model \(sha256 [0-9a-f]{12}…\)$/);
    const changed = new Uint8Array([...readFileSync(modelPath), 0]);
    await rejects(loadDetector(file, { model: changed }), /a different model/);
    (await loadDetector(file, { model: readFileSync(modelPath) })).release();
  } finally {
    await od.release();
    t.remove();
  }
});

test('refused: a calibration set too small for the TPR or shared with ID-val; an empty or all-corrupt set; nothing written half', async () => {
  const t = tempDir();
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    await od.fit('nap');
    await rejects(od.calibrate(syntheticImages(10, 3)), /^calibration: expected at least 19 ID images for a threshold at TPR 95 %.*found at most 10$/);
    await rejects(od.calibrate(syntheticImages(40, 3), { tpr: 0.99 }), /at least 99 ID images/);
    const val = syntheticImages(20, 1);
    await od.tune(val, { methods: 'nap,energy' });
    await rejects(od.calibrate([...val.slice(0, 3), ...syntheticImages(20, 5)]), /shared with the ID-val set \(first: syn-1-0\)/);
    await rejects(od.tune([], { methods: 'nap' }), /at least one/);
    const bad = join(t.dir, 'bad');
    mkdirSync(bad);
    for (const f of ['x_bad.jpg', 'x_cut.png', 'x_text.png']) copyFileSync(join(treeDir, 'dog', f), join(bad, f));
    await rejects(od.tune(bad, { methods: 'nap' }), /expected at least one image that can be decoded, found none: all 3 skipped/);
    const empty = join(t.dir, 'empty');
    mkdirSync(empty);
    await rejects(od.tune(empty, { methods: 'nap' }), /empty|no image|at least one/i);
    // A calibration set of 19 files of which 2 do not decode: refused after scoring, nothing saved.
    const cal = join(t.dir, 'cal');
    await writePngs(cal, syntheticImages(17, 6));
    copyFileSync(join(treeDir, 'dog', 'x_bad.jpg'), join(cal, 'zz_bad.jpg'));
    copyFileSync(join(treeDir, 'dog', 'x_cut.png'), join(cal, 'zz_cut.png'));
    await rejects(od.calibrate(cal), /at least 19 ID images .*found 17$/);
    assert.ok(!existsSync(join(t.dir, 'd.safetensors')));
  } finally {
    await od.release();
    t.remove();
  }
});
