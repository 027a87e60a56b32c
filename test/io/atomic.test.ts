import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openAtomicWriter, writeFileAtomic } from '../../src/node/io/atomic.js';
import { tempDir, throwsNapood } from './helpers.js';

test('writeFileAtomic writes the whole content and leaves no temp file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'out.bin');
    writeFileAtomic(p, [Buffer.from('abc'), new Uint8Array([1, 2])]);
    assert.deepEqual(Array.from(fs.readFileSync(p)), [97, 98, 99, 1, 2]);
    writeFileAtomic(p, Buffer.from('new'));
    assert.equal(fs.readFileSync(p, 'utf8'), 'new');
    assert.deepEqual(fs.readdirSync(dir), ['out.bin']);
  } finally {
    cleanup();
  }
});

test('a failure in the middle of a write removes the temp file and keeps the old target', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'scores.npy');
    fs.writeFileSync(p, 'old content');
    // The second chunk is not a buffer: the write fails after the first chunk is in the temp file.
    throwsNapood(() => writeFileAtomic(p, [Buffer.from('partial'), { length: 5 } as unknown as Uint8Array]), p, 'data chunks of bytes', '[object Object]');
    assert.equal(fs.readFileSync(p, 'utf8'), 'old content');
    assert.deepEqual(fs.readdirSync(dir), ['scores.npy']);
  } finally {
    cleanup();
  }
});

test('a failing rename (target is a directory) removes the temp file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'taken');
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, 'inside'), 'x');
    throwsNapood(() => writeFileAtomic(p, Buffer.from('data'), '--out'), /^--out: expected a writable output file, found /);
    assert.deepEqual(fs.readdirSync(dir), ['taken']);
    assert.deepEqual(fs.readdirSync(p), ['inside']);
  } finally {
    cleanup();
  }
});

test('a missing directory is a NapoodError and creates nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'no', 'such', 'dir', 'x.npy');
    throwsNapood(() => writeFileAtomic(p, Buffer.from('x')), p, 'ENOENT');
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    cleanup();
  }
});

test('openAtomicWriter: chunks, writeAt, commit; abort leaves nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = path.join(dir, 'stream.bin');
    const w = openAtomicWriter(p);
    w.write(Buffer.from('....'));
    w.write(Buffer.from('body'));
    w.writeAt(Buffer.from('HEAD'), 0);
    assert.equal(w.bytesWritten, 8);
    assert.equal(fs.existsSync(p), false);
    assert.ok(fs.existsSync(w.tempPath));
    assert.equal(path.dirname(w.tempPath), dir);
    w.commit();
    assert.equal(fs.readFileSync(p, 'utf8'), 'HEADbody');
    throwsNapood(() => w.write(Buffer.from('late')), 'an open writer', 'already committed or aborted');

    const q = path.join(dir, 'aborted.bin');
    const w2 = openAtomicWriter(q);
    w2.write(Buffer.from('some bytes'));
    w2.abort();
    w2.abort();
    assert.equal(fs.existsSync(q), false);
    assert.deepEqual(fs.readdirSync(dir), ['stream.bin']);
  } finally {
    cleanup();
  }
});
