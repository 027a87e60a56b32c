"""Shared pieces of the Fashion-MNIST model zoo (tools/zoo_data.py, tools/train_zoo.py).

Fashion-MNIST comes from Debian's dataset-fashion-mnist (IDX files, SPEC §5). The 60,000 training
images are split once, with a fixed seed, into 58,000 for training and 2,000 held out for
validation (w tuning); both scripts use this function, so the held-out images are never trained on.
"""
import gzip
import os

import numpy as np

FMNIST_DIR = os.environ.get('FMNIST_DIR', '/usr/share/datasets/fashion-mnist')
CLASSES = ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot']
SPLIT_SEED = 20240229
N_VAL = 2000
# Mean and std of the 58,000 training images' pixels in [0, 1] (computed by zoo_stats(); fixed here
# so that every model and its preprocessing JSON agree).
MEAN = 0.2860
STD = 0.3529


def read_idx(name):
    with gzip.open(os.path.join(FMNIST_DIR, name), 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    ndim = magic & 0xFF
    assert magic >> 8 == 0x08, 'IDX of unsigned bytes'
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def fashion_mnist():
    """(train_x, train_y, test_x, test_y): uint8 [N, 28, 28] and int64 [N]."""
    tx = read_idx('train-images-idx3-ubyte.gz')
    ty = read_idx('train-labels-idx1-ubyte.gz').astype(np.int64)
    vx = read_idx('t10k-images-idx3-ubyte.gz')
    vy = read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64)
    return tx, ty, vx, vy


def train_val_split(n=60000):
    """Indices (train, val) into the 60,000 training images: val = 2,000 held out."""
    perm = np.random.RandomState(SPLIT_SEED).permutation(n)
    return np.sort(perm[N_VAL:]), np.sort(perm[:N_VAL])
