/**
 * NAP from per-channel statistics, for sweeps of NAP's parameters without re-reading the map.
 *
 * S_NAP(x) = (1/C) Σ_c (max_c / (mean_c + ε))^p depends on the map only through the per-sample,
 * per-channel max and mean, so `napChannelStats` reads the map once (the same four partial float64
 * sums per channel as `napKernelJs`) and `napFromStats` evaluates S_NAP for any (ε, p) from them:
 * equal to `napKernelJs` bit for bit, and to the WebAssembly `napKernel` up to the order of the
 * float64 additions (~1e-15 relative). The report's p / ε grid and its figures of the prior (max
 * against mean per channel) come from one read of each map.
 */
import { NapoodError } from '../errors.js';

export interface ChannelStats {
  /** n×c maxima (row-major: sample, then channel). */
  readonly max: Float32Array;
  /** n×c means, float64 sums divided by h·w. */
  readonly mean: Float64Array;
  readonly n: number;
  readonly c: number;
}

/** Per-sample, per-channel max and mean of an n×c×hw map (NCHW), in one read. */
export function napChannelStats(map: Float32Array, n: number, c: number, hw: number): ChannelStats {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(c) && c >= 1 && Number.isInteger(hw) && hw >= 1)) {
    throw new NapoodError('napChannelStats', 'integer n ≥ 0, c ≥ 1 and h·w ≥ 1', `n=${n}, c=${c}, h·w=${hw}`);
  }
  if (map.length < n * c * hw) throw new NapoodError('featureMap', `at least n·c·h·w = ${n * c * hw} values`, String(map.length));
  const max = new Float32Array(n * c);
  const mean = new Float64Array(n * c);
  const invHw = 1 / hw;
  let base = 0;
  for (let r = 0; r < n * c; r++) {
    const end = base + hw;
    let m = map[base];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = base;
    for (; j + 4 <= end; j += 4) {
      const a = map[j], b = map[j + 1], d = map[j + 2], e = map[j + 3];
      s0 += a; s1 += b; s2 += d; s3 += e;
      if (a > m) m = a;
      if (b > m) m = b;
      if (d > m) m = d;
      if (e > m) m = e;
    }
    for (; j < end; j++) {
      const a = map[j];
      s0 += a;
      if (a > m) m = a;
    }
    max[r] = m;
    mean[r] = ((s0 + s1) + (s2 + s3)) * invHw;
    base = end;
  }
  return { max, mean, n, c };
}

/** S_NAP with (ε, p) from channel statistics (the same arithmetic as napKernelJs). */
export function napFromStats(stats: ChannelStats, eps: number, p: number, out = new Float64Array(stats.n)): Float64Array {
  const { max, mean, n, c } = stats;
  const square = p === 2;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    const base = i * c;
    for (let ch = 0; ch < c; ch++) {
      const ratio = max[base + ch] / (mean[base + ch] + eps);
      acc += square ? ratio * ratio : Math.pow(ratio, p);
    }
    out[i] = acc / c;
  }
  return out;
}

/** Per sample: the channel average of the max and of the mean (the prior's picture, averaged over channels). */
export function channelAverages(stats: ChannelStats): { max: Float64Array; mean: Float64Array } {
  const { n, c } = stats;
  const max = new Float64Array(n);
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    for (let ch = 0; ch < c; ch++) { a += stats.max[i * c + ch]; b += stats.mean[i * c + ch]; }
    max[i] = a / c;
    mean[i] = b / c;
  }
  return { max, mean };
}
