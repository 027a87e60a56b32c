#!/usr/bin/python3
"""Golden NAP scores for test/nap (numpy, float64), written to test/nap/fixtures/nap_golden.json.

S_NAP = mean_c (max_hw A_c / (mean_hw A_c + eps))^p  (arXiv 2402.18162, eq. 3–4), computed on
float32 maps promoted to float64. Maps are post-ReLU-like (with all-zero channels); one case has
H·W = 1 and one has negatives (counted for the diagnostics test).
Run: /usr/bin/python3 tools/golden_nap.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(2402_18162)


def nap64(x, eps, p):
    x = x.astype(np.float64)
    mx = x.max(axis=(2, 3))
    mean = x.mean(axis=(2, 3))
    return ((mx / (mean + eps)) ** p).mean(axis=1)


cases = []
for name, shape, neg in [
    ('3x4x3x3', (3, 4, 3, 3), False),
    ('2x3x7x7', (2, 3, 7, 7), False),
    ('1x5x1x1', (1, 5, 1, 1), False),
    ('2x2x2x3-negatives', (2, 2, 2, 3), True),
]:
    x = rng.normal(0.2, 1.0, size=shape).astype(np.float32)
    if not neg:
        x = np.maximum(x, 0)
        x[0, 0] = 0  # an all-zero channel
    params = [(1.0, 2.0), (1.0, 3.0), (0.5, 1.0), (2.0, 0.5)]
    cases.append({
        'name': name,
        'shape': list(shape),
        # float32 values written as their exact float64 value
        'map': [float(v) for v in x.ravel()],
        'negatives': int((x < 0).sum()),
        'scores': [{'eps': e, 'p': p, 'values': [float(v) for v in nap64(x, e, p)]} for e, p in params],
    })

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'nap', 'fixtures', 'nap_golden.json')
with open(out, 'w') as f:
    json.dump({'source': 'tools/golden_nap.py (numpy %s, float64)' % np.__version__, 'cases': cases}, f, indent=1)
print('wrote', os.path.normpath(out))
