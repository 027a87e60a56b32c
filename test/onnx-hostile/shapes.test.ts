/**
 * Absurd shapes (issue #10 item 3 and siblings): tensors with huge or negative dims, in-file values
 * that do not match the dims, sparse tensors onnxruntime would densify, constant-shape nodes
 * onnxruntime would fold into gigabytes at load (ConstantOfShape, Expand, Range), model inputs
 * of 70000×70000 or with 0 channels, a fixed batch of 100000, and batch sizes whose tensors pass
 * 2 GiB: each is refused with a NapoodError naming the file or the option before anything is
 * allocated (they were RangeErrors, onnxruntime bad_allocs, or gigabytes of memory).
 */
import { NapoodError } from '../../src/errors.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnxModel, nodeRuntime } from '../../src/node/onnx.js';
import { analyseGraph } from '../../src/onnx/graph.js';
import { buildGradientModel } from '../../src/onnx/grad/index.js';
import { parseInputShape } from '../../src/cli/model.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { fixturesDir } from '../helpers.js';
import { HOSTILE, assertRefused, napood, napoodError } from './helpers.js';

const path = (name: string) => join(HOSTILE, name);
const dynhw = join(fixturesDir, 'onnx-shapes', 'smallcnn_mean_dynhw', 'model.onnx');

test('tensors: huge, negative or mis-sized dims, huge Constant and sparse values, the head weight: refused before onnxruntime', async () => {
  const cases: [string, RegExp][] = [
    ['init_huge.onnx', /expected tensors under 2 GiB \(tensor "big"\), found dims \[1000000, 1000000\]: 1,000,000,000,000 values of float \(3725\.3 GiB\)$/],
    ['init_negative.onnx', /expected tensor dims ≥ 0 \(tensor "neg"\), found dims \[-10, 32\]$/],
    ['init_mismatch.onnx', /expected values as many as the dims say \(tensor "mis": dims \[4, 3\] of float = 48 bytes\), found 8 bytes of raw_data$/],
    ['const_huge.onnx', /expected tensors under 2 GiB \(tensor "kv"\), found dims \[1000000, 1000000\]/],
    ['sparse_huge.onnx', /expected tensors under 2 GiB \(a sparse tensor, made dense by onnxruntime\), found dims \[60000, 60000\]: 3,600,000,000 values of float \(13\.4 GiB\)$/],
    ['head_huge.onnx', /expected tensors under 2 GiB \(tensor "fc_w"\), found dims \[1000000, 1000000\]/],
  ];
  for (const [name, re] of cases) await assert.rejects(loadOnnxModel(path(name)), napoodError(re, path(name)), name);
  // a model decoded by the caller: the decoder refuses dims its bytes cannot hold, and the
  // analysis reads the head weight only after checking its dims
  assert.throws(() => analyseGraph(decodeModel(new Uint8Array(readFileSync(path('head_huge.onnx')))), { file: 'head_huge.onnx' }),
    (e: unknown) => e instanceof NapoodError && /tensor "fc_w" declares dims \[1000000, 1000000\] = 1000000000000 elements, more than its 22 bytes can hold|expected constant tensors napood reads under 2 GiB as float64 \(tensor "fc_w"\)/.test(e.message));
});

test('constant shapes onnxruntime would fold into gigabytes at load: ConstantOfShape, Expand, Range', async () => {
  const cases: [string, RegExp][] = [
    ['cos_huge.onnx', /expected nodes whose outputs stay under 2 GiB \(node big_cos \(ConstantOfShape\)\), found shape \[60000, 60000\]: 3,600,000,000 values of float$/],
    ['expand_huge.onnx', /\(node big_expand \(Expand\)\), found shape \[60000, 60000\]: 3,600,000,000 values \(536,870,911 float32 values at most\)$/],
    ['range_huge.onnx', /\(node big_range \(Range\)\), found start 0, limit 1000000000000, delta 1: length \[1000000000000\]/],
  ];
  for (const [name, re] of cases) {
    await assert.rejects(loadOnnxModel(path(name)), napoodError(re, path(name)), name);
    await assert.rejects(buildGradientModel(new Uint8Array(readFileSync(path(name))), { file: name }, nodeRuntime), napoodError(re, name), name);
  }
  assertRefused(napood(['inspect', path('cos_huge.onnx')], { timeoutMs: 30_000 }), /big_cos \(ConstantOfShape\)/);
});

test('model inputs: 70000×70000, 0 channels, a fixed batch of 100000', async () => {
  await assert.rejects(loadOnnxModel(path('input_huge.onnx')),
    napoodError(/input_huge\.onnx: expected an image input of at most 40,000,000 pixels \(H×W\), found .*"x" \[N, 3, 70000, 70000\]: \[C, H, W\] = \[3, 70000, 70000\], 4,900,000,000 pixels$/, path('input_huge.onnx')));
  await assert.rejects(loadOnnxModel(path('input_zero_channels.onnx')),
    napoodError(/expected an image input with at least one channel, row and column, found input "x" \[N, 0, 8, 8\]: 0 channels$/));
  await assert.rejects(loadOnnxModel(path('batch_huge.onnx')),
    napoodError(/expected at most 43,690 images per run for .*"x" \[100000, 3, 64, 64\], exported with a fixed batch of 100,000 \(a batch tensor must stay under 2 GiB\), found 100,000$/));
  // the gradient model of the raw bytes: the same inputs, refused before its probe run
  const grad = (name: string) => buildGradientModel(new Uint8Array(readFileSync(path(name))), { file: name }, nodeRuntime);
  await assert.rejects(grad('input_zero_channels.onnx'), napoodError(/expected an input with no dim of 0 \("x"\), found dims \[N, 0, 8, 8\]$/));
  await assert.rejects(grad('input_huge.onnx'), napoodError(/expected an input under 2 GiB per batch of 2 as float32 \("x"\), found \[2, 3, 70000, 70000\]/));
  assertRefused(napood(['inspect', path('input_zero_channels.onnx')]), /0 channels/);
});

