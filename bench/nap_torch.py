#!/usr/bin/python3
"""nap_torch.py — PyTorch CPU and numpy contenders of the NAP benchmark (driven by bench/nap.ts).

Reads the N×C×H×W float32 map (.npy) that every contender reads and times the full NAP score
    torch: (x.amax((2,3)) / (x.mean((2,3)) + eps)).pow(p).mean(1)   with torch.set_num_threads(T)
    numpy: ((x.max((2,3)) / (x.mean((2,3)) + eps)) ** p).mean(1)
Timing (the same for every contender of bench/nap.ts): the map is cut into segments of SEG
samples (SEG = N: the whole map); after one warm-up pass, REPS passes are timed segment by segment,
each after reading FLUSH_MB of other memory (so the segment comes from RAM, not from the cache;
0: no flush), and the time is the sum over segments of each segment's best time.
Prints one JSON object: {"torch": {"T": seconds, ...}, "numpy": seconds, "versions": {...}} and
writes the scores (float64, N) to OUT_PREFIX.torch.f64 and OUT_PREFIX.numpy.f64.
Usage: /usr/bin/python3 bench/nap_torch.py MAP.npy EPS P REPS SEG FLUSH_MB THREADS(comma list) OUT_PREFIX

Whole-process mode (driven by bench/nap_cli.ts): load MAP.npy with np.load (LOAD = read: into
memory; LOAD = mmap: np.load(mmap_mode='r'), the map read from the page cache as torch reduces it),
score it once with torch at T threads, save the float64 scores to OUT.npy, print
{"imported_at": the wall-clock time (time.time()) when numpy and torch were imported} and exit:
       /usr/bin/python3 bench/nap_torch.py --whole MAP.npy EPS P T OUT.npy LOAD
"""
import json
import sys
import time

import numpy as np
import torch

IMPORTED = time.time()


FLUSH = None


def flush_caches():
    if FLUSH is not None:
        FLUSH.sum()


def timed(fn, x, reps, seg):
    n = x.shape[0]
    starts = list(range(0, n, seg))
    parts = [fn(x[i:i + seg]) for i in starts]  # warm-up, and the scores
    best = [float('inf')] * len(starts)
    for _ in range(reps):
        for k, i in enumerate(starts):
            flush_caches()
            t = time.perf_counter()
            fn(x[i:i + seg])
            best[k] = min(best[k], time.perf_counter() - t)
    return sum(best), parts


def whole(path, eps, p, threads, out, load):
    torch.set_num_threads(int(threads))
    if load == 'mmap':
        import warnings
        warnings.filterwarnings('ignore', message='The given NumPy array is not writable')
        x = torch.from_numpy(np.load(path, mmap_mode='r'))
    else:
        x = torch.from_numpy(np.load(path))
    with torch.no_grad():
        s = (x.amax((2, 3)) / (x.mean((2, 3)) + float(eps))).pow(float(p)).mean(1)
    np.save(out, s.double().numpy())
    print(json.dumps({'imported_at': IMPORTED}))


def main():
    global FLUSH
    if len(sys.argv) == 8 and sys.argv[1] == '--whole':
        whole(*sys.argv[2:])
        return
    if len(sys.argv) != 9:
        sys.exit('usage: nap_torch.py MAP.npy EPS P REPS SEG FLUSH_MB THREADS OUT_PREFIX')
    path, eps, p, reps, seg, flush_mb, threads, prefix = sys.argv[1:]
    eps, p, reps, seg, flush_mb = float(eps), float(p), int(reps), int(seg), float(flush_mb)
    if flush_mb > 0:
        FLUSH = np.arange(int(flush_mb * 1e6 / 4), dtype=np.float32)
    x = np.load(path)
    if x.dtype != np.float32 or x.ndim != 4:
        sys.exit(f'{path}: expected a float32 N×C×H×W array, found {x.dtype} {x.shape}')
    xt = torch.from_numpy(x)
    result = {'torch': {}, 'versions': {'torch': torch.__version__, 'numpy': np.__version__}}
    parts = None
    with torch.no_grad():
        for t in [int(v) for v in threads.split(',')]:
            torch.set_num_threads(t)
            sec, parts = timed(lambda a: (a.amax((2, 3)) / (a.mean((2, 3)) + eps)).pow(p).mean(1), xt, reps, seg)
            result['torch'][str(t)] = sec
    torch.cat(parts).double().numpy().tofile(prefix + '.torch.f64')
    sec, parts = timed(lambda a: ((a.max((2, 3)) / (a.mean((2, 3)) + eps)) ** p).mean(1), x, reps, seg)
    result['numpy'] = sec
    np.concatenate(parts).astype(np.float64).tofile(prefix + '.numpy.f64')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
