/**
 * NAP over a dump as `napood eval` runs it: read featureMap batches from a .npy dump (page cache)
 * and score them with napKernel — with the rows read into ordinary arrays (the kernel then copies
 * them into WebAssembly memory) against rows read straight into the kernel's staging buffer
 * (`stageFeatureMap`, what the CLI uses). Same process, same file, alternating, best of `reps`.
 * Scores must agree to 1e-12 (the in-place path adds the channels in a different order). Not a test.
 *
 *   node dist/bench/nap_stream.js [rows=8192] [reps=5]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { C, H, ROW, W, writeMap } from './synthetic-map.js';
import { openDump } from '../src/node/io/dump.js';
import { napKernel } from '../src/methods/nap.js';



function pass(file: string, staged: boolean, out: Float64Array): number {
  const dump = openDump(path.dirname(file));
  const t0 = process.hrtime.bigint();
  for (const b of dump.batches({ fields: ['featureMap'], stageFeatureMap: staged })) {
    napKernel(b.featureMap!.data, b.n, C, H * W, 1, 2, out.subarray(b.start, b.start + b.n));
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  dump.close();
  return ms;
}

function main(): void {
  const rows = Number(process.argv[2] ?? 8192);
  const reps = Number(process.argv[3] ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napood-nap-stream-'));
  const file = path.join(dir, 'featureMap.npy');
  try {
    writeMap(file, rows);
    const mb = (rows * ROW * 4) / 2 ** 20;
    const a = new Float64Array(rows), b = new Float64Array(rows);
    pass(file, false, a); pass(file, true, b); // warm the page cache and the JIT
    let plain = Infinity, staged = Infinity;
    for (let r = 0; r < reps; r++) {
      plain = Math.min(plain, pass(file, false, a));
      staged = Math.min(staged, pass(file, true, b));
    }
    let maxRel = 0;
    for (let i = 0; i < rows; i++) maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.abs(a[i]));
    if (!(maxRel <= 1e-12)) throw new Error(`scores differ: max rel ${maxRel}`);
    process.stdout.write(`| dump featureMap [${rows}, ${C}, ${H}, ${W}] (${mb.toFixed(0)} MiB, page cache) | read + NAP, ordinary arrays: ${plain.toFixed(0)} ms (${(mb / plain * 1000).toFixed(0)} MiB/s) | read into the staging buffer: ${staged.toFixed(0)} ms (${(mb / staged * 1000).toFixed(0)} MiB/s) | ratio ${(plain / staged).toFixed(2)} | max rel diff ${maxRel.toExponential(1)} |\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
