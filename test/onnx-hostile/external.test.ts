/**
 * External data (issue #10 item 1): napood reads a tensor's external data itself, from the model
 * file's folder only, and hands onnxruntime bytes that hold every value, so the session opens no
 * file. A model saved with save_as_external_data works from any working folder (a decoy
 * weights.bin there changes nothing) and equals the same model with its weights inside; absolute
 * locations, "..", links out of the folder, missing, short or non-regular files and models given
 * as bytes are refused with a NapoodError naming the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadOnnxModel, nodeRuntime } from '../../src/node/onnx.js';
import { openDump } from '../../src/node/io/dump.js';
import { createOdinScorer } from '../../src/app/model-access.js';
import { onnxModelAccess } from '../../src/onnx/grad/access.js';
import { buildGradientModel } from '../../src/onnx/grad/index.js';
import { checkLocation, externalDataRefs, prepareModelBytes } from '../../src/onnx/external.js';
import { maxAbsDiff, readNpy } from '../onnx/fixtures.js';
import { HOSTILE, assertRefused, napood, napoodError } from './helpers.js';

const EXT = join(HOSTILE, 'external');
const model = join(EXT, 'model.onnx');
const x = readNpy(join(HOSTILE, 'input.npy'));
const reference = readNpy(join(HOSTILE, 'logits.npy')).data;
const tmp = () => mkdtempSync(join(tmpdir(), 'napood-hostile-ext-'));

function dumpLogits(path: string): Float32Array {
  const d = openDump(path, { argument: 'dump' });
  try {
    return d.readRows('logits', 0, d.n);
  } finally {
    d.close();
  }
}

test('a model with external data equals the same model with its weights inside; onnxruntime gets bytes without external data', async () => {
  const ext = await loadOnnxModel(model, { threads: 1 });
  const inline = await loadOnnxModel(join(HOSTILE, 'tiny.onnx'), { threads: 1 });
  try {
    const a = await ext.run(x.data, 4, x.shape);
    const b = await inline.run(x.data, 4, x.shape);
    assert.equal(maxAbsDiff(a.logits.data, b.logits.data), 0);
    assert.equal(maxAbsDiff(a.featureMap.data, b.featureMap.data), 0);
    assert.ok(maxAbsDiff(a.logits.data, reference) <= 1e-4);
    assert.equal(ext.info.headKind, 'linear', 'the head weights are read from the inlined initializers');
    assert.equal(externalDataRefs(ext.modelBytes, 'edited').length, 0);
    assert.equal(await prepareModelBytes(ext.modelBytes, 'edited'), ext.modelBytes, 'nothing left to inline: the same bytes');
    // the gradient model (ODIN) is built from the inlined bytes too
    const opts = { temperature: 1000, noise: 0.0014, std: [0.5, 0.5, 0.5], threads: 1 };
    const oa = await createOdinScorer(ext, opts);
    const ob = await createOdinScorer(inline, opts);
    try {
      assert.equal(maxAbsDiff(await oa.scores(x.data, 4), await ob.scores(x.data, 4)), 0);
    } finally {
      await oa.release();
      await ob.release();
    }
  } finally {
    await ext.release();
    await inline.release();
  }
});

test('from another working folder holding a decoy weights.bin: the model folder\'s data is used (absolute and relative model paths)', () => {
  const cwd = tmp();
  try {
    // same size as the real file, other values: onnxruntime resolving against the cwd would read these
    writeFileSync(join(cwd, 'weights.bin'), new Uint8Array(readFileSync(join(EXT, 'weights.bin')).length).fill(0x3f));
    const want = (() => {
      const r = napood(['dump', '--model', join(HOSTILE, 'tiny.onnx'), '--input', join(HOSTILE, 'input.npy'), '--out', join(cwd, 'inline.safetensors')], { cwd });
      assert.equal(r.code, 0, r.stderr);
      return dumpLogits(join(cwd, 'inline.safetensors'));
    })();
    for (const path of [model, relative(cwd, model)]) {
      const out = join(cwd, 'ext.safetensors');
      const r = napood(['dump', '--model', path, '--input', join(HOSTILE, 'input.npy'), '--out', out], { cwd });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(maxAbsDiff(dumpLogits(out), want), 0, `model path ${path}`);
      rmSync(out);
      const i = napood(['inspect', path], { cwd });
      assert.equal(i.code, 0, i.stderr);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('locations outside the model\'s folder are refused before any file is opened', async () => {
  const cases: [string, RegExp][] = [
    ['absolute.onnx', /absolute\.onnx: expected external data in files inside the model's folder .*tensor "conv_w": location "\/etc\/passwd" is an absolute path$/],
    ['escape.onnx', /tensor "conv_w": location "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" leaves the model's folder \("\.\."\)$/],
    ['backslash.onnx', /location "\.\.\\\\\.\.\\\\weights\.bin" leaves the model's folder/],
    ['memtag.onnx', /location "\*\/_ORT_MEM_ADDR_\/\*" \(onnxruntime's in-memory tag, not a file\)$/],
  ];
  for (const [name, re] of cases) {
    await assert.rejects(loadOnnxModel(join(EXT, name)), napoodError(re, join(EXT, name)), name);
  }
  assertRefused(napood(['inspect', join(EXT, 'absolute.onnx')]), /\/etc\/passwd" is an absolute path/);
  assertRefused(napood(['dump', '--model', join(EXT, 'escape.onnx'), '--input', join(HOSTILE, 'input.npy'), '--out', join(tmpdir(), 'never.safetensors')]),
    /leaves the model's folder/);
  assert.equal(existsSync(join(tmpdir(), 'never.safetensors')), false);
});

test('missing, short, mis-sized and out-of-range external data: refused with the file and the bytes needed', async () => {
  await assert.rejects(loadOnnxModel(join(EXT, 'missing.onnx')), napoodError(/tensor "conv_w": "nothere\.bin": no such file in ".*external"$/));
  await assert.rejects(loadOnnxModel(join(EXT, 'offset.onnx')),
    napoodError(/expected external data files that hold each tensor's bytes \(tensor "conv_w": "weights\.bin": offset 1,000,000 \+ length 432 = 1,000,432 bytes\), found a file of 548 bytes$/));
  await assert.rejects(loadOnnxModel(join(EXT, 'length.onnx')),
    napoodError(/expected external data of the tensor's size \(tensor "conv_w": dims \[4, 3, 3, 3\] of float = 432 bytes\), found length 100$/));
  await assert.rejects(loadOnnxModel(join(HOSTILE, 'short', 'model.onnx')), napoodError(/offset 0 \+ length 432 = 432 bytes\), found a file of 100 bytes$/));
});

test('links: out of the folder refused, inside it followed; directories and FIFOs are not data files', async () => {
  const dir = tmp();
  const outside = tmp();
  try {
    copyFileSync(model, join(dir, 'model.onnx'));
    copyFileSync(join(EXT, 'weights.bin'), join(outside, 'weights.bin'));
    symlinkSync(join(outside, 'weights.bin'), join(dir, 'weights.bin'));
    await assert.rejects(loadOnnxModel(join(dir, 'model.onnx')), napoodError(/"weights\.bin" is a link to ".*weights\.bin", outside the model's folder$/));
    // a relative link climbing out is the same
    rmSync(join(dir, 'weights.bin'));
    symlinkSync(relative(dir, join(outside, 'weights.bin')), join(dir, 'weights.bin'));
    await assert.rejects(loadOnnxModel(join(dir, 'model.onnx')), napoodError(/outside the model's folder$/));
    // a link to a file inside the folder is fine
    rmSync(join(dir, 'weights.bin'));
    mkdirSync(join(dir, 'data'));
    copyFileSync(join(EXT, 'weights.bin'), join(dir, 'data', 'w.bin'));
    symlinkSync(join('data', 'w.bin'), join(dir, 'weights.bin'));
    const m = await loadOnnxModel(join(dir, 'model.onnx'), { threads: 1 });
    try {
      assert.ok(maxAbsDiff((await m.run(x.data, 4)).logits.data, reference) <= 1e-4);
    } finally {
      await m.release();
    }
    // a directory
    rmSync(join(dir, 'weights.bin'));
    mkdirSync(join(dir, 'weights.bin'));
    await assert.rejects(loadOnnxModel(join(dir, 'model.onnx')), napoodError(/expected external data in regular files, found tensor "conv_w": "weights\.bin" is a directory$/));
    // a FIFO: refused without waiting for a writer
    rmSync(join(dir, 'weights.bin'), { recursive: true });
    if (spawnSync('mkfifo', [join(dir, 'weights.bin')]).status === 0) {
      await assert.rejects(loadOnnxModel(join(dir, 'model.onnx')), napoodError(/"weights\.bin" is not a regular file$/));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('a model given as bytes has no folder: its external data is refused (loader, gradient model, model access)', async () => {
  const bytes = new Uint8Array(readFileSync(model));
  const re = /expected a model with its weights inside it, or opened by its path .*found tensor "conv_w" keeps its data in "weights\.bin" \(and 3 more tensors\)$/;
  await assert.rejects(loadOnnxModel(bytes, { file: 'given.onnx' }), napoodError(re, 'given.onnx'));
  await assert.rejects(buildGradientModel(bytes, { file: 'given.onnx' }, nodeRuntime), napoodError(re, 'given.onnx'));
  await assert.rejects(onnxModelAccess(bytes, { file: 'given.onnx' }, nodeRuntime), napoodError(re, 'given.onnx'));
  // inlined by a reader, the same bytes load
  const reader = async (ref: { offset: number; length: number }) => new Uint8Array(readFileSync(join(EXT, 'weights.bin'))).slice(ref.offset, ref.offset + ref.length);
  const m = await loadOnnxModel(bytes, { file: 'given.onnx', externalData: reader, threads: 1 });
  try {
    assert.ok(maxAbsDiff((await m.run(x.data, 4)).logits.data, reference) <= 1e-4);
  } finally {
    await m.release();
  }
});

test('external_data entries on a tensor whose data_location is DEFAULT: its own values are used (as onnxruntime does), the entries dropped', async () => {
  const m = await loadOnnxModel(join(HOSTILE, 'stray.onnx'), { threads: 1 });
  try {
    assert.ok(maxAbsDiff((await m.run(x.data, 4)).logits.data, reference) <= 1e-4);
  } finally {
    await m.release();
  }
});

test('the model file itself: a directory or a device is refused, not read', async () => {
  await assert.rejects(loadOnnxModel(EXT), napoodError(/expected a readable ONNX file, found a directory$/));
  if (existsSync('/dev/zero')) await assert.rejects(loadOnnxModel('/dev/zero'), napoodError(/^\/dev\/zero: expected a readable ONNX file, found not a regular file$/));
});

test('checkLocation: relative paths inside the folder only', () => {
  const bad: [string, RegExp][] = [
    ['/etc/passwd', /absolute path/], ['C:\\weights.bin', /absolute path/], ['c:weights.bin', /absolute path/],
    ['\\\\server\\share\\w.bin', /absolute path/], ['a/../../w.bin', /leaves the model's folder/], ['..', /leaves/],
    ['', /is empty/], ['w\0.bin', /NUL byte/],
  ];
  for (const [location, re] of bad) assert.throws(() => checkLocation({ tensor: 't', location }, 'm.onnx'), napoodError(re, 'm.onnx'), location);
  for (const location of ['weights.bin', 'data/w.bin', './w.bin', 'a..b.bin']) checkLocation({ tensor: 't', location }, 'm.onnx');
});
