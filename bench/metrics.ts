/**
 * Benchmark: napood evaluateBinary (FPR95 + AUROC + AUPR-In + AUPR-Out, detection error comes in the
 * same pass) vs scikit-learn roc_auc_score + 2 × average_precision_score + numpy FPR95, on the same
 * 10^7 float64 scores (5·10^6 ID ~ N(1, 1), 5·10^6 OOD ~ N(0, 1)) read from .npy files under /tmp
 * that bench/metrics_sklearn.py writes once. Best of 3 each, run one after the other on the same
 * machine (SPEC §7: ratios side by side, no absolute times in tests). Also checks that the metric
 * values agree to 1e-9.
 *
 * Usage: npx tsc -p tsconfig.json --outDir .build-metrics && node .build-metrics/bench/metrics.js
 * Env: NAPOOD_PYTHON (default /usr/bin/python3), NAPOOD_BENCH_ID / NAPOOD_BENCH_OOD (the .npy paths).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluateBinary } from '../src/metrics/index.js';
import type { BinaryMetrics } from '../src/metrics/index.js';

const PYTHON = process.env.NAPOOD_PYTHON ?? '/usr/bin/python3';
const ID_PATH = process.env.NAPOOD_BENCH_ID ?? '/tmp/napood_bench_metrics_id.npy';
const OOD_PATH = process.env.NAPOOD_BENCH_OOD ?? '/tmp/napood_bench_metrics_ood.npy';
const SCRIPT = fileURLToPath(new URL('../../bench/metrics_sklearn.py', import.meta.url));
const REPEATS = 3;

/** Minimal reader for a 1-D little-endian float64 C-order .npy file. */
function readNpyF64(path: string): Float64Array {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: expected a .npy file, found another format`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f8'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: expected a C-order '<f8' array, found header ${header.trim()}`);
  }
  const offset = start + headerLen;
  const bytes = buf.subarray(offset);
  // copy into an aligned buffer
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function main(): void {
  if (!existsSync(ID_PATH) || !existsSync(OOD_PATH)) {
    execFileSync(PYTHON, [SCRIPT, '--write-only'], { stdio: 'inherit' });
  }
  const id = readNpyF64(ID_PATH);
  const ood = readNpyF64(OOD_PATH);
  let best = Infinity;
  let values: BinaryMetrics | undefined;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = process.hrtime.bigint();
    values = evaluateBinary(id, ood);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  const py = JSON.parse(
    execFileSync(PYTHON, [SCRIPT, '--repeats', String(REPEATS)], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').pop() as string,
  ) as { seconds: number; values: Record<string, number>; n: number; versions: Record<string, string> };
  const v = values as BinaryMetrics;
  console.log(`metrics on ${id.length + ood.length} float64 scores (${id.length} ID, ${ood.length} OOD), best of ${REPEATS}`);
  console.log(`node ${process.version}; numpy ${py.versions.numpy}, scikit-learn ${py.versions.sklearn}`);
  console.log('');
  console.log('| task | napood s | sklearn+numpy s | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| fpr95 + auroc + auprIn + auprOut | ${best.toFixed(3)} | ${py.seconds.toFixed(3)} | ${(best / py.seconds).toFixed(3)} |`);
  console.log('');
  let maxDiff = 0;
  for (const key of ['fpr95', 'auroc', 'auprIn', 'auprOut'] as const) {
    const d = Math.abs(v[key] - py.values[key]);
    maxDiff = Math.max(maxDiff, d);
    console.log(`${key.padEnd(8)} napood ${v[key].toFixed(12)}  sklearn ${py.values[key].toFixed(12)}  |diff| ${d.toExponential(2)}`);
  }
  console.log(`detectionError napood ${v.detectionError.toFixed(12)}`);
  console.log(maxDiff <= 1e-9 ? 'values agree to 1e-9' : `VALUES DIFFER: max |diff| ${maxDiff}`);
  if (maxDiff > 1e-9) process.exitCode = 1;
}

main();
