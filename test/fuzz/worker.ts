/**
 * Worker thread of the fuzz test: runs one target's loop (engine.ts) and publishes the index of
 * the input in progress in a shared Int32Array, so that the test's watchdog can stop a hang and
 * rebuild the input that hung. Importing this file outside a fuzz worker does nothing (the test
 * runner loads every file under test/).
 *
 * By hand: `NAPOOD_FUZZ=npy:5000:1 node dist/test/fuzz/worker.js` runs a target in this thread
 * and prints the stats (add `:INDEX` to print one input's mutations and outcome).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fuzzTarget, makeInput } from './engine.js';
import { allTargets } from './targets.js';

interface FuzzJob {
  readonly napoodFuzz: true;
  readonly target: string;
  readonly seed: number;
  readonly count: number;
  readonly progress: SharedArrayBuffer;
  readonly scratch: string;
}

const job = workerData as FuzzJob | undefined;
if (!isMainThread && job?.napoodFuzz) {
  const target = allTargets().find((t) => t.name === job.target);
  if (!target) throw new Error(`no fuzz target ${job.target}`);
  const at = new Int32Array(job.progress);
  const stats = fuzzTarget(target, job.seed, job.count, (i) => Atomics.store(at, 0, i), job.scratch);
  parentPort!.postMessage(stats);
} else if (isMainThread && process.env.NAPOOD_FUZZ && process.argv[1]?.endsWith('worker.js')) {
  const [name, count = '1000', seed = '1', index] = process.env.NAPOOD_FUZZ.split(':');
  const target = allTargets().find((t) => t.name === name);
  if (!target) throw new Error(`no fuzz target ${name}`);
  if (index !== undefined) {
    const input = makeInput(target, Number(seed), Number(index));
    console.log(input.seed, input.mutations, input.bytes.length, 'bytes');
    console.log(target.run(input.bytes, input.rng, '/tmp'));
  } else {
    console.log(JSON.stringify(fuzzTarget(target, Number(seed), Number(count)), null, 1));
  }
}
