#!/usr/bin/python3
"""Golden values of OpenOOD v1.5's reverse FPR (ID FPR at 95 % OOD recall) for napood's
fprAt95OodRecall (src/metrics/reverse-fpr.ts), written to test/fixtures/metrics/reverse_fpr.json.

Reference: OpenOOD v1.5 openood/evaluators/metrics.py, auc_and_fpr_recall:
    ood_indicator = 1 for OOD, 0 for ID
    fpr_list, tpr_list, thresholds = sklearn.metrics.roc_curve(ood_indicator, -conf)
    fpr = fpr_list[np.argmax(tpr_list >= 0.95)]
(scikit-learn 1.2, drop_intermediate=True as the default). Cases: random normal scores, scores
rounded to a coarse grid (many ties, also across ID and OOD), constant scores, tiny sets.

Run: /usr/bin/python3 tools/golden_reverse_fpr.py
"""
import json
import os

import numpy as np
from sklearn.metrics import roc_curve


def openood_fpr(id_scores, ood_scores, recall=0.95):
    conf = np.concatenate([id_scores, ood_scores])
    label = np.concatenate([np.zeros(len(id_scores)), -np.ones(len(ood_scores))])
    ood_indicator = np.zeros_like(label)
    ood_indicator[label == -1] = 1
    fpr_list, tpr_list, _ = roc_curve(ood_indicator, -conf)
    return float(fpr_list[np.argmax(tpr_list >= recall)])


def main():
    rng = np.random.default_rng(20240229)
    cases = []
    for k, (n_id, n_ood, shift, grid) in enumerate([
        (200, 150, 1.0, None), (1000, 800, 0.3, None), (57, 91, 2.0, None),
        (300, 300, 0.5, 0.5), (500, 200, 0.0, 1.0), (120, 400, 1.5, 0.25),
        (40, 40, 0.8, 2.0), (5, 3, 0.0, None), (1, 1, 0.0, None), (2000, 37, 1.2, 0.1),
    ]):
        id_s = rng.normal(shift, 1.0, n_id)
        ood_s = rng.normal(0.0, 1.0, n_ood)
        if grid is not None:
            id_s = np.round(id_s / grid) * grid
            ood_s = np.round(ood_s / grid) * grid
        cases.append({'name': f'case{k}', 'id': id_s.tolist(), 'ood': ood_s.tolist(),
                      'fpr': openood_fpr(id_s, ood_s), 'fpr90': openood_fpr(id_s, ood_s, 0.9)})
    const = np.ones(10)
    cases.append({'name': 'constant', 'id': const.tolist(), 'ood': const[:7].tolist(),
                  'fpr': openood_fpr(const, const[:7]), 'fpr90': openood_fpr(const, const[:7], 0.9)})
    # Collinear steps: each threshold adds one ID and one OOD sample (drop_intermediate matters).
    steps = np.arange(40, dtype=float)
    cases.append({'name': 'collinear', 'id': steps.tolist(), 'ood': steps.tolist(),
                  'fpr': openood_fpr(steps, steps), 'fpr90': openood_fpr(steps, steps, 0.9)})
    out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'metrics', 'reverse_fpr.json')
    with open(out, 'w') as f:
        json.dump({'reference': 'OpenOOD v1.5 auc_and_fpr_recall (sklearn roc_curve)', 'cases': cases}, f)
    print(f'wrote {len(cases)} cases to {out}')


if __name__ == '__main__':
    main()
