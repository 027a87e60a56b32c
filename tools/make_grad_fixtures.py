#!/usr/bin/python3
"""Reference input gradients and ODIN scores for test/onnx-grad (PyTorch autograd, float64).

ODIN (Liang et al., ICLR 2018; OpenOOD v1.5 ODINPostprocessor; the ODIN repository):
  ŷ = argmax f(x);  L = CE(f(x)/T, ŷ) = −log softmax(f(x)/T)_ŷ;  g = ∇ₓ L
  x' = x − η · s(g) / std_c,  s(g) = +1 where g ≥ 0, −1 elsewhere (torch.ge, as OpenOOD / ODIN)
  score = max softmax(f(x')/T)
with T = 1000, η = 0.0014, std = (0.229, 0.224, 0.225).

Two kinds of models:
 1. The real-architecture ONNX fixtures of tools/make_onnx_fixtures.py (resnet18, mobilenet_v2,
    densenet121, vgg_mlp, the small CNNs). That script saves no state dicts, so this one re-creates
    the same PyTorch models with the same seeds and generator order (importing its classes), checks
    that the re-created inputs equal the stored input.npy bit for bit and that the outputs match the
    stored logits.npy, then takes torch.autograd gradients of the float64 copy of each model.
    Opset variants of one PyTorch model (op13 / op17 / op18, initinputs / softmax) share one
    reference; meta.json maps each ONNX fixture to its reference.
 2. Small synthetic models exported here (model.onnx, input.npy, logits.npy beside the refs) that
    exercise ops the real fixtures do not: grouped / dilated / strided conv after an asymmetric Pad,
    Sub / Div by constants, LeakyRelu, standalone BatchNormalization, Clip, a squeeze-excitation
    Mul with broadcasting, Concat, channel shuffle (Reshape / Transpose), AveragePool with padding,
    count_include_pad = 0 and ceil_mode, MaxPool with dilation and ceil_mode, Sigmoid, Tanh,
    ReduceMean, MatMul + Add; exported at opsets 11, 13 and 17; and (opsnet3) LayerNorm (decomposed,
    and the LayerNormalization op), GELU (Erf), Hardswish / Hardsigmoid at opsets 13 and 17.

Per reference directory test/fixtures/onnx-grad/<ref>/:
  grad.npy       float32 [N, C, H, W]   ∇ₓ L per sample (L summed over the batch, so row i is ∇ of sample i's loss)
  dlogits.npy    float64 [N, K]         dL/df = (softmax(f/T) − onehot(ŷ)) / T
  logits.npy     float64 [N, K]         f(x) of the float64 model
  odin.npy       float64 [N]            ODIN score (T = 1000)
  odin_t1.npy    float64 [N]            ODIN score with T = 1 (same η): the perturbation moves it far more
  (synthetic only) model_op<k>.onnx, input.npy float32
meta.json: T, noise, std, and for each ONNX model: its path, input file, reference dir.

Usage: /usr/bin/python3 tools/make_grad_fixtures.py
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(2)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import make_onnx_fixtures as mof  # noqa: E402  (classes and helpers of the ONNX fixtures)

ONNX_DIR = os.path.join(ROOT, 'test', 'fixtures', 'onnx')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'onnx-grad')
T = 1000.0
NOISE = 0.0014
STD = [0.229, 0.224, 0.225]


def rebuild_real_models():
    """Re-create the PyTorch models of make_onnx_fixtures.main() in the same order (same seeds, same
    draws from its generator). Returns {ref name: (model, x, [onnx fixture names])}."""
    gen = torch.Generator().manual_seed(7)
    out = {}

    torch.manual_seed(0)
    resnet = mof.SlimResNet18()
    mof.fill_bn(resnet, (3, 64, 64))
    out['resnet18'] = (resnet, torch.randn((2, 3, 64, 64), generator=gen), ['resnet18_op13', 'resnet18_op17'])

    torch.manual_seed(1)
    mnv2 = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)
    mof.fill_bn(mnv2, (3, 64, 64))
    out['mobilenet_v2'] = (mnv2, torch.randn((2, 3, 64, 64), generator=gen), ['mobilenet_v2_op13', 'mobilenet_v2_op17'])

    torch.manual_seed(2)
    dense = torchvision.models.DenseNet(growth_rate=8, block_config=(6, 12, 24, 16), num_init_features=16,
                                        bn_size=4, num_classes=10)
    mof.fill_bn(dense, (3, 64, 64))
    out['densenet121'] = (dense, torch.randn((2, 3, 64, 64), generator=gen), ['densenet121_op13', 'densenet121_op17'])

    torch.manual_seed(3)
    vgg = mof.SlimVGG()
    mof.fill_bn(vgg, (3, 64, 64))
    out['vgg_mlp'] = (vgg, torch.randn((2, 3, 64, 64), generator=gen), ['vgg_mlp_op13', 'vgg_mlp_op17'])

    for i, style in enumerate(['flatten', 'mean', 'view', 'matmul']):
        torch.manual_seed(10 + i)
        net = mof.SmallCNN(style)
        mof.fill_bn(net, (3, 32, 32))
        x = torch.randn((2, 3, 32, 32), generator=gen)
        names = [f'smallcnn_{style}_op13', f'smallcnn_{style}_op17'] + (['smallcnn_mean_op18'] if style == 'mean' else [])
        out[f'smallcnn_{style}'] = (net, x, names)

    torch.manual_seed(30)
    net = mof.SmallCNN('flatten')
    mof.fill_bn(net, (3, 32, 32))
    out['smallcnn_seed30'] = (net, torch.randn((2, 3, 32, 32), generator=gen),
                              ['smallcnn_initinputs_op11', 'smallcnn_softmax_op13'])
    return out


class OpsNet(nn.Module):
    """Synthetic model over the ops the real fixtures lack (see the module docstring)."""

    def __init__(self):
        super().__init__()
        self.register_buffer('mean', torch.tensor([0.1, -0.2, 0.05]).view(1, 3, 1, 1))
        self.register_buffer('scale', torch.tensor([0.9, 1.1, 0.8]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 12, 3, stride=2, dilation=2, groups=3)
        self.bn = nn.BatchNorm2d(12)
        self.conv2 = nn.Conv2d(12, 12, 3, padding=1, groups=12)
        self.se1 = nn.Conv2d(12, 4, 1)
        self.se2 = nn.Conv2d(4, 12, 1)
        self.conv3 = nn.Conv2d(24, 16, 1)
        self.w1 = nn.Parameter(torch.randn(16, 12) * 0.4)
        self.b1 = nn.Parameter(torch.randn(12) * 0.1)
        self.fc = nn.Linear(12, 7)

    def forward(self, x):
        x = (x - self.mean) / self.scale                       # Sub, Div by constants
        x = F.pad(x, (1, 2, 0, 1))                             # Pad (asymmetric, constant 0)
        a = F.leaky_relu(self.conv1(x), 0.1)                   # grouped, dilated, strided Conv; LeakyRelu
        a = self.bn(a)                                         # standalone BatchNormalization
        b = torch.clamp(self.conv2(a), -1.0, 1.5)              # depthwise Conv, Clip
        s = torch.sigmoid(self.se2(F.relu(self.se1(F.adaptive_avg_pool2d(b, 1)))))
        b = b * s                                              # Mul with broadcasting (SE block)
        c = torch.cat([a, b], 1)                               # Concat
        n, ch, h, w = c.shape
        c = c.view(n, 2, ch // 2, h, w).transpose(1, 2).reshape(n, ch, h, w)  # channel shuffle
        c = F.avg_pool2d(c, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        c = self.conv3(c)
        c = c * torch.sigmoid(c)                               # SiLU as Sigmoid · Mul
        c = F.max_pool2d(c, 3, stride=2, padding=1, dilation=2, ceil_mode=True)
        z = c.mean((2, 3))                                     # ReduceMean
        h = torch.tanh(torch.matmul(z, self.w1) + self.b1)     # MatMul + Add, Tanh
        return self.fc(h)                                      # Gemm


class OpsNet2(nn.Module):
    """Second synthetic model: AveragePool counting the padding, overlapping MaxPool without
    padding, Flatten of a whole map into a Gemm (no global pooling), and a residual Sub."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5, stride=1, padding=2)
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1, bias=False)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        a = F.relu(self.conv1(x))
        a = F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=True)
        a = a - 0.5 * self.conv2(a)                            # Sub of two activations
        a = F.max_pool2d(a, 3, stride=2)
        return self.fc(torch.flatten(a, 1))


