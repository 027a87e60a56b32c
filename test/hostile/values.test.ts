/**
 * Issue #10, class 4: a float64 value beyond float32's range (1e39) became +Inf in the
 * conversion and was reported as "+Inf at row 5"; it is now reported as a value that overflows
 * float32 (src/node/io/dump-tensors.ts checkFinite reads the element again as float64). True NaN / ±Inf
 * in the file are still reported as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDump } from '../../src/node/io/dump.js';
import { writeNpy } from '../../src/node/io/npy.js';
import { writeSafetensors } from '../../src/node/io/safetensors.js';
import { tempDir, throwsNapood } from '../io/helpers.js';

function readAll(p: string): void {
  const d = openDump(p, { argument: '--features' });
  try {
    for (const b of d.batches({ rowsPerBatch: 3 })) void b;
  } finally {
    d.close();
  }
}

test('float64 values over float32 range name the value and say it overflows float32', () => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    for (const v of [1e39, -1e39, Number.MAX_VALUE]) {
      const a = new Float64Array(8 * 4).fill(0.5);
      a[5 * 4 + 2] = v;
      const npyDir = path.join(dir, `npy${v}`);
      fs.mkdirSync(npyDir);
      writeNpy(path.join(npyDir, 'pooled.npy'), a, [8, 4]);
      const e = throwsNapood(() => readAll(npyDir), '--features: ', `${v} at row 5 (element 2 of the row), which overflows float32`, 'the largest float32 is ±3.4028235e38');
      assert.doesNotMatch(e.message, /Inf/);
      const st = path.join(dir, `x${v}.safetensors`);
      writeSafetensors(st, { logits: { dtype: 'F64', shape: [8, 4], data: a } });
      throwsNapood(() => readAll(st), `${v} at row 5`, 'overflows float32');
    }
    // Just below float32's largest value (rounds to it) is fine; a true Inf or NaN in the file is reported as it is.
    const a = new Float64Array(8 * 4).fill(3.4028235e38);
    writeSafetensors(path.join(dir, 'max.safetensors'), { logits: { dtype: 'F64', shape: [8, 4], data: a } });
    readAll(path.join(dir, 'max.safetensors'));
    a[7] = Infinity;
    writeSafetensors(path.join(dir, 'inf.safetensors'), { logits: { dtype: 'F64', shape: [8, 4], data: a } });
    throwsNapood(() => readAll(path.join(dir, 'inf.safetensors')), 'finite values in tensor "logits"', '+Inf at row 1 (element 3 of the row)');
    a[7] = NaN;
    writeSafetensors(path.join(dir, 'nan.safetensors'), { logits: { dtype: 'F64', shape: [8, 4], data: a } });
    throwsNapood(() => readAll(path.join(dir, 'nan.safetensors')), 'NaN at row 1');
    // A float32 file holding +Inf is +Inf (no float64 to overflow from).
    const f = new Float32Array(8 * 4);
    f[9] = -Infinity;
    writeSafetensors(path.join(dir, 'f32.safetensors'), { logits: { dtype: 'F32', shape: [8, 4], data: f } });
    throwsNapood(() => readAll(path.join(dir, 'f32.safetensors')), '-Inf at row 2 (element 1 of the row)');
  } finally {
    cleanup();
  }
});

test('the head: a float64 weight over float32 range says it overflows', () => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    const w = new Float64Array(3 * 4);
    w[6] = 5e40;
    const st = path.join(dir, 'd.safetensors');
    writeSafetensors(st, { pooled: { dtype: 'F32', shape: [2, 4], data: new Float32Array(8) }, 'head.weight': { dtype: 'F64', shape: [3, 4], data: w } });
    const d = openDump(st, { argument: '--features' });
    try {
      throwsNapood(() => d.linearHead(), '5e+40 at row 1 (element 2 of the row), which overflows float32');
    } finally {
      d.close();
    }
  } finally {
    cleanup();
  }
});
