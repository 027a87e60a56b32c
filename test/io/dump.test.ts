import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Dump, type DumpBatch, loadHead, openDump, spatialMean } from '../../src/node/io/dump.js';
import { writeNpy, readNpyHeader, npyTensor } from '../../src/node/io/npy.js';
import { writeSafetensors } from '../../src/node/io/safetensors.js';
import { TensorReader } from '../../src/node/io/tensor.js';
import { napWasmAvailable, napWasmStagingBuffer } from '../../src/kernels/nap_simd.js';
import { EXPECTED, bits, fixture, tempDir, throwsNapood } from './helpers.js';

const E = EXPECTED.dump;

function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

function concat(batches: DumpBatch[], pick: (b: DumpBatch) => ArrayLike<number> | undefined): number[] {
  const out: number[] = [];
  for (const b of batches) out.push(...Array.from(pick(b) ?? []));
  return out;
}

test('npy-directory dump: shapes, values equal to numpy, extra files ignored', () => {
  const dump = openDump(fixture('dump_dir'), { argument: '--features' });
  try {
    assert.equal(dump.format, 'npy-dir');
    assert.equal(dump.n, E.n);
    assert.deepEqual(dump.featureMapShape, [E.n, E.c, E.h, E.w]);
    assert.equal(dump.channels, E.c);
    assert.equal(dump.classes, E.k);
    assert.deepEqual([...dump.tensors.keys()], ['featureMap', 'logits', 'labels', 'head.weight', 'head.bias']);
    assert.equal(dump.has('pooled'), true, 'pooled is derivable from featureMap');
    assert.equal(dump.tensors.has('pooled'), false);
    assert.deepEqual(bits(dump.readRows('featureMap', 0, E.n)), E.featureMap_f32bits);
    assert.deepEqual(bits(dump.readRows('logits', 0, E.n)), E.logits_f32bits);
    assert.deepEqual(Array.from(dump.readLabels(0, E.n)), E.labels);
    assert.deepEqual(Array.from(dump.readLabels(3, 2)), E.labels.slice(3, 5));
    const head = dump.linearHead()!;
    assert.equal(head.k, E.k);
    assert.equal(head.c, E.c);
    assert.deepEqual(bits(head.weight), E.weight_f32bits);
    assert.deepEqual(bits(head.bias), E.bias_f32bits);
  } finally {
    dump.close();
  }
});

test('pooled derived from featureMap equals the numpy mean to 1e-6', () => {
  const dump = openDump(fixture('dump_dir'));
  try {
    const batches = [...dump.batches({ fields: ['pooled'] })];
    assert.equal(batches.length, 1);
    assert.equal(batches[0].featureMap, undefined, 'only the requested fields');
    assert.equal(batches[0].logits, undefined);
    assert.equal(batches[0].pooled!.c, E.c);
    closeTo(batches[0].pooled!.data, E.pooled_mean_f64, 1e-6, 'pooled');
  } finally {
    dump.close();
  }
});

test('safetensors dump (float16 map, stored pooled, int64 labels) equals numpy', () => {
  const dump = openDump(fixture('dump.safetensors'));
  try {
    assert.equal(dump.format, 'safetensors');
    assert.deepEqual(dump.metadata, { model: 'fixture' });
    assert.equal(dump.tensors.get('featureMap')!.dtype, 'float16');
    assert.ok(dump.tensors.has('other'), 'unknown tensors are listed but not used');
    assert.deepEqual(bits(dump.readRows('featureMap', 0, E.n)), E.featureMap16_f32bits);
    const [b] = [...dump.batches()];
    assert.deepEqual(Object.keys(b).filter((k) => (b as unknown as Record<string, unknown>)[k] !== undefined).sort(),
      ['featureMap', 'labels', 'logits', 'n', 'pooled', 'start']);
    assert.deepEqual(bits(b.pooled!.data), E.pooled_f32bits, 'stored pooled is read, not recomputed');
    assert.deepEqual(Array.from(b.labels!), E.labels);
    closeTo(spatialMean(b.featureMap!.data, E.n, E.c, E.h * E.w), E.pooled16_mean_f64, 1e-6, 'mean of the float16 map');
    assert.deepEqual(bits(dump.linearHead()!.weight), E.weight_f32bits);
  } finally {
    dump.close();
  }
});

