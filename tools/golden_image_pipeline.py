#!/usr/bin/python3
"""Golden values for the whole image → score path of `napood score/eval --model` (run with Debian's
/usr/bin/python3).

A small CNN (the `flatten` head style of make_onnx_fixtures.py: Conv-BN-ReLU ×3, GlobalAveragePool,
Flatten, Gemm) with random weights and filled BatchNorm statistics is exported to ONNX; the same
PyTorch model scores the fixture images of test/fixtures/images/, preprocessed the torchvision way
(PIL open, convert('RGB'), Resize((32, 32)) bilinear with antialias, ToTensor, Normalize with the
CIFAR statistics of napood's `cifar` preset). Undecodable files are skipped, as napood does.

Scores, independent of napood: NAP (eps 1, p 2) from a forward hook on the pre-pool map, energy,
MSP, ODIN (T = 1000, eta = 0.0014, input gradient by torch autograd, perturbation divided by the
normalisation std per channel as in OpenOOD), ODIN temperature only, ReAct (p = 90 on the ID set
itself), and sklearn AUROC / FPR95 of tree (ID) against extra (OOD).

Writes test/fixtures/pipeline/{model.onnx, expected.json}.
Usage: /usr/bin/python3 tools/golden_image_pipeline.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import roc_auc_score, roc_curve
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_onnx_fixtures import SmallCNN, export, fill_bn  # noqa: E402

torch.set_num_threads(2)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'images')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'pipeline')
MEAN = [125.3 / 255, 123.0 / 255, 113.9 / 255]
STD = [63.0 / 255, 62.1 / 255, 66.7 / 255]
EXTS = ('.png', '.jpg', '.jpeg', '.webp')


def image_files(folder):
    """Every image under folder, class folders first in sorted order (torchvision ImageFolder)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for f in sorted(filenames):
            if f.lower().endswith(EXTS):
                out.append(os.path.join(dirpath, f))
    return sorted(out, key=lambda p: os.path.relpath(p, folder).encode('utf-8'))


def load(paths, classes=None, root=None):
    """Preprocessed tensors of the decodable images, their repo-relative paths and class labels."""
    tf = transforms.Compose([
        transforms.Resize((32, 32), interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])
    xs, kept, labels = [], [], []
    for p in paths:
        try:
            with Image.open(p) as im:
                im.load()
                rgb = im.convert('RGB')
        except Exception:  # napood skips these and reports them by path
            continue
        xs.append(tf(rgb))
        kept.append(os.path.relpath(p, ROOT))
        if classes is not None:
            labels.append(classes.index(os.path.relpath(p, root).split(os.sep)[0]))
    return torch.stack(xs), kept, labels


def fpr95(id_scores, ood_scores):
    y = np.r_[np.ones(len(id_scores)), np.zeros(len(ood_scores))]
    s = np.r_[id_scores, ood_scores]
    fpr, tpr, _ = roc_curve(y, s)
    return float(fpr[np.searchsorted(tpr, 0.95, side='left')])


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(40)
    net = SmallCNN('flatten')
    fill_bn(net, (3, 32, 32))
    export(net, torch.zeros(2, 3, 32, 32), os.path.join(OUT, 'model.onnx'), 17)

    tree = os.path.join(IMAGES, 'tree')
    classes = sorted(d for d in os.listdir(tree) if os.path.isdir(os.path.join(tree, d)))
    x_id, paths_id, y_id = load(image_files(tree), classes, tree)
    x_ood, paths_ood, _ = load(image_files(os.path.join(IMAGES, 'extra')))

    def forward(x):
        with torch.no_grad():
            fmap = net.body(x)
            z = net.pool(fmap)
            return fmap, z, net.fc(z)

    W = net.fc.weight.detach()
    b = net.fc.bias.detach()
    _, z_train, _ = forward(x_id)
    react_c = float(np.percentile(z_train.numpy().ravel(), 90))

    def scores(x):
        fmap, z, f = forward(x)
        flat = fmap.flatten(2).double()
        nap = ((flat.amax(2) / (flat.mean(2) + 1.0)) ** 2).mean(1)
        energy = torch.logsumexp(f.double(), 1)
        msp = F.softmax(f.double(), 1).amax(1)
        odin0 = F.softmax(f.double() / 1000, 1).amax(1)
        react = torch.logsumexp((z.clamp(max=react_c) @ W.t() + b).double(), 1)
        # ODIN with the input perturbation, by autograd.
        xg = x.clone().requires_grad_(True)
        out = net(xg) / 1000
        loss = F.cross_entropy(out, out.argmax(1))
        loss.backward()
        grad = (xg.grad >= 0).float() * 2 - 1
        grad = grad / torch.tensor(STD).view(1, 3, 1, 1)
        with torch.no_grad():
            odin = F.softmax(net(x - 0.0014 * grad).double() / 1000, 1).amax(1)
        acc = f.argmax(1)
        return {'nap': nap, 'energy': energy, 'msp': msp, 'odin': odin, 'odin:noise=0': odin0,
                'react': react}, acc

    s_id, pred = scores(x_id)
    s_ood, _ = scores(x_ood)
    metrics = {}
    for m in s_id:
        a, o = s_id[m].numpy(), s_ood[m].numpy()
        y = np.r_[np.ones(len(a)), np.zeros(len(o))]
        metrics[m] = {'auroc': float(roc_auc_score(y, np.r_[a, o])), 'fpr95': fpr95(a, o)}
    expected = {
        'classes': classes,
        'preprocess': {'preset': 'cifar', 'mean': MEAN, 'std': STD},
        'react_threshold': react_c,
        'id': {'paths': paths_id, 'labels': y_id, 'accuracy': float((pred.numpy() == np.array(y_id)).mean()),
               'scores': {m: v.tolist() for m, v in s_id.items()}},
        'ood': {'paths': paths_ood, 'scores': {m: v.tolist() for m, v in s_ood.items()}},
        'metrics': metrics,
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    print('wrote', OUT, 'id', len(paths_id), 'ood', len(paths_ood))


if __name__ == '__main__':
    main()
