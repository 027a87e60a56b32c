/**
 * Multi-layer NAP (`nap[L]`, `nap[L1+L2]`): the map of each named layer from the same forward
 * pass; the same scores from the model and from a dump written with `napood dump --layers`; the
 * combination is the geometric mean of the per-layer scores; `nap[featureMap]` is `nap`.
 * The per-layer reference is NAP's formula written out in float64 over the dumped maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDump } from '../../src/node/io/dump.js';
import { readNpy } from '../../src/node/io/npy.js';
import { readTensorFloat32 } from '../../src/node/io/tensor.js';
import { parseMethodList, parseMethodSpec } from '../../src/run/spec.js';
import { fixturesDir } from '../helpers.js';

const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const fx = join(fixturesDir, 'onnx', 'resnet18_op13');
const L3 = '/layer3/layer3.1/relu_1/Relu_output_0';
const L2 = '/layer2/layer2.1/relu_1/Relu_output_0';
const FM = '/layer4/layer4.1/relu_1/Relu_output_0';

function napood(...args: string[]) {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** NAP written out: (1/C) Σ_c (max/(mean+eps))^p per row, float64. */
function napRef(map: Float32Array, n: number, c: number, hw: number, eps = 1, p = 2): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let ch = 0; ch < c; ch++) {
      let mx = -Infinity, sum = 0;
      for (let j = 0; j < hw; j++) { const v = map[(i * c + ch) * hw + j]!; mx = Math.max(mx, v); sum += v; }
      s += (mx / (sum / hw + eps)) ** p;
    }
    out.push(s / c);
  }
  return out;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-9): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `${what} row ${i}: ${a[i]} vs ${b[i]}`);
}

test('spec syntax: nap[L1+L2]:p=3 keeps the layers (":" and "," inside brackets), other methods refuse layers', () => {
  const s = parseMethodSpec(`nap[${L3}+x:0]:p=3`);
  assert.deepEqual(s.layers, [L3, 'x:0']);
  assert.equal(s.params.p, 3);
  assert.equal(s.text, `nap[${L3}+x:0]:p=3`);
  assert.deepEqual(parseMethodList(`nap[a,b+c],energy`).map((x) => x.text), ['nap[a,b+c]', 'energy']);
  assert.throws(() => parseMethodSpec('energy[x]'), /layers only for methods that score named layers/);
  assert.throws(() => parseMethodSpec('nap[a+a]'), /each layer once/);
  assert.throws(() => parseMethodSpec('nap[a'), /closed by "\]"/);
});

test('nap[L] from the model = from a dump = NAP of the dumped map; nap[L3+L2] = geometric mean; nap[map before pooling] = nap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'napood-ml-'));
  try {
    const input = join(fx, 'input.npy');
    const model = join(fx, 'model.onnx');
    const dump = join(dir, 'd.safetensors');
    let r = napood('dump', '--model', model, '--input', input, '--layers', `${L3},${L2}`, '--out', dump);
    assert.equal(r.code, 0, r.stderr);
    const d = openDump(dump);
    const ref: Record<string, number[]> = {};
    for (const L of [L3, L2]) {
      const t = d.tensors.get(L)!;
      ref[L] = napRef(readTensorFloat32(t), t.shape[0]!, t.shape[1]!, t.shape[2]! * t.shape[3]!);
    }
    d.close();
    const score = (features: string, method: string, withModel: boolean) => {
      const out = join(dir, `s${Math.random().toString(36).slice(2)}.csv`);
      const res = napood('score', ...(withModel ? ['--model', model] : []), '--features', features, '--method', method, '--out', out);
      assert.equal(res.code, 0, res.stderr);
      return readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.slice(l.lastIndexOf(',') + 1)));
    };
    for (const L of [L3, L2]) {
      close(score(input, `nap[${L}]`, true), ref[L]!, `model ${L}`, 1e-12);
      close(score(dump, `nap[${L}]`, false), ref[L]!, `dump ${L}`, 1e-12);
    }
    const geo = ref[L3]!.map((v, i) => Math.sqrt(v * ref[L2]![i]!));
    close(score(input, `nap[${L3}+${L2}]`, true), geo, 'combined', 1e-12);
    close(score(input, `nap[${FM}]`, true), score(input, 'nap', true), 'map before pooling', 1e-15);
    r = napood('score', '--features', dump, '--method', 'nap[/no/such/Relu]', '--out', join(dir, 'x.npy'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected the feature map of layer "\/no\/such\/Relu" .*found none of that name; it has "\/layer3/);
    r = napood('eval', '--model', model, '--id', input, '--ood', `o=${input}`, '--methods', `nap,nap[${L3}],nap[${L3}+${FM}]`, '--bootstrap', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nap\[\/layer3\/layer3\.1\/relu_1\/Relu_output_0\+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the library: nap[map before pooling] needs no extra output, another layer names the option to add', async () => {
  const { openModel } = await import('../../src/node/api.js');
  const od = await openModel(join(fx, 'model.onnx'));
  try {
    const input = readNpyTensor(join(fx, 'input.npy'));
    await od.fit(`nap,nap[${FM}]`);
    const { scores } = await od.score(od.tensor(input.data, input.shape));
    close(scores[`nap[${FM}]`]!, scores.nap!, 'nap[FM] = nap', 1e-15);
    await od.fit(`nap[${L3}]`);
    await assert.rejects(od.score(od.tensor(input.data, input.shape)), /expected the feature map of layer "\/layer3\/layer3\.1\/relu_1\/Relu_output_0"/);
  } finally {
    await od.release();
  }
});

function readNpyTensor(p: string): { data: Float32Array; shape: number[] } {
  const a = readNpy(p);
  return { data: a.data as Float32Array, shape: [...a.shape] };
}
