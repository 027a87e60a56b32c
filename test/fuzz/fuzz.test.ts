/**
 * Seeded mutation fuzzing of napood's parsers of untrusted files (issue #10): the .npy header
 * parser, the safetensors header parser (and, for some inputs, the whole dump reader on disk),
 * the ONNX protobuf decoder (decodeModel and tensorValues) and the PNG decoder (header and
 * pixels). Inputs are the committed fixtures mutated by bit flips, interesting bytes, truncation,
 * chunk duplication, length-field edits and format-aware header rewrites (mutate.ts, targets.ts).
 *
 * Every input must parse or be refused with napood's own error (NapoodError; the PNG decoder:
 * its documented `undefined` / `{ fallback }`), within SLOW_MS, and memory must stay bounded.
 * Each target runs in a worker thread under a watchdog, so that a hang fails the test and names
 * the input rather than blocking the suite. Deterministic: the seed is fixed (NAPOOD_FUZZ_SEED
 * overrides it, NAPOOD_FUZZ_SCALE multiplies the counts); a finding is rebuilt from its index
 * with `NAPOOD_FUZZ=target:1:seed:index node dist/test/fuzz/worker.js`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { makeInput, type FuzzStats } from './engine.js';
import { allTargets } from './targets.js';

const SEED = Number(process.env.NAPOOD_FUZZ_SEED ?? 20240610);
const SCALE = Number(process.env.NAPOOD_FUZZ_SCALE ?? 1);
/** Inputs per target: sized so that the whole file takes ~10 s on a slow 2-core machine. */
const COUNTS: Readonly<Record<string, number>> = { npy: 4000, safetensors: 4000, onnx: 10000, png: 16000 };
/** No progress for this long is a hang (an input takes milliseconds). */
const HANG_MS = 20_000;
const STARTUP_MS = 60_000;

async function runWorker(target: string, count: number): Promise<FuzzStats> {
  // The worker's files for on-disk inputs; removed here, also when the worker is stopped.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `napood-fuzz-${target}-`));
  try {
    return await watch(target, count, scratch);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function watch(target: string, count: number, scratch: string): Promise<FuzzStats> {
  const progress = new SharedArrayBuffer(4);
  const at = new Int32Array(progress);
  Atomics.store(at, 0, -1);
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { napoodFuzz: true, target, seed: SEED, count, progress, scratch },
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  return new Promise((resolve, reject) => {
    let last = -1;
    let since = Date.now();
    let stopped = false;
    const timer = setInterval(() => {
      const i = Atomics.load(at, 0);
      if (i !== last) {
        last = i;
        since = Date.now();
        return;
      }
      if (Date.now() - since > (i < 0 ? STARTUP_MS : HANG_MS)) {
        clearInterval(timer);
        stopped = true;
        const t = allTargets().find((x) => x.name === target)!;
        const input = i >= 0 ? makeInput(t, SEED, i) : undefined;
        const err = new Error(i < 0 ? `${target}: the fuzz worker did not start` : `${target}: input ${i} hung (> ${HANG_MS} ms): ${input!.seed} ${input!.mutations}`);
        void worker.terminate().finally(() => reject(err));
      }
    }, 250);
    worker.once('message', (stats: FuzzStats) => {
      clearInterval(timer);
      resolve(stats);
    });
    worker.once('error', (err) => {
      clearInterval(timer);
      const i = Atomics.load(at, 0);
      reject(new Error(`${target}: the fuzz worker died at input ${i}: ${err.message}`));
    });
    worker.once('exit', (code) => {
      clearInterval(timer);
      // After the results this is a no-op; before them, the worker died.
      if (!stopped) reject(new Error(`${target}: the fuzz worker exited (code ${code}) without results at input ${Atomics.load(at, 0)}`));
    });
  });
}

for (const [target, base] of Object.entries(COUNTS)) {
  const count = Math.max(1, Math.round(base * SCALE));
  test(`fuzz ${target}: ${count} mutated inputs (seed ${SEED}) parse or give napood's own error, none slow, memory bounded`, async (t) => {
    const stats = await runWorker(target, count);
    const outcomes = Object.entries(stats.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
    t.diagnostic(`${target}: ${stats.inputs} inputs in ${(stats.ms / 1000).toFixed(1)} s (slowest ${stats.slowestMs.toFixed(0)} ms): ${outcomes}; `
      + `memory growth ${(stats.arrayBufferGrowth / 2 ** 20).toFixed(0)} MiB ArrayBuffers, ${(stats.rssGrowth / 2 ** 20).toFixed(0)} MiB RSS`);
    const shown = stats.findings.slice(0, 10).map((f) => `  #${f.index} ${f.seed} [${f.mutations}]: ${f.problem}`);
    assert.equal(stats.findings.length, 0, `${stats.findings.length} findings (rebuild one with NAPOOD_FUZZ=${target}:1:${SEED}:INDEX node dist/test/fuzz/worker.js):\n${shown.join('\n')}`);
    // The mutations must keep some inputs valid and make others invalid, or the run proves little.
    assert.ok((stats.outcomes.parsed ?? 0) > count / 100, `too few inputs parse (${outcomes})`);
    assert.ok(count - (stats.outcomes.parsed ?? 0) > count / 10, `too few inputs are refused (${outcomes})`);
  });
}
