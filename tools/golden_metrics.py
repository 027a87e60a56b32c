#!/usr/bin/python3
"""Golden values for napood's metrics (src/metrics/), written to test/fixtures/metrics/golden.json.

References (numpy 1.24, scikit-learn 1.2):
  fpr95           t = sort(id)[round(0.05 * n_id)] (round half to even), share of OOD > t
  auroc           sklearn.metrics.roc_auc_score(y = ID, score)
  auprIn          sklearn.metrics.average_precision_score(y = ID, score)
  auprOut         sklearn.metrics.average_precision_score(y = OOD, -score)
  detectionError  brute force: min over t in unique(scores) + {+inf} of
                  0.5 * (1 - mean(id >= t)) + 0.5 * mean(ood >= t)
Bootstrap: the same xoshiro128** stream as src/metrics/random.ts, resample counts -> np.repeat of
the sorted arrays -> the references above, then np.quantile (linear) of the replicate values.

Large cases are not stored: they are generated from the shared PRNG (uniform doubles only, exact
IEEE arithmetic on both sides), described by a "generate" entry that the TS test re-creates.

Run: /usr/bin/python3 tools/golden_metrics.py
"""
import json
import os

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from napood_random import M32, Xoshiro128  # noqa: E402  (tools/napood_random.py)


def fpr95(ind, ood):
    t = np.sort(ind)[round(0.05 * len(ind))]
    return float(np.mean(ood > t))


def detection_error(ind, ood):
    ts = np.concatenate([np.unique(np.concatenate([ind, ood])), [np.inf]])
    ind_s = np.sort(ind)
    ood_s = np.sort(ood)
    # share >= t via searchsorted (left): exact counts, same as mean(x >= t)
    tpr = (len(ind_s) - np.searchsorted(ind_s, ts, side="left")) / len(ind_s)
    fpr = (len(ood_s) - np.searchsorted(ood_s, ts, side="left")) / len(ood_s)
    # cross-check the vectorised form against the literal definition on small inputs
    if len(ts) <= 2000:
        brute = min(0.5 * (1 - np.mean(ind >= t)) + 0.5 * np.mean(ood >= t) for t in ts)
        assert abs(brute - np.min(0.5 * (1 - tpr) + 0.5 * fpr)) < 1e-15
    return float(np.min(0.5 * (1 - tpr) + 0.5 * fpr))


def metrics(ind, ood):
    y = np.concatenate([np.ones(len(ind)), np.zeros(len(ood))])
    s = np.concatenate([ind, ood])
    return {
        "fpr95": fpr95(ind, ood),
        "auroc": float(roc_auc_score(y, s)),
        "auprIn": float(average_precision_score(y, s)),
        "auprOut": float(average_precision_score(1 - y, -s)),
        "detectionError": detection_error(ind, ood),
    }


def generate(spec):
    """Re-creatable large case: n uniform doubles per set from one stream (ID first, then OOD).
    kind "sum4": x = u1 + u2 + u3 + u4 (+ shift for ID); kind "grid": floor(u * levels) (+ shift)."""
    rng = Xoshiro128(spec["seed"])

    def draw(n, shift):
        out = np.empty(n)
        for i in range(n):
            if spec["kind"] == "sum4":
                x = rng.next_double()
                x = x + rng.next_double()
                x = x + rng.next_double()
                x = x + rng.next_double()
            else:
                x = float(np.floor(rng.next_double() * spec["levels"]))
            out[i] = x + shift
        return out

    ind = draw(spec["nId"], spec["shift"])
    ood = draw(spec["nOod"], 0.0)
    return ind, ood


def bootstrap(ind, ood, iterations, seed, confidence):
    rng = Xoshiro128(seed)
    a = np.sort(ind)
    b = np.sort(ood)
    fprs, aucs = [], []
    for _ in range(iterations):
        ca = np.zeros(len(a), dtype=np.int64)
        for _ in range(len(a)):
            ca[rng.next_int(len(a))] += 1
        cb = np.zeros(len(b), dtype=np.int64)
        for _ in range(len(b)):
            cb[rng.next_int(len(b))] += 1
        ra = np.repeat(a, ca)
        rb = np.repeat(b, cb)
        fprs.append(fpr95(ra, rb))
        y = np.concatenate([np.ones(len(ra)), np.zeros(len(rb))])
        aucs.append(roc_auc_score(y, np.concatenate([ra, rb])))
    alpha = (1 - confidence) / 2
    q = [alpha, 1 - alpha]
    return {
        "fpr95": [float(v) for v in np.quantile(fprs, q)],
        "auroc": [float(v) for v in np.quantile(aucs, q)],
    }


