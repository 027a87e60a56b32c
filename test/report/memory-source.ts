/** An in-memory source of feature batches (map, pooled, logits from a linear head, labels) for the report tests and bench/sweep.ts. */
import { Xoshiro128 } from '../../src/math/random.js';
import { spatialMean } from '../../src/math/spatial.js';
import { linearHead, linearForward } from '../../src/methods/common.js';
import type { BatchSource, Field } from '../../src/run/pipeline.js';
import type { FeatureBatch, Head } from '../../src/types.js';

export interface MemorySet {
  readonly source: BatchSource;
  readonly n: number;
}

/** A random linear head [k, c]. */
export function randomHead(k: number, c: number, seed: number): Head {
  const rng = new Xoshiro128(seed);
  return linearHead(Float32Array.from({ length: k * c }, () => rng.nextDouble() - 0.5), Float32Array.from({ length: k }, () => rng.nextDouble() - 0.5), k, c);
}

/** n rows of a post-ReLU map [c, h, w]: sparse peaks (`peak` high = ID-like) over a base level. */
export function memorySet(label: string, n: number, c: number, hw: number, head: Head, seed: number, peak: number, batch = 64): MemorySet {
  const rng = new Xoshiro128(seed);
  const map = new Float32Array(n * c * hw);
  for (let i = 0; i < map.length; i++) map[i] = rng.nextDouble() < 0.5 ? 0 : rng.nextDouble() + (rng.nextDouble() < 0.05 ? peak * rng.nextDouble() : 0);
  const pooled = spatialMean(map, n, c, hw);
  const logits = linearForward(pooled, n, c, head.linear!.weight, head.linear!.bias, head.k);
  const labels = Int32Array.from({ length: n }, (_, i) => i % head.k);
  const side = Math.sqrt(hw);
  const source: BatchSource = {
    label, n, head,
    has: () => true,
    *batches(_fields: readonly Field[]): Iterable<FeatureBatch> {
      for (let s = 0; s < n; s += batch) {
        const m = Math.min(batch, n - s);
        yield {
          n: m,
          featureMap: { data: map.subarray(s * c * hw, (s + m) * c * hw), c, h: side, w: side },
          pooled: { data: pooled.subarray(s * c, (s + m) * c), c },
          logits: { data: logits.subarray(s * head.k, (s + m) * head.k), k: head.k },
          labels: labels.subarray(s, s + m),
        };
      }
    },
  };
  return { source, n };
}
