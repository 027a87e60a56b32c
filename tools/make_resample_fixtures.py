#!/usr/bin/python3
"""Makes test/fixtures/images/resample-fast/ (run with /usr/bin/python3: Pillow 9.4, numpy): Pillow
Image.resize on random sources, sizes, filters and crop windows, for test/images/resample-fast.test.ts.

  src_<i>.npy   source images, uint8 H x W x C (C = 1: mode L, 3: RGB, 4: RGBX)
  out.npy       the expected windows, uint8, concatenated (each H x W x C, C order)
  cases.json    one row per window: [source index, filter, resizeW, resizeH, left, top, outW, outH,
                offset in out.npy]

Each case resizes the whole source with Image.resize(size, filter) (what torchvision's Resize does;
no box, no reducing_gap) and keeps the window [left, left + outW) x [top, top + outH) of the result
(torchvision's CenterCrop, or any crop). Sizes cover upscaling, downscaling (up to ~20x, so that
lanczos and bicubic have more than 16 taps), one axis unchanged, 1 x N and N x 1 results.
"""
import json
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'images', 'resample-fast')
rng = np.random.default_rng(20250114)

FILTERS = {'nearest': Image.NEAREST, 'box': Image.BOX, 'bilinear': Image.BILINEAR,
           'hamming': Image.HAMMING, 'bicubic': Image.BICUBIC, 'lanczos': Image.LANCZOS}
MODES = {1: 'L', 3: 'RGB', 4: 'RGBX'}

# (width, height, channels): a photo-like RGB, a portrait, grayscale, RGBX, tiny and thin ones.
SOURCES = [(97, 61, 3), (45, 83, 3), (120, 90, 1), (33, 29, 4), (5, 3, 3), (1, 7, 1), (64, 2, 3), (16, 16, 3)]


def source(w, h, c):
    """Smooth gradients, sharp edges and noise: every filter's overshoot and clipping shows."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = 128 + 100 * np.sin(x / 3.7) * np.cos(y / 2.9)
    edges = np.where(((x // 5) + (y // 4)) % 2 == 0, 120.0, -120.0)
    img = np.stack([base + edges * (k % 2) + 40 * k for k in range(c)], -1) + rng.normal(0, 25, (h, w, c))
    # Some saturated pixels (0 and 255) next to each other.
    img[rng.random((h, w)) < 0.05] = 0
    img[rng.random((h, w)) < 0.05] = 255
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def pil_image(a):
    h, w, c = a.shape
    return Image.frombytes(MODES[c], (w, h), a.tobytes())


def sizes(w, h):
    """Resize targets for a w x h source."""
    out = []
    for _ in range(7):
        f = rng.choice([0.05, 0.1, 0.3, 0.5, 0.7, 1.0, 1.3, 2.0, 3.5])
        rw = max(1, int(round(w * f * rng.uniform(0.8, 1.25))))
        rh = max(1, int(round(h * f * rng.uniform(0.8, 1.25))))
        out.append((min(rw, 200), min(rh, 200)))
    out += [(w, max(1, h // 3)), (max(1, w * 2 + 1), h), (1, max(1, h // 2)), (max(1, w // 2), 1), (w + 3, h + 5)]
    return out


def window(rw, rh):
    """A crop window of at most 28 x 28 (keeps out.npy small), sometimes the whole image."""
    if rw * rh <= 400 and rng.random() < 0.5:
        return 0, 0, rw, rh
    ow = int(rng.integers(1, min(rw, 28) + 1))
    oh = int(rng.integers(1, min(rh, 28) + 1))
    return int(rng.integers(0, rw - ow + 1)), int(rng.integers(0, rh - oh + 1)), ow, oh


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    cases, parts, off = [], [], 0
    for i, (w, h, c) in enumerate(SOURCES):
        a = source(w, h, c)
        np.save(os.path.join(OUT, f'src_{i}.npy'), a)
        img = pil_image(a)
        for rw, rh in sizes(w, h):
            for fname in FILTERS:
                r = np.asarray(img.resize((rw, rh), FILTERS[fname]))
                r = r.reshape(rh, rw, c)
                left, top, ow, oh = window(rw, rh)
                part = r[top:top + oh, left:left + ow].ravel()
                cases.append([i, fname, rw, rh, left, top, ow, oh, off])
                parts.append(part)
                off += part.size
    np.save(os.path.join(OUT, 'out.npy'), np.concatenate(parts))
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        f.write('{"pillow": "%s",\n"sources": %s,\n"columns": ["src", "filter", "resizeW", "resizeH", "left", "top", "outW", "outH", "offset"],\n"cases": [\n%s\n]}\n' % (
            Image.__version__, json.dumps([list(s) for s in SOURCES]), ',\n'.join(json.dumps(c) for c in cases)))
    total = sum(os.path.getsize(os.path.join(OUT, x)) for x in os.listdir(OUT))
    print(f'{len(cases)} cases, {off} output bytes, {total} bytes on disk in {OUT}')


if __name__ == '__main__':
    main()
