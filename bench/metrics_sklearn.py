#!/usr/bin/python3
"""Baseline for bench/metrics.ts: scikit-learn + numpy on the same 10^7 scores.

Writes the arrays once (float64 .npy under /tmp, 5e6 ID ~ N(1, 1), 5e6 OOD ~ N(0, 1), seed 0) if
they are missing, then times, best of 3: roc_auc_score + average_precision_score (ID positive) +
average_precision_score (OOD positive, -score) + numpy FPR95 (sort ID, t = s[round(0.05 n)],
mean(ood > t)), the label / concatenation work included. Prints one JSON line: seconds + values.

Usage: /usr/bin/python3 bench/metrics_sklearn.py [--write-only] [--repeats 3]
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

ID_PATH = os.environ.get("NAPOOD_BENCH_ID", "/tmp/napood_bench_metrics_id.npy")
OOD_PATH = os.environ.get("NAPOOD_BENCH_OOD", "/tmp/napood_bench_metrics_ood.npy")
N = 5_000_000


def ensure_data():
    if not (os.path.exists(ID_PATH) and os.path.exists(OOD_PATH)):
        rng = np.random.default_rng(0)
        np.save(ID_PATH, rng.normal(1.0, 1.0, N))
        np.save(OOD_PATH, rng.normal(0.0, 1.0, N))


def sklearn_metrics(ind, ood):
    y = np.concatenate([np.ones(len(ind)), np.zeros(len(ood))])
    s = np.concatenate([ind, ood])
    auroc = roc_auc_score(y, s)
    aupr_in = average_precision_score(y, s)
    aupr_out = average_precision_score(1 - y, -s)
    t = np.sort(ind)[round(0.05 * len(ind))]
    fpr95 = float(np.mean(ood > t))
    return {"fpr95": fpr95, "auroc": float(auroc), "auprIn": float(aupr_in), "auprOut": float(aupr_out)}


def main():
    ensure_data()
    if "--write-only" in sys.argv:
        return
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3
    ind = np.load(ID_PATH)
    ood = np.load(OOD_PATH)
    best = float("inf")
    values = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        values = sklearn_metrics(ind, ood)
        best = min(best, time.perf_counter() - t0)
    import sklearn

    print(json.dumps({"seconds": best, "values": values, "n": len(ind) + len(ood),
                      "versions": {"numpy": np.__version__, "sklearn": sklearn.__version__}}))


if __name__ == "__main__":
    main()
