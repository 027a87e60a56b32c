#!/usr/bin/python3
"""Independent numpy/scipy reference ("golden") scores for every napood scoring method.

Run:  /usr/bin/python3 tools/golden_methods.py        (from the repository root)

Writes test/fixtures/golden/<case>/{train,test}/*.npy and <case>/expected.json for a set of
synthetic cases, plus test/fixtures/golden/sign/{train,id,ood}/ with expected.json, whose
ID-like dump must score above its OOD-like dump for every method (checked here).

This file is deliberately written without looking at napood's TypeScript methods; it follows
the formulas of SPEC.md and the original repositories:
  NAP      arXiv 2402.18162 v4 eq. 3-4 (S = mean_c (max A_c / (mean A_c + eps))^p)
  MSP      Hendrycks & Gimpel 2017;  MaxLogit  Hendrycks et al. 2022;  Energy  Liu et al. 2020
  ODIN     Liang et al. 2018 (temperature part only: noise = 0 on dumps)
  MDS      OpenOOD mds.py (class means, one shared biased covariance, sklearn/scipy pinvh)
  ReAct    github.com/deeplearning-wisc/react (clip at the p-th percentile of ID activations)
  DICE     github.com/deeplearning-wisc/dice (mask of the weight*mean contributions > percentile)
  ASH      github.com/andrijazz/ash ash_p / ash_b / ash_s, on the pooled vector (as OpenOOD)
  SCALE    OpenOOD scale.py
  KNN      OpenOOD knn.py (L2-normalised features, k-th nearest neighbour; distance, not squared)
  ViM      github.com/haoqiwang/vim
  GEN      OpenOOD gen.py
  NAP-X    S_X^w * S_NAP^(1-w), in log space; S_X <= 0 -> 0 (SPEC section 3)
Every score is computed in float64 from the float32 arrays that are written to disk.
"""
import json
import os
import shutil
import sys

import numpy as np
import scipy.linalg
import scipy.special

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden')

# ----------------------------------------------------------------------------------------------
# Method specs written for every case (keys of "methods").
# ----------------------------------------------------------------------------------------------
SPECS = [
    'nap', 'nap:eps=0.5,p=1', 'nap:eps=0.1,p=3',
    'msp', 'msp:t=5',
    'maxlogit',
    'energy', 'energy:t=2',
    'odin:noise=0', 'odin:noise=0,t=100',
    'mahalanobis',
    'react', 'react:p=80',
    'dice', 'dice:p=70',
    'ash-p', 'ash-p:p=65', 'ash-p:p=53.125',
    'ash-b', 'ash-b:p=65',
    'ash-s', 'ash-s:p=95',
    'scale', 'scale:p=65',
    'knn', 'knn:k=5', 'knn:k=1',
    'vim', 'vim:dim=4',
    'gen', 'gen:gamma=0.5,m=3',
    'nap-e', 'nap-e:w=0.3', 'nap-e:w=0.4,t=2,nap_eps=0.5,nap_p=1', 'nap-e:w=0', 'nap-e:w=1',
    'nap-r', 'nap-r:w=0.5,p=80,nap_eps=2',
    'nap-a', 'nap-a:p=95,w=0.5',
    'nap-d', 'nap-d:w=0.5,p=70',
    'nap-m', 'nap-m:w=0.5,t=2',
]

DEFAULTS = {
    'nap': {'eps': 1.0, 'p': 2.0},
    'msp': {'t': 1.0},
    'maxlogit': {},
    'energy': {'t': 1.0},
    'odin': {'t': 1000.0, 'noise': 0.0014},
    'mahalanobis': {},
    'react': {'p': 90.0},
    'dice': {'p': 90.0},
    'ash-p': {'p': 90.0}, 'ash-b': {'p': 90.0}, 'ash-s': {'p': 90.0},
    'scale': {'p': 85.0},
    'knn': {'k': 50},
    'vim': {'dim': 0},
    'gen': {'gamma': 0.1, 'm': 100},
}
NAPX = {  # name -> (inner method, default w)
    'nap-e': ('energy', 0.6), 'nap-r': ('react', 0.8), 'nap-a': ('ash-s', 0.8),
    'nap-d': ('dice', 0.6), 'nap-m': ('msp', 0.3),
}


def parse_spec(spec):
    name, _, rest = spec.partition(':')
    params = {}
    if rest:
        for item in rest.split(','):
            key, value = item.split('=')
            params[key] = float(value)
    return name, params


# ----------------------------------------------------------------------------------------------
# Kernels (float64 throughout). z: [N,C] pooled, f: [N,K] logits, A: [N,C,H,W], W: [K,C], b: [K]
# ----------------------------------------------------------------------------------------------
def lse(v):
    return scipy.special.logsumexp(v, axis=1)