test('inputShape, batchSize and run(n): the sizes a caller gives are checked before anything is allocated', async () => {
  await assert.rejects(loadOnnxModel(dynhw, { inputShape: [3, 7000, 7000] }),
    napoodError(/expected an image input of at most 40,000,000 pixels \(H×W\), found .*\[C, H, W\] = \[3, 7000, 7000\], 49,000,000 pixels$/, 'inputShape'));
  await assert.rejects(loadOnnxModel(path('input_symbolic.onnx'), { inputShape: [30, 6000, 6000] }),
    napoodError(/expected an image input under 2 GiB as float32 \(C×H×W×4 bytes\), found .*\[30, 6000, 6000\], 4\.0 GiB$/, 'inputShape'));
  await assert.rejects(loadOnnxModel(dynhw, { inputShape: [3, 6000, 6000], batchSize: 32 }),
    napoodError(/expected at most 4 images per run for .*input \[3, 6000, 6000\] \(a batch tensor must stay under 2 GiB\), found 32$/, 'batchSize'));
  await assert.rejects(loadOnnxModel(dynhw, { inputShape: [3, 32, 32], batchSize: 0 }), napoodError(/expected a whole number of images ≥ 1, found 0$/, 'batchSize'));
  const m = await loadOnnxModel(path('tiny.onnx'), { threads: 1, batchSize: 65536 });
  try {
    // one image: 192 input values, a 4×8×8 feature map (256 values): 2,097,151 rows fit in 2 GiB
    await assert.rejects(m.run(new Float32Array(0), 3_000_000), napoodError(/expected at most 2,097,151 images per run for .*largest tensor per image \(256 values\) .*found 3,000,000$/, 'n'));
  } finally {
    await m.release();
  }
});

test('CLI: --input-shape 3,65535,65535, --batch-size past 2 GiB, --size 40000, a --preprocess file of size 65535', () => {
  assert.throws(() => parseInputShape('3,65535,65535'), napoodError(/^--input-shape: expected an image of at most 40,000,000 pixels \(H×W\), found \[3, 65535, 65535\]: 4,294,836,225 pixels$/));
  assert.throws(() => parseInputShape('65535,100,100'), napoodError(/^--input-shape: expected an image under 2 GiB as float32/));
  assert.deepEqual(parseInputShape('3,224,224'), [3, 224, 224]);
  const dir = mkdtempSync(join(tmpdir(), 'napood-hostile-shapes-'));
  const tree = join(fixturesDir, 'images', 'tree');
  try {
    const out = join(dir, 'd.safetensors');
    assertRefused(napood(['dump', '--model', dynhw, '--input-shape', '3,65535,65535', '--images', tree, '--out', out]), /^napood dump: --input-shape: expected an image of at most 40,000,000 pixels/m);
    assertRefused(napood(['dump', '--model', dynhw, '--input-shape', '3,6000,6000', '--batch-size', '32', '--images', tree, '--out', out]),
      /--batch-size: expected at most 4 images per run .*found 32$/m);
    assertRefused(napood(['dump', '--model', dynhw, '--size', '40000', '--images', tree, '--out', out]),
      /--size: expected an output of at most 40,000,000 pixels \(height × width, as decoded images\), found \[40000\]: 1,600,000,000 pixels$/m);
    const prep = join(dir, 'prep.json');
    writeFileSync(prep, JSON.stringify({ size: [65535, 65535], mean: 0.5, std: 0.5, channels: 3 }));
    assertRefused(napood(['dump', '--model', dynhw, '--preprocess', prep, '--images', tree, '--out', out]), /prep\.json: size: expected an output of at most 40,000,000 pixels/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Conv weight of higher rank than its input (onnxruntime 1.22 aborts the process on it): refused before any session', async () => {
  const re = (rw: number, rx: number) => new RegExp(`expected a Conv weight of the rank of its input \\(node conv \\(Conv\\)\\), found a weight of rank ${rw} on an input of rank ${rx} \\("conv_w" on "x"\\)$`);
  await assert.rejects(loadOnnxModel(path('conv_rank5.onnx')), napoodError(re(5, 4), path('conv_rank5.onnx')));
  // the gradient model of raw bytes takes inputs of any rank: the rank-3 input reaches the same check
  await assert.rejects(buildGradientModel(new Uint8Array(readFileSync(path('input_rank3.onnx'))), { file: 'input_rank3.onnx' }, nodeRuntime),
    napoodError(re(4, 3), 'input_rank3.onnx'));
  assertRefused(napood(['inspect', path('conv_rank5.onnx')]), /a weight of rank 5 on an input of rank 4/);
});