test('streaming yields identical data for every batch size', () => {
  for (const src of [fixture('dump_dir'), fixture('dump.safetensors')]) {
    const dump = openDump(src);
    try {
      const ref = [...dump.batches({ rowsPerBatch: E.n })];
      assert.equal(ref.length, 1);
      const all = (bs: DumpBatch[]): number[][] => [
        concat(bs, (b) => b.featureMap?.data), concat(bs, (b) => b.pooled?.data), concat(bs, (b) => b.logits?.data), concat(bs, (b) => b.labels),
      ];
      const want = all(ref);
      for (const opts of [{ rowsPerBatch: 1 }, { rowsPerBatch: 3 }, { rowsPerBatch: 7 }, { rowsPerBatch: 1000 }, { maxBatchBytes: 1 }, { maxBatchBytes: 500 }, {}]) {
        const bs = [...dump.batches(opts)];
        let next = 0;
        for (const b of bs) {
          assert.equal(b.start, next, `${src} ${JSON.stringify(opts)}: contiguous starts`);
          next += b.n;
          assert.equal(b.featureMap!.data.length, b.n * E.c * E.h * E.w);
        }
        assert.equal(next, E.n);
        assert.deepEqual(all(bs), want, `${src} ${JSON.stringify(opts)}`);
      }
      // reuseBuffers: same values (copied before the next batch overwrites them), same buffer every batch.
      const copies: number[][] = [[], [], [], []];
      const buffers = new Set<ArrayBufferLike>();
      for (const b of dump.batches({ rowsPerBatch: 3, reuseBuffers: true })) {
        copies[0].push(...b.featureMap!.data);
        copies[1].push(...b.pooled!.data);
        copies[2].push(...b.logits!.data);
        copies[3].push(...b.labels!);
        buffers.add(b.featureMap!.data.buffer);
      }
      assert.deepEqual(copies, want, `${src} reuseBuffers`);
      assert.equal(buffers.size, 1);
      // stageFeatureMap: the map is read into the NAP kernel's WebAssembly memory, same values
      // (float16 maps converted into it too), pooled derived from it as before.
      const staged: number[][] = [[], [], [], []];
      const stagedBuffers = new Set<ArrayBufferLike>();
      for (const b of dump.batches({ rowsPerBatch: 4, stageFeatureMap: true })) {
        staged[0].push(...b.featureMap!.data);
        staged[1].push(...b.pooled!.data);
        staged[2].push(...b.logits!.data);
        staged[3].push(...b.labels!);
        stagedBuffers.add(b.featureMap!.data.buffer);
      }
      assert.deepEqual(staged, want, `${src} stageFeatureMap`);
      if (napWasmAvailable()) {
        assert.equal(stagedBuffers.size, 1);
        assert.equal([...stagedBuffers][0], napWasmStagingBuffer(1)!.buffer, 'the batches live in the kernel memory');
      }
      // maxBatchBytes: 500 bytes / (4·36 + 4·4 + 4·5 + 4 bytes per row) = 2 rows per batch.
      assert.deepEqual([...dump.batches({ maxBatchBytes: 500 })].map((b) => b.n), [2, 2, 2, 2, 2]);
      // A row range.
      const part = [...dump.batches({ start: 3, end: 8, rowsPerBatch: 2, fields: ['labels'] })];
      assert.deepEqual(part.map((b) => [b.start, b.n]), [[3, 2], [5, 2], [7, 1]]);
      assert.deepEqual(concat(part, (b) => b.labels), E.labels.slice(3, 8));
      throwsNapood(() => [...dump.batches({ start: 4, end: 11 })], 'row range within [0, 10]', 'start 4, end 11');
      throwsNapood(() => [...dump.batches({ rowsPerBatch: 0 })], 'rowsPerBatch a positive integer');
    } finally {
      dump.close();
    }
  }
});

test('a NaN / Inf row is reported with the tensor, the dump and the global row index', () => {
  const p = fixture('dump_nan');
  const dump = openDump(p, { argument: '--id' });
  try {
    assert.equal(dump.has('pooled'), true);
    assert.equal(dump.has('featureMap'), false);
    // Batches of 3 rows: the NaN is in the third batch (rows 6..8), at global row 7.
    const seen: number[] = [];
    throwsNapood(() => { for (const b of dump.batches({ rowsPerBatch: 3 })) seen.push(b.start); },
      /^--id: expected finite values in tensor "pooled" of /, p, 'found NaN at row 7 (element 2 of the row)');
    assert.deepEqual(seen, [0, 3]);
    throwsNapood(() => [...dump.batches({ start: 8 })], 'found +Inf at row 9 (element 0 of the row)');
    throwsNapood(() => dump.readRows('pooled', 5, 5), 'NaN at row 7');
    assert.equal(dump.readRows('pooled', 0, 7).length, 7 * E.c);
    // Labels stored as float32 holding integers are accepted.
    assert.deepEqual(Array.from(dump.readLabels(0, E.n)), E.labels);
    assert.equal(dump.linearHead(), undefined);
  } finally {
    dump.close();
  }
});

