/**
 * `napood tune` and `napood check` as a user runs them (the built binary in a child process):
 * the detector and report files, the table / TSV (the default in a pipe) / JSON lines / CSV of check, exit code 3 with
 * --fail-on-ood, the dump route (dumps made in the test: --pseudo-ood, no model), and refusals that leave no
 * file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, runNode } from '../helpers.js';
import { decodeDetector } from '../../src/app/detector-file.js';
import { sha256File } from '../../src/node/io/sha256.js';
import { modelPath, pseudoByHand, syntheticImages, tempDir, writePngs } from './helpers.js';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const otherModel = join(repoRoot, 'examples', 'zoo', 'resnet.onnx');
const otherDump = join(repoRoot, 'test', 'fixtures', 'golden', 'random', 'test');

function napood(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runNode(bin, args);
}

test('napood tune --model … --cal … --out, then napood check: table, --json, --csv, --fail-on-ood; refusals', async () => {
  const t = tempDir();
  try {
    const [val, train, cal, news, small] = ['val', 'train', 'cal', 'new', 'small'].map((d) => join(t.dir, d)) as [string, string, string, string, string];
    await writePngs(val, syntheticImages(30, 1));
    await writePngs(train, syntheticImages(30, 2));
    await writePngs(cal, syntheticImages(30, 3));
    await writePngs(news, syntheticImages(6, 4));
    await writePngs(small, syntheticImages(10, 5));
    const det = join(t.dir, 'm.detector');
    const json = join(t.dir, 'tune.json');
    const model = ['--model', modelPath, '--preset', 'cifar'];
    const [tuned, tooSmall, noCal, sameSet] = await Promise.all([
      napood('tune', ...model, '--val', val, '--fit', train, '--methods', 'nap,energy,nap-e,nap-r', '--cal', cal, '--out', det, '--json', json),
      napood('tune', ...model, '--val', val, '--methods', 'nap', '--cal', small, '--out', join(t.dir, 'x.detector'), '--json', join(t.dir, 'x.json')),
      napood('tune', ...model, '--val', val, '--methods', 'nap', '--out', join(t.dir, 'y.detector')),
      napood('tune', ...model, '--val', val, '--methods', 'nap', '--cal', val + '/', '--out', join(t.dir, 'z.detector')),
    ]);
    assert.equal(tuned.code, 0, tuned.stderr);
    assert.match(tuned.stdout, /rank +method +tuned +AUROC↑ +FPR95↓/);
    assert.match(tuned.stdout, /^chosen: nap|^chosen: energy/m);
    assert.match(tuned.stdout, /threshold: .* is ID \(α = 0\.05: order statistic k = ⌊α\(n \+ 1\)⌋ = 1 of n = 30 calibration scores\)/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.kind, 'tune');
    assert.equal(report.candidates.length, 4);
    assert.equal(tooSmall.code, 2);
    assert.match(tooSmall.stderr, /^napood tune: --cal .*small: expected at least 19 ID images for a threshold at TPR 95 %.*found at most 10$/m);
    assert.ok(!existsSync(join(t.dir, 'x.detector')) && !existsSync(join(t.dir, 'x.json')), 'a refused run writes nothing');
    assert.match(noCal.stderr, /--out: expected --cal SET with it/);
    assert.match(sameSet.stderr, /--cal: expected held-out ID data, not the --val set/);
    assert.ok(!existsSync(join(t.dir, 'y.detector')) && !existsSync(join(t.dir, 'z.detector')));

    const check = ['check', '--detector', det, '--model', modelPath];
    const [table, lines, csv, failing, wrongModel, noInput, lowAlpha, piped] = await Promise.all([
      napood(...check, '--table', news),
      napood(...check, '--json', news),
      napood(...check, '--csv', join(news, 'syn-4-0.png'), join(news, 'syn-4-1.png')),
      napood(...check, '--alpha', '0.5', '--fail-on-ood', news),
      napood('check', '--detector', det, '--model', otherModel, news),
      napood(...check),
      napood(...check, '--alpha', '0.001', news),
      napood(...check, news),
    ]);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trimEnd().split('\n');
    assert.match(rows[0]!, /^input +score +p-value +verdict +class +confidence$/);
    assert.equal(rows.length, 7);
    assert.match(table.stderr, /napood check: \d of 6 inputs OOD \(.*OOD iff p-value ≤ 0\.05, i\.e\. score < /);
    const objs = lines.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(objs.length, 6);
    for (const o of objs) {
      assert.deepEqual(Object.keys(o), ['path', 'score', 'p_value', 'verdict', 'class', 'confidence']);
      assert.ok(o.verdict === 'ID' || o.verdict === 'OOD');
    }
    // stdout is a pipe here: tab-separated values by default, the same rows as --json.
    assert.equal(piped.code, 0, piped.stderr);
    const tsv = piped.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(tsv[0], ['path', 'score', 'p_value', 'verdict', 'class', 'confidence']);
    assert.equal(tsv.length, 7);
    assert.ok(!/ {2}/.test(piped.stdout), 'no padding');
    for (const [i, f] of tsv.slice(1).entries()) {
      assert.equal(f.length, 6);
      const o = objs[i]!;
      assert.deepEqual([f[0], Number(f[1]), Number(f[2]), f[3], f[4], Number(f[5])], [o.path, o.score, o.p_value, o.verdict, String(o.class), o.confidence], 'full-precision numbers, as --json');
    }
    assert.equal(csv.stdout.split('\n')[0], 'path,score,p_value,verdict,class,confidence');
    assert.equal(csv.stdout.trimEnd().split('\n').length, 3);
    const anyOod = objs.some((o) => o.p_value <= 0.5);
    assert.equal(failing.code, anyOod ? 3 : 0, failing.stderr);
    assert.ok(anyOod, 'at α = 0.5 some of 6 ID-like inputs are flagged');
    assert.equal(wrongModel.code, 2);
    assert.match(wrongModel.stderr, /^napood check: --model: expected the model the detector .* was made with \(sha256 [0-9a-f]{12}…, .*model\.onnx\), found ".*zoo\/resnet\.onnx", a different model/m);
    assert.match(noInput.stderr, /INPUT: expected at least one input/);
    assert.equal(lowAlpha.code, 2);
    assert.match(lowAlpha.stderr, /--alpha: expected a level α ≥ 1\/\(n \+ 1\) = 0\.0323 for the 30 calibration scores/);
  } finally {
    t.remove();
  }
});

test('napood tune on feature dumps (--pseudo-ood), then napood check DUMP without a model; a dump of another model is refused', async () => {
  const t = tempDir();
  try {
    const val = syntheticImages(30, 1);
    const dirs = { val: join(t.dir, 'val'), cal: join(t.dir, 'cal'), pseudo: join(t.dir, 'pseudo') };
    await writePngs(dirs.val, val);
    await writePngs(dirs.cal, syntheticImages(30, 3));
    await writePngs(dirs.pseudo, pseudoByHand(val));
    const dump = (d: string) => join(t.dir, `${d}.safetensors`);
    const made = await Promise.all(Object.entries(dirs).map(([k, d]) => napood('dump', '--model', modelPath, '--preset', 'cifar', '--images', d, '--out', dump(k))));
    for (const m of made) assert.equal(m.code, 0, m.stderr);
    const det = join(t.dir, 'dumps.detector');
    const tuned = await napood('tune', '--val', dump('val'), '--pseudo-ood', dump('pseudo'), '--methods', 'nap,energy,nap-e', '--cal', dump('cal'), '--out', det, '--bootstrap', '100');
    assert.equal(tuned.code, 0, tuned.stderr);
    const data = await decodeDetector(readFileSync(det));
    assert.equal(data.source, 'dumps');
    assert.equal(data.model.sha256, sha256File(modelPath), 'the dumps\' model_sha256 is recorded');
    const fixed = join(t.dir, 'fixed.detector');
    const [own, other, withModel, calibrated] = await Promise.all([
      napood('check', '--detector', det, '--json', dump('val')),
      napood('check', '--detector', det, otherDump),
      napood('check', '--detector', det, '--model', modelPath, dump('val')),
      napood('calibrate', '--methods', 'nap-e:w=0.4', '--cal', dump('cal'), '--out', fixed, '--bootstrap', '0'),
    ]);
    // napood calibrate on dumps: no model, nothing tuned; the dumps' model is recorded; it checks dumps.
    assert.equal(calibrated.code, 0, calibrated.stderr);
    const fixedData = await decodeDetector(readFileSync(fixed));
    assert.equal(fixedData.source, 'dumps');
    assert.equal(fixedData.chosenBy, 'user');
    assert.equal(fixedData.model.sha256, sha256File(modelPath));
    const checkedFixed = await napood('check', '--detector', fixed, '--tsv', dump('val'));
    assert.equal(checkedFixed.code, 0, checkedFixed.stderr);
    assert.equal(checkedFixed.stdout.trimEnd().split('\n').length, 31);
    assert.equal(own.code, 0, own.stderr);
    const rows = own.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 30);
    assert.ok(rows.every((r) => r.path.startsWith(dirs.val)), 'rows named by the image paths the dump keeps');
    assert.equal(other.code, 2);
    assert.match(other.stderr, /expected features of the detector's model/);
    assert.equal(withModel.code, 2);
    assert.match(withModel.stderr, /no model with a detector made from feature dumps/);
  } finally {
    t.remove();
  }
});
