/** Public API of the metrics area (re-exports). */
export type { BinaryMetrics, RankMetrics, SortedScores, Counts } from './binary.js';
export {
  evaluateBinary,
  evaluateSorted,
  fpr95,
  auroc,
  auprIn,
  auprOut,
  detectionError,
  fpr95Sorted,
  aurocSorted,
  rankMetricsSorted,
  sortScores,
  sortChecked,
  roundHalfEven,
} from './binary.js';
export type { BootstrapOptions, BootstrapResult } from './bootstrap.js';
export { bootstrapCI } from './bootstrap.js';
export { Xoshiro128, resampleCounts } from '../math/random.js';
export { quantileSorted, percentileSorted, percentile } from '../math/percentile.js';
export { accuracy, argmaxRow } from './accuracy.js';
export { percent } from './format.js';
export { fprAt95OodRecall, fprAtOodRecallSorted } from './reverse-fpr.js';
export type { PairedScores, PairedReplicates } from './paired.js';
export { pairedBootstrap, percentileInterval, proportionInterval } from './paired.js';
