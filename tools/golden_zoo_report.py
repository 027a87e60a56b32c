#!/usr/bin/python3
"""Independent PyTorch / numpy / sklearn recomputation of the zoo report's numbers ("evidence").

    nice /usr/bin/python3 tools/golden_zoo_report.py --report /tmp/r/report.json
        [--config examples/report/demo.json] [--model resnet] [--ckpt /work/zoo-ckpt/<model>.pt]
        [--out test/fixtures/zoo/<model>_golden.json] [--threads 2] [--no-float64]

Models: the zoo's linear-head backbones (resnet, densenet, mobilenetv2; resnet6 with a config
that holds it). vgg's MLP head has no single linear layer for ReAct/DICE/ASH-S to act before, so
it is not covered here.

About 30 s for the float32 pass on 2 cores, and a few minutes more for the float64 one.

/tmp/r/report.json is what `napood report examples/report/demo.json --out /tmp/r` wrote; it is
read for two things only: which layers the report used for multi-layer NAP (tables.layerInfo),
and — after everything here is computed — to print how far its numbers are from these.

Written without napood: the model is the PyTorch module of tools/train_zoo.py, loaded from the
training checkpoint (or, where the checkpoint is missing, from the ONNX initializers: the convs
with the BatchNorms folded in, as torch.onnx exported them); the images are the uint8 .npy sets
of the config, preprocessed as torchvision's ToTensor + Normalize (float32: u/255, −mean, /std);
layers are taken with forward hooks. The formulas follow SPEC.md and the methods' own code:
  MSP, MaxLogit, Energy     max softmax, max logit, logsumexp of the logits (float64)
  NAP                       mean_c (max_hw A_c / (mean_hw A_c + 1))^2 of the map before pooling
  ReAct  (Sun et al.)       c = np.percentile(all ID-train pooled values, 90); energy of fc(min(z, c))
  DICE   (Sun & Li)         m = mean ID-train z, contrib = m_j W_kj, M = contrib > np.percentile(contrib, 90)
  ASH-S  (ash_s, on z)      keep the k = C − round(0.9 C) largest, zero the rest, × exp(s1/s2); energy
  NAP-X                     S_X^w · S_NAP^(1−w) in log space, S_X ≤ 0 → 0; w from the config's paperW
  multi-layer NAP           geometric mean of NAP (ε = 1, p = 2) at the report's layers: each layer
                            alone and the deepest 2, 3, … together (the report's Table 7 rows)
Metrics (ID positive): FPR95 of SPEC §1 (t = sorted ID at round-half-even(0.05·n_ID), share of
OOD > t), sklearn roc_auc_score, average_precision_score (AUPR-In; AUPR-Out on −score, OOD
positive), detection error min ½(1−TPR) + ½FPR from sklearn roc_curve; ID accuracy of the
(modified) logits.

Output: full-set metrics (the report's sets: ID test, each OOD set, fit on the whole ID-train
set) and, to keep the file small, per-sample scores (10 significant digits) on a seeded subset —
SUBSET_ID ID test rows and SUBSET_OOD rows of each OOD set (np.random.RandomState(SUBSET_SEED),
sorted indices, stored), scored with the statistics fitted on the whole ID-train set — with the
subset's metrics and ID accuracy. Also the float32 noise floor: the same model run in float64 on
the same float32 input, max relative |score(float32) − score(float64)| per method over the full
sets (full.float32_vs_float64_max_rel), the scale below which no two float32 runtimes can agree.
test/zoo/golden.test.ts runs napood on the same subset and compares.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import scipy.special
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)
import train_zoo  # noqa: E402  (the architectures; importing trains nothing)

SUBSET_SEED = 20240229
SUBSET_ID = 300
SUBSET_OOD = 200
PAPER_W = {  # SPEC §3, the paper's w per NAP-X and benchmark
    'cifar10': {'nap-e': 0.4, 'nap-a': 0.5, 'nap-r': 0.4, 'nap-d': 0.5, 'nap-m': 0.5},
    'cifar100': {'nap-e': 0.4, 'nap-a': 0.6, 'nap-r': 0.5, 'nap-d': 0.6, 'nap-m': 0.3},
    'imagenet': {'nap-e': 0.6, 'nap-a': 0.8, 'nap-r': 0.8, 'nap-d': 0.6, 'nap-m': 0.3},
}
NAPX_INNER = {'nap-e': 'energy', 'nap-r': 'react', 'nap-a': 'ash-s', 'nap-d': 'dice', 'nap-m': 'msp'}
PERCENTILE = 90


# ---------------------------------------------------------------------------------------------
# Model

def scope_to_module(components):
    """ONNX scope components ('layer2', 'layer2.0', 'shortcut', 'shortcut.0') → module path
    'layer2.0.shortcut.0' (a component that extends the previous one by '.x' replaces it)."""
    parts = []
    for c in components:
        if parts and c.startswith(parts[-1] + '.'):
            parts[-1] = c
        else:
            parts.append(c)
    return '.'.join(parts)


def head_linear(model):
    """The classifier's linear layer applied to the pooled z (fc, or the last Linear of a
    Dropout → Linear classifier; Dropout is the identity in eval mode)."""
    head = getattr(model, 'fc', None)
    if head is None:
        seq = list(model.classifier)
        assert all(isinstance(m, nn.Dropout) for m in seq[:-1]) and isinstance(seq[-1], nn.Linear), 'a linear head'
        head = seq[-1]
    return head


def load_from_onnx(model, onnx_path):
    """Weights from the ONNX initializers: each Conv node '/<scope>/Conv' gets the folded weight
    and bias, its BatchNorm (conv1→bn1, conv2→bn2, shortcut.0→shortcut.1) becomes Identity."""
    import onnx
    from onnx import numpy_helper
    assert isinstance(model, train_zoo.ResNet), 'ONNX-initializer loading is written for the ResNet only (keep the checkpoint)'
    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    modules = dict(model.named_modules())
    done = set()
    for node in g.node:
        if node.op_type == 'Conv':
            path = scope_to_module(node.name.strip('/').split('/')[:-1])
            conv = modules[path]
            conv.weight.data = torch.from_numpy(inits[node.input[1]].copy())
            conv.bias = nn.Parameter(torch.from_numpy(inits[node.input[2]].copy()))
            parent, _, leaf = path.rpartition('.')
            owner = modules[parent] if parent else model
            bn = {'conv1': 'bn1', 'conv2': 'bn2'}.get(leaf) or (str(int(leaf) + 1) if leaf.isdigit() else None)
            setattr(owner, bn, nn.Identity())
            done.add(path)
        elif node.op_type == 'Gemm':
            fc = model.fc
            fc.weight.data = torch.from_numpy(inits[node.input[1]].copy())
            fc.bias.data = torch.from_numpy(inits[node.input[2]].copy())
            done.add('fc')
    return sorted(done)


def conv_bn_pairs(model, shape=(2, 1, 28, 28)):
    """{conv path: BatchNorm module} for each conv whose output feeds only a BatchNorm next (what
    torch.onnx's constant folding folds), found by running the model once with hooks: the BN's
    input is the very tensor the conv produced."""
    outputs, pairs, keep = {}, {}, []  # keep: the outputs stay alive, so no id() is reused

    def conv_out(path):
        def hook(mod, inp, out):  # returns None: the output is left as it is
            keep.append(out)
            outputs[id(out)] = path
        return hook

    def bn_in(mod, inp):
        if id(inp[0]) in outputs:
            pairs[outputs[id(inp[0])]] = mod

    hooks = []
    for p, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_out(p)))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(bn_in))
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(shape))
    model.train(was)
    for h in hooks:
        h.remove()
    return pairs


def onnx_vs_checkpoint(model, onnx_path):
    """Max |checkpoint conv weight − ONNX initializer| over the convs and the head (the checkpoint
    is the exported model): a conv that exported with a bias it does not have was folded with the
    BatchNorm it feeds (conv_bn_pairs) and is compared folded; any other conv as it is. (A conv
    whose output also goes elsewhere — DenseNet's concatenations — is not folded by torch.onnx.)"""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    modules = dict(model.named_modules())
    pairs = conv_bn_pairs(model)
    worst = 0.0
    for node in g.node:
        if node.op_type != 'Conv':
            continue
        path = scope_to_module(node.name.strip('/').split('/')[:-1])
        conv = modules[path]
        w_onnx = inits[node.input[1]]
        if len(node.input) > 2 and conv.bias is None:
            bn = pairs[path]
            scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().double()
            w = conv.weight.detach().double() * scale[:, None, None, None]
            b = bn.bias.detach().double() - bn.running_mean.double() * scale
            worst = max(worst, float(np.abs(w.numpy() - w_onnx).max()), float(np.abs(b.numpy() - inits[node.input[2]]).max()))
        else:
            worst = max(worst, float(np.abs(conv.weight.detach().double().numpy() - w_onnx).max()))
    head = head_linear(model)
    hw = [v for v in inits.values() if v.shape == tuple(head.weight.shape)]
    worst = max(worst, min(float(np.abs(head.weight.detach().numpy() - v).max()) for v in hw))
    return worst


def parse_tensor_name(name):
    """'/layer3/layer3.1/Relu_1_output_0' → ('layer3.1', 'Relu', 1); '/Relu_output_0' → ('', 'Relu', 0)."""
    comps = name.strip('/').split('/')
    op = comps[-1]
    assert op.endswith('_output_0'), name
    op = op[:-len('_output_0')]
    base, _, k = op.rpartition('_')
    if base and k.isdigit():
        op, idx = base, int(k)
    else:
        idx = 0
    return scope_to_module(comps[:-1]), op, idx


class Taps:
    """Forward hooks that keep the ONNX-named tensors: F.relu calls numbered per module scope, as
    torch.onnx names them ('<scope>/Relu', '<scope>/Relu_1', …), the output of an activation
    module (nn.ReLU6 → '<module path>/Clip', nn.ReLU → '<module path>/Relu'), the pooled vector
    (avgpool output) and the map before pooling (avgpool input)."""

    def __init__(self, model, names):
        self.want = {parse_tensor_name(n): n for n in names}
        self.stack, self.count, self.out = [], {}, {}
        self.handles = []
        modules = dict(model.named_modules())
        for (scope, op, idx), name in self.want.items():
            mod = modules.get(scope) if scope else None
            if idx == 0 and isinstance(mod, (nn.ReLU6, nn.ReLU)):
                self.handles.append(mod.register_forward_hook(lambda m, inp, out, n=name: self.out.__setitem__(n, out.clone())))
        for path, m in model.named_modules():
            self.handles.append(m.register_forward_pre_hook(lambda mod, inp, p=path: self.stack.append(p)))
            self.handles.append(m.register_forward_hook(lambda mod, inp, out, p=path: self._pop(p)))
        self.handles.append(model.avgpool.register_forward_hook(lambda mod, inp, out: self.out.update(pre_pool=inp[0], pooled=torch.flatten(out, 1))))
        self.relu = F.relu

    def _pop(self, p):
        assert self.stack.pop() == p

    def __enter__(self):
        taps = self

        def relu(x, inplace=False):
            y = taps.relu(x, inplace=inplace)
            scope = taps.stack[-1] if taps.stack else ''
            k = taps.count.get(scope, 0)
            taps.count[scope] = k + 1
            key = (scope, 'Relu', k)
            if key in taps.want:
                taps.out[taps.want[key]] = y
            return y
        F.relu = relu
        return self

    def __exit__(self, *exc):
        F.relu = self.relu
        for h in self.handles:
            h.remove()

    def start_batch(self):
        self.count.clear()
        self.out.clear()


# ---------------------------------------------------------------------------------------------
# Data and forward pass

def preprocess(u8, mean, std):
    """uint8 [N, 1, H, W] → float32, torchvision ToTensor + Normalize in float32 steps."""
    x = u8.astype(np.float32) / np.float32(255)
    return (x - np.float32(mean)) / np.float32(std)


def nap_np(a, eps=1.0, p=2.0):
    """NAP of an [N, C, H, W] float32 map in float64."""
    n, c = a.shape[:2]
    a = a.reshape(n, c, -1)
    mx = a.max(-1).astype(np.float64)
    mean = a.sum(-1, dtype=np.float64) / a.shape[-1]
    return ((mx / (mean + eps)) ** p).mean(-1)


def forward_set(model, taps, u8, mean, std, layers, bs=500, dtype=torch.float32):
    """logits, pooled (float32) and NAP at every layer (float64) of a uint8 set."""
    logits, pooled, nap_layers = [], [], {l: [] for l in layers}
    with torch.no_grad():
        for i in range(0, u8.shape[0], bs):
            x = torch.from_numpy(preprocess(u8[i:i + bs], mean, std)).to(dtype)
            taps.start_batch()
            f = model(x)
            logits.append(f.numpy())
            pooled.append(taps.out['pooled'].numpy().copy())
            for l in layers:
                a = taps.out[l]
                if l == layers[-1]:
                    assert a is taps.out['pre_pool'] or torch.equal(a, taps.out['pre_pool']), 'the last layer is the map before pooling'
                nap_layers[l].append(nap_np(a.numpy()))
    return {'logits': np.concatenate(logits), 'pooled': np.concatenate(pooled), 'layers': {l: np.concatenate(v) for l, v in nap_layers.items()}}


# ---------------------------------------------------------------------------------------------
# Methods

def energy_np(f):
    return scipy.special.logsumexp(f.astype(np.float64), axis=1)


def msp_np(f):
    return scipy.special.softmax(f.astype(np.float64), axis=1).max(1)


def blend(sx, snap, w):
    if w == 0:
        return snap.copy()
    if w == 1:
        return sx.copy()
    out = np.zeros_like(sx)
    ok = sx > 0
    out[ok] = np.exp(w * np.log(sx[ok]) + (1 - w) * np.log(snap[ok]))
    return out


def fit_stats(model, train_pooled):
    """ReAct threshold (numpy linear percentile of every value) and DICE's masked weight."""
    thr = float(np.percentile(train_pooled.astype(np.float64).ravel(), PERCENTILE))
    W = head_linear(model).weight.detach().numpy()
    m = train_pooled.astype(np.float64).mean(0)
    contrib = m[None, :] * W.astype(np.float64)
    dthr = float(np.percentile(contrib, PERCENTILE))
    mask = contrib > dthr
    return {'react_threshold': thr, 'dice_threshold': dthr, 'dice_kept': int(mask.sum()), 'dice_mean': m,
            'dice_weight': torch.from_numpy((W * mask).astype(W.dtype))}


def ash_s_torch(z, p):
    """ash_s of github.com/andrijazz/ash on the pooled vector [N, C] (float32, as the authors)."""
    c = z.shape[1]
    k = c - int(np.round(c * p / 100.0))
    s1 = z.sum(dim=1)
    v, i = torch.topk(z, k, dim=1)
    out = torch.zeros_like(z).scatter_(1, i, v)
    s2 = out.sum(dim=1)
    return out * torch.exp(s1 / s2)[:, None]


def scores_of(model, fx, stats, paper_w, layer_labels):
    """Every method's scores on one set (float64) and the logits each one predicts with."""
    f = fx['logits']
    z = torch.from_numpy(fx['pooled'])
    fc = head_linear(model)
    with torch.no_grad():
        fr = fc(torch.clamp(z, max=stats['react_threshold'])).numpy()
        fd = F.linear(z, stats['dice_weight'], fc.bias).numpy()
        fa = fc(ash_s_torch(z, PERCENTILE)).numpy()
    s = {'msp': msp_np(f), 'maxlogit': f.max(1).astype(np.float64), 'energy': energy_np(f), 'react': energy_np(fr),
         'dice': energy_np(fd), 'ash-s': energy_np(fa)}
    layers = list(layer_labels)
    s['nap'] = fx['layers'][layers[-1]]
    for name, inner in NAPX_INNER.items():
        w = paper_w[name]
        s[f'{name}:w={w}'] = blend(s[inner], s['nap'], w)
    labels = list(layer_labels.values())
    per = {lab: fx['layers'][t] for t, lab in layer_labels.items()}
    for lab in labels:
        s[f'nap[{lab}]'] = per[lab]
    for combo in layer_combos(labels):
        s[f'nap[{"+".join(combo)}]'] = np.exp(np.mean([np.log(per[l]) for l in combo], axis=0))
    logits = {'msp': f, 'maxlogit': f, 'energy': f, 'react': fr, 'dice': fd, 'ash-s': fa}
    return s, logits


def layer_combos(labels):
    """The report's combinations: the last two, three, … layers (deepest kept)."""
    return [labels[-k:] for k in range(2, len(labels) + 1)]


# ---------------------------------------------------------------------------------------------
# Metrics (percent)

def fpr95(sid, sood):
    t = np.sort(sid)[int(np.round(0.05 * len(sid)))]  # np.round: half to even
    return float(np.mean(sood > t))


def metrics(sid, sood):
    y = np.r_[np.ones(len(sid)), np.zeros(len(sood))]
    s = np.r_[sid, sood]
    fpr, tpr, _ = roc_curve(y, s)
    return {'fpr95': 100 * fpr95(sid, sood), 'auroc': 100 * roc_auc_score(y, s), 'aupr_in': 100 * average_precision_score(y, s),
            'aupr_out': 100 * average_precision_score(1 - y, -s), 'detection_error': 100 * float(np.min(0.5 * (1 - tpr) + 0.5 * fpr))}


def evaluate(scores_id, scores_ood, oods):
    out = {}
    for m in scores_id:
        per = {o: metrics(scores_id[m], scores_ood[o][m]) for o in oods}
        avg = {k: float(np.mean([per[o][k] for o in oods])) for k in per[oods[0]]}
        out[m] = {'results': per, 'average': avg}
    return out


def accuracies(logits_id, labels):
    return {m: 100 * float(np.mean(f.argmax(1) == labels)) for m, f in logits_id.items()}


# ---------------------------------------------------------------------------------------------

def rnd(a, digits=10):
    return [float(f'{v:.{digits}g}') for v in np.asarray(a, dtype=np.float64)]


def float64_noise(model, data, mean, std, layers, full, full_id, full_ood, oods, paper_w, layer_labels, t0):
    m64 = copy.deepcopy(model).double()
    f64 = {}
    with Taps(m64, layers) as taps:
        for k, u8 in data.items():
            f64[k] = forward_set(m64, taps, u8, mean, std, layers, dtype=torch.float64)
    stats64 = fit_stats(m64, f64['train']['pooled'])
    noise = {}
    for k in ['id'] + oods:
        s64 = scores_of(m64, f64[k], stats64, paper_w, layer_labels)[0]
        s32 = full_id if k == 'id' else full_ood[k]
        for m, v in s64.items():
            noise[m] = max(noise.get(m, 0.0), float(np.max(np.abs(s32[m] - v) / np.maximum(np.abs(v), 1e-300))))
    full['float32_vs_float64_max_rel'] = noise
    print(f'float64 forward: {time.time() - t0:.1f} s; max relative float32 − float64 score difference {max(noise.values()):.3g}', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default=os.path.join(ROOT, 'examples', 'report', 'demo.json'))
    ap.add_argument('--model', default='resnet')
    ap.add_argument('--ckpt', default=None, help='training checkpoint (default /work/zoo-ckpt/<model>.pt)')
    ap.add_argument('--report', required=True, help='report.json of `napood report CONFIG` (its layers; compared at the end)')
    ap.add_argument('--out', default=None, help='default test/fixtures/zoo/<model>_golden.json')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--no-float64', action='store_true', help='skip the float64 forward (the float32 noise floor in full.float32_vs_float64_max_rel)')
    args = ap.parse_args()
    args.ckpt = args.ckpt or f'/work/zoo-ckpt/{args.model}.pt'
    args.out = args.out or os.path.join(ROOT, 'test', 'fixtures', 'zoo', f'{args.model}_golden.json')
    torch.set_num_threads(args.threads)
    t0 = time.time()

    cfg_dir = os.path.dirname(os.path.abspath(args.config))
    cfg = json.load(open(args.config))
    mc = next(m for m in cfg['models'] if m['name'] == args.model)
    sets = {**cfg.get('sets', {}), **mc.get('sets', {})}
    at = lambda p: os.path.normpath(os.path.join(cfg_dir, p))  # noqa: E731
    paper_w = PAPER_W[cfg.get('paperW', 'imagenet')]
    pp = json.load(open(at(mc['preprocess'])))
    mean, std = pp['mean'][0], pp['std'][0]
    onnx_path = at(mc['path'])

    report = json.load(open(args.report))
    rm = next(m for m in report['models'] if m['name'] == args.model)
    layer_labels = {li['tensor']: li['label'] for li in rm['tables']['layerInfo']}
    assert rm['tables']['layerInfo'][-1]['penultimate'] and rm['featureMap'] == list(layer_labels)[-1]

    zc = train_zoo.MODELS[args.model]['classes']
    model = train_zoo.MODELS[args.model]['make'](10 if zc is None else len(zc))
    if os.path.exists(args.ckpt):
        model.load_state_dict(torch.load(args.ckpt, map_location='cpu')['model'])
        weights = {'from': f'checkpoint {os.path.basename(args.ckpt)}', 'max_abs_diff_folded_checkpoint_vs_onnx_initializers': onnx_vs_checkpoint(model, onnx_path)}
    else:
        weights = {'from': f'ONNX initializers of {os.path.relpath(onnx_path, ROOT)} (checkpoint {args.ckpt} missing)', 'loaded': load_from_onnx(model, onnx_path)}
    model.eval()
    print('weights:', weights, flush=True)

    names = {'train': sets['train'], 'id': sets['id'], **{o['name']: o for o in sets['ood']}}
    data = {k: np.load(at(v['path'])) for k, v in names.items()}
    labels = {k: np.load(at(names[k]['labels'])) for k in ('train', 'id')}
    oods = [o['name'] for o in sets['ood']]

    layers = list(layer_labels)
    feats = {}
    with Taps(model, layers) as taps:
        for k, u8 in data.items():
            feats[k] = forward_set(model, taps, u8, mean, std, layers)
            print(f'{k}: {u8.shape[0]} images, {time.time() - t0:.1f} s', flush=True)

    # Full sets (as the report).
    stats = fit_stats(model, feats['train']['pooled'])
    full_id, full_id_logits = scores_of(model, feats['id'], stats, paper_w, layer_labels)
    full_ood = {o: scores_of(model, feats[o], stats, paper_w, layer_labels)[0] for o in oods}
    full = {'n': {k: int(data[k].shape[0]) for k in data}, 'react_threshold': stats['react_threshold'], 'dice_threshold': stats['dice_threshold'],
            'dice_kept': stats['dice_kept'], 'accuracy': accuracies(full_id_logits, labels['id']),
            'metrics': evaluate(full_id, full_ood, oods)}

    # The float32 noise floor: the same model in float64 (same float32 input), every score.
    if not args.no_float64:
        float64_noise(model, data, mean, std, layers, full, full_id, full_ood, oods, paper_w, layer_labels, t0)

    # Seeded subset of the ID test and OOD sets, scored with the full fit (the report's statistics).
    rng = np.random.RandomState(SUBSET_SEED)
    idx = {'id': np.sort(rng.choice(data['id'].shape[0], min(SUBSET_ID, data['id'].shape[0]), replace=False))}
    for o in oods:
        idx[o] = np.sort(rng.choice(data[o].shape[0], min(SUBSET_OOD, data[o].shape[0]), replace=False))
    sub_id = {m: v[idx['id']] for m, v in full_id.items()}
    sub_ood = {o: {m: v[idx[o]] for m, v in full_ood[o].items()} for o in oods}
    subset = {'seed': SUBSET_SEED, 'indices': {k: [int(x) for x in v] for k, v in idx.items()},
              'accuracy': accuracies({m: f[idx['id']] for m, f in full_id_logits.items()}, labels['id'][idx['id']]),
              'metrics': evaluate(sub_id, sub_ood, oods),
              'scores': {'id': {m: rnd(v) for m, v in sub_id.items()}, **{o: {m: rnd(v) for m, v in sub_ood[o].items()} for o in oods}}}

    rel = lambda p: os.path.relpath(at(p), ROOT)  # noqa: E731
    out = {
        'kind': 'napood-golden-zoo-report', 'tool': 'tools/golden_zoo_report.py', 'units': 'percent',
        'torch': torch.__version__, 'numpy': np.__version__,
        'model': {'name': args.model, 'onnx': rel(mc['path']), 'preprocess': rel(mc['preprocess']), 'weights': weights},
        'config': os.path.relpath(os.path.abspath(args.config), ROOT), 'paperW': cfg.get('paperW', 'imagenet'), 'w': paper_w, 'percentile': PERCENTILE,
        'sets': {k: {'path': rel(v['path']), **({'labels': rel(v['labels'])} if 'labels' in v else {})} for k, v in names.items()},
        'oods': oods,
        'layers': [{'label': lab, 'tensor': t} for t, lab in layer_labels.items()],
        'full': full, 'subset': subset,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as fh:
        json.dump(out, fh, separators=(',', ':'))
        fh.write('\n')
    print(f'wrote {os.path.relpath(args.out, ROOT)} ({os.path.getsize(args.out)} bytes) in {time.time() - t0:.1f} s')
    compare_report(full, rm)


def compare_report(full, rm):
    """Largest |report − golden| per metric over the report's tables (percent points)."""
    rows = {}
    for t in ('main', 'layers'):
        for m in rm['tables'][t]['methods']:
            rows[m['method']] = m
    worst = {}
    for m, g in full['metrics'].items():
        r = rows.get(m)
        if r is None:
            print('not in the report:', m)
            continue
        for o, gm in list(g['results'].items()) + [('average', g['average'])]:
            rr = r['average'] if o == 'average' else r['results'][o]
            for k, v in gm.items():
                d = abs(rr[k] - v)
                if d > worst.get(k, (0, ''))[0] or k not in worst:
                    worst[k] = (d, f'{m} {o}: report {rr[k]} golden {v}')
    for k, (d, where) in worst.items():
        print(f'max |report − golden| {k}: {d:.3g} ({where})')
    acc = rm['tables']['main']['id']['accuracy']
    print(f'ID accuracy: report {acc}, golden {full["accuracy"]["energy"]}')
    for m in rm['tables']['main']['methods']:
        a = m.get('id_accuracy')
        if a is not None:
            key = m['method'].split(':')[0]
            g = full['accuracy'].get(NAPX_INNER.get(key, key))
            print(f'  {m["method"]} accuracy: report {a} golden {g}')


if __name__ == '__main__':
    main()
