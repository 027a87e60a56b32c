#!/usr/bin/python3
"""e2e_torch.py — the PyTorch eager side of the end-to-end benchmark (driven by bench/e2e.ts).

Pipeline, as a torchvision user writes it:
    PIL Image.open(f).convert('RGB') → Resize(r) + CenterCrop(s) (ImageNet models; the 32×32 model
    needs neither) → ToTensor → Normalize → batches of B (DataLoader, `--workers` decoding
    processes; 0 = decode in the main process) → model(x) under inference_mode, with a forward
    pre-hook on the global pooling that keeps its input A (the pre-pooling map) →
    NAP  = ((A.amax((2,3)) / (A.mean((2,3)) + eps)) ** p).mean(1)   (SPEC §2, eps = 1, p = 2)
    energy = logsumexp(logits, 1)                                  (T = 1)
torch.set_num_threads(T) for the forward pass and the scores; DataLoader workers run with one
torch thread each (DataLoader's default). The driver pins this process (and its workers) to T
cores with taskset.

Modes (all print one JSON object on stdout):
  e2e        --warmup W batches, then --reps R timed passes over all images (wall time of the whole
             pass, from the first file read to the last score); img/s of the best pass; the scores
             of the last pass (float64) to --scores PREFIX.{nap,energy}.f64
  parts      times of the pieces: forward pass alone on a preloaded batch of B images, the NAP
             and energy scores alone on its outputs (ms/batch, median), and per image, one
             process, single file at a time: decode (open + convert + load), resize + crop,
             ToTensor + Normalize (ms/image, median of passes over all images), and the loader
             alone (the DataLoader pass without the model, img/s); with --scores, the preprocessed
             first batch (float32 NCHW) to PREFIX.input.f32

Usage: /usr/bin/python3 bench/e2e_torch.py MODE --dir D --model NAME --threads T --batch B
       [--workers W] [--warmup 2] [--reps 2] [--scores PREFIX] [--forward-reps 5]
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

EPS = 1.0
P = 2.0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_tools():
    """tools/make_bench_models.py (the model definitions)."""
    path = os.path.join(ROOT, 'tools', 'make_bench_models.py')
    sys.dont_write_bytecode = True  # no tools/__pycache__ in the working tree
    spec = importlib.util.spec_from_file_location('make_bench_models', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def image_paths(folder):
    names = sorted(n for n in os.listdir(folder) if os.path.splitext(n)[1].lower() in ('.png', '.jpg', '.jpeg', '.webp'))
    return [os.path.join(folder, n) for n in names]


def pil_load(path):
    with open(path, 'rb') as f:
        img = Image.open(f)
        return img.convert('RGB')


class Images(Dataset):
    def __init__(self, paths, tf):
        self.paths = paths
        self.tf = tf

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.tf(pil_load(self.paths[i]))


def build_transforms(pp):
    # The 32×32 model's images are already 32×32: no Resize (as CIFAR evaluation code has none;
    # napood's cifar preset resizes to 32×32, a plain copy for these images).
    geo = []
    if pp['resize'] is not None:
        geo = [transforms.Resize(pp['resize']), transforms.CenterCrop(pp['size'])]
    return geo, [transforms.ToTensor(), transforms.Normalize(pp['mean'], pp['std'])]


def scores_from(store, logits):
    a = store['A']
    nap = (a.amax((2, 3)) / (a.mean((2, 3)) + EPS)).pow(P).mean(1)
    energy = torch.logsumexp(logits, 1)
    return nap, energy


def load_model(args, manifest):
    tools = load_tools()
    model = tools.build_model(args.model)
    sd = torch.load(os.path.join(args.dir, manifest['state_dict']), map_location='cpu')
    model.load_state_dict(sd)
    model.eval()
    store = {}
    tools.prepool_module(model, args.model).register_forward_pre_hook(lambda m, inp: store.__setitem__('A', inp[0]))
    return model, store


def make_loader(ds, args):
    kw = {}
    if args.workers > 0:
        kw = {'num_workers': args.workers, 'persistent_workers': True}
    return DataLoader(ds, batch_size=args.batch, shuffle=False, **kw)


def run_pass(loader, model, store, limit=None):
    naps, energies, n = [], [], 0
    with torch.inference_mode():
        for x in loader:
            logits = model(x)
            nap, energy = scores_from(store, logits)
            naps.append(nap)
            energies.append(energy)
            n += x.shape[0]
            if limit is not None and n >= limit:
                break
    return n, naps, energies


def mode_e2e(args, manifest, paths):
    model, store = load_model(args, manifest)
    geo, norm = build_transforms(manifest['preprocess'])
    ds = Images(paths, transforms.Compose(geo + norm))
    loader = make_loader(ds, args)
    # warm-up: the first W batches (and the worker processes, which stay alive)
    run_pass(loader, model, store, limit=args.warmup * args.batch)
    times = []
    naps = energies = None
    for _ in range(args.reps):
        t = time.perf_counter()
        n, naps, energies = run_pass(loader, model, store)
        times.append(time.perf_counter() - t)
    if args.scores:
        torch.cat(naps).double().numpy().tofile(args.scores + '.nap.f64')
        torch.cat(energies).double().numpy().tofile(args.scores + '.energy.f64')
    return {'images': n, 'pass_s': times, 'img_per_s': n / min(times)}


def median_time(fn, reps, warm=1):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def mode_parts(args, manifest, paths):
    model, store = load_model(args, manifest)
    geo, norm = build_transforms(manifest['preprocess'])
    geo_tf, norm_tf = transforms.Compose(geo), transforms.Compose(norm)
    out = {}
    # per-image pieces, one image at a time in this process (median of `passes` passes)
    passes = 3
    decode, resize, normalize = [], [], []
    for _ in range(passes):
        td = tr = tn = 0.0
        for p in paths:
            t0 = time.perf_counter()
            img = pil_load(p)
            img.load()
            t1 = time.perf_counter()
            img = geo_tf(img)
            t2 = time.perf_counter()
            norm_tf(img)
            t3 = time.perf_counter()
            td += t1 - t0
            tr += t2 - t1
            tn += t3 - t2
        decode.append(td / len(paths))
        resize.append(tr / len(paths))
        normalize.append(tn / len(paths))
    out['decode_ms_per_img'] = 1e3 * statistics.median(decode)
    out['resize_ms_per_img'] = 1e3 * statistics.median(resize)
    out['normalize_ms_per_img'] = 1e3 * statistics.median(normalize)
    # the loader alone (DataLoader pass, no model)
    loader = make_loader(Images(paths, transforms.Compose(geo + norm)), args)
    for i, _ in enumerate(loader):
        if i + 1 >= args.warmup:
            break
    best = float('inf')
    for _ in range(args.reps):
        t = time.perf_counter()
        n = sum(x.shape[0] for x in loader)
        best = min(best, time.perf_counter() - t)
    out['loader_img_per_s'] = n / best
    # forward and scores on a preloaded batch (the first B images)
    x = torch.stack([transforms.Compose(geo + norm)(pil_load(p)) for p in paths[:args.batch]])
    if args.scores:
        x.numpy().astype(np.float32).tofile(args.scores + '.input.f32')
    with torch.inference_mode():
        out['forward_ms'] = 1e3 * median_time(lambda: model(x), args.forward_reps, warm=2)
        logits = model(x)
        a = store['A']
        reps = max(20, args.forward_reps)
        out['nap_ms'] = 1e3 * median_time(lambda: (a.amax((2, 3)) / (a.mean((2, 3)) + EPS)).pow(P).mean(1), reps, warm=3)
        out['energy_ms'] = 1e3 * median_time(lambda: torch.logsumexp(logits, 1), reps, warm=3)
        out['feature_map_shape'] = list(a.shape)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['e2e', 'parts'])
    ap.add_argument('--dir', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--batch', type=int, required=True)
    ap.add_argument('--workers', type=int, default=0)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--forward-reps', type=int, default=5)
    ap.add_argument('--scores', default='')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, 'manifest.json')) as f:
        manifest = json.load(f)['models'][args.model]
    paths = image_paths(os.path.join(args.dir, manifest['images']))
    t = time.perf_counter()
    result = mode_e2e(args, manifest, paths) if args.mode == 'e2e' else mode_parts(args, manifest, paths)
    result['wall_s'] = time.perf_counter() - t
    result['threads'] = torch.get_num_threads()
    result['workers'] = args.workers
    result['versions'] = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'PIL': Image.__version__, 'numpy': np.__version__}
    print(json.dumps(result))


if __name__ == '__main__':
    sys.exit(main())
