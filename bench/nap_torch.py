#!/usr/bin/python3
"""nap_torch.py — PyTorch CPU and numpy contenders of the NAP benchmark (driven by bench/nap.ts).

Reads the N×C×H×W float32 map (.npy) that every contender reads and times, best of `reps` after one
warm-up run, the full NAP score
    torch: (x.amax((2,3)) / (x.mean((2,3)) + eps)).pow(p).mean(1)   with torch.set_num_threads(T)
    numpy: (x.max((2,3)) / (x.mean((2,3)) + eps)) ** p).mean(1)
Prints one JSON object: {"torch": {"T": seconds, ...}, "numpy": seconds, "versions": {...}} and
writes the scores (float64, N) to OUT_PREFIX.torch.f64 and OUT_PREFIX.numpy.f64.
Usage: /usr/bin/python3 bench/nap_torch.py MAP.npy EPS P REPS THREADS(comma list) OUT_PREFIX
"""
import json
import sys
import time

import numpy as np
import torch


def best_of(fn, reps):
    fn()  # warm-up
    best = float('inf')
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    if len(sys.argv) != 7:
        sys.exit('usage: nap_torch.py MAP.npy EPS P REPS THREADS OUT_PREFIX')
    path, eps, p, reps, threads, prefix = sys.argv[1:]
    eps, p, reps = float(eps), float(p), int(reps)
    x = np.load(path)
    if x.dtype != np.float32 or x.ndim != 4:
        sys.exit(f'{path}: expected a float32 N×C×H×W array, found {x.dtype} {x.shape}')
    xt = torch.from_numpy(x)
    result = {'torch': {}, 'versions': {'torch': torch.__version__, 'numpy': np.__version__}}
    scores = None
    with torch.no_grad():
        for t in [int(v) for v in threads.split(',')]:
            torch.set_num_threads(t)
            sec, scores = best_of(lambda: (xt.amax((2, 3)) / (xt.mean((2, 3)) + eps)).pow(p).mean(1), reps)
            result['torch'][str(t)] = sec
    scores.double().numpy().tofile(prefix + '.torch.f64')
    sec, s_np = best_of(lambda: ((x.max((2, 3)) / (x.mean((2, 3)) + eps)) ** p).mean(1), reps)
    result['numpy'] = sec
    s_np.astype(np.float64).tofile(prefix + '.numpy.f64')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
