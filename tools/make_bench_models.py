#!/usr/bin/python3
"""Generate the models and images of the end-to-end benchmark (bench/e2e.ts, bench/e2e_torch.py).

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision, PIL, onnx). Nothing is downloaded:
weights are random (seeded) and the images are synthetic.

Writes into OUT_DIR (default /tmp/napood-bench):
  resnet18/model.onnx      torchvision resnet18 (1000 classes, random weights; BatchNorm running
                           statistics filled by a few train-mode batches, then eval mode), exported
                           at 3×224×224, opset 17, dynamic batch axis
  resnet18/state_dict.pt   the same weights for the PyTorch side (torchvision.models.resnet18())
  resnet18/images/         256 synthetic "photo-like" JPEGs (quality 90, 4:2:0), sizes around
                           500×375 (landscape and portrait, so that both resize branches are used)
  */model.napmax.onnx      the same model with two more outputs, `nap_max` = ReduceMax of the
                           pre-pooling map over H, W (N×C) and `pooled` = the pooled feature
                           (N×C): all NAP needs, without the N×C×H×W map (bench/e2e_whatif.ts)
  smallcnn/model.onnx      SmallCNN below (4 × conv+bn+relu, global average pool, linear head),
                           3×32×32, opset 17, dynamic batch axis
  smallcnn/state_dict.pt
  smallcnn/images/         1024 synthetic 32×32 RGB PNGs
  manifest.json            what was written, the preprocessing each model expects, the seed

Every file is a deterministic function of the seed (same torch / PIL / numpy versions give the
same bytes). Takes ~20 s on 2 cores.

Usage: /usr/bin/python3 tools/make_bench_models.py [OUT_DIR] [--seed 0] [--n224 256] [--n32 1024]
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
from PIL import Image, ImageDraw, ImageFilter

# Preprocessing of each model (the napood presets; the PyTorch side builds the same transforms).
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CIFAR_MEAN = [125.3 / 255, 123.0 / 255, 113.9 / 255]
CIFAR_STD = [63.0 / 255, 62.1 / 255, 66.7 / 255]


class SmallCNN(nn.Module):
    """3×32×32 → conv32 → conv64/2 → conv128/2 → conv128 (each conv+bn+relu) → GAP → linear(10).

    The pre-pooling map A is the output of the last ReLU: N×128×8×8.
    """

    def __init__(self, num_classes=10):
        super().__init__()

        def block(cin, cout, stride):
            return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(3, 32, 1), *block(32, 64, 2), *block(64, 128, 2), *block(128, 128, 1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def build_model(name):
    """The eval-mode architecture with the given name (weights still to be loaded)."""
    if name == 'resnet18':
        return torchvision.models.resnet18(num_classes=1000)
    if name == 'smallcnn':
        return SmallCNN()
    raise ValueError(f'unknown model {name!r}')


def prepool_module(model, name):
    """The module whose *input* is the pre-pooling map A (hook it with a forward pre-hook)."""
    return model.avgpool


# ---------------------------------------------------------------------------------------------
# Synthetic images
# ---------------------------------------------------------------------------------------------

def smooth_field(rng, w, h, cells, channels=3):
    """A smooth random colour field: a coarse random grid upsampled bicubically to w×h."""
    gw, gh = max(2, int(round(cells * w / max(w, h)))), max(2, int(round(cells * h / max(w, h))))
    coarse = rng.integers(0, 256, size=(gh, gw, channels), dtype=np.uint8)
    return Image.fromarray(coarse, 'RGB').resize((w, h), Image.BICUBIC)


def photo_like(rng, w, h):
    """Smooth background, a few blurred shapes, fine texture noise: JPEG sizes like photos'."""
    img = smooth_field(rng, w, h, cells=int(rng.integers(3, 9)))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(w // 10, w // 2)), y0 + int(rng.integers(h // 10, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.8, 2.5))))
    a = np.asarray(img).astype(np.int16)
    a += rng.normal(0, rng.uniform(3, 10), size=a.shape).round().astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), 'RGB')


def tiny(rng, size=32):
    img = smooth_field(rng, size, size, cells=int(rng.integers(2, 6)))
    a = np.asarray(img).astype(np.int16)
    a += rng.normal(0, rng.uniform(2, 12), size=a.shape).round().astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), 'RGB')


SIZES_224 = [(500, 375), (375, 500), (500, 333), (480, 360), (500, 400), (333, 500)]