def nap_score(A, eps=1.0, p=2.0):
    n, c = A.shape[:2]
    flat = A.reshape(n, c, -1)
    ratio = flat.max(axis=2) / (flat.mean(axis=2) + eps)
    return (ratio ** p).mean(axis=1)


def msp_score(f, t=1.0):
    g = f / t
    g = g - g.max(axis=1, keepdims=True)
    return 1.0 / np.exp(g).sum(axis=1)  # max softmax = exp(0) / sum exp(g - max)


def energy_score(f, t=1.0):
    return t * lse(f / t)


def gen_score(f, gamma=0.1, m=100):
    probs = scipy.special.softmax(f, axis=1)
    top = np.sort(probs, axis=1)[:, -min(int(m), f.shape[1]):]
    return -np.sum(top ** gamma * (1.0 - top) ** gamma, axis=1)


def mahalanobis_fit(ztr, ytr):
    classes = np.unique(ytr)
    means = np.stack([ztr[ytr == k].mean(axis=0) for k in classes])
    centred = ztr - means[np.searchsorted(classes, ytr)]
    cov = centred.T @ centred / ztr.shape[0]
    return means, scipy.linalg.pinvh(cov)


def mahalanobis_score(z, means, precision):
    scores = np.empty((z.shape[0], means.shape[0]))
    for j, mu in enumerate(means):
        d = z - mu
        scores[:, j] = -np.einsum('ni,ij,nj->n', d, precision, d)
    return scores.max(axis=1)


def react_score(z, W, b, ztr, p=90.0):
    c = np.percentile(ztr.ravel(), p)
    return lse(np.minimum(z, c) @ W.T + b)


def dice_mask(W, ztr, p=90.0):
    contrib = ztr.mean(axis=0)[None, :] * W
    thresh = np.percentile(contrib, p)
    return contrib > thresh


def dice_score(z, W, b, ztr, p=90.0):
    return lse(z @ (W * dice_mask(W, ztr, p)).T + b)


def keep_count(c, p):
    return c - int(np.round(c * p / 100.0))


def topk_order(z):
    """Per row, channel indices by value descending; ties: lower index first."""
    idx = np.broadcast_to(np.arange(z.shape[1]), z.shape)
    return np.lexsort((idx, -z), axis=1)


def ash(z, p, variant):
    n, c = z.shape
    k = keep_count(c, p)
    order = topk_order(z)[:, :k]
    rows = np.arange(n)[:, None]
    out = np.zeros_like(z)
    s1 = z.sum(axis=1)
    if variant == 'p':
        out[rows, order] = z[rows, order]
    elif variant == 'b':
        out[rows, order] = (s1 / k)[:, None]
    elif variant == 's':
        out[rows, order] = z[rows, order]
        s2 = out.sum(axis=1)
        factor = np.where(s2 == 0, 1.0, np.exp(s1 / np.where(s2 == 0, 1.0, s2)))
        out = out * factor[:, None]
    return out


def ash_score(z, W, b, p, variant):
    return lse(ash(z, p, variant) @ W.T + b)


def scale_score(z, W, b, p=85.0):
    n, c = z.shape
    k = keep_count(c, p)
    order = topk_order(z)[:, :k]
    s1 = z.sum(axis=1)
    s2 = np.take_along_axis(z, order, axis=1).sum(axis=1)
    factor = np.where(s2 == 0, 1.0, np.exp(s1 / np.where(s2 == 0, 1.0, s2)))
    return lse((z * factor[:, None]) @ W.T + b)


def l2norm(z):
    return z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-10)


def knn_score(z, ztr, k=50):
    bank, q = l2norm(ztr), l2norm(z)
    d = np.sqrt(((q[:, None, :] - bank[None, :, :]) ** 2).sum(axis=2))
    return -np.sort(d, axis=1)[:, int(k) - 1]


def vim_dim(c, dim):
    if dim:
        return int(dim)
    return 1000 if c >= 2048 else 512 if c >= 768 else c // 2


def vim_fit(W, b, ztr, dim):
    u = -np.linalg.pinv(W) @ b
    X = ztr - u
    cov = X.T @ X / X.shape[0]
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(-vals, kind='stable')
    vals, vecs = vals[order], vecs[:, order]
    ns = vecs[:, dim:]
    logits_tr = ztr @ W.T + b
    alpha = logits_tr.max(axis=1).mean() / np.linalg.norm(X @ ns, axis=1).mean()
    return u, ns, alpha, vals


