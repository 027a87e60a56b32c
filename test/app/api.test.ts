/**
 * The high-level API (src/app/api.ts, napood/node's openModel) against the PyTorch golden of the
 * image pipeline (tools/golden_image_pipeline.py → test/fixtures/pipeline/expected.json): the
 * same scores from paths, from file bytes, from decoded pixels and from a model given as bytes;
 * the same metrics from evaluate(); a state saved and loaded scores the same; library code
 * writes nothing to stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModel, nodeImageDecoder, OodModel, textTable } from '../../src/node/index.js';
import { fixturesDir, repoRoot } from '../helpers.js';

const pipeline = join(fixturesDir, 'pipeline');
const modelPath = join(pipeline, 'model.onnx');
const tree = join(fixturesDir, 'images', 'tree');
const extra = join(fixturesDir, 'images', 'extra');
interface Expected {
  id: { paths: string[]; scores: Record<string, number[]> };
  ood: { paths: string[]; scores: Record<string, number[]> };
  metrics: Record<string, { auroc: number; fpr95: number }>;
}
const expected = JSON.parse(readFileSync(join(pipeline, 'expected.json'), 'utf8')) as Expected;
const METHODS = ['nap', 'energy', 'msp', 'odin', 'react'];
const TOL: Record<string, number> = { nap: 1e-5, energy: 1e-5, msp: 1e-5, odin: 1e-8, react: 1e-5 };

function close(got: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
}

/** Fail the test if library code writes to stderr while `fn` runs. */
async function noStderr<T>(fn: () => Promise<T>): Promise<T> {
  const original = process.stderr.write.bind(process.stderr);
  const written: string[] = [];
  process.stderr.write = ((chunk: unknown) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stderr.write = original;
    assert.deepEqual(written, [], 'library code wrote to stderr');
  }
}

function checkScores(scores: Readonly<Record<string, Float64Array>>, names: readonly string[] | undefined, what: string): void {
  for (const m of METHODS) {
    assert.equal(scores[m]!.length, expected.id.paths.length, `${what} ${m}: one score per decodable image`);
    expected.id.paths.forEach((p, i) => {
      if (names) assert.equal(names[i], join(repoRoot, p), `${what}: row ${i} is ${p}`);
      close(scores[m]![i]!, expected.id.scores[m]![i]!, TOL[m]!, `${what} ${m} ${p}`);
    });
  }
}

test('openModel(path): fit, score a folder, evaluate, as the PyTorch golden; notes through events only', async () => {
  const notes: string[] = [];
  const od = await openModel(modelPath, { preprocess: 'cifar', events: { note: (m) => notes.push(m), warning: (m) => notes.push(m) } });
  try {
    await noStderr(async () => {
      await od.fit(METHODS.join(','), tree);
      const { scores, names } = await od.score(tree);
      checkScores(scores, names, 'folder');
      const report = await od.evaluate(tree, { extra }, { bootstrap: 0 });
      for (const m of METHODS) {
        const r = report.methods.find((x) => x.method === m)!;
        close(r.results.extra!.auroc, 100 * expected.metrics[m]!.auroc, 1e-9, `${m} AUROC`);
        close(r.results.extra!.fpr95, 100 * expected.metrics[m]!.fpr95, 1e-9, `${m} FPR95`);
      }
      assert.match(textTable(report), /FPR95↓ AUROC↑/);
    });
    assert.ok(notes.some((n) => /skipped .*x_bad\.jpg/.test(n)), 'the corrupt image of the tree is told through events.note');
  } finally {
    await od.release();
  }
});

test('the same scores from file bytes, decoded pixels, a model given as bytes, and a saved state', async () => {
  const od = await openModel(new Uint8Array(readFileSync(modelPath)), { preprocess: 'cifar' });
  const dir = mkdtempSync(join(tmpdir(), 'napood-api-'));
  try {
    await noStderr(async () => {
      await od.fit(METHODS, tree);
      const files = expected.id.paths.map((p) => new Uint8Array(readFileSync(join(repoRoot, p))));
      checkScores((await od.score(files)).scores, undefined, 'bytes');
      const decoder = nodeImageDecoder();
      const pixels = await Promise.all(files.map((b) => decoder.decode(b, { maxPixels: 1e7 })));
      checkScores((await od.score(pixels.map((d, i) => ({ name: `img${i}`, image: d })))).scores, undefined, 'pixels');
      const one = await od.score(files[0]!);
      assert.equal(one.n, 1);
      close(one.scores.nap![0]!, expected.id.scores.nap![0]!, 1e-5, 'one image');

      await od.saveState(join(dir, 'state.json'));
      const again = await openModel(modelPath, { preprocess: 'cifar' });
      try {
        again.loadStateFile(join(dir, 'state.json'), METHODS);
        checkScores((await again.score(tree)).scores, undefined, 'loaded state');
      } finally {
        await again.release();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await od.release();
  }
});

test('OodModel refuses use before methods are set, unknown presets and missing states, by name', async () => {
  const od = await openModel(modelPath);
  try {
    await assert.rejects(od.score(tree), /methods: expected methods set with fit/);
    assert.throws(() => new OodModel(od.classifier, { preprocess: 'nope' }), /preprocess: expected a preset among imagenet, cifar, mnist/);
    assert.throws(() => od.loadState('{"napood":1,"methods":[]}', 'react'), /state: expected a fitted state for react/);
    assert.throws(() => od.loadState('{"napood":7,"methods":[]}'), /version 7 \(made by a newer napood\)/);
    await assert.rejects(od.fit('react'), /--fit: expected ID-train features to fit react/);
  } finally {
    await od.release();
  }
});
