#!/usr/bin/python3
"""Tiny seeded pixel sets for the `napood report` tests (test/fixtures/report/): uint8 .npy
[N, 3, 32, 32] for test/fixtures/pipeline/model.onnx (CIFAR-size, 10 classes), with int64 labels
for the ID sets. ID: smooth coloured blobs (class = blob colour and place); "near": the same
blobs, low contrast and noisy; "far": uniform noise. Not a benchmark: the sets only have to run
every path of the report.

Run: /usr/bin/python3 tools/make_report_fixture.py
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'report')


def blobs(rng, n, contrast=1.0, noise=0.0):
    yy, xx = np.mgrid[0:32, 0:32]
    x = np.zeros((n, 3, 32, 32))
    labels = rng.integers(0, 10, n)
    for i, c in enumerate(labels):
        cx, cy = 8 + (c % 4) * 5 + rng.normal(0, 1.5), 8 + (c // 4) * 6 + rng.normal(0, 1.5)
        g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (3 + c % 3) ** 2))
        colour = np.array([(c * 37) % 255, (c * 91) % 255, (c * 53) % 255]) / 255.0
        x[i] = colour[:, None, None] * g[None] * contrast + 0.1
    x = x + rng.normal(0, noise, x.shape)
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8), labels.astype(np.int64)


def main():
    rng = np.random.default_rng(11)
    os.makedirs(OUT, exist_ok=True)
    train, ytrain = blobs(rng, 48)
    test, ytest = blobs(rng, 40)
    near, _ = blobs(rng, 30, contrast=0.4, noise=0.08)
    far = rng.integers(0, 256, (30, 3, 32, 32)).astype(np.uint8)
    for name, arr in [('train', train), ('train_labels', ytrain), ('id', test), ('id_labels', ytest), ('near', near), ('far', far)]:
        np.save(os.path.join(OUT, f'{name}.npy'), arr)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