def vim_score(z, W, b, u, ns, alpha):
    return -alpha * np.linalg.norm((z - u) @ ns, axis=1) + lse(z @ W.T + b)


def napx_combine(sx, snap, w):
    if w == 0:
        return snap.copy()
    if w == 1:
        return sx.copy()
    out = np.zeros_like(sx)
    ok = (sx > 0) & (snap > 0)
    out[ok] = np.exp(w * np.log(sx[ok]) + (1.0 - w) * np.log(snap[ok]))
    return out


def score(spec, test, train):
    """Scores of the `test` dump (dict of float64 arrays) for one method spec."""
    name, given = parse_spec(spec)
    A, z, f = test['featureMap'], test['pooled'], test['logits']
    W, b = train['head.weight'], train['head.bias']
    ztr, ytr = train['pooled'], train['labels']
    if name in NAPX:
        inner, w_default = NAPX[name]
        w = given.pop('w', w_default)
        nap_eps = given.pop('nap_eps', 1.0)
        nap_p = given.pop('nap_p', 2.0)
        inner_spec = inner + (':' + ','.join(f'{k}={v}' for k, v in given.items()) if given else '')
        sx = score(inner_spec, test, train)
        snap = nap_score(A, nap_eps, nap_p)
        return napx_combine(sx, snap, w)
    prm = dict(DEFAULTS[name])
    for key in given:
        assert key in prm, (spec, key)
    prm.update(given)
    if name == 'nap':
        return nap_score(A, prm['eps'], prm['p'])
    if name == 'msp':
        return msp_score(f, prm['t'])
    if name == 'maxlogit':
        return f.max(axis=1)
    if name == 'energy':
        return energy_score(f, prm['t'])
    if name == 'odin':
        assert prm['noise'] == 0, 'dumps carry no model gradient: only odin:noise=0'
        return msp_score(f, prm['t'])
    if name == 'mahalanobis':
        return mahalanobis_score(z, *mahalanobis_fit(ztr, ytr))
    if name == 'react':
        return react_score(z, W, b, ztr, prm['p'])
    if name == 'dice':
        return dice_score(z, W, b, ztr, prm['p'])
    if name in ('ash-p', 'ash-b', 'ash-s'):
        return ash_score(z, W, b, prm['p'], name[-1])
    if name == 'scale':
        return scale_score(z, W, b, prm['p'])
    if name == 'knn':
        return knn_score(z, ztr, prm['k'])
    if name == 'vim':
        u, ns, alpha, _ = vim_fit(W, b, ztr, vim_dim(z.shape[1], prm['dim']))
        return vim_score(z, W, b, u, ns, alpha)
    if name == 'gen':
        return gen_score(f, prm['gamma'], prm['m'])
    raise ValueError(spec)


# ----------------------------------------------------------------------------------------------
# Sanity checks that keep the golden values well defined
# ----------------------------------------------------------------------------------------------
def boundary_ties(z, p):
    """Rows where the k-th and (k+1)-th largest values are equal and positive."""
    k = keep_count(z.shape[1], p)
    if k >= z.shape[1]:
        return 0
    s = -np.sort(-z, axis=1)
    return int(np.sum((s[:, k - 1] == s[:, k]) & (s[:, k - 1] > 0)))


def ash_ps(specs):
    ps = set()
    for spec in specs:
        name, given = parse_spec(spec)
        if name in ('ash-p', 'ash-b', 'ash-s', 'scale', 'nap-a'):
            inner = 'scale' if name == 'scale' else 'ash-s'
            ps.add(given.get('p', DEFAULTS[inner]['p']))
    return sorted(ps)


