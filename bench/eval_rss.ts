/**
 * Peak memory of `napood eval` over a 4 GB dump (issue: peak RSS under 500 MB). Not a test.
 *
 * Writes a float32 featureMap [N, 512, 7, 7] (N = 40 000 → 4.01 GB) with logits [N, 10] and a
 * linear head as a .npy dump under the temp dir (streamed through openNpyWriter), then runs
 * `napood eval --id DUMP --ood same=DUMP --methods nap,energy,nap-e,ash-s` in a child process,
 * which prints its own peak RSS (process.resourceUsage().maxRSS) when done. The dump is deleted
 * unless --keep is given.
 *
 *   node dist/bench/eval_rss.js [rows=40000] [--keep]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openNpyWriter, writeNpy } from '../src/node/io/npy.js';
import { main } from '../src/cli/main.js';

const C = 512, H = 7, W = 7, K = 10;
const ROW = C * H * W;

function writeDump(dir: string, rows: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const fm = openNpyWriter(path.join(dir, 'featureMap.npy'), 'float32', [C, H, W]);
  const lg = openNpyWriter(path.join(dir, 'logits.npy'), 'float32', [K]);
  const chunkRows = 256;
  const chunk = new Float32Array(chunkRows * ROW);
  const logits = new Float32Array(chunkRows * K);
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let start = 0; start < rows; start += chunkRows) {
    const n = Math.min(chunkRows, rows - start);
    for (let j = 0; j < n * ROW; j++) { const v = next() - 0.6; chunk[j] = v > 0 ? v * 4 : 0; }
    for (let j = 0; j < n * K; j++) logits[j] = next() * 10 - 5;
    fm.write(chunk.subarray(0, n * ROW));
    lg.write(logits.subarray(0, n * K));
  }
  fm.commit();
  lg.commit();
  const weight = new Float32Array(K * C).map((_, i) => Math.sin(i) * 0.1);
  writeNpy(path.join(dir, 'head.weight.npy'), weight, [K, C]);
  writeNpy(path.join(dir, 'head.bias.npy'), new Float32Array(K), [K]);
}

async function child(dir: string): Promise<void> {
  const t0 = Date.now();
  const code = await main(['eval', '--id', dir, '--ood', `same=${dir}`, '--methods', 'nap,energy,nap-e,ash-s', '--bootstrap', '200']);
  const rss = process.resourceUsage().maxRSS / 1024;
  process.stderr.write(JSON.stringify({ code, seconds: (Date.now() - t0) / 1000, maxRssMiB: rss }) + '\n');
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(args[1]);
} else {
  const rows = Number(args.find((a) => /^\d+$/.test(a)) ?? 40000);
  const dir = path.join(os.tmpdir(), `napood-eval-rss-${rows}`);
  if (!fs.existsSync(path.join(dir, 'featureMap.npy'))) {
    const t0 = Date.now();
    writeDump(dir, rows);
    console.log(`wrote ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bytes = fs.statSync(path.join(dir, 'featureMap.npy')).size;
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  const line = r.stderr.trim().split('\n').pop() ?? '';
  const result = JSON.parse(line);
  console.log(`| dump | featureMap bytes | eval (ID + OOD pass, 4 methods) | peak RSS |`);
  console.log(`|---|---|---|---|`);
  console.log(`| [${rows}, ${C}, ${H}, ${W}] float32 | ${(bytes / 1e9).toFixed(2)} GB | ${result.seconds.toFixed(1)} s | ${result.maxRssMiB.toFixed(0)} MiB |`);
  if (!args.includes('--keep')) fs.rmSync(dir, { recursive: true });
}
