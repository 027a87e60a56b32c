/**
 * The ONNX commands end to end, as a user runs them: `napood inspect MODEL` and `napood dump
 * --model M --input X.npy --out D.safetensors` in a child process of the built binary, on the model
 * fixtures of test/fixtures/onnx/ (expect.json and the PyTorch hook outputs *.npy): exit codes,
 * stdout/stderr, the dump's tensors, and the files a failed run must not leave behind.
 */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDump } from '../../src/node/io/dump.js';
import { readNpy, writeNpy } from '../../src/node/io/npy.js';
import { sha256File } from '../../src/node/io/sha256.js';
import { fixturesDir, runNode } from '../helpers.js';
import { expectOf, modelFixtures, type Expect } from '../onnx/fixtures.js';

// The binary of the same build as this test (dist/ or a helper's build folder).
const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const onnxDir = join(fixturesDir, 'onnx');
const bad = join(onnxDir, 'bad');
const TOL = 1e-4;

interface Result { code: number; stdout: string; stderr: string }

function napood(...args: string[]): Result {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Several runs, at most `width` at a time; results in order. */
async function runAll(runs: readonly string[][], width = 4): Promise<Result[]> {
  const results: Result[] = new Array(runs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await napoodAsync(...runs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, runs.length) }, worker));
  return results;
}

/** The same, without blocking: lets the per-model inspect runs overlap. */
function napoodAsync(...args: string[]): Promise<Result> {
  return runNode(binPath, args);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'napood-model-cli-'));
}

const modelOf = (name: string): string => join(onnxDir, name, 'model.onnx');
const inputOf = (name: string): string => join(onnxDir, name, 'input.npy');
const npy = (name: string, file: string): Float32Array => readNpy(join(onnxDir, name, file)).data;

function assertFails(r: Result, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}: ${r.stderr}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
  assert.equal(r.stdout, '', 'nothing on stdout after a failure');
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const d = maxAbsDiff(got, want);
  assert.ok(d <= tol, `${what}: max |diff| ${d} > ${tol}`);
}

/** Every tensor of a dump as float32 (labels as int32), its shapes and metadata. */
function readDumpFile(path: string): { shapes: Record<string, number[]>; data: Record<string, Float32Array>; labels?: Int32Array; metadata: Record<string, string> } {
  const dump = openDump(path, { argument: 'dump' });
  try {
    const shapes: Record<string, number[]> = {};
    const data: Record<string, Float32Array> = {};
    for (const [name, t] of dump.tensors) {
      shapes[name] = [...t.shape];
      if (name !== 'labels') data[name] = dump.readRows(name, 0, t.shape[0]);
    }
    return { shapes, data, labels: dump.tensors.has('labels') ? dump.readLabels(0, dump.n) : undefined, metadata: { ...dump.metadata } };
  } finally {
    dump.close();
  }
}