def check_case(name, train, tests, allow_ties):
    notes = []
    for p in ash_ps(SPECS):
        for label, t in tests.items():
            n = boundary_ties(t['pooled'], p)
            if n:
                notes.append(f'{label}: {n} rows with a positive top-k boundary tie at p={p}')
                assert allow_ties, f'{name}: unexpected positive top-k boundary tie ({label}, p={p})'
    W, b, ztr = train['head.weight'], train['head.bias'], train['pooled']
    for dim in sorted({vim_dim(ztr.shape[1], 0), 4}):
        vals = vim_fit(W, b, ztr, dim)[3]
        gap = (vals[dim - 1] - vals[dim]) / vals[0]
        assert gap > 1e-6, f'{name}: ViM eigenvalues nearly equal at dim={dim} ({vals})'
    # Mahalanobis: every covariance eigenvalue is clearly kept or clearly cut by pinvh's cutoff
    ytr = train['labels']
    classes = np.unique(ytr)
    means = np.stack([ztr[ytr == k].mean(axis=0) for k in classes])
    centred = ztr - means[np.searchsorted(classes, ytr)]
    ev = np.abs(np.linalg.eigvalsh(centred.T @ centred / ztr.shape[0]))
    cutoff = ev.max() * ztr.shape[1] * np.finfo(np.float64).eps
    assert np.all((ev < cutoff * 1e-1) | (ev > cutoff * 1e6)), f'{name}: covariance eigenvalue near pinvh cutoff {ev}'
    if np.any(ev < cutoff):
        notes.append(f'mahalanobis: {int(np.sum(ev < cutoff))} null covariance eigenvalues (pinvh drops them)')
    for p in (90.0, 70.0):  # DICE: the threshold must not sit within rounding of any contribution
        contrib = ztr.mean(axis=0)[None, :] * W
        thresh = np.percentile(contrib, p)
        near = np.abs(contrib - thresh) <= 1e-12 * np.abs(contrib).max()
        exact = contrib == thresh
        assert allow_ties or not near.any(), f'{name}: DICE contribution within rounding of threshold'
        if exact.any():
            notes.append(f'dice p={p}: {int(exact.sum())} contributions exactly equal to the threshold')
    return notes


# ----------------------------------------------------------------------------------------------
# Data generation
# ----------------------------------------------------------------------------------------------
def f32(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64).astype(np.float32))


def make_dump(A, W, b, labels, logits=None):
    """float32 dump dict from a float64/float32 feature map; pooled/logits computed in float64."""
    A = f32(A)
    pooled = f32(A.astype(np.float64).mean(axis=(2, 3)))
    if logits is None:
        logits = pooled.astype(np.float64) @ W.astype(np.float64).T + b.astype(np.float64)
    return {
        'featureMap': A,
        'pooled': pooled,
        'logits': f32(logits),
        'labels': np.ascontiguousarray(np.asarray(labels, dtype=np.int64)),
        'head.weight': W,
        'head.bias': b,
    }


def gamma_maps(rng, labels, c, h, w, class_boost=0.8, peak_rate=0.06, density=0.7):
    """Gamma activations, ~30% exact zeros (ReLU), sparse strong peaks, class-dependent channels."""
    n = len(labels)
    A = rng.gamma(0.8, 0.5, size=(n, c, h, w))
    A *= rng.random((n, c, h, w)) < density
    peaks = rng.random((n, c, h, w)) < peak_rate
    A += peaks * rng.gamma(3.0, 1.5, size=(n, c, h, w))
    for i, y in enumerate(labels):
        if y >= 0:
            chans = [(y * 3 + j) % c for j in range(3)]
            A[i, chans] *= 1.0 + class_boost * rng.random()
    return A


def head(rng, k, c, scale=0.5, bias=0.2):
    return f32(rng.normal(0.0, scale, size=(k, c))), f32(rng.normal(0.0, bias, size=k))


def case_random(rng):
    c, h, w, k = 16, 4, 4, 10
    W, b = head(rng, k, c)
    ytr = rng.integers(0, k, 200)
    yte = rng.integers(0, k, 48)
    train = make_dump(gamma_maps(rng, ytr, c, h, w), W, b, ytr)
    test = make_dump(gamma_maps(rng, yte, c, h, w), W, b, yte)
    return ('gamma activations (30% zeros, sparse peaks, class-boosted channels), linear head; '
            'N_train 200, N_test 48, C 16, H=W 4, K 10', train, test)


def case_ties(rng):
    c, h, w, k = 16, 4, 4, 10
    levels = np.array([0.0, 0.0, 0.5, 1.0, 1.0, 2.0])
    W = f32(np.round(rng.normal(0.0, 0.5, size=(k, c)) * 4) / 4)  # multiples of 0.25
    b = f32(np.round(rng.normal(0.0, 0.2, size=k) * 4) / 4)
    ytr = rng.integers(0, k, 80)
    yte = rng.integers(0, k, 24)
    def maps(n):
        A = levels[rng.integers(0, len(levels), size=(n, c, h, w))]
        A[:, :, 1:, :] = A[:, :, :1, :]  # repeat rows: pooled values on a coarse grid -> many ties
        return A
    train = make_dump(maps(80), W, b, ytr)
    test = make_dump(maps(24), W, b, yte)
    return ('feature map quantised to {0, 0.5, 1, 2}, head to multiples of 0.25: many exact ties in '
            'pooled values (also at the ASH/SCALE top-k boundary: lower channel index kept first), '
            'in logits and in DICE contributions; N_train 80, N_test 24, C 16, H=W 4, K 10',
            train, test)