test('TensorReader in small pieces gives the same float16 conversion as one read', () => {
  const t = npyTensor(readNpyHeader(fixture('npy', 'f2_all.npy')));
  const whole = new TensorReader();
  const pieces = new TensorReader(1000); // 500 elements per piece
  try {
    assert.deepEqual(bits(pieces.readFloat32(t, 17, 60000)), bits(whole.readFloat32(t, 0, 65536).subarray(17, 60017)));
  } finally {
    whole.close();
    pieces.close();
  }
});

/** Write a dump directory from {name: [array, shape]}. */
function writeDir(dir: string, name: string, tensors: Record<string, [Float32Array | Int32Array | Float64Array, number[]]>): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  for (const [t, [a, shape]] of Object.entries(tensors)) writeNpy(path.join(d, `${t}.npy`), a, shape);
  return d;
}

const f32 = (n: number, fill = 0.5): Float32Array => new Float32Array(n).fill(fill);

test('inconsistent dumps: errors name the argument, the tensor and the shapes', () => {
  const { dir, cleanup } = tempDir();
  try {
    const arg = { argument: '--features' };
    const open = (d: string, o: object = arg): Dump => openDump(d, o);
    throwsNapood(() => open(writeDir(dir, 'n', { featureMap: [f32(2 * 3 * 4), [2, 3, 2, 2]], logits: [f32(15), [3, 5]] })),
      /^--features: /, 'the same number of rows N', '"featureMap" [2, 3, 2, 2]', 'found "logits" [3, 5]');
    throwsNapood(() => open(writeDir(dir, 'c', { featureMap: [f32(24), [2, 3, 2, 2]], pooled: [f32(8), [2, 4]] })),
      '"pooled" [N, C] with the C of "featureMap" [2, 3, 2, 2]', 'found "pooled" [2, 4]');
    throwsNapood(() => open(writeDir(dir, 'hc', { pooled: [f32(8), [2, 4]], 'head.weight': [f32(15), [5, 3]] })),
      '"head.weight" [5, 3] with C = 4 ("pooled" [2, 4])', 'found C = 3');
    throwsNapood(() => open(writeDir(dir, 'hk', { pooled: [f32(8), [2, 4]], logits: [f32(6), [2, 3]], 'head.weight': [f32(20), [5, 4]] })),
      'with K = 3 ("logits" [2, 3])', 'found K = 5');
    throwsNapood(() => open(writeDir(dir, 'hb', { pooled: [f32(8), [2, 4]], 'head.weight': [f32(20), [5, 4]], 'head.bias': [f32(4), [4]] })),
      '"head.bias" of shape [5]', 'found [4]');
    throwsNapood(() => open(writeDir(dir, 'bo', { pooled: [f32(8), [2, 4]], 'head.bias': [f32(4), [4]] })), 'together with "head.bias"');
    throwsNapood(() => open(writeDir(dir, 'l2', { pooled: [f32(8), [2, 4]], labels: [new Int32Array(4), [2, 2]] })), '"labels" of shape [N]', 'found [2, 2]');
    throwsNapood(() => open(writeDir(dir, 'f3', { featureMap: [f32(24), [2, 3, 4]] })), '"featureMap" of shape [N, C, H, W]', 'found [2, 3, 4]');
    throwsNapood(() => open(writeDir(dir, 'fi', { featureMap: [new Int32Array(24), [2, 3, 2, 2]] })), 'of a float dtype', 'found int32');
    throwsNapood(() => open(writeDir(dir, 'e', { pooled: [f32(0), [0, 4]], logits: [f32(0), [0, 3]] })), 'at least one row', 'N = 0');
    throwsNapood(() => open(writeDir(dir, 'none', { labels: [new Int32Array(2), [2]], features: [f32(8), [2, 4]] })),
      'at least one of featureMap', 'found only "labels"');
    fs.mkdirSync(path.join(dir, 'empty'));
    throwsNapood(() => open(path.join(dir, 'empty')), 'found none of them');
    throwsNapood(() => open(path.join(dir, 'missing')), /^--features: expected a feature dump/, 'no such file or directory');
    throwsNapood(() => open(path.join(dir, 'n', 'logits.npy')), 'must be in a directory', 'logits.npy');
    const txt = path.join(dir, 'x.txt');
    fs.writeFileSync(txt, 'hello');
    throwsNapood(() => open(txt), txt, 'safetensors');
    // A corrupt .npy inside a dump is reported with the argument and the file.
    const bad = writeDir(dir, 'bad', { pooled: [f32(8), [2, 4]] });
    fs.truncateSync(path.join(bad, 'pooled.npy'), 150);
    throwsNapood(() => open(bad), `--features: ${path.join(bad, 'pooled.npy')}: expected 160 bytes`, 'found 150 bytes (truncated file)');

    // Non-integer labels are found when read.
    const lab = open(writeDir(dir, 'lab', { pooled: [f32(8), [2, 4]], labels: [new Float32Array([1, 2.5]), [2]] }));
    throwsNapood(() => lab.readLabels(0, 2), 'integer class labels', '2.5 at row 1');
    throwsNapood(() => [...lab.batches({ fields: ['logits'] })], 'a dump holding "logits"', 'only "pooled", "labels"');
    throwsNapood(() => [...lab.batches({ fields: ['featureMap'] })], 'a dump holding "featureMap"');
    assert.equal(lab.has('featureMap'), false);
    lab.close();
    throwsNapood(() => lab.readRows('pooled', 0, 1), 'already closed');
  } finally {
    cleanup();
  }
});