def main():
    np_rng = np.random.default_rng(20240229)
    cases = []

    def add(name, ind, ood):
        ind = np.asarray(ind, dtype=np.float64)
        ood = np.asarray(ood, dtype=np.float64)
        cases.append({"name": name, "id": ind.tolist(), "ood": ood.tolist(), "expected": metrics(ind, ood)})

    add("normal", np_rng.normal(1, 1, 200), np_rng.normal(0, 1, 300))
    add("ties 0..5", np_rng.integers(0, 6, 150), np_rng.integers(0, 6, 120))
    add("constant", np.full(50, 0.7), np.full(40, 0.7))
    add("one ID sample", [0.3], np_rng.normal(0, 1, 30))
    add("one OOD sample", np_rng.normal(0, 1, 40), [0.1])
    add("one of each, tied", [2.0], [2.0])
    add("separated, ID above", np_rng.uniform(2, 3, 60), np_rng.uniform(0, 1, 70))
    add("separated, OOD above", np_rng.uniform(0, 1, 60), np_rng.uniform(2, 3, 70))
    big = np_rng.normal(1, 1, 120) * 1e300
    near = np.nextafter(1e300, np.inf) * np.ones(5)
    add("around ±1e300", np.concatenate([big, [1e300, -1e300], near]),
        np.concatenate([np_rng.normal(0, 1, 110) * 1e300, [1e300, -1e300, 1e300]]))
    add("signed zeros", [-0.0, 0.0, 0.0, 1.0, -1.0, -0.0], [0.0, -0.0, -1.0, 0.5])
    # FPR95 rank: round(0.05 n) = round(2.5) = 2 (half to even), round(3.5) = 4, round(0.5) = 0
    add("n_id 50 (rank 2.5 -> 2)", np_rng.normal(1, 1, 50), np_rng.normal(0, 1, 50))
    add("n_id 70 (rank 3.5 -> 4)", np_rng.normal(1, 1, 70), np_rng.normal(0, 1, 60))
    add("n_id 10 (rank 0.5 -> 0)", np.arange(10.0), np.array([-1.0, 0.0, 0.5, 1.0, 3.0]))

    generated = []
    for spec in [
        {"name": "1e5 sum of 4 uniforms", "kind": "sum4", "seed": 12345, "nId": 50000, "nOod": 50000, "shift": 0.5},
        {"name": "1e5 grid of 64 levels (heavy ties)", "kind": "grid", "levels": 64, "seed": 777, "nId": 60000, "nOod": 40000, "shift": 3.0},
    ]:
        ind, ood = generate(spec)
        g = dict(spec)
        g["expected"] = metrics(ind, ood)
        # a few values to check that the generator was re-created exactly
        g["checkId"] = [float(ind[0]), float(ind[1]), float(ind[-1])]
        g["checkOod"] = [float(ood[0]), float(ood[-1])]
        generated.append(g)

    rng = Xoshiro128(42)
    prng = {"seed": 42, "uint32": [rng.next_uint32() for _ in range(8)]}
    rng = Xoshiro128(4294967295)
    prng["seedMax"] = 4294967295
    prng["uint32SeedMax"] = [rng.next_uint32() for _ in range(4)]
    rng = Xoshiro128(7)
    prng["doubleSeed"] = 7
    prng["doubles"] = [rng.next_double() for _ in range(4)]
    prng["intN"] = 1000
    prng["ints"] = [rng.next_int(1000) for _ in range(8)]  # continues the seed-7 stream

    b_ind = np_rng.normal(1, 1, 60)
    b_ood = np_rng.normal(0, 1, 50)
    boot = {
        "id": b_ind.tolist(),
        "ood": b_ood.tolist(),
        "iterations": 200,
        "seed": 7,
        "confidence": 0.9,
        "expected": bootstrap(b_ind, b_ood, 200, 7, 0.9),
        "point": metrics(b_ind, b_ood),
    }

    vals = np_rng.normal(0, 1, 37)
    ps = [0, 2.5, 5, 10, 25, 50, 75, 90, 95, 97.5, 99.9, 100]
    pct = {"values": vals.tolist(), "p": ps, "expected": [float(np.percentile(vals, p)) for p in ps]}

    # accuracy: float32 logits with ties, labels with -1 (skipped)
    k = 4
    logits = np_rng.integers(0, 3, (30, k)).astype(np.float32)  # many ties -> first max wins
    labels = np_rng.integers(-1, k, 30).astype(np.int32)
    mask = labels >= 0
    acc = float(np.mean(np.argmax(logits, axis=1)[mask] == labels[mask]))
    accuracy = {"k": k, "logits": [float(v) for v in logits.ravel()], "labels": labels.tolist(), "expected": acc}

    out = {
        "about": "written by tools/golden_metrics.py (numpy %s, scikit-learn %s)" % (np.__version__, __import__("sklearn").__version__),
        "cases": cases,
        "generated": generated,
        "prng": prng,
        "bootstrap": boot,
        "percentile": pct,
        "accuracy": accuracy,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "metrics", "golden.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