def case_zeros(rng):
    c, h, w, k = 16, 4, 4, 10
    W, b = head(rng, k, c)
    dead = [3, 7, 12]
    ytr = rng.integers(0, k - 1, 80)  # class 9 never appears in train (Mahalanobis: classes present)
    yte = rng.integers(0, k, 24)
    Atr = gamma_maps(rng, ytr, c, h, w)
    Ate = gamma_maps(rng, yte, c, h, w)
    Atr[:, dead] = 0
    Ate[:, dead] = 0
    Ate[5] = 0  # one test sample entirely zero
    return (f'channels {dead} are zero in every sample (singular covariance: pinvh), test row 5 is '
            'all zero, class 9 is absent from the train labels; N_train 80, N_test 24, C 16, H=W 4, K 10',
            make_dump(Atr, W, b, ytr), make_dump(Ate, W, b, yte))


def case_extreme(rng):
    c, h, w, k = 16, 3, 3, 10
    W, b = head(rng, k, c)
    ytr = rng.integers(0, k, 80)
    yte = rng.integers(0, k, 16)
    Atr, Ate = gamma_maps(rng, ytr, c, h, w), gamma_maps(rng, yte, c, h, w)
    def extreme_logits(A):
        pooled = f32(f32(A).astype(np.float64).mean(axis=(2, 3))).astype(np.float64)
        lg = pooled @ W.astype(np.float64).T + b.astype(np.float64)
        lg = lg / np.abs(lg).max(axis=1, keepdims=True) * 1000.0  # every row reaches +-1000
        return lg
    ltr, lte = extreme_logits(Atr), extreme_logits(Ate)
    lte[0] = -1000.0                       # all at -1000 (energy ~ -997.7 < 0)
    lte[1] = -1000.0; lte[1, 3] = 1000.0   # one at +1000, rest at -1000
    lte[2] = -1000.0; lte[2, [2, 7]] = 1000.0  # two tied at +1000
    lte[3] = 1000.0                        # all at +1000
    lte[4] = np.linspace(-1000.0, 1000.0, k)
    lte[5] = -1000.0; lte[5, 0] = -999.0   # all strongly negative, one slightly higher
    return ('logits (train and test) written directly (NOT head(pooled)): head(pooled) rescaled so that '
            'max |logit| = 1000 in every row, with '
            'special test rows 0-5 (all -1000; one +1000; two tied +1000; all +1000; linspace; '
            'all ~-1000); pooled and head moderate (head-based methods use head(pooled)); '
            'N_train 80, N_test 16, C 16, H=W 3, K 10',
            make_dump(Atr, W, b, ytr, ltr), make_dump(Ate, W, b, yte, lte))


def case_single(rng):
    c, h, w, k = 16, 3, 3, 10
    W, b = head(rng, k, c)
    ytr = rng.integers(0, k, 60)
    yte = rng.integers(0, k, 1)
    return ('test set of one row; N_train 60, C 16, H=W 3, K 10',
            make_dump(gamma_maps(rng, ytr, c, h, w), W, b, ytr),
            make_dump(gamma_maps(rng, yte, c, h, w), W, b, yte))


def case_constant(rng):
    c, h, w, k = 16, 3, 3, 10
    W, b = head(rng, k, c)
    ytr = rng.integers(0, k, 80)
    yte = rng.integers(0, k, 16)
    def maps(labels):
        v = f32(rng.gamma(1.5, 0.6, size=(len(labels), c)) + 0.01 * np.arange(len(labels))[:, None])
        for i, y in enumerate(labels):
            v[i, (y * 3) % c] += np.float32(1.0)
        return np.broadcast_to(v[:, :, None, None], (len(labels), c, h, w))
    return ('feature map constant within each channel (max = mean, pooled = that constant); '
            'N_train 80, N_test 16, C 16, H=W 3, K 10',
            make_dump(maps(ytr), W, b, ytr), make_dump(maps(yte), W, b, yte))


def case_negative_energy(rng):
    c, h, w, k = 16, 3, 3, 10
    W = f32(rng.normal(0.0, 0.5, size=(k, c)))
    b = f32(np.full(k, -7.0) + rng.normal(0.0, 0.2, size=k))
    ytr = rng.integers(0, k, 80)
    yte = rng.integers(0, k, 24)
    Atr = gamma_maps(rng, ytr, c, h, w) * 3.0
    Ate = gamma_maps(rng, yte, c, h, w) * 3.0
    Ate[:8] *= 0.05  # weak activations: logits ~ bias ~ -7, energy < 0
    return ('head bias ~ -7: test rows 0-7 have weak activations and strongly negative logits; energy '
            'is <= 0 on 13 of 24 rows (ReAct 16, ASH-S 4, DICE 20), where NAP-X gives 0; '
            'N_train 80, N_test 24, C 16, H=W 3, K 10',
            make_dump(Atr, W, b, ytr), make_dump(Ate, W, b, yte))


