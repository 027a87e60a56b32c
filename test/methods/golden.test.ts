/**
 * Every method against the independent numpy/PyTorch reference (tools/golden_methods.py):
 * for each case in test/fixtures/golden and each method spec in its expected.json, fit on the
 * case's train dump, score its test dump, compare to 1e-5 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitMethods, scoreSource } from '../../src/run/pipeline.js';
import { parseMethodSpec } from '../../src/run/spec.js';
import { METHODS } from '../../src/methods/registry.js';
import { openDumpSource, resolveHead } from '../../src/node/sources.js';
import { fixturesDir } from '../helpers.js';

const root = join(fixturesDir, 'golden');
const cases = readdirSync(root).filter((d) => existsSync(join(root, d, 'test', 'featureMap.npy')) && existsSync(join(root, d, 'expected.json')));

function close(actual: number, expected: number, rel = 1e-5, abs = 1e-9): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= Math.max(abs, rel * Math.abs(expected));
}

test('golden cases exist and cover every registered method', () => {
  assert.ok(cases.length >= 6, `found ${cases.length} cases`);
  const covered = new Set<string>();
  for (const c of cases) {
    const expected = JSON.parse(readFileSync(join(root, c, 'expected.json'), 'utf8'));
    for (const spec of Object.keys(expected.methods)) covered.add(spec.split(':')[0]);
  }
  for (const name of METHODS.keys()) assert.ok(covered.has(name), `no golden values for ${name}`);
});

for (const c of cases) {
  test(`golden: ${c}`, async (t) => {
    const expected = JSON.parse(readFileSync(join(root, c, 'expected.json'), 'utf8')) as { methods: Record<string, number[]> };
    const testSource = openDumpSource(join(root, c, 'test'), '--features');
    const trainSource = openDumpSource(join(root, c, 'train'), '--fit');
    const head = resolveHead(undefined, [testSource, trainSource]);
    for (const [text, want] of Object.entries(expected.methods)) {
      await t.test(text, async () => {
        const spec = parseMethodSpec(text);
        const fitted = await fitMethods([spec], trainSource, head);
        const run = await scoreSource(fitted, testSource, head);
        const got = run.results[0].scores;
        assert.equal(got.length, want.length);
        for (let i = 0; i < want.length; i++) {
          assert.ok(close(got[i], want[i]), `${c} ${text} row ${i}: got ${got[i]}, expected ${want[i]}`);
        }
      });
    }
    testSource.dump.close();
    trainSource.dump.close();
  });
}

/** Sign convention: on a dump built to be ID-like, every method scores above an OOD-like one. */
test('sign: every method scores ID-like data above OOD-like data', async (t) => {
  const dir = join(root, 'sign');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { means: Record<string, { id: number; ood: number }> };
  const id = openDumpSource(join(dir, 'id'), '--id');
  const ood = openDumpSource(join(dir, 'ood'), '--ood');
  const train = openDumpSource(join(dir, 'train'), '--fit');
  const head = resolveHead(undefined, [id, train]);
  const specs = [...METHODS.keys()].map((name) => parseMethodSpec(name === 'odin' ? 'odin:noise=0' : name));
  const fitted = await fitMethods(specs, train, head);
  const idRun = await scoreSource(fitted, id, head);
  const oodRun = await scoreSource(fitted, ood, head);
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  for (let i = 0; i < specs.length; i++) {
    await t.test(specs[i].text, () => {
      const idMean = mean(idRun.results[i].scores);
      const oodMean = mean(oodRun.results[i].scores);
      assert.ok(idMean > oodMean, `${specs[i].text}: mean ID score ${idMean} is not above mean OOD score ${oodMean}`);
      const ref = expected.means[specs[i].text];
      if (ref) assert.ok(close(idMean, ref.id) && close(oodMean, ref.ood), `${specs[i].text}: means ${idMean}/${oodMean} differ from the reference ${ref.id}/${ref.ood}`);
    });
  }
  for (const s of [id, ood, train]) s.dump.close();
});