class OpsNet3(nn.Module):
    """Third synthetic model, modern blocks: a ConvNeXt-style block (depthwise Conv, channels-last
    LayerNorm — ReduceMean / Sub / Pow / Sqrt / Div at opset 13, the LayerNormalization op at opset
    17 —, pointwise Linear layers as MatMul + Add, GELU as Erf, a residual Add), then a
    MobileNetV3-style Hardswish (HardSigmoid · Mul at opset 13, the HardSwish op at 17) with a
    Hardsigmoid squeeze-excitation, global pooling and a Linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 5, padding=2, groups=8)
        self.ln = nn.LayerNorm(8)
        self.pw1 = nn.Linear(8, 16)
        self.pw2 = nn.Linear(16, 8)
        self.conv = nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.se1 = nn.Conv2d(12, 4, 1)
        self.se2 = nn.Conv2d(4, 12, 1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        a = self.stem(x)
        r = self.dw(a).permute(0, 2, 3, 1)                     # Transpose to channels last
        r = self.pw2(F.gelu(self.pw1(self.ln(r))))             # LayerNorm, MatMul + Add, GELU (Erf)
        a = a + r.permute(0, 3, 1, 2)                          # residual Add
        c = F.hardswish(self.conv(a))                          # Hardswish
        s = F.hardsigmoid(self.se2(F.relu(self.se1(F.adaptive_avg_pool2d(c, 1)))))
        c = c * s                                              # Hardsigmoid squeeze-excitation
        return self.fc(c.mean((2, 3)))


def odin_reference(model, x32, std, T=T):
    """Everything ODIN computes, in float64 with torch.autograd."""
    m = model.double().eval()
    x = torch.tensor(x32, dtype=torch.float64, requires_grad=True)
    f = m(x)
    yhat = f.detach().argmax(1)
    loss = F.cross_entropy(f / T, yhat, reduction='sum')
    loss.backward()
    g = x.grad.detach()
    sgn = (g >= 0).double() * 2 - 1
    sgn = sgn / torch.tensor(std, dtype=torch.float64).view(1, -1, 1, 1)
    xp = x.detach() - NOISE * sgn
    with torch.no_grad():
        fp = m(xp)
    p = torch.softmax(f.detach() / T, 1)
    dlogits = (p - F.one_hot(yhat, f.shape[1]).double()) / T
    score = torch.softmax(fp / T, 1).max(1).values
    top2 = torch.topk(f.detach(), 2, dim=1).values
    return {
        'grad': g.numpy().astype(np.float32),
        'dlogits': dlogits.numpy(),
        'logits': f.detach().numpy(),
        'odin': score.numpy(),
        'margin': float((top2[:, 0] - top2[:, 1]).min()),
    }


def save_ref(d, ref):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, 'grad.npy'), ref['grad'])
    np.save(os.path.join(d, 'dlogits.npy'), ref['dlogits'])
    np.save(os.path.join(d, 'logits.npy'), ref['logits'])
    np.save(os.path.join(d, 'odin.npy'), ref['odin'])
    np.save(os.path.join(d, 'odin_t1.npy'), ref['odin_t1'])


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    meta = {'T': T, 'noise': NOISE, 'std': STD, 'models': []}

    # --- 1. the real-architecture fixtures ----------------------------------------------------------
    for ref_name, (model, x, names) in rebuild_real_models().items():
        model.eval()
        stored = np.load(os.path.join(ONNX_DIR, names[0], 'input.npy'))
        if not np.array_equal(stored, x.numpy()):
            raise SystemExit(f'{ref_name}: re-created input differs from {names[0]}/input.npy')
        with torch.no_grad():
            f32 = model(x).numpy()
        stored_logits = np.load(os.path.join(ONNX_DIR, names[0], 'logits.npy'))
        dl = np.abs(f32 - stored_logits).max()
        if dl > 1e-5 * max(1.0, np.abs(stored_logits).max()):
            raise SystemExit(f'{ref_name}: re-created model gives logits {dl} away from {names[0]}/logits.npy')
        ref = odin_reference(model, stored, STD)
        ref['odin_t1'] = odin_reference(model, stored, STD, T=1.0)['odin']
        save_ref(os.path.join(OUT, ref_name), ref)
        gmax = np.abs(ref['grad']).max()
        print(f'{ref_name:18s} logits |diff| vs stored {dl:.2e}  top-2 margin {ref["margin"]:.3g}  '
              f'max|g| {gmax:.3g}  odin {ref["odin"]}')
        for nm in names:
            meta['models'].append({'name': nm, 'model': f'onnx/{nm}/model.onnx', 'input': f'onnx/{nm}/input.npy',
                                   'ref': f'onnx-grad/{ref_name}', 'margin': ref['margin']})

    # --- 2. synthetic op models ------------------------------------------------------------------------
    gen = torch.Generator().manual_seed(99)
    for ref_name, cls, shape, opsets, seed in [
        ('opsnet', OpsNet, (2, 3, 23, 23), (11, 13, 17), 41),
        ('opsnet2', OpsNet2, (2, 3, 13, 13), (13, 17), 42),
        ('opsnet3', OpsNet3, (2, 3, 12, 12), (13, 17), 43),
    ]:
        torch.manual_seed(seed)
        model = cls()
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.3, 0.3)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.2, 0.2)
        model.eval()
        x = torch.randn(shape, generator=gen)
        d = os.path.join(OUT, ref_name)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, 'input.npy'), x.numpy())
        for op in opsets:
            path = os.path.join(d, f'model_op{op}.onnx')
            torch.onnx.export(model, x, path, opset_version=op, input_names=['input'], output_names=['logits'],
                              dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True)

            ops = sorted({n.op_type for n in onnx.load(path).graph.node})
            meta['models'].append({'name': f'{ref_name}_op{op}', 'model': f'onnx-grad/{ref_name}/model_op{op}.onnx',
                                   'input': f'onnx-grad/{ref_name}/input.npy', 'ref': f'onnx-grad/{ref_name}',
                                   'ops': ops})
            print(f'{ref_name}_op{op}: {ops}')
        ref = odin_reference(model, x.numpy(), STD)
        ref['odin_t1'] = odin_reference(model, x.numpy(), STD, T=1.0)['odin']
        meta['models'][-1]['margin'] = ref['margin']
        for mm in meta['models']:
            if mm['ref'] == f'onnx-grad/{ref_name}':
                mm['margin'] = ref['margin']
        save_ref(d, ref)
        print(f'{ref_name:18s} top-2 margin {ref["margin"]:.3g}  max|g| {np.abs(ref["grad"]).max():.3g}  odin {ref["odin"]}')

    with open(os.path.join(OUT, 'meta.json'), 'w') as fh:
        json.dump(meta, fh, indent=1)
    total = 0
    for dp, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    print(f'total {total / 1024:.1f} KiB in {OUT}')


if __name__ == '__main__':
    main()