def case_sign(rng):
    """ID: sparse strong spatial peaks, pooled near one of 4 class patterns, confident logits.
    OOD: spatially flat channels, random low channel levels (off the ID subspace), low flat logits."""
    c, h, w, k = 16, 3, 3, 4
    own = [list(range(4 * j, 4 * j + 4)) for j in range(k)]
    patterns = np.full((k, c), 1.5)
    Wm = np.full((k, c), -0.3)
    for j in range(k):
        patterns[j, own[j]] = 3.0
        Wm[j, own[j]] = 1.0
    W = f32(Wm + rng.normal(0.0, 0.05, size=(k, c)))
    b = f32(rng.normal(0.0, 0.05, size=k))
    def id_maps(labels):
        n = len(labels)
        pooled = patterns[labels] * (1.0 + 0.08 * rng.normal(size=(n, c)))
        weights = 0.02 + rng.gamma(0.3, 0.02, size=(n, c, h * w))
        for i in range(n):
            for ch in range(c):
                weights[i, ch, rng.integers(0, h * w, size=2)] += rng.uniform(0.5, 1.0, size=2)
        weights /= weights.sum(axis=2, keepdims=True)
        return (weights * (pooled * h * w)[:, :, None]).reshape(n, c, h, w)
    def ood_maps(n):
        level = rng.uniform(0.05, 1.0, size=(n, c, 1, 1))
        return level * (1.0 + 0.05 * rng.random((n, c, h, w)))
    ytr = np.repeat(np.arange(k), 52)
    yid = np.repeat(np.arange(k), 8)
    train = make_dump(id_maps(ytr), W, b, ytr)
    idd = make_dump(id_maps(yid), W, b, yid)
    ood = make_dump(ood_maps(32), W, b, np.full(32, -1))
    return ('ID-like (each channel: 2 sparse strong spatial peaks; pooled = one of 4 class patterns '
            '(own 4 channels 3.0, others 1.5) +-8%; confident logits of the head) vs OOD-like (spatially '
            'flat channels at random levels U(0.05, 1), low flat logits, labels -1); N_train 208 '
            '(52 per class, so that knn k=50 stays within a class), N_id 32, N_ood 32, C 16, H=W 3, K 4',
            train, idd, ood)


