/**
 * OpenOOD v1.5's "FPR@95" — the reverse of napood's `fpr95` (SPEC §1), offered under its own
 * name: OOD is the positive class, the threshold is set so that 95 % of the OOD samples are
 * flagged (OOD recall = TPR_OOD ≥ 0.95), and the result is the share of ID samples flagged as
 * OOD at that threshold (ID false-positive rate).
 *
 * Exactly OpenOOD v1.5 `openood/evaluators/metrics.py::auc_and_fpr_recall`:
 *     fpr_list, tpr_list, _ = sklearn.metrics.roc_curve(ood_indicator, -conf)
 *     fpr = fpr_list[np.argmax(tpr_list >= 0.95)]
 * with scikit-learn's default `drop_intermediate=True` (collinear ROC points are dropped before
 * the first point that reaches the recall is looked up, which can matter with ties). Checked
 * against that code by tools/golden_reverse_fpr.py (fixture test/fixtures/metrics/reverse_fpr.json).
 * Scores are "higher = more ID" as everywhere in napood; the result is a fraction in [0, 1].
 */
import { NapoodError } from '../errors.js';
import { sortChecked } from './binary.js';

/** ID FPR at `recall` (default 0.95) OOD recall, OpenOOD v1.5's FPR@95. */
export function fprAt95OodRecall(id: Float64Array, ood: Float64Array, recall = 0.95): number {
  if (!(recall > 0 && recall <= 1)) throw new NapoodError('recall', 'a number in (0, 1]', String(recall));
  return fprAtOodRecallSorted(sortChecked('id', id), sortChecked('ood', ood), recall);
}

/** The same over ID and OOD scores each sorted ascending. */
export function fprAtOodRecallSorted(id: Float64Array, ood: Float64Array, recall = 0.95): number {
  const nId = id.length;
  const nOod = ood.length;
  // ROC of "OOD positive, score −s": thresholds are the distinct s ascending; at each, the
  // positives are the samples with s ≤ threshold (cumulative counts fps = ID, tps = OOD).
  const fps: number[] = [];
  const tps: number[] = [];
  let i = 0;
  let j = 0;
  while (i < nId || j < nOod) {
    const v = i < nId && (j >= nOod || id[i] <= ood[j]) ? id[i] : ood[j];
    while (i < nId && id[i] === v) i++;
    while (j < nOod && ood[j] === v) j++;
    fps.push(i);
    tps.push(j);
  }
  // sklearn's drop_intermediate: keep the ends and every point where either count's second
  // difference is non-zero.
  let keepF = fps;
  let keepT = tps;
  if (fps.length > 2) {
    keepF = [fps[0]];
    keepT = [tps[0]];
    for (let k = 1; k < fps.length - 1; k++) {
      if (fps[k + 1] - 2 * fps[k] + fps[k - 1] !== 0 || tps[k + 1] - 2 * tps[k] + tps[k - 1] !== 0) {
        keepF.push(fps[k]);
        keepT.push(tps[k]);
      }
    }
    keepF.push(fps[fps.length - 1]);
    keepT.push(tps[tps.length - 1]);
  }
  // Prepended (0, 0) point, then the first point whose OOD recall reaches `recall`.
  if (0 / nOod >= recall) return 0;
  for (let k = 0; k < keepT.length; k++) {
    if (keepT[k] / nOod >= recall) return keepF[k] / nId;
  }
  return 1;
}
