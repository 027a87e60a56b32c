/**
 * Memory check of streamed dump reading (not a test).
 *
 * Writes a ~2 GB float32 featureMap [N, 512, 7, 7] as .npy under the temp dir in chunks (through
 * openNpyWriter), then, in a child process (once with new arrays per batch, once with
 * reuseBuffers), streams it through openDump().batches() (featureMap and the pooled mean derived
 * from it), checks a checksum and prints the child's peak RSS (process.resourceUsage().maxRSS).
 * The file is deleted afterwards.
 *
 *   node .build-io/bench/io_stream.js [rows=20480] [maxBatchMiB=32]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openNpyWriter } from '../src/node/io/npy.js';
import { openDump } from '../src/node/io/dump.js';

const C = 512, H = 7, W = 7;
const ROW = C * H * W;

/** Deterministic value of element j of row i (exact in float32, sums exactly in float64). */
function fillRow(out: Float32Array, offset: number, i: number): void {
  for (let j = 0; j < ROW; j++) out[offset + j] = ((i * 31 + j) % 997) / 64;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function readChild(file: string, maxBatchBytes: number, reuseBuffers: boolean): void {
  const t0 = process.hrtime.bigint();
  const dump = openDump(path.dirname(file));
  let sumMap = 0, sumPooled = 0, batches = 0;
  for (const b of dump.batches({ fields: ['featureMap', 'pooled'], maxBatchBytes, reuseBuffers })) {
    const m = b.featureMap!.data;
    for (let i = 0; i < m.length; i++) sumMap += m[i];
    const p = b.pooled!.data;
    for (let i = 0; i < p.length; i++) sumPooled += p[i];
    batches++;
  }
  dump.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ sumMap, sumPooled, batches, seconds: s, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
}

function main(): void {
  if (process.argv[2] === '--read') {
    readChild(process.argv[3], Number(process.argv[4]), process.argv[5] === 'reuse');
    return;
  }
  const rows = Number(process.argv[2] ?? 20480);
  const maxBatchBytes = Number(process.argv[3] ?? 32) * 2 ** 20;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napood-io-bench-'));
  const file = path.join(dir, 'featureMap.npy');
  try {
    const chunkRows = 64;
    const chunk = new Float32Array(chunkRows * ROW);
    let expected = 0;
    const t0 = process.hrtime.bigint();
    const w = openNpyWriter(file, 'float32', [C, H, W]);
    for (let r = 0; r < rows; r += chunkRows) {
      const n = Math.min(chunkRows, rows - r);
      for (let i = 0; i < n; i++) fillRow(chunk, i * ROW, r + i);
      for (let k = 0; k < n * ROW; k++) expected += chunk[k];
      w.write(n === chunkRows ? chunk : chunk.subarray(0, n * ROW));
    }
    w.commit();
    const tw = Number(process.hrtime.bigint() - t0) / 1e9;
    const size = fs.statSync(file).size;
    console.log(`wrote ${file}: [${rows}, ${C}, ${H}, ${W}] float32, ${mib(size)} MiB in ${tw.toFixed(1)} s; writer peak RSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB`);

    const expectedPooled = expected / (H * W);
    for (const mode of ['new arrays', 'reuse']) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--read', file, String(maxBatchBytes), mode === 'reuse' ? 'reuse' : 'new'], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`reader failed: ${child.stderr}`);
      const res = JSON.parse(child.stdout.trim()) as { sumMap: number; sumPooled: number; batches: number; seconds: number; maxRssKiB: number };
      console.log(`[${mode === 'reuse' ? 'reuseBuffers: true' : 'reuseBuffers: false'}] streamed ${res.batches} batches (maxBatchBytes ${mib(maxBatchBytes)} MiB) in ${res.seconds.toFixed(1)} s = ${(size / 2 ** 20 / res.seconds).toFixed(0)} MiB/s`);
      console.log(`  checksum featureMap ${res.sumMap} (expected ${expected}) ${res.sumMap === expected ? 'OK' : 'MISMATCH'}`);
      console.log(`  checksum pooled     ${res.sumPooled.toPrecision(15)} (expected ${expectedPooled.toPrecision(15)}) ${Math.abs(res.sumPooled - expectedPooled) <= 1e-9 * expectedPooled ? 'OK' : 'MISMATCH'}`);
      console.log(`  reader peak RSS: ${mib(res.maxRssKiB * 1024)} MiB for a ${mib(size)} MiB file`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
