#!/usr/bin/python3
"""Golden values for src/core/{linalg,knn,percentile}.ts, written to test/fixtures/linalg/*.json.

Reference implementations: numpy.linalg.eigh, scipy.linalg.pinvh (SciPy >= 1.7 default cutoff),
numpy.linalg.pinv (rcond = 1e-15), brute-force float64 distances, numpy.percentile (linear),
np.cov(bias=True). Run with the Debian python (numpy 1.24, scipy 1.10):

    /usr/bin/python3 tools/golden_linalg.py

Floats are written with Python's repr, which round-trips float64 exactly; float32 data is written
as the float64 value of each float32.
"""
import json
import os

import numpy as np
import scipy
import scipy.linalg

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'linalg')
rng = np.random.default_rng(20240229)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
    print(f'{path}: {os.path.getsize(path)} bytes')


def random_orthogonal(n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


# ---- symmetric eigen / pinvh ---------------------------------------------------------------
def sym_case(name, a, note):
    a = np.asarray(a, dtype=np.float64)
    a = (a + a.T) / 2  # exactly symmetric
    w, v = np.linalg.eigh(a)
    b, rank = scipy.linalg.pinvh(a, return_rank=True)
    return {'name': name, 'note': note, 'n': a.shape[0], 'a': flat(a), 'values': flat(w),
            'vectors': flat(v), 'pinvh': flat(b), 'rank': int(rank)}


def spd(n, cond=100.0):
    q = random_orthogonal(n)
    lam = np.geomspace(1.0, cond, n) * rng.uniform(0.5, 2.0)
    return (q * lam) @ q.T


cases = []
cases.append(sym_case('spd5', spd(5), 'random SPD, condition 100'))
cases.append(sym_case('spd24', spd(24, 1e4), 'random SPD, condition 1e4'))
x = rng.standard_normal((120, 30)).astype(np.float32).astype(np.float64)
cases.append(sym_case('cov30', np.cov(x.T, bias=True), 'covariance of 120 random 30-d rows'))
# Rank-deficient: SPD 6x6 embedded in 8x8 with zero rows/columns 2 and 5.
inner = spd(6, 50.0)
a = np.zeros((8, 8))
keep = [0, 1, 3, 4, 6, 7]
a[np.ix_(keep, keep)] = inner
cases.append(sym_case('zero-rows8', a, 'SPD with zero rows/columns 2 and 5 (rank 6)'))
# Low rank PSD B B^T (rank 4 of 12): numerically ~1e-15 eigenvalues are dropped by pinvh's cutoff.
bm = rng.standard_normal((12, 4))
cases.append(sym_case('lowrank12', bm @ bm.T, 'PSD of rank 4 (B B^T, B 12x4)'))
cases.append(sym_case('diag-repeated', np.diag([3.0, 1.0, 3.0, 2.0, 1.0, 3.0, 0.0]),
                      'diagonal with repeated eigenvalues 1,1 / 3,3,3 and a 0'))
q = random_orthogonal(9)
cases.append(sym_case('repeated9', (q * np.array([2.0, 2.0, 2.0, 5.0, 5.0, -1.0, 7.0, 0.5, 0.5])) @ q.T,
                      'rotated, repeated and negative eigenvalues (indefinite)'))
s = rng.standard_normal((10, 10))
cases.append(sym_case('indefinite10', s + s.T, 'random symmetric indefinite'))
cases.append(sym_case('one', np.array([[4.5]]), '1x1'))
cases.append(sym_case('zero3', np.zeros((3, 3)), 'all zero: pinvh is 0'))
cases.append(sym_case('tridiag6', np.diag(np.full(6, 2.0)) + np.diag(np.full(5, -1.0), 1) + np.diag(np.full(5, -1.0), -1),
                      'already tridiagonal (1D Laplacian)'))
write('eigen.json', {'numpy': np.__version__, 'scipy': scipy.__version__, 'cases': cases})


# ---- pinv -------------------------------------------------------------------------------------
def pinv_case(name, w, note):
    w = np.asarray(w, dtype=np.float64)
    p = np.linalg.pinv(w)  # rcond = 1e-15
    # The Gram-matrix route drops singular values below ~sqrt(n eps) s_max; check numpy's result
    # does not depend on anything in that band (otherwise the fixture would test noise).
    p_strict = np.linalg.pinv(w, rcond=1e-7)
    assert np.allclose(p, p_strict, rtol=1e-10, atol=1e-12 * np.abs(p).max()), name
    sv = np.linalg.svd(w, compute_uv=False)
    return {'name': name, 'note': note, 'rows': w.shape[0], 'cols': w.shape[1], 'w': flat(w), 'pinv': flat(p),
            'singular': flat(sv)}


pcases = []
pcases.append(pinv_case('wide10x16', rng.standard_normal((10, 16)), 'random full rank 10x16'))
pcases.append(pinv_case('tall16x10', rng.standard_normal((16, 10)), 'random full rank 16x10'))
w = rng.standard_normal((12, 9))
w[4, :] = 0
w[:, 7] = 0
pcases.append(pinv_case('zero-row-col12x9', w, 'zero row 4 and zero column 7 (rank 8)'))
w = rng.standard_normal((6, 11))
w[:, [2, 8]] = 0
w[5, :] = 0
pcases.append(pinv_case('zero-rows6x11', w, 'zero row 5 and zero columns 2, 8 (rank 5)'))
w32 = rng.standard_normal((10, 32)).astype(np.float32)
pcases.append(pinv_case('head10x32-f32', w32.astype(np.float64) * 0.1, 'float32 classifier head (values exact in float32)'))
write('pinv.json', {'numpy': np.__version__, 'cases': pcases})


# ---- knn ----------------------------------------------------------------------------------------
def knn_case(name, bank, queries, ks, note):
    bank = np.asarray(bank, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    b64 = bank.astype(np.float64)
    q64 = queries.astype(np.float64)
    d = np.sqrt(((q64[:, None, :] - b64[None, :, :]) ** 2).sum(-1))
    ds = np.sort(d, axis=1)
    return {'name': name, 'note': note, 'c': bank.shape[1], 'nb': bank.shape[0], 'nq': queries.shape[0],
            'bank': flat(bank), 'queries': flat(queries), 'ks': ks,
            'expected': {str(k): flat(ds[:, k - 1]) for k in ks}}


kcases = []
bank = rng.standard_normal((61, 7)).astype(np.float32)
bank[10] = bank[3]  # duplicate bank rows
bank[11] = bank[3]
bank[40] = bank[20]
queries = rng.standard_normal((9, 7)).astype(np.float32)
queries[2] = bank[3]  # query equal to a (triplicated) bank row: distances 0, 0, 0, ...
queries[5] = bank[40]
queries[7] = queries[6]
kcases.append(knn_case('random61x7', bank, queries, [1, 2, 3, 4, 5, 50, 61], 'duplicates in bank and queries'))
bank = rng.standard_normal((37, 16)).astype(np.float32) * 3 + 5
queries = rng.standard_normal((5, 16)).astype(np.float32) * 3 + 5
kcases.append(knn_case('offset37x16', bank, queries, [1, 7, 37], 'large mean (cancellation in |q|^2+|b|^2-2qb)'))
bank = np.abs(rng.standard_normal((30, 12))).astype(np.float32)
bank /= (np.linalg.norm(bank, axis=-1, keepdims=True) + 1e-10)
queries = np.abs(rng.standard_normal((4, 12))).astype(np.float32)
queries /= (np.linalg.norm(queries, axis=-1, keepdims=True) + 1e-10)
kcases.append(knn_case('normalised30x12', bank, queries, [1, 5, 30], 'L2-normalised rows (OpenOOD KNN)'))
# l2Normalize golden (OpenOOD normaliser, float32 numpy): compared to 1 ulp.
raw = rng.standard_normal((6, 10)).astype(np.float32) * 4
raw[3] = 0  # zero row stays zero
norm = raw / (np.linalg.norm(raw, axis=-1, keepdims=True) + 1e-10)
write('knn.json', {'cases': kcases, 'normalize': {'n': 6, 'c': 10, 'rows': flat(raw), 'expected': flat(norm)}})


# ---- percentile ---------------------------------------------------------------------------------
qs = [0, 0.5, 1, 2.5, 5, 10, 25, 33.3, 50, 66.7, 75, 90, 95, 99, 99.9, 100]
arrays = {
    'uniform101': rng.uniform(-3, 3, 101).astype(np.float32),
    'normal1000': rng.standard_normal(1000).astype(np.float32),
    'ties': np.array([1, 2, 2, 2, 3, 3, 7, 7, 7, 7, 0, 0], dtype=np.float32),
    'constant': np.full(17, 2.5, dtype=np.float32),
    'one': np.array([-4.25], dtype=np.float32),
    'two': np.array([3.0, -1.0], dtype=np.float32),
    'relu-like': np.maximum(rng.standard_normal(500), 0).astype(np.float32),
    'signed-zeros': np.array([0.0, -0.0, 1e-38, -1e-38, 1e-45, -1e-45, 3e38, -3e38], dtype=np.float32),
    'narrow-bin': (1 + rng.integers(0, 200, 300) * 2.0 ** -23).astype(np.float32),
}
pres = {}
for name, arr in arrays.items():
    pres[name] = {'values': flat(arr), 'expected': {repr(float(q)): float(np.percentile(arr.astype(np.float64), q)) for q in qs}}
write('percentile.json', {'numpy': np.__version__, 'qs': [float(q) for q in qs], 'arrays': pres})


# ---- covariance ---------------------------------------------------------------------------------
n, c, g = 45, 6, 3
x = (rng.standard_normal((n, c)) * [1, 2, 0.5, 3, 1, 0.1] + [10, -5, 0, 100, 1, 3]).astype(np.float32)
labels = rng.integers(0, g, n).astype(np.int32)
x64 = x.astype(np.float64)
mu_given = rng.standard_normal(c) + [10, -5, 0, 100, 1, 3]
cov_mean = np.cov(x64.T, bias=True)
d = x64 - mu_given
cov_given = d.T @ d / n
means = np.stack([x64[labels == k].mean(0) for k in range(g)])
cent = x64 - means[labels]
cov_groups = cent.T @ cent / n
write('covariance.json', {'n': n, 'c': c, 'groups': g, 'x': flat(x), 'labels': labels.tolist(), 'mean': flat(x64.mean(0)),
                          'givenMean': flat(mu_given), 'covMean': flat(cov_mean), 'covGiven': flat(cov_given),
                          'groupMeans': flat(means), 'covGroups': flat(cov_groups)})
