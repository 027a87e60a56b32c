#!/usr/bin/python3
"""Generate the channels-last (Keras / tf2onnx-style) ONNX fixtures in test/fixtures/onnx/nhwc_*.

TensorFlow and Keras classifiers take NHWC images; tf2onnx keeps that input and wraps the (NCHW)
ONNX convolutions in Transposes, and Keras' GlobalAveragePooling2D becomes a ReduceMean over the
NHWC axes [1, 2]. These fixtures reproduce those graph patterns with PyTorch's exporter (no
TensorFlow on these machines): the same ops in the same order as a tf2onnx export of a small Keras
CNN. Run with Debian's /usr/bin/python3; writes only the nhwc_* directories (the other fixtures
come from tools/make_onnx_fixtures.py, whose file layout these follow: model.onnx, input.npy in the
model's NHWC layout, feature_map.npy in NCHW, pooled.npy, logits.npy, head_*.npy, expect.json),
plus odin.json: ODIN scores with input perturbation by PyTorch autograd on the NHWC input
(T = 1000, η = 0.0014, std per channel (0.2, 0.25, 0.3): the step of value x[n, h, w, c] is η / std_c).

  nhwc_transpose_op13   NHWC input → Transpose → convs (NCHW) → Relu → Transpose(0,2,3,1) →
                        ReduceMean(axes [1,2], keepdims 0) → MatMul + Add (Keras Dense) → Softmax
                        (feature map: the NCHW tensor before the last Transpose)
  nhwc_relu_op13        the last ReLU in NHWC after the Transpose (feature map NHWC: napood
                        transposes it), ReduceMean keepdims 1 → Reshape → MatMul + Add
  nhwc_mlp_op17         as nhwc_transpose with a two-layer Dense head (Keras MLP head, sub-model)
  nhwc_keepdims_op13    ReduceMean keepdims 1: the Dense head reads the pooled tensor [N, 1, 1, C]
                        directly (MatMul broadcasting), then Reshape to [N, K] (a sub-model fed
                        [N, 1, 1, C])

Usage: /usr/bin/python3 tools/make_onnx_nhwc_fixtures.py [out_dir]   (default test/fixtures/onnx)
"""
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_onnx_fixtures as base  # noqa: E402  (helpers: fill_bn, save)

torch.set_num_threads(2)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'test', 'fixtures', 'onnx')


class Dense(nn.Module):
    """Keras Dense: y = x @ kernel + bias with kernel [C, K] (exported as MatMul + Add)."""

    def __init__(self, c, k):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, c) / c ** 0.5)  # stored as PyTorch [K, C]
        self.bias = nn.Parameter(torch.randn(k) * 0.1)

    def forward(self, x):
        return torch.matmul(x, self.weight.t()) + self.bias


class KerasStyleCNN(nn.Module):
    """NHWC in; three conv-BN-ReLU stages (8×8 map at 32×32 input); global average pooling over the
    NHWC axes; a Dense head (or a two-Dense MLP head); softmax out, as Keras classifiers end."""

    def __init__(self, style, num_classes=10):
        super().__init__()
        self.style = style
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 24, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(24),
        )
        if style == 'mlp':
            self.head = nn.Sequential(Dense(24, 32), nn.ReLU(), Dense(32, num_classes))
        else:
            self.head = Dense(24, num_classes)

    def features_nchw(self, x_nhwc):
        return self.body(x_nhwc.permute(0, 3, 1, 2))

    def feature_map(self, x_nhwc):
        """The map napood must find, as NCHW (the NAP statistic does not depend on the layout)."""
        return torch.relu(self.features_nchw(x_nhwc))

    def pooled(self, x_nhwc):
        """z as [N, C] (for keepdims, the [N, 1, 1, C] tensor the graph holds, flattened)."""
        a = self.features_nchw(x_nhwc)
        if self.style == 'relu':
            a = torch.relu(a.permute(0, 2, 3, 1))           # ReLU applied in NHWC
            return a.mean((1, 2), keepdim=True).reshape(a.shape[0], -1)
        return torch.relu(a).permute(0, 2, 3, 1).mean((1, 2))

    def logits(self, x_nhwc):
        if self.style == 'keepdims':
            z4 = torch.relu(self.features_nchw(x_nhwc)).permute(0, 2, 3, 1).mean((1, 2), keepdim=True)
            return self.head(z4).reshape(-1, 10)   # a constant shape, as Keras' Reshape exports
        return self.head(self.pooled(x_nhwc))

    def forward(self, x_nhwc):
        return torch.softmax(self.logits(x_nhwc), dim=1)