/** The inspect --json report of a model (parsed), failing the test when the command fails. */
function report(model: string, ...more: string[]): Record<string, any> {
  const r = napood('inspect', model, '--json', ...more);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------------

/** inspect --json reports of the model fixtures, kept for the dump tests (which run later). */
const reports = new Map<string, Record<string, any>>();

async function reportOf(name: string): Promise<Record<string, any>> {
  const known = reports.get(name);
  if (known) return known;
  const r = await napoodAsync('inspect', modelOf(name), '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function checkReport(rep: Record<string, any>, ex: Expect, model: string): void {
  assert.equal(rep.file, model);
  const nhwc = ex.input_layout === 'nhwc';
  const [ic, ih, iw] = ex.input_shape;
  assert.deepEqual(rep.input.shape, nhwc ? ['N', ih, iw, ic] : ['N', ic, ih, iw], 'input shape with a dynamic batch');
  assert.deepEqual(rep.input.chw, ex.input_shape);
  assert.equal(rep.input.layout, ex.input_layout ?? 'nchw');
  assert.equal(rep.featureMap.layoutInGraph, ex.feature_layout ?? 'nchw');
  assert.equal(rep.input.type, 'float32');
  assert.deepEqual(rep.featureMap.shape, ex.feature_shape);
  assert.equal(typeof rep.featureMap.tensor, 'string');
  assert.equal(rep.featureMap.chosenBy, 'pooling before the classifier');
  assert.equal(rep.pooling.op, ex.pool_kind);
  assert.deepEqual(rep.pooled.size, ex.pooled_dim);
  assert.equal(rep.head.kind, ex.head_kind);
  if (ex.head_kind === 'linear') {
    assert.deepEqual(rep.head.weight, [ex.num_classes, ex.pooled_dim]);
    assert.deepEqual(rep.head.bias, [ex.num_classes]);
    assert.deepEqual(rep.head.ops, ex.linear_op!.split('+'), 'the ops of the linear head');
    assert.equal(rep.head.runAs, undefined);
  } else {
    assert.equal(rep.head.weight, undefined);
    assert.match(rep.head.runAs, /sub-model/);
    assert.ok(rep.head.ops.length > 1);
  }
  assert.equal(rep.logits.classes, ex.num_classes);
  assert.ok(Array.isArray(rep.candidateLayers) && rep.candidateLayers.length > 0, 'candidate layers listed');
  assert.ok(rep.addedOutputs.includes(rep.featureMap.tensor) && rep.addedOutputs.includes(rep.pooled.tensor));
  assert.ok(Array.isArray(rep.reasoning) && rep.reasoning.length > 0);
}

function checkText(text: string, rep: Record<string, any>, ex: Expect, model: string): void {
  const [c, h, w] = ex.feature_shape;
  assert.match(text, new RegExp(`^model:\\s+${escape(model)}$`, 'm'));
  const [ic, ih, iw] = ex.input_shape;
  if (ex.input_layout === 'nhwc') {
    assert.match(text, new RegExp(`^input:\\s+"[^"]+" \\[N, ${ih}, ${iw}, ${ic}\\] float32 \\(NHWC: channels last; images are fed that way\\)$`, 'm'));
  } else {
    assert.match(text, new RegExp(`^input:\\s+"[^"]+" \\[N, ${ex.input_shape.join(', ')}\\] float32$`, 'm'));
  }
  const layoutNote = ex.feature_layout === 'nhwc' ? ' (channels last in the graph, read as NCHW)' : '';
  assert.ok(text.includes(`feature map:  ${JSON.stringify(rep.featureMap.tensor)} [C, H, W] = [${c}, ${h}, ${w}]${layoutNote}\n`), 'the feature tensor, as in the JSON report');
  assert.match(text, new RegExp(`^pooling:\\s+${ex.pool_kind} `, 'm'));
  assert.ok(text.includes(`pooled z:     ${JSON.stringify(rep.pooled.tensor)} [${ex.pooled_dim}]\n`));
  if (ex.head_kind === 'linear') {
    assert.match(text, new RegExp(`^head:\\s+linear \\(${escape(ex.linear_op!.split('+').join(' → '))}\\), W \\[${ex.num_classes}, ${ex.pooled_dim}\\], b \\[${ex.num_classes}\\]$`, 'm'));
  } else {
    assert.match(text, /^head:\s+(Gemm|MatMul → Add) → .* \(not one linear layer: runs as its own sub-model; DICE and ViM need a linear head\)$/m);
  }
  assert.match(text, new RegExp(`^logits:\\s+"[^"]+" \\[${ex.num_classes}\\]`, 'm'));
  assert.match(text, /^layers for multi-layer NAP: "/m);
  assert.match(text, /^reasoning:\n {2}- /m);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('inspect MODEL (text and --json) on every model fixture', { concurrency: 4 }, () => {
  const names = modelFixtures();
  it('finds the model fixtures', () => {
    assert.ok(names.length >= 19, `${names.length} fixtures`);
  });
  for (const name of names) {
    it(`${name}: the report matches expect.json`, async () => {
      const ex = expectOf(name);
      const model = modelOf(name);
      const [json, text] = await Promise.all([napoodAsync('inspect', model, '--json'), napoodAsync('inspect', model)]);
      assert.equal(json.code, 0, json.stderr);
      assert.doesNotMatch(json.stderr, /napood/);
      const rep = JSON.parse(json.stdout);
      checkReport(rep, ex, model);
      reports.set(name, rep);
      assert.equal(text.code, 0, text.stderr);
      assert.doesNotMatch(text.stderr, /napood/);
      checkText(text.stdout, rep, ex, model);
    });
  }
});

test('inspect refuses bad models and bad usage: exit 2, the file and what was expected', async () => {
  const [notOnnx, truncated, twoInputs, noPool, missing, none, noneJson, twoModels, bogus, unknownLayer] = await runAll([
    ['inspect', join(bad, 'not_onnx.onnx')],
    ['inspect', join(bad, 'truncated.onnx')],
    ['inspect', join(bad, 'two_inputs.onnx'), '--json'],
    ['inspect', join(bad, 'no_pool.onnx')],
    ['inspect', join(bad, 'missing.onnx')],
    ['inspect'],
    ['inspect', '--json'],
    ['inspect', modelOf('resnet18_op13'), modelOf('vgg_mlp_op13')],
    ['inspect', modelOf('resnet18_op13'), '--bogus'],
    ['inspect', join(bad, 'no_pool.onnx'), '--feature-layer', 'conv9'],
  ]);
  assertFails(notOnnx, /^napood inspect: .*bad\/not_onnx\.onnx: expected an ONNX model \(a complete protobuf ModelProto\), found /);
  assertFails(truncated, /^napood inspect: .*bad\/truncated\.onnx: expected an ONNX model \(a complete protobuf ModelProto\), found .*truncated data\?/);
  assertFails(twoInputs, /^napood inspect: .*bad\/two_inputs\.onnx: expected a model with exactly one image input, found 2 inputs: "x", "y"$/m);
  // No global pooling: the refusal says what it looked for and how to go on.
  assertFails(noPool, /^napood inspect: .*bad\/no_pool\.onnx: expected a global pooling before the classifier/,
    /GlobalAveragePool, ReduceMean over axes \[2, 3\] \(or \[1, 2\] on a channels-last map\), or AveragePool/, /--feature-layer NAME/, /found none on the path to "logits"/,
    /the last activations before the logits: "\/features\/features\.1\/Relu_output_0", "\/features\/features\.4\/Relu_output_0"$/m);
  assertFails(missing, /^napood inspect: .*bad\/missing\.onnx: expected a readable ONNX file, found no such file$/m);
  assertFails(none, /^napood inspect: MODEL: expected the path of an ONNX model \(napood inspect MODEL\), found nothing$/m);
  assertFails(noneJson, /MODEL: expected the path of an ONNX model/);
  assertFails(twoModels, /arguments: expected options only/, /vgg_mlp_op13/);
  assertFails(bogus, /--bogus/);
  // An unknown --feature-layer names the model and some real tensors.
  assertFails(unknownLayer, /expected the name of a tensor computed by .*no_pool\.onnx \(e\.g\. "\/features\/features\.1\/Relu_output_0"/, /found "conv9"/);
});

const NO_POOL_LAYER = '/features/features.4/Relu_output_0';

test('inspect no_pool.onnx --feature-layer NAME: the map without pooled feature or head', () => {
  const model = join(bad, 'no_pool.onnx');
  // MODEL before or after the option.
  for (const args of [[model, '--feature-layer', NO_POOL_LAYER, '--json'], ['--feature-layer', NO_POOL_LAYER, '--json', model]]) {
    const r = napood('inspect', ...args);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.file, model);
    assert.deepEqual(rep.featureMap, { tensor: NO_POOL_LAYER, shape: [8, 10, 10], layoutInGraph: 'nchw', chosenBy: 'user (--feature-layer)' });
    assert.equal(rep.pooling, null);
    assert.equal(rep.pooled, null);
    assert.equal(rep.head, null);
    assert.equal(rep.logits.classes, 10);
    assert.deepEqual(rep.input.chw, [3, 32, 32]);
  }
  const text = napood('inspect', model, '--feature-layer', NO_POOL_LAYER);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes(`feature map:  "${NO_POOL_LAYER}" [C, H, W] = [8, 10, 10] (chosen with --feature-layer)`));
  assert.match(text.stdout, /^pooling:\s+none found$/m);
  assert.match(text.stdout, /^head:\s+none$/m);
});

test('inspect --feature-layer on a model with pooling: another map, same head', () => {
  const layer = '/layer3/layer3.1/relu_1/Relu_output_0';
  const rep = report(modelOf('resnet18_op17'), '--feature-layer', layer);
  assert.deepEqual(rep.featureMap, { tensor: layer, shape: [64, 4, 4], layoutInGraph: 'nchw', chosenBy: 'user (--feature-layer)' });
  assert.equal(rep.pooled.size, 128);
  assert.deepEqual(rep.head.weight, [10, 128]);
});

test('inspect and dump --help', () => {
  for (const cmd of ['inspect', 'dump']) {
    const r = napood(cmd, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^napood ${cmd} — `));
    assert.match(r.stdout, /Usage: /);
  }
  const top = napood('--help');
  assert.match(top.stdout, /^ {2}inspect /m);
  assert.match(top.stdout, /^ {2}dump /m);
});

// ---------------------------------------------------------------------------------------------
// dump
// ---------------------------------------------------------------------------------------------

const DUMP_MODELS = ['resnet18_op13', 'mobilenet_v2_op17', 'vgg_mlp_op13', 'smallcnn_matmul_op17', 'smallcnn_softmax_op13', 'nhwc_relu_op13', 'nhwc_mlp_op17', 'nhwc_keepdims_op13'];

describe('dump --model M --input X.npy: the dump equals the PyTorch hooks', { concurrency: 4 }, () => {
  for (const name of DUMP_MODELS) {
    it(name, async () => {
      const ex = expectOf(name);
      const dir = tmp();
      try {
        const out = join(dir, `${name}.safetensors`);
        const r = await napoodAsync('dump', '--model', modelOf(name), '--input', inputOf(name), '--out', out);
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /\r/, 'no progress line when stderr is not a TTY');
        assert.deepEqual(readdirSync(dir), [`${name}.safetensors`], 'only the dump, no temporary files');
        const d = readDumpFile(out);
        const linear = ex.head_kind === 'linear';
        assert.deepEqual(Object.keys(d.shapes).sort(), linear
          ? ['featureMap', 'head.bias', 'head.weight', 'logits', 'pooled']
          : ['featureMap', 'logits', 'pooled']);
        assert.deepEqual(d.shapes.featureMap, [2, ...ex.feature_shape]);
        assert.deepEqual(d.shapes.pooled, [2, ex.pooled_dim]);
        assert.deepEqual(d.shapes.logits, [2, ex.num_classes]);
        assertClose(d.data.featureMap, npy(name, 'feature_map.npy'), TOL, `${name} featureMap`);
        assertClose(d.data.pooled, npy(name, 'pooled.npy'), TOL, `${name} pooled`);
        assertClose(d.data.logits, npy(name, 'logits.npy'), TOL, `${name} logits`);
        if (linear) {
          assert.deepEqual(d.shapes['head.weight'], [ex.num_classes, ex.pooled_dim]);
          assert.deepEqual(d.shapes['head.bias'], [ex.num_classes]);
          assert.deepEqual(d.data['head.weight'], npy(name, 'head_weight.npy'));
          assert.deepEqual(d.data['head.bias'], npy(name, 'head_bias.npy'));
        }
        // The metadata names the tensors inspect reports.
        const rep = await reportOf(name);
        assert.deepEqual(d.metadata, { napood: 'dump', model: modelOf(name), model_sha256: sha256File(modelOf(name)), featureMap: rep.featureMap.tensor, pooled: rep.pooled.tensor, logits: rep.logits.tensor });
      } finally {
        rmSync(dir, { recursive: true });
      }
    });
  }
});

test('dump --layers, --labels and --batch-size 1: extra tensors, labels, identical rows', async () => {
  const name = 'resnet18_op13';
  const dir = tmp();
  try {
    const rep = await reportOf(name);
    const layers = ['/layer3/layer3.1/relu_1/Relu_output_0', '/layer1/layer1.0/relu/Relu_output_0'];
    for (const l of layers) assert.ok(rep.candidateLayers.includes(l), l);
    const labels = join(dir, 'y.npy');
    writeNpy(labels, new Float64Array([7, 2]), [2]);
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    // --layers takes a comma list and repeats; the feature map's own tensor may be asked for too.
    const common = ['--model', modelOf(name), '--input', inputOf(name), '--labels', labels,
      '--layers', `${layers[0]},${rep.featureMap.tensor}`, '--layers', layers[1]];
    const ra = napood('dump', ...common, '--out', a);
    assert.equal(ra.code, 0, ra.stderr);
    const rb = napood('dump', ...common, '--batch-size', '1', '--out', b);
    assert.equal(rb.code, 0, rb.stderr);
    const da = readDumpFile(a);
    const db = readDumpFile(b);
    assert.deepEqual(da.shapes[layers[0]], [2, 64, 4, 4]);
    assert.deepEqual(da.shapes[layers[1]], [2, 16, 16, 16]);
    assert.deepEqual(da.shapes[rep.featureMap.tensor], [2, 128, 2, 2]);
    assertClose(da.data[rep.featureMap.tensor], npy(name, 'feature_map.npy'), TOL, 'the feature map tensor as an extra layer');
    assert.ok(da.data[layers[0]].some((v) => v > 0.1) && da.data[layers[0]].every((v) => v >= 0), 'a ReLU output, not trivial');
    assert.deepEqual(da.shapes.labels, [2]);
    assert.deepEqual(da.labels, Int32Array.from([7, 2]));
    assertClose(da.data.featureMap, npy(name, 'feature_map.npy'), TOL, 'featureMap with --layers');
    assertClose(da.data.logits, npy(name, 'logits.npy'), TOL, 'logits with --layers');
    // Batches of 1 give the same tensors, with the same shapes.
    assert.deepEqual(db.shapes, da.shapes);
    assert.deepEqual(db.labels, da.labels);
    for (const key of Object.keys(da.data)) assertClose(db.data[key], da.data[key], 1e-6, `--batch-size 1: ${key}`);
    assert.deepEqual(readdirSync(dir).sort(), ['a.safetensors', 'b.safetensors', 'y.npy']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('dump of no_pool.onnx with --feature-layer: featureMap and logits, no pooled feature or head', () => {
  const dir = tmp();
  try {
    const out = join(dir, 'np.safetensors');
    // The fixture input of a 32×32 model fits LeNet's [N, 3, 32, 32].
    const r = napood('dump', '--model', join(bad, 'no_pool.onnx'), '--feature-layer', NO_POOL_LAYER, '--input', inputOf('smallcnn_mean_op13'), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const d = readDumpFile(out);
    assert.deepEqual(d.shapes, { featureMap: [2, 8, 10, 10], logits: [2, 10] });
    assert.equal(d.metadata.featureMap, NO_POOL_LAYER);
    assert.equal(d.metadata.pooled, undefined);
    assert.ok(d.data.featureMap.every((v) => v >= 0) && d.data.featureMap.some((v) => v > 0), 'a ReLU output');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('dump bad input: exit 2, clear messages, no output or temporary file left behind', async () => {
  const dir = tmp();
  try {
    const model = modelOf('resnet18_op13');
    const input = inputOf('resnet18_op13');
    const out = join(dir, 'out.safetensors');
    // An existing output survives every failed run untouched.
    const kept = join(dir, 'kept.safetensors');
    writeFileSync(kept, 'old contents');
    const labels3 = join(dir, 'y3.npy');
    writeNpy(labels3, new Float64Array([1, 2, 3]), [3]);

    const checks: [string[], ...RegExp[]][] = [
      // The input of a 32×32 model for a 64×64 one.
      ...[out, kept].map((target): [string[], ...RegExp[]] => [['--model', model, '--input', inputOf('smallcnn_mean_op13'), '--out', target],
        /^napood dump: --input: expected a preprocessed NCHW tensor \[N, 3, 64, 64\] for .*resnet18_op13\/model\.onnx, found shape \[2, 3, 32, 32\] in .*smallcnn_mean_op13\/input\.npy$/m]),
      [['--model', model, '--input', input, '--out', join(dir, 'out.npy')], /^napood dump: --out: expected a file name ending in \.safetensors, found ".*out\.npy"$/m],
      [['--model', model, '--input', input], /--out/],
      [['--model', model, '--input', input, '--layers', 'conv9', '--out', kept],
        /expected names of tensors computed by .*resnet18_op13\/model\.onnx \(candidates: .*"\/layer4\/layer4\.1\/relu_1\/Relu_output_0"\), found "conv9"/],
      [['--model', model, '--input', input, '--images', join(onnxDir, 'resnet18_op13'), '--out', out], /--images \/ --input: expected exactly one of them, found both/],
      [['--model', model, '--out', out], /--images \/ --input: expected exactly one of them, found neither/],
      [['--input', input, '--out', out], /--model: expected a value/],
      [['--model', join(bad, 'no_pool.onnx'), '--input', inputOf('smallcnn_mean_op13'), '--out', out], /no_pool\.onnx: expected a global pooling/, /--feature-layer NAME/],
      [['--model', join(bad, 'missing.onnx'), '--input', input, '--out', out], /missing\.onnx: expected a readable ONNX file/],
      [['--model', model, '--input', join(dir, 'missing.npy'), '--out', out], /--input: expected a readable \.npy file/],
      [['--model', model, '--input', input, '--labels', labels3, '--out', out], /--labels: expected a 1-D array of 2 labels \(one per row of .*input\.npy\), found shape \[3\] in .*y3\.npy/],
      [['--model', model, '--input', input, '--batch-size', '0', '--out', out], /--batch-size/],
      [['--model', model, '--input', input, '--out', join(dir, 'nodir', 'x.safetensors')], /--out: expected a path in an existing directory/],
    ];
    const results = await runAll(checks.map(([args]) => ['dump', ...args]));
    checks.forEach(([args, ...patterns], i) => {
      try {
        assertFails(results[i], ...patterns);
      } catch (err) {
        (err as Error).message = `napood dump ${args.join(' ')}:\n${(err as Error).message}`;
        throw err;
      }
    });

    assert.ok(!existsSync(out), 'no output file after failures');
    assert.equal(readFileSync(kept, 'utf8'), 'old contents', 'an existing output is left as it was');
    assert.deepEqual(readdirSync(dir).sort(), ['kept.safetensors', 'y3.npy'], 'no partial or temporary files');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('dump whose output cannot be written (a directory there): refused before the forward pass, no partial or temporary file', () => {
  const dir = tmp();
  try {
    // The output path is a directory: every output is checked before any work.
    const out = join(dir, 'x.safetensors');
    mkdirSync(out);
    assertFails(napood('dump', '--model', modelOf('smallcnn_mean_op13'), '--input', inputOf('smallcnn_mean_op13'),
      '--layers', '/body/body.2/Relu_output_0', '--out', out), /^napood dump: --out: expected a file path to write, found .*x\.safetensors", a folder/m);
    assert.deepEqual(readdirSync(dir), ['x.safetensors'], 'no .part or .tmp file beside the target');
    assert.ok(statSync(out).isDirectory());
    assert.deepEqual(readdirSync(out), []);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

// Known bug (reported): a --layers name equal to a name the dump already uses (here the graph
// output "logits") makes the writer declare the tensor twice: an internal error, exit code 1.
test('dump --layers with the name of a dump tensor ("logits"): a clear error or no duplicate, never an internal error', () => {
  const dir = tmp();
  try {
    const out = join(dir, 'o.safetensors');
    const r = napood('dump', '--model', modelOf('resnet18_op13'), '--input', inputOf('resnet18_op13'), '--layers', 'logits', '--out', out);
    assert.doesNotMatch(r.stderr, /internal error/);
    if (r.code === 0) {
      const d = readDumpFile(out);
      assertClose(d.data.logits, npy('resnet18_op13', 'logits.npy'), TOL, 'logits');
    } else {
      assertFails(r, /--layers/, /logits/);
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f !== 'o.safetensors'), [], 'no temporary files');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

// Known wart (reported): the adapter's option names leak into CLI messages ("extraOutputs: …",
// "featureLayer: …") where every other CLI message names the option the user typed.
test('unknown --layers / --feature-layer names are reported under the CLI option names', () => {
  const dir = tmp();
  try {
    assertFails(napood('dump', '--model', modelOf('resnet18_op13'), '--input', inputOf('resnet18_op13'), '--layers', 'conv9', '--out', join(dir, 'o.safetensors')),
      /^napood dump: --layers: expected names of tensors/m);
    assertFails(napood('inspect', modelOf('resnet18_op13'), '--feature-layer', 'conv9'), /^napood inspect: --feature-layer: expected the name of a tensor/m);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

// Known wart (reported): the adapter's sessions keep onnxruntime's default log level (warning), so
// a model exported with its initializers among the graph inputs (keep_initializers_as_inputs, the
// old exporter default) prints ANSI-coloured onnxruntime warnings, one per initializer, on every run.
test('no onnxruntime log noise on stderr for a model with initializers as graph inputs', () => {
  const r = napood('inspect', modelOf('smallcnn_initinputs_op11'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
});