# ----------------------------------------------------------------------------------------------
# Cross-checks against second implementations written the way the original repositories do it
# (torch.topk / scatter for ASH and SCALE, sklearn EmpiricalCovariance for MDS, sklearn
# NearestNeighbors for KNN, softmax via torch). Only for cases without top-k boundary ties, since
# torch.topk's order among equal values is unspecified.
# ----------------------------------------------------------------------------------------------
def cross_check(test, train):
    import torch
    import sklearn.covariance
    import sklearn.neighbors
    torch.set_num_threads(2)
    t = {key: test[key].astype(np.float64) for key in ARRAYS if key != 'labels'}
    tr = {key: train[key].astype(np.float64) for key in ARRAYS if key != 'labels'}
    W, b, z, ztr = tr['head.weight'], tr['head.bias'], t['pooled'], tr['pooled']
    Wt, bt = torch.from_numpy(W), torch.from_numpy(b)
    def torch_energy(x):
        return torch.logsumexp(x @ Wt.T + bt, dim=1).numpy()
    def ash_repo(x, percentile, variant):  # andrijazz/ash, on x of shape [N, C, 1, 1]
        x = x.clone()
        bsz, c, h, w = x.shape
        s1 = x.sum(dim=[1, 2, 3])
        n = x.shape[1:].numel()
        k = n - int(np.round(n * percentile / 100.0))
        tt = x.view((bsz, c * h * w))
        v, i = torch.topk(tt, k, dim=1)
        if variant == 'b':
            fill = (s1 / k).unsqueeze(dim=1).expand(v.shape)
            tt.zero_().scatter_(dim=1, index=i, src=fill)
        else:
            tt.zero_().scatter_(dim=1, index=i, src=v)
        if variant == 's':
            s2 = x.sum(dim=[1, 2, 3])
            x = x * torch.exp(s1 / s2)[:, None, None, None]
        return x
    def scale_repo(x, percentile):  # OpenOOD scale.py
        inp = x.clone()
        s1 = x.sum(dim=[1, 2, 3])
        n = x.shape[1:].numel()
        k = n - int(np.round(n * percentile / 100.0))
        tt = x.view((x.shape[0], -1))
        v, i = torch.topk(tt, k, dim=1)
        tt.zero_().scatter_(dim=1, index=i, src=v)
        s2 = x.sum(dim=[1, 2, 3])
        return inp * torch.exp(s1 / s2)[:, None, None, None]
    zt = torch.from_numpy(z)[:, :, None, None]
    nonzero = z.sum(axis=1) > 0  # the repositories divide by s2 = 0 on an all-zero row
    worst = 0.0
    def cmp(spec, ref):
        nonlocal worst
        mine = score(spec, as64(test), as64(train))
        err = np.max(np.abs(mine[nonzero] - ref[nonzero]) / np.maximum(1.0, np.abs(ref[nonzero])))
        worst = max(worst, err)
        assert err < 1e-9, (spec, err)
    for p in (90.0, 65.0, 53.125):
        cmp(f'ash-p:p={p}', torch_energy(ash_repo(zt, p, 'p').flatten(1)))
        cmp(f'ash-b:p={p}', torch_energy(ash_repo(zt, p, 'b').flatten(1)))
        cmp(f'ash-s:p={p}', torch_energy(ash_repo(zt, p, 's').flatten(1)))
    for p in (85.0, 65.0):
        cmp(f'scale:p={p}', torch_energy(scale_repo(zt.clone(), p).flatten(1)))
    # MDS as OpenOOD: EmpiricalCovariance(assume_centered=False) on class-centred data
    y = train['labels']
    classes = np.unique(y)
    means = np.stack([ztr[y == k].mean(axis=0) for k in classes])
    ec = sklearn.covariance.EmpiricalCovariance(assume_centered=False).fit(
        ztr - means[np.searchsorted(classes, y)])
    prec = ec.precision_
    ref = np.max(np.stack([-(((z - mu) @ prec) * (z - mu)).sum(axis=1) for mu in means], axis=1), axis=1)
    cmp('mahalanobis', ref)
    # KNN via sklearn on normalised features
    bank = ztr / (np.linalg.norm(ztr, axis=1, keepdims=True) + 1e-10)
    q = z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-10)
    for k in (50, 5, 1):
        d, _ = sklearn.neighbors.NearestNeighbors(n_neighbors=k).fit(bank).kneighbors(q)
        cmp(f'knn:k={k}', -d[:, -1])
    # ViM as the repository: np.linalg.eig on EmpiricalCovariance(assume_centered=True)
    u = -np.matmul(np.linalg.pinv(W), b)
    ecv = sklearn.covariance.EmpiricalCovariance(assume_centered=True).fit(ztr - u)
    vals, vecs = np.linalg.eig(ecv.covariance_)
    for dim in (8, 4):
        ns = np.ascontiguousarray((vecs.T[np.argsort(vals * -1)[dim:]]).T)
        vlogit_tr = np.linalg.norm(np.matmul(ztr - u, ns), axis=-1)
        alpha = (ztr @ W.T + b).max(axis=-1).mean() / vlogit_tr.mean()
        energy = scipy.special.logsumexp(z @ W.T + b, axis=-1)
        cmp('vim' if dim == 8 else 'vim:dim=4',
            -alpha * np.linalg.norm(np.matmul(z - u, ns), axis=-1) + energy)
    # softmax-based via torch
    f = torch.from_numpy(t['logits'])
    cmp('msp:t=5', torch.softmax(f / 5, dim=1).max(dim=1)[0].numpy())
    cmp('odin:noise=0', torch.softmax(f / 1000, dim=1).max(dim=1)[0].numpy())
    probs = torch.softmax(f, dim=1)
    ps = torch.sort(probs, dim=1)[0][:, -3:]
    cmp('gen:gamma=0.5,m=3', (-torch.sum(ps ** 0.5 * (1 - ps) ** 0.5, dim=1)).numpy())
    return worst


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------
ARRAYS = ['featureMap', 'pooled', 'logits', 'labels', 'head.weight', 'head.bias']


def write_dump(path, dump):
    os.makedirs(path, exist_ok=True)
    for key in ARRAYS:
        np.save(os.path.join(path, key + '.npy'), dump[key])


def as64(dump):
    return {key: (dump[key].astype(np.float64) if key != 'labels' else dump[key]) for key in ARRAYS}


def all_scores(test, train):
    out = {}
    for spec in SPECS:
        s = score(spec, as64(test), as64(train))
        assert s.shape == (test['pooled'].shape[0],) and np.all(np.isfinite(s)), spec
        out[spec] = [float(v) + 0.0 for v in s]  # + 0.0 turns -0.0 into 0.0
    return out