def write_images(out, n224, n32, seed):
    d224 = os.path.join(out, 'resnet18', 'images')
    d32 = os.path.join(out, 'smallcnn', 'images')
    os.makedirs(d224, exist_ok=True)
    os.makedirs(d32, exist_ok=True)
    rng = np.random.default_rng(seed)
    total = 0
    for i in range(n224):
        w, h = SIZES_224[i % len(SIZES_224)]
        path = os.path.join(d224, f'img{i:05d}.jpg')
        photo_like(rng, w, h).save(path, 'JPEG', quality=90)
        total += os.path.getsize(path)
    print(f'{n224} JPEGs in {d224} ({total / n224 / 1024:.1f} KiB each on average)')
    rng = np.random.default_rng(seed + 1)
    total = 0
    for i in range(n32):
        path = os.path.join(d32, f'img{i:05d}.png')
        tiny(rng).save(path, 'PNG')
        total += os.path.getsize(path)
    print(f'{n32} PNGs in {d32} ({total / n32 / 1024:.1f} KiB each on average)')
    return d224, d32


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

def fill_bn_stats(model, size, batches, batch, seed):
    """Train-mode forward passes (no gradient) over normalised smooth random images, with
    cumulative-average BatchNorm statistics (momentum None), then eval mode."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            coarse = torch.rand(batch, 3, max(2, size // 32), max(2, size // 32), generator=g)
            x = nn.functional.interpolate(coarse, size=(size, size), mode='bicubic', align_corners=False)
            x = x + 0.05 * torch.randn(x.shape, generator=g)
            x = (x - 0.45) / 0.25
            model(x)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
    model.eval()


def export(model, size, path):
    dummy = torch.zeros(1, 3, size, size)
    torch.onnx.export(
        model, dummy, path, opset_version=17, input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True,
    )


def add_nap_outputs(src, dst):
    """Copy of the ONNX model with outputs `nap_max` (ReduceMax of the GlobalAveragePool input over
    H, W, keepdims 0) and `pooled` (the flattened pooled feature)."""
    m = onnx.load(src)
    gap = [n for n in m.graph.node if n.op_type == 'GlobalAveragePool']
    flat = [n for n in m.graph.node if n.op_type == 'Flatten' and n.input[0] == gap[-1].output[0]]
    if len(gap) != 1 or len(flat) != 1:
        raise SystemExit(f'{src}: expected one GlobalAveragePool → Flatten, found {len(gap)} / {len(flat)}')
    fm, pooled = gap[0].input[0], flat[0].output[0]
    m.graph.node.append(onnx.helper.make_node('ReduceMax', [fm], ['nap_max'], axes=[2, 3], keepdims=0))
    m.graph.output.append(onnx.helper.make_tensor_value_info('nap_max', onnx.TensorProto.FLOAT, ['batch', 'channels']))
    m.graph.output.append(onnx.helper.make_tensor_value_info(pooled, onnx.TensorProto.FLOAT, ['batch', 'channels']))
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return fm, pooled


def make_model(out, name, size, seed):
    torch.manual_seed(seed)
    model = build_model(name)
    fill_bn_stats(model, size, batches=4 if size > 64 else 8, batch=16 if size > 64 else 64, seed=seed)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(d, 'state_dict.pt'))
    export(model, size, os.path.join(d, 'model.onnx'))
    add_nap_outputs(os.path.join(d, 'model.onnx'), os.path.join(d, 'model.napmax.onnx'))
    print(f'{name}: {sum(p.numel() for p in model.parameters())} parameters → {d}/model.onnx, state_dict.pt')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out', nargs='?', default='/tmp/napood-bench')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--n224', type=int, default=256)
    ap.add_argument('--n32', type=int, default=1024)
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    make_model(a.out, 'resnet18', 224, a.seed)
    make_model(a.out, 'smallcnn', 32, a.seed + 1)
    d224, d32 = write_images(a.out, a.n224, a.n32, a.seed)
    manifest = {
        'seed': a.seed,
        'versions': {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'PIL': Image.__version__, 'numpy': np.__version__},
        'models': {
            'resnet18': {
                'onnx': 'resnet18/model.onnx', 'onnx_napmax': 'resnet18/model.napmax.onnx', 'state_dict': 'resnet18/state_dict.pt', 'images': 'resnet18/images', 'count': a.n224,
                'preprocess': {'resize': 256, 'size': 224, 'mean': IMAGENET_MEAN, 'std': IMAGENET_STD, 'preset': 'imagenet'},
            },
            'smallcnn': {
                'onnx': 'smallcnn/model.onnx', 'onnx_napmax': 'smallcnn/model.napmax.onnx', 'state_dict': 'smallcnn/state_dict.pt', 'images': 'smallcnn/images', 'count': a.n32,
                'preprocess': {'resize': None, 'size': 32, 'mean': CIFAR_MEAN, 'std': CIFAR_STD, 'preset': 'cifar'},
            },
        },
    }
    with open(os.path.join(a.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    print(f'manifest → {os.path.join(a.out, "manifest.json")}')


if __name__ == '__main__':
    main()
