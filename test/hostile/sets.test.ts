/**
 * Hostile sets (issue #10): ID labels outside [0, K) in a dump (they would give 0 % accuracy
 * without a word) are refused naming the set and the first bad row; a --head file of the wrong
 * size is blamed on --head and its path, not on the feature sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NapoodError } from '../../src/errors.js';
import { checkCompatible } from '../../src/app/checks.js';
import { writeNpy } from '../../src/node/io/npy.js';
import { openDumpSource } from '../../src/node/sources.js';
import { linearHead } from '../../src/methods/common.js';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const N = 12, C = 6, K = 4;

function napood(...args: string[]): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr };
}

function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => { s = (s * 16807) % 2147483647; return (s / 2147483647) * 2; });
}

/** A dump folder of .npy files: pooled [N, C], optionally logits [N, k] and labels. */
function dump(dir: string, opts: { labels?: number[]; logitsK?: number; c?: number; seed?: number }): string {
  mkdirSync(dir, { recursive: true });
  const c = opts.c ?? C;
  writeNpy(join(dir, 'pooled.npy'), values(N * c, opts.seed ?? 3), [N, c]);
  if (opts.logitsK) writeNpy(join(dir, 'logits.npy'), values(N * opts.logitsK, 5), [N, opts.logitsK]);
  if (opts.labels) writeNpy(join(dir, 'labels.npy'), Int32Array.from(opts.labels), [N]);
  return dir;
}

function head(dir: string, k: number, c: number): string {
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'head.weight.npy'), values(k * c, 7), [k, c]);
  writeNpy(join(dir, 'head.bias.npy'), new Float32Array(k), [k]);
  return dir;
}

const goodLabels = Array.from({ length: N }, (_, i) => i % K);

test('dump labels ≥ K are refused as they are read, naming the set and the row', () => {
  const t = mkdtempSync(join(tmpdir(), 'napood-hostile-sets-'));
  try {
    const bad = [...goodLabels];
    bad[7] = K; // one past the last class
    bad[9] = 1000;
    const d = dump(join(t, 'id'), { labels: bad, logitsK: K });
    const src = openDumpSource(d, '--id');
    assert.throws(() => { for (const _ of src.batches(['logits', 'labels']) as Iterable<unknown>) { /* read */ } }, (e: unknown) =>
      e instanceof NapoodError && e.message === `--id ${d} labels: expected class indices in [0, ${K}) (the ${K} classes of the logits / head) or −1 for unknown, found ${K} at row 7`);
    src.close();
    // The CLI: eval over the dump refuses instead of reporting 0 % accuracy.
    const ood = dump(join(t, 'ood'), { logitsK: K, seed: 9 });
    const r = napood('eval', '--id', d, '--ood', `x=${ood}`, '--methods', 'msp', '--bootstrap', '0');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`--id ${d.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} labels: expected class indices in \\[0, ${K}\\) .*found ${K} at row 7`));
    // Labels below −1: refused by the dump reader, with the row.
    const neg = [...goodLabels];
    neg[2] = -5;
    const d2 = dump(join(t, 'neg'), { labels: neg, logitsK: K });
    const r2 = napood('eval', '--id', d2, '--ood', `x=${ood}`, '--methods', 'msp', '--bootstrap', '0');
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /-5 at row 2/);
    // Good labels, −1 included: accepted.
    const ok = [...goodLabels];
    ok[0] = -1;
    const d3 = dump(join(t, 'ok'), { labels: ok, logitsK: K });
    const r3 = napood('eval', '--id', d3, '--ood', `x=${ood}`, '--methods', 'msp', '--bootstrap', '0');
    assert.equal(r3.code, 0, r3.stderr);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('dump labels without logits are checked against the --head classes', () => {
  const t = mkdtempSync(join(tmpdir(), 'napood-hostile-sets-'));
  try {
    const bad = [...goodLabels];
    bad[5] = K + 2;
    const d = dump(join(t, 'id'), { labels: bad });
    const ood = dump(join(t, 'ood'), { seed: 9 });
    const h = head(join(t, 'head'), K, C);
    const r = napood('eval', '--id', d, '--ood', `x=${ood}`, '--head', h, '--methods', 'energy', '--bootstrap', '0');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`labels: expected class indices in \\[0, ${K}\\) .*found ${K + 2} at row 5`));
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('a --head file with the wrong C or K is blamed on --head and its path', () => {
  const t = mkdtempSync(join(tmpdir(), 'napood-hostile-sets-'));
  try {
    const features = dump(join(t, 'f'), { logitsK: K });
    const wrongC = head(join(t, 'h8'), K, C + 2);
    const out = join(t, 'o.npy');
    const r = napood('score', '--features', features, '--head', wrongC, '--method', 'energy', '--out', out);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`^napood score: --head ${wrongC.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expected a head for ${C} feature channels \\(as --features .* has\\), found head\\.weight \\[${K}, ${C + 2}\\] \\(K classes × C channels\\)$`, 'm'));
    const wrongK = head(join(t, 'k3'), K - 1, C);
    const r2 = napood('score', '--features', features, '--head', wrongK, '--method', 'energy', '--out', out);
    assert.match(r2.stderr, new RegExp(`--head ${wrongK.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expected a head of ${K} classes \\(as the logits of --features .*\\), found head\\.weight \\[${K - 1}, ${C}\\]`));
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test('checkCompatible: sets that disagree with each other are blamed, a named head only when it is the odd one out', () => {
  const h = linearHead(new Float32Array(K * C), new Float32Array(K), K, C);
  const sets = [{ label: '--id a', channels: C, classes: K }, { label: '--ood x b', channels: C + 1, classes: K }];
  assert.throws(() => checkCompatible(h, sets, '--head h'), (e: unknown) => e instanceof NapoodError && e.message === `--ood x b: expected ${C} feature channels (as --id a), found ${C + 1}`);
  assert.throws(() => checkCompatible(h, [sets[1]!], '--head h'), (e: unknown) => e instanceof NapoodError && e.message.startsWith(`--head h: expected a head for ${C + 1} feature channels (as --ood x b has)`));
  // A head the dumps carry (no head file): the reference, as before.
  assert.throws(() => checkCompatible(h, [sets[1]!]), (e: unknown) => e instanceof NapoodError && e.message === `--ood x b: expected ${C} feature channels (as the head), found ${C + 1}`);
  checkCompatible(h, [sets[0]!], '--head h');
});
