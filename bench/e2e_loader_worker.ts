/**
 * Worker thread of bench/e2e.ts's "napood, loader in a worker thread" contender: runs napood's own
 * `imageBatches` (unchanged: sharp decode, Pillow-exact resize, normalisation) on a thread of its
 * own and posts each batch to the main thread (the Float32Array is transferred, not copied), at
 * most `prefetch` batches ahead. The main thread meanwhile runs onnxruntime (whose `run` blocks
 * the thread that calls it) and the scores, so the JS parts of preprocessing overlap the forward
 * pass instead of taking turns with it.
 *
 * workerData: { paths: string[], pp: Preprocess, batchSize: number, concurrency: number, prefetch: number }
 * Messages to the main thread: { n, data } per batch, then { done: true } (or { error: string }).
 * Messages from it: 'ack' after each batch is consumed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { imageBatches, type Preprocess } from '../src/node/images/index.js';

interface Job {
  readonly paths: string[];
  readonly pp: Preprocess;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly prefetch: number;
}

const job = workerData as Job;
const port = parentPort!;
let credits = job.prefetch;
let wake: (() => void) | null = null;
port.on('message', (m) => {
  if (m === 'ack') {
    credits++;
    const w = wake;
    wake = null;
    w?.();
  }
});

try {
  const items = job.paths.map((path) => ({ path, label: -1 }));
  for await (const b of imageBatches(items, job.pp, { batchSize: job.batchSize, concurrency: job.concurrency })) {
    while (credits === 0) await new Promise<void>((r) => { wake = r; });
    credits--;
    port.postMessage({ n: b.n, data: b.data }, [b.data.buffer as ArrayBuffer]);
  }
  port.postMessage({ done: true });
} catch (e) {
  port.postMessage({ error: String((e as Error)?.stack ?? e) });
}
port.close();