def write_json(path, obj):
    """JSON with one line per top-level key and, inside dict values, one line per method spec."""
    lines = []
    for key, value in obj.items():
        if isinstance(value, dict):
            inner = [f'  {json.dumps(k)}: {json.dumps(v)}' for k, v in value.items()]
            lines.append(f' {json.dumps(key)}: {{\n' + ',\n'.join(inner) + '\n }')
        else:
            lines.append(f' {json.dumps(key)}: {json.dumps(value)}')
    text = '{\n' + ',\n'.join(lines) + '\n}\n'
    assert json.loads(text) == obj
    with open(path, 'w') as fh:
        fh.write(text)


def main():
    cases = [
        ('random', case_random), ('ties', case_ties), ('zeros', case_zeros),
        ('extreme', case_extreme), ('single', case_single), ('constant', case_constant),
        ('negative-energy', case_negative_energy),
    ]
    summary = {}
    for idx, (name, make) in enumerate(cases):
        rng = np.random.default_rng(20240 + idx)
        description, train, test = make(rng)
        notes = check_case(name, as64(train), {'test': as64(test)}, allow_ties=(name == 'ties'))
        d = os.path.join(ROOT, name)
        shutil.rmtree(d, ignore_errors=True)
        write_dump(os.path.join(d, 'train'), train)
        write_dump(os.path.join(d, 'test'), test)
        methods = all_scores(test, train)
        write_json(os.path.join(d, 'expected.json'),
                   {'case': name, 'description': description, 'methods': methods})
        summary[name] = methods
        if name not in ('ties',):
            worst = cross_check(test, train)
            print(f'[{name}] cross-check vs repository-style torch/sklearn code: max rel. diff {worst:.1e}')
        for note in notes:
            print(f'[{name}] {note}')
        for spec, inner in (('nap-e', 'energy'), ('nap-r', 'react'), ('nap-a', 'ash-s'), ('nap-d', 'dice')):
            nonpos = sum(1 for v in methods[inner] if v <= 0)
            zero = sum(1 for v in methods[spec] if v == 0)
            if zero:
                print(f'[{name}] {spec}: {nonpos} rows with S_X = {inner} <= 0, {zero} rows scored 0 '
                      '(S_X <= 0 or S_NAP = 0)')

    # sign case
    rng = np.random.default_rng(20240 + 100)
    description, train, idd, ood = case_sign(rng)
    check_case('sign', as64(train), {'id': as64(idd), 'ood': as64(ood)}, allow_ties=False)
    d = os.path.join(ROOT, 'sign')
    shutil.rmtree(d, ignore_errors=True)
    for sub, dump in (('train', train), ('id', idd), ('ood', ood)):
        write_dump(os.path.join(d, sub), dump)
    sid, sood = all_scores(idd, train), all_scores(ood, train)
    for label, dump in (('id', idd), ('ood', ood)):
        worst = cross_check(dump, train)
        print(f'[sign/{label}] cross-check vs repository-style torch/sklearn code: max rel. diff {worst:.1e}')
    write_json(os.path.join(d, 'expected.json'), {
        'case': 'sign', 'description': description,
        'means': {spec: {'id': float(np.mean(sid[spec])), 'ood': float(np.mean(sood[spec]))}
                  for spec in SPECS},
        'methods': {spec: {'id': sid[spec], 'ood': sood[spec]} for spec in SPECS},
    })

    # summary tables
    names = list(summary)
    print('\nmean score per case (test rows)')
    print(f'{"spec":38s}' + ''.join(f'{n:>16s}' for n in names))
    for spec in SPECS:
        print(f'{spec:38s}' + ''.join(f'{np.mean(summary[n][spec]):16.6g}' for n in names))
    print('\nsign check: mean score on id must exceed mean on ood')
    print(f'{"spec":38s}{"id":>16s}{"ood":>16s}  ok   AUROC (info)')
    bad = []
    for spec in SPECS:
        mi, mo = np.mean(sid[spec]), np.mean(sood[spec])
        a, o = np.array(sid[spec]), np.array(sood[spec])
        auroc = ((a[:, None] > o[None, :]).sum() + 0.5 * (a[:, None] == o[None, :]).sum()) / (a.size * o.size)
        ok = mi > mo
        if not ok:
            bad.append(spec)
        print(f'{spec:38s}{mi:16.6g}{mo:16.6g}  {"yes" if ok else "NO ":3s}  {100 * auroc:6.2f}')
    if bad:
        print('sign check FAILED for: ' + ', '.join(bad))
        sys.exit(1)


if __name__ == '__main__':
    main()
