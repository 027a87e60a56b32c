/**
 * What the report takes from each batch besides the method scores, in the same pass (a source
 * wrapped by `tapSource` hands every batch to a SetCollector before the pipeline scores it):
 *
 *  - NAP on a (p, ε) grid from per-channel max and mean read once (methods/nap-stats.ts);
 *  - NAP at each chosen layer (multi-layer NAP, paper Table 7; the feature map before pooling is
 *    the last layer) from the model's extra outputs of the same forward pass;
 *  - for a seeded sample of rows (the figures): per-channel max and mean of the feature map and
 *    the channel-averaged max and mean at every chosen layer (paper Figures 1 and 5).
 *
 * Per-layer NAP is computed here from `batch.extra` (a seam: when method specs for layers,
 * `nap[LAYER]`, exist in run/spec.ts, `layerNapScores` is the one place to switch to them).
 */
import { NapoodError, describe } from '../../errors.js';
import { Xoshiro128 } from '../../math/random.js';
import { napKernel } from '../../methods/nap.js';
import { channelAverages, napChannelStats, napFromStats } from '../../methods/nap-stats.js';
import type { BatchSource, Field } from '../../run/pipeline.js';
import type { FeatureBatch, FeatureMap } from '../../types.js';

export interface GridPoint {
  readonly p: number;
  readonly eps: number;
}

/** A batch as a model source yields it: extra layers by tensor name, [N, C, H, W]. */
type TappedBatch = FeatureBatch & { readonly extra?: Readonly<Record<string, { readonly data: Float32Array; readonly dims: readonly number[] }>> };

/** `m` distinct row indices of [0, n), sorted, drawn with a seeded partial Fisher–Yates shuffle. */
export function sampleRows(n: number, m: number, seed: number): Uint32Array {
  if (m >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  const rng = new Xoshiro128(seed);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + rng.nextInt(n - i);
    const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
  }
  return idx.slice(0, m).sort();
}

/** NAP (ε = 1, p = 2, the method's defaults) of one map; the layers of Table 7 and Figure 5. */
export function layerNapScores(map: FeatureMap, n: number): Float64Array {
  return napKernel(map.data, n, map.c, map.h * map.w, 1, 2);
}

export interface SetSample {
  /** Row indices (of the set as scored) of the sampled rows. */
  rows: number[];
  /** Per sampled row: the feature map's per-channel max and mean (C values each). */
  channelMax: Float32Array[];
  channelMean: Float64Array[];
  /** [layer][sampled row]: channel-averaged max and mean. */
  layerMax: number[][];
  layerMean: number[][];
}

export class SetCollector {
  readonly grid: Float64Array[];
  readonly layers: Float64Array[];
  readonly sample: SetSample;
  private offset = 0;
  private next = 0;

  /** `layers`: extra tensor names, shallow to deep (the feature map is added as the last layer). */
  constructor(readonly label: string, n: number, readonly gridPoints: readonly GridPoint[], readonly layerNames: readonly string[], private readonly rows: Uint32Array) {
    this.grid = gridPoints.map(() => new Float64Array(n));
    this.layers = [...layerNames, 'featureMap'].map(() => new Float64Array(n));
    this.sample = { rows: [], channelMax: [], channelMean: [], layerMax: this.layers.map(() => []), layerMean: this.layers.map(() => []) };
  }

  private layerMap(batch: TappedBatch, name: string): FeatureMap {
    const t = batch.extra?.[name];
    if (!t) throw new NapoodError(this.label, `the layer ${describe(name)} in every batch (layers need model input: images or a tensor, not a dump)`, 'a batch without it');
    if (t.dims.length !== 4 || t.dims[0] !== batch.n) throw new NapoodError(`layer ${describe(name)}`, `an [N, C, H, W] activation with N = ${batch.n}`, `dims [${t.dims.join(', ')}]`);
    return { data: t.data, c: t.dims[1], h: t.dims[2], w: t.dims[3] };
  }

  add(batch: TappedBatch): void {
    const fm = batch.featureMap;
    if (!fm) throw new NapoodError(this.label, 'a featureMap in every batch', 'none');
    const n = batch.n;
    const stats = napChannelStats(fm.data, n, fm.c, fm.h * fm.w);
    const part = new Float64Array(n);
    this.gridPoints.forEach((g, k) => this.grid[k].set(napFromStats(stats, g.eps, g.p, part), this.offset));
    const maps = [...this.layerNames.map((l) => this.layerMap(batch, l)), fm];
    maps.forEach((m, l) => this.layers[l].set(layerNapScores(m, n), this.offset));
    // The sampled rows of this batch.
    const picked: number[] = [];
    while (this.next < this.rows.length && this.rows[this.next] < this.offset + n) picked.push(this.rows[this.next++] - this.offset);
    if (picked.length) {
      for (const r of picked) {
        this.sample.rows.push(this.offset + r);
        this.sample.channelMax.push(stats.max.slice(r * fm.c, (r + 1) * fm.c));
        this.sample.channelMean.push(stats.mean.slice(r * fm.c, (r + 1) * fm.c));
      }
      maps.forEach((m, l) => {
        const sub = new Float32Array(picked.length * m.c * m.h * m.w);
        const per = m.c * m.h * m.w;
        picked.forEach((r, k) => sub.set(m.data.subarray(r * per, (r + 1) * per), k * per));
        const avg = channelAverages(napChannelStats(sub, picked.length, m.c, m.h * m.w));
        this.sample.layerMax[l].push(...avg.max);
        this.sample.layerMean[l].push(...avg.mean);
      });
    }
    this.offset += n;
  }

  /** Trim to the rows actually scored (a set of images may skip some). */
  finish(n: number): void {
    if (n === this.grid[0]?.length) return;
    for (const a of [this.grid, this.layers]) for (let k = 0; k < a.length; k++) a[k] = a[k].slice(0, n);
  }
}

/** The source with every batch handed to `collector` first (the same pass as the scores). */
export function tapSource(source: BatchSource, collector: SetCollector): BatchSource {
  return Object.assign(Object.create(source) as BatchSource, {
    async *batches(fields: readonly Field[]) {
      const want = fields.includes('featureMap') ? fields : [...fields, 'featureMap' as const];
      for await (const b of source.batches(want) as AsyncIterable<TappedBatch>) {
        collector.add(b);
        yield b;
      }
    },
  });
}
