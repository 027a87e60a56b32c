#!/usr/bin/env python3
"""Python baseline of bench/corrupt.ts: the hendrycks/robustness corruptions as re-written in
tools/golden_corruptions.py (numpy / scipy / skimage / OpenCV / Wand / Pillow), with numpy's
generator for the random draws as the reference itself uses (normal fields drawn per call;
shot noise with numpy's poisson as the reference, not the golden tool's quantile form; frost
blends a random texture where the reference reads a photo from disk on every call).

Usage: corrupt_reference.py DIR SEVERITY NAME...   (DIR holds <case>.npy inputs and cases.json)
Prints JSON: {case: {corruption: ms per image}} — best of 3 loops of >= 0.2 s each.
One thread (OpenCV, BLAS), as the TypeScript side.
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

import numpy as np  # noqa: E402
import cv2  # noqa: E402
import golden_corruptions as g  # noqa: E402

cv2.setNumThreads(1)


class NumpyStream:
    def __init__(self, rng):
        self.rng = rng

    def uniform(self):
        return self.rng.random()

    def uniforms(self, n):
        return self.rng.random(n)


def shot_noise_numpy(x, c, f):
    """The reference's own shot noise (np.random.poisson), not the golden tool's quantile form."""
    x = np.array(x) / 255.
    return np.clip(RNG.poisson(x * c) / float(c), 0, 1) * 255


RNG = np.random.default_rng(0)


def main():
    folder, severity, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with open(os.path.join(folder, "cases.json")) as fh:
        cases = json.load(fh)
    rng = RNG
    g.FUNCS["shot_noise"] = shot_noise_numpy
    out = {}
    for case in cases:
        x = np.load(os.path.join(folder, case["file"]))
        h, w, ch = x.shape
        res = {}
        for name in names:
            def once():
                z = rng.standard_normal((h, w, 3))
                return g.corrupt(x, name, severity, case["params"], 0, z, NumpyStream(rng))
            once()
            best = float("inf")
            for _ in range(3):
                n = 0
                t0 = time.perf_counter()
                while True:
                    once()
                    n += 1
                    dt = time.perf_counter() - t0
                    if dt >= 0.2:
                        break
                best = min(best, dt / n)
            res[name] = best * 1000
        out[case["name"]] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
