/**
 * Whole-process NAP over a feature dump: `napood score --features DUMP --method nap` (a fresh Node
 * process: start-up, reading featureMap.npy from the page cache into the kernel's staging buffer
 * batch by batch, scoring, writing the scores) against a fresh Python process that does what a
 * PyTorch user would: np.load the same .npy (into memory, or memory-mapped), then
 * (x.amax((2,3)) / (x.mean((2,3)) + ε)).pow(p).mean(1) with torch.set_num_threads(T), np.save the
 * scores (bench/nap_torch.py --whole); the faster of the two loads is the baseline.
 * The dump (featureMap [N, 512, 7, 7] float32, about 1 GB by default) is written once to the temp
 * folder and read once before timing (so both read it from the page cache). Commands alternate,
 * best of `reps` wall-clock times. Start-up is timed too: `napood --version` on its own, and for
 * python3 the time from the spawn to numpy and torch imported, in the same run. Scores must agree to 1e-5 (PyTorch computes in float32). Not a test.
 *
 * Run: npx tsc -p tsconfig.json --outDir .build-nap && node .build-nap/bench/nap_cli.js
 *      [--rows 10240] [--reps 5] [--threads 1] [--bins A/bin.js,B/bin.js (other napood builds, timed
 *      side by side with this one)]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { C, H, W, writeMap } from './synthetic-map.js';

const PYTHON = '/usr/bin/python3';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bench', 'nap_torch.py'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench/nap_cli: could not find the repository root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}


let lastStdout = '';
let lastSpawnedAt = 0;

function timed(cmd: string, args: string[]): number {
  lastSpawnedAt = Date.now();
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const sec = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  lastStdout = r.stdout;
  return sec;
}

/** Seconds from the spawn of the last python run to its `import numpy, torch` done. */
function pythonStart(): number {
  const line = lastStdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(line) as { imported_at: number }).imported_at - lastSpawnedAt / 1e3;
}

/** Float64 values of a 1-D float64 .npy. */
function readScores(file: string): Float64Array {
  const b = fs.readFileSync(file);
  const headerLen = b.readUInt16LE(8);
  const off = 10 + headerLen;
  const header = b.subarray(10, off).toString('latin1');
  if (!header.includes("'<f8'")) throw new Error(`${file}: expected float64 scores, header ${header}`);
  return new Float64Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.byteLength));
}

export function main(argv: string[] = process.argv.slice(2)): void {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rows = Number(arg('--rows') ?? 10240);
  const reps = Number(arg('--reps') ?? 5);
  const threads = arg('--threads') ?? '1';
  const root = repoRoot();
  const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.js');
  const others = (arg('--bins') ?? '').split(',').filter((b) => b !== '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napood-nap-cli-'));
  const dump = path.join(dir, 'dump');
  fs.mkdirSync(dump);
  const file = path.join(dump, 'featureMap.npy');
  try {
    writeMap(file, rows);
    const bytes = fs.statSync(file).size;
    fs.readFileSync(file); // into the page cache
    const outN = path.join(dir, 'napood.npy'), outT = path.join(dir, 'torch.npy');
    const napArgs = (b: string) => [b, 'score', '--features', dump, '--method', 'nap', '--out', outN];
    const torchArgs = (load: string) => [path.join(root, 'bench', 'nap_torch.py'), '--whole', file, '1', '2', threads, outT, load];
    timed(process.execPath, napArgs(bin)); // warm-up (and the OS caches of node and python)
    timed(PYTHON, torchArgs('read'));
    const best = { napood: Infinity, torchRead: Infinity, torchMmap: Infinity, nodeStart: Infinity, pyStartRead: Infinity, pyStartMmap: Infinity };
    const bestOther = others.map(() => Infinity);
    for (let r = 0; r < reps; r++) {
      best.napood = Math.min(best.napood, timed(process.execPath, napArgs(bin)));
      others.forEach((b, k) => { bestOther[k] = Math.min(bestOther[k], timed(process.execPath, napArgs(b))); });
      const tr = timed(PYTHON, torchArgs('read'));
      if (tr < best.torchRead) [best.torchRead, best.pyStartRead] = [tr, pythonStart()];
      const tm = timed(PYTHON, torchArgs('mmap'));
      if (tm < best.torchMmap) [best.torchMmap, best.pyStartMmap] = [tm, pythonStart()];
      best.nodeStart = Math.min(best.nodeStart, timed(process.execPath, [bin, '--version']));
    }
    timed(process.execPath, napArgs(bin));
    const a = readScores(outN), b = readScores(outT);
    if (a.length !== rows || b.length !== rows) throw new Error(`expected ${rows} scores, found ${a.length} and ${b.length}`);
    let maxRel = 0;
    for (let i = 0; i < rows; i++) maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
    if (!(maxRel <= 1e-5)) throw new Error(`scores differ: max rel ${maxRel}`);
    const gb = bytes / 1e9;
    const s = (x: number): string => `${x.toFixed(2)} s`;
    console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores (shared, noisy; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}), Node ${process.version}; best of ${reps}, alternating.`);
    console.log('');
    console.log(`| dump featureMap [${rows}, ${C}, ${H}, ${W}] float32 (${gb.toFixed(2)} GB, page cache) | wall s | GB/s | start-up s | wall − start-up s |`);
    console.log('|---|---:|---:|---:|---:|');
    console.log(`| napood score --method nap (fresh process) | ${s(best.napood)} | ${(gb / best.napood).toFixed(2)} | ${s(best.nodeStart)} (napood --version) | ${s(best.napood - best.nodeStart)} |`);
    others.forEach((o, k) => console.log(`| ${o} score --method nap | ${s(bestOther[k])} | ${(gb / bestOther[k]).toFixed(2)} | | |`));
    console.log(`| python3: np.load + torch amax/mean, ${threads} thread(s) | ${s(best.torchRead)} | ${(gb / best.torchRead).toFixed(2)} | ${s(best.pyStartRead)} (to numpy, torch imported) | ${s(best.torchRead - best.pyStartRead)} |`);
    console.log(`| python3: np.load(mmap_mode='r') + torch amax/mean, ${threads} thread(s) | ${s(best.torchMmap)} | ${(gb / best.torchMmap).toFixed(2)} | ${s(best.pyStartMmap)} (to numpy, torch imported) | ${s(best.torchMmap - best.pyStartMmap)} |`);
    const mmapFaster = best.torchMmap < best.torchRead;
    const torch = mmapFaster ? best.torchMmap : best.torchRead;
    const torchWork = torch - (mmapFaster ? best.pyStartMmap : best.pyStartRead);
    console.log('');
    console.log(`napood ÷ PyTorch (the faster load; throughput): **${(torch / best.napood).toFixed(2)}×** whole process, ${(torchWork / (best.napood - best.nodeStart)).toFixed(2)}× without start-up; max rel diff of the scores ${maxRel.toExponential(1)}.` +
      others.map((o, k) => ` ${o}: ${(torch / bestOther[k]).toFixed(2)}× whole process.`).join(''));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
