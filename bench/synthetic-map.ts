/**
 * The synthetic feature map the dump benchmarks share (bench/nap_stream.ts, bench/nap_cli.ts):
 * rows of [512, 7, 7] float32, ~60 % zeros and a heavy tail (post-ReLU-like), from a fixed LCG so
 * every run writes the same bytes.
 */
import { openNpyWriter } from '../src/node/io/npy.js';

export const C = 512, H = 7, W = 7;
export const ROW = C * H * W;

export function writeMap(file: string, rows: number): void {
  const w = openNpyWriter(file, 'float32', [C, H, W]);
  const chunk = new Float32Array(256 * ROW);
  let seed = 12345;
  for (let s = 0; s < rows; s += 256) {
    const m = Math.min(256, rows - s);
    for (let j = 0; j < m * ROW; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const u = seed / 2 ** 32;
      chunk[j] = u < 0.6 ? 0 : -Math.log(u) * 2; // post-ReLU-like: zeros and a heavy tail
    }
    w.write(chunk.subarray(0, m * ROW));
  }
  w.commit();
}