test('loadHead: safetensors / npy directory / single .npy, name variants, and headPath in openDump', () => {
  const { dir, cleanup } = tempDir();
  try {
    const w = Float32Array.from({ length: 12 }, (_, i) => i - 5);
    const b = new Float32Array([1, 2, 3]);
    const st = path.join(dir, 'fc.safetensors');
    writeSafetensors(st, { 'fc.weight': { dtype: 'F32', shape: [3, 4], data: w }, 'fc.bias': { dtype: 'F32', shape: [3], data: b } });
    const h1 = loadHead(st, '--head');
    assert.deepEqual([h1.k, h1.c], [3, 4]);
    assert.deepEqual(Array.from(h1.weight), Array.from(w));
    assert.deepEqual(Array.from(h1.bias), [1, 2, 3]);

    const d = path.join(dir, 'plain');
    fs.mkdirSync(d);
    writeNpy(path.join(d, 'weight.npy'), new Float64Array(w), [3, 4]);
    writeNpy(path.join(d, 'bias.npy'), new Float64Array(b));
    assert.deepEqual(Array.from(loadHead(d).bias), [1, 2, 3]);

    const one = path.join(dir, 'w.npy');
    writeNpy(one, w, [3, 4]);
    const h3 = loadHead(one);
    assert.deepEqual(Array.from(h3.bias), [0, 0, 0], 'missing bias is zeros');

    const other = path.join(dir, 'other.safetensors');
    writeSafetensors(other, { 'classifier.weight': { dtype: 'F32', shape: [3, 4], data: w } });
    throwsNapood(() => loadHead(other, '--head'), /^--head: expected a classifier head/, 'found only "classifier.weight"');
    const nan = path.join(dir, 'nan.safetensors');
    writeSafetensors(nan, { weight: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, NaN, 0, 0]) } });
    throwsNapood(() => loadHead(nan, '--head'), 'finite values in tensor "weight"', 'NaN at row 0 (element 1 of the row)');
    const badBias = path.join(dir, 'bb.safetensors');
    writeSafetensors(badBias, { weight: { dtype: 'F32', shape: [3, 4], data: w }, bias: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    throwsNapood(() => loadHead(badBias, '--head'), '"bias" of shape [3]', 'found [4]');

    // A separate head file overrides the dump's and is checked against it (K = 3 here, K = 5 in the dump).
    throwsNapood(() => openDump(fixture('dump_dir'), { headPath: st, headArgument: '--head', argument: '--features' }),
      /^--features: expected the head \[K, C\] = \[3, 4\] with K = 5 \("logits" \[10, 5\]\), found K = 3$/);
  } finally {
    cleanup();
  }
});

test('a fitting separate head replaces the dump head; the dump without a head takes K and C from it', () => {
  const { dir, cleanup } = tempDir();
  try {
    const st = path.join(dir, 'head.safetensors');
    writeSafetensors(st, { 'head.weight': { dtype: 'F32', shape: [5, 4], data: f32(20, 2) } });
    const d = writeDir(dir, 'nohead', { pooled: [f32(8), [2, 4]] });
    const dump = openDump(d, { headPath: st });
    try {
      assert.equal(dump.classes, 5);
      assert.equal(dump.channels, 4);
      assert.deepEqual(Array.from(dump.linearHead()!.weight.subarray(0, 2)), [2, 2]);
    } finally {
      dump.close();
    }
  } finally {
    cleanup();
  }
});