ODIN_T = 1000.0
ODIN_ETA = 0.0014
ODIN_STD = (0.2, 0.25, 0.3)


def odin_scores(net, x_nhwc):
    """ODIN (Liang et al. 2018; OpenOOD's ODINPostprocessor) on an NHWC input, float64."""
    net64 = net.double()
    x = x_nhwc.double().clone().requires_grad_(True)
    logits = net64.logits(x)
    pred = logits.argmax(1)
    loss = nn.functional.cross_entropy(logits / ODIN_T, pred)
    loss.backward()
    sign = torch.ge(x.grad, 0).double() * 2 - 1
    std = torch.tensor(ODIN_STD, dtype=torch.float64).view(1, 1, 1, 3)   # channels last
    x2 = x.detach() - ODIN_ETA * sign / std
    with torch.no_grad():
        s = torch.softmax(net64.logits(x2) / ODIN_T, 1).max(1).values
    net.float()
    return [float(v) for v in s]


def main():
    for name in os.listdir(OUT) if os.path.isdir(OUT) else []:
        if name.startswith('nhwc_'):
            shutil.rmtree(os.path.join(OUT, name))
    base.OUT = OUT
    gen = torch.Generator().manual_seed(11)
    cases = [('nhwc_transpose_op13', 'transpose', 13, 'linear', 'MatMul+Add'),
             ('nhwc_relu_op13', 'relu', 13, 'linear', 'MatMul+Add'),
             ('nhwc_mlp_op17', 'mlp', 17, 'mlp', None),
             ('nhwc_keepdims_op13', 'keepdims', 13, 'mlp', None)]
    for i, (name, style, opset, head_kind, linear_op) in enumerate(cases):
        torch.manual_seed(40 + i)
        net = KerasStyleCNN(style)
        base.fill_bn(net, (32, 32, 3))   # NHWC noise: fill_bn takes any per-sample shape
        x = torch.randn((2, 32, 32, 3), generator=gen)
        with torch.no_grad():
            parts = (net.feature_map(x), net.pooled(x), net.logits(x))
        linear = net.head if head_kind == 'linear' else None
        base.save(name, net, opset, x, parts,
                  {'pool_kind': 'ReduceMean', 'head_kind': head_kind, 'linear_op': linear_op,
                   'input_layout': 'nhwc', 'output_is_softmax': True,
                   'feature_layout': 'nhwc' if style == 'relu' else 'nchw',
                   'arch': f'Keras/tf2onnx-style CNN, NHWC input, head style {style!r}'}, linear=linear)
        # expect.json: input_shape is [C, H, W] as napood reports it (the file input is NHWC)
        import json
        p = os.path.join(OUT, name, 'expect.json')
        with open(p) as f:
            ex = json.load(f)
        ex['input_shape'] = [3, 32, 32]
        with open(p, 'w') as f:
            json.dump(ex, f, indent=1)
        # cross_entropy averages over the batch: the sign of the gradient is per sample anyway
        with open(os.path.join(OUT, name, 'odin.json'), 'w') as f:
            json.dump({'temperature': ODIN_T, 'noise': ODIN_ETA, 'std': list(ODIN_STD),
                       'scores': odin_scores(net, x)}, f, indent=1)


if __name__ == '__main__':
    main()
