/**
 * Issue #10, class 1: only regular files are read. A FIFO given as a dump blocked forever in
 * open(2); a dump member that is a directory crashed with EISDIR. Every reader of node/io goes
 * through openRegularFile (src/node/io/file.ts), which opens without blocking and checks the
 * open descriptor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openRegularFile, readRegularFile, statRegular } from '../../src/node/io/index.js';
import { loadHead, openDump } from '../../src/node/io/dump.js';
import { readNpyHeader, writeNpy } from '../../src/node/io/npy.js';
import { readSafetensorsHeader } from '../../src/node/io/safetensors.js';
import { TensorReader, type StoredTensor } from '../../src/node/io/tensor.js';
import { fixture, tempDir, throwsNapood } from '../io/helpers.js';

const posix = process.platform !== 'win32';
const here = path.dirname(fileURLToPath(import.meta.url));

function mkfifo(p: string): boolean {
  try {
    execFileSync('mkfifo', [p]);
    return true;
  } catch {
    return false;
  }
}

test('a FIFO given as a dump, a .npy, a head or a safetensors file is refused at once (in a child process with a time limit)', { skip: !posix }, (t) => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    const fifo = path.join(dir, 'dump.safetensors');
    const npyFifo = path.join(dir, 'head.npy');
    if (!mkfifo(fifo) || !mkfifo(npyFifo)) return t.skip('no mkfifo');
    // In a child: were the open to block, the time limit kills it instead of hanging the suite.
    const mod = (name: string): string => JSON.stringify(path.join(here, '..', '..', 'src', 'node', 'io', name));
    const script = `
      const { openDump, loadHead } = await import(${mod('dump.js')});
      const { readNpyHeader } = await import(${mod('npy.js')});
      const { readSafetensorsHeader } = await import(${mod('safetensors.js')});
      const out = [];
      for (const f of [() => openDump(${JSON.stringify(fifo)}, { argument: '--features' }), () => readSafetensorsHeader(${JSON.stringify(fifo)}),
                       () => readNpyHeader(${JSON.stringify(npyFifo)}), () => loadHead(${JSON.stringify(npyFifo)}, '--head')]) {
        try { f(); out.push('accepted'); } catch (e) { out.push(e.name + ': ' + e.message); }
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(r.error, undefined, `the child did not finish: ${r.error?.message}`);
    assert.equal(r.status, 0, r.stderr);
    const msgs = JSON.parse(r.stdout) as string[];
    assert.equal(msgs.length, 4);
    for (const m of msgs) assert.match(m, /^NapoodError: .*expected .*a regular file.*, found a FIFO \(named pipe\)/);
    assert.match(msgs[0]!, /^NapoodError: --features: /);
    assert.match(msgs[3]!, /^NapoodError: --head: /);
  } finally {
    cleanup();
  }
});

test('a dump member that is a directory, and a directory or device given as a file, are NapoodErrors naming the argument', () => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    const dump = path.join(dir, 'dump');
    fs.mkdirSync(dump);
    writeNpy(path.join(dump, 'pooled.npy'), new Float32Array(6), [2, 3]);
    fs.mkdirSync(path.join(dump, 'logits.npy'));
    throwsNapood(() => openDump(dump, { argument: '--features' }), '--features: ', 'logits.npy', 'a directory');
    throwsNapood(() => readNpyHeader(dir, '--x'), '--x: ', 'a regular file', 'a directory');
    throwsNapood(() => readSafetensorsHeader(dir, '--y'), '--y: ', 'a directory');
    throwsNapood(() => openRegularFile(dir, '--z', 'a model file'), '--z: expected a model file (a regular file), found a directory');
    throwsNapood(() => statRegular(dir, '--z'), 'a directory');
    throwsNapood(() => readRegularFile(dir, '--z'), 'a directory');
    if (posix && fs.existsSync('/dev/zero')) {
      // Endless: a reader that did not check would read forever (or allocate without bound).
      throwsNapood(() => readSafetensorsHeader('/dev/zero', '--features'), '--features: ', 'a character device');
      throwsNapood(() => openDump('/dev/zero', { argument: '--features' }), 'a character device');
      throwsNapood(() => loadHead('/dev/null', '--head'), '--head: ');
    }
    // TensorReader opens lazily: a file swapped for a directory after the header is read.
    const t: StoredTensor = { name: 'x', file: path.join(dump, 'logits.npy'), dtype: 'float32', shape: [1], dataOffset: 0, byteLength: 4, littleEndian: true };
    const r = new TensorReader();
    try {
      throwsNapood(() => r.readFloat32(t, 0, 1), 'a directory');
    } finally {
      r.close();
    }
  } finally {
    cleanup();
  }
});

test('regular files and symbolic links to them are still read; a missing file says ENOENT', () => {
  const { dir, cleanup } = tempDir('napood-hostile-');
  try {
    const link = path.join(dir, 'link.npy');
    fs.symlinkSync(fixture('npy', 'f4_v1.npy'), link);
    assert.deepEqual(readNpyHeader(link).shape, [3, 4]);
    const f = openRegularFile(link);
    try {
      assert.equal(f.size, fs.statSync(fixture('npy', 'f4_v1.npy')).size);
    } finally {
      fs.closeSync(f.fd);
    }
    assert.equal(readRegularFile(link).length, f.size);
    assert.equal(statRegular(link).isFile(), true);
    throwsNapood(() => openRegularFile(path.join(dir, 'none'), '--features'), '--features: ', 'ENOENT');
  } finally {
    cleanup();
  }
});
