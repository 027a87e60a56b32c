#!/usr/bin/python3
"""Generate the ONNX adapter fixtures in test/fixtures/onnx/ (run with Debian's /usr/bin/python3).

Exports real torchvision architectures (resnet18, mobilenet_v2, densenet121, a VGG-style net with an
MLP head; widths reduced so that the files stay small, graph patterns unchanged) and a small CNN in
the head styles the adapter must recognise, at ONNX opsets 13 and 17, with a dynamic batch axis.
Weights are random; BatchNorm running statistics are filled by a few train-mode batches first.

For every model <name>/ holds:
  model.onnx         the exported model
  input.npy          reference input batch, float32 [2, C, H, W]
  feature_map.npy    PyTorch hook: the tensor fed to the global pooling, float32 [2, C, h, w]
  pooled.npy         PyTorch hook: the pooled feature fed to the classifier head, float32 [2, C]
  logits.npy         model(input), float32 [2, K] (the input of the final Softmax for smallcnn_softmax)
  head_weight.npy / head_bias.npy   (linear heads only) W [K, C] and b [K] as PyTorch holds them
  expect.json        what the adapter must find (pool kind, head kind, shapes)
Bad fixtures (bad/): not_onnx.onnx (text), truncated.onnx (first half of a model), two_inputs.onnx,
no_pool.onnx (LeNet: the whole map is flattened, no global pooling; input [N, 3, 32, 32]).

Usage: /usr/bin/python3 tools/make_onnx_fixtures.py [out_dir]   (default test/fixtures/onnx)
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
from onnx import helper, numpy_helper
from torchvision.models.resnet import BasicBlock, ResNet
from torchvision.models.vgg import VGG, make_layers

torch.set_num_threads(2)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'test', 'fixtures', 'onnx')


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

class SlimResNet18(ResNet):
    """torchvision ResNet-18 (BasicBlock, [2, 2, 2, 2], same forward) with the widths divided by 4."""

    def __init__(self, widths=(16, 32, 64, 128), num_classes=10):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, widths[0], 2)
        self.layer2 = self._make_layer(BasicBlock, widths[1], 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, widths[2], 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, widths[3], 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')


class SlimVGG(VGG):
    """torchvision VGG-11-BN features at 1/8 width (same forward), global average pooling and a
    3-layer MLP classifier (Linear-ReLU-Dropout-Linear-ReLU-Dropout-Linear) as in VGG."""

    def __init__(self, num_classes=10):
        nn.Module.__init__(self)
        cfg = [8, 'M', 16, 'M', 32, 32, 'M', 64, 64, 'M', 64, 64, 'M']
        self.features = make_layers(cfg, batch_norm=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Linear(64, 48), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(48, 32), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(32, num_classes),
        )


class SmallCNN(nn.Module):
    """Three conv-BN-ReLU stages (8×8 map at 32×32 input) and one of several head styles."""

    def __init__(self, head, num_classes=10):
        super().__init__()
        self.head_style = head
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 24, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(24, num_classes)

    def pool(self, a):
        if self.head_style == 'flatten':      # GlobalAveragePool -> Flatten
            return torch.flatten(F.adaptive_avg_pool2d(a, 1), 1)
        if self.head_style in ('mean', 'matmul'):  # ReduceMean(axes 2,3, keepdims 0)
            return a.mean((2, 3))
        if self.head_style == 'view':         # AveragePool(kernel 8x8) -> Shape/Gather/Concat -> Reshape
            out = F.avg_pool2d(a, 8)
            return out.view(out.size(0), -1)
        raise ValueError(self.head_style)

    def forward(self, x):
        z = self.pool(self.body(x))
        if self.head_style == 'matmul':       # MatMul(z, W^T) + Add(b)
            return torch.matmul(z, self.fc.weight.t()) + self.fc.bias
        return self.fc(z)


class LeNet(nn.Module):
    """No global pooling: the whole 5×5 map is flattened into the classifier."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 8, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(8 * 5 * 5, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = SmallCNN('flatten')

    def forward(self, x, y):
        return self.net(x + y)


# ---------------------------------------------------------------------------------------------
# Hooks: (feature map fed to the pooling, pooled feature fed to the head, logits)
# ---------------------------------------------------------------------------------------------

def capture(model, x, fmap_module, fmap_from, head_module, post=None):
    """fmap_from = 'input' (pre-hook on the pooling module) or 'output' (hook on the last feature
    module; `post` applies the functional op between it and the pooling, e.g. densenet's F.relu)."""
    got = {}
    hooks = []
    if fmap_from == 'input':
        hooks.append(fmap_module.register_forward_pre_hook(lambda m, inp: got.__setitem__('fmap', inp[0].clone())))
    else:
        hooks.append(fmap_module.register_forward_hook(lambda m, inp, out: got.__setitem__('fmap', out.clone())))
    if head_module is not None:
        hooks.append(head_module.register_forward_pre_hook(lambda m, inp: got.__setitem__('pooled', inp[0].clone())))
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    fmap = got['fmap'] if post is None else post(got['fmap'])
    return fmap, got.get('pooled'), logits


def fill_bn(model, shape, batches=6, bs=16):
    """Fill BatchNorm running statistics with the cumulative average of a few train-mode batches."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    g = torch.Generator().manual_seed(123)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn((bs,) + shape, generator=g))
    model.eval()


def export(model, x, path, opset, input_names=('input',), args=None):
    dyn = {n: {0: 'N'} for n in input_names}
    dyn['logits'] = {0: 'N'}
    torch.onnx.export(model, args if args is not None else x, path, opset_version=opset,
                      input_names=list(input_names), output_names=['logits'], dynamic_axes=dyn,
                      do_constant_folding=True)


def save(name, model, opset, x, parts, expect, linear=None, make_model=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, 'model.onnx')
    if make_model is None:
        export(model, x, path, opset)
    else:
        make_model(path)
    fmap, pooled, logits = parts
    np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(d, 'feature_map.npy'), fmap.numpy().astype(np.float32))
    np.save(os.path.join(d, 'pooled.npy'), pooled.numpy().astype(np.float32))
    np.save(os.path.join(d, 'logits.npy'), logits.numpy().astype(np.float32))
    if linear is not None:
        np.save(os.path.join(d, 'head_weight.npy'), linear.weight.detach().numpy().astype(np.float32))
        np.save(os.path.join(d, 'head_bias.npy'), linear.bias.detach().numpy().astype(np.float32))
    m = onnx.load(path)
    ops = sorted({n.op_type for n in m.graph.node})
    expect = dict(expect)
    expect.update({
        'name': name,
        'opset': opset,
        'input_shape': list(x.shape[1:]),
        'feature_shape': list(fmap.shape[1:]),
        'pooled_dim': int(pooled.shape[1]),
        'num_classes': int(logits.shape[1]),
        'ops': ops,
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
    })
    with open(os.path.join(d, 'expect.json'), 'w') as f:
        json.dump(expect, f, indent=1)
    size = os.path.getsize(path)
    print(f'{name:28s} {size / 1024:8.1f} KiB  pool={expect["pool_kind"]:17s} head={expect["head_kind"]:6s} '
          f'fmap={list(fmap.shape)}')


def reduce_mean_axes_as_input(src, dst):
    """Rewrite a ReduceMean model to opset 18, where ReduceMean takes `axes` as an input tensor."""
    m = onnx.load(src)
    for op in m.opset_import:
        if op.domain in ('', 'ai.onnx'):
            op.version = 18
    for node in m.graph.node:
        if node.op_type == 'ReduceMean':
            axes = [a for a in node.attribute if a.name == 'axes'][0]
            values = list(axes.ints)
            node.attribute.remove(axes)
            init_name = node.name + '_axes'
            m.graph.initializer.append(numpy_helper.from_array(np.array(values, dtype=np.int64), init_name))
            node.input.append(init_name)
    m.ir_version = 8
    onnx.save(m, dst)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    gen = torch.Generator().manual_seed(7)

    # --- torchvision architectures -------------------------------------------------------------
    torch.manual_seed(0)
    resnet = SlimResNet18()
    fill_bn(resnet, (3, 64, 64))
    x = torch.randn((2, 3, 64, 64), generator=gen)
    parts = capture(resnet, x, resnet.avgpool, 'input', resnet.fc)
    for op in (13, 17):
        save(f'resnet18_op{op}', resnet, op, x, parts,
             {'pool_kind': 'GlobalAveragePool', 'head_kind': 'linear', 'linear_op': 'Gemm',
              'arch': 'torchvision ResNet(BasicBlock, [2,2,2,2]) widths 16-128'}, linear=resnet.fc)

    torch.manual_seed(1)
    mnv2 = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)
    fill_bn(mnv2, (3, 64, 64))
    x = torch.randn((2, 3, 64, 64), generator=gen)
    parts = capture(mnv2, x, mnv2.features, 'output', mnv2.classifier[1])
    for op in (13, 17):
        save(f'mobilenet_v2_op{op}', mnv2, op, x, parts,
             {'pool_kind': 'GlobalAveragePool', 'head_kind': 'linear', 'linear_op': 'Gemm',
              'arch': 'torchvision mobilenet_v2(width_mult=0.25)'}, linear=mnv2.classifier[1])

    torch.manual_seed(2)
    dense = torchvision.models.DenseNet(growth_rate=8, block_config=(6, 12, 24, 16), num_init_features=16,
                                        bn_size=4, num_classes=10)
    fill_bn(dense, (3, 64, 64))
    x = torch.randn((2, 3, 64, 64), generator=gen)
    parts = capture(dense, x, dense.features, 'output', dense.classifier, post=F.relu)
    for op in (13, 17):
        save(f'densenet121_op{op}', dense, op, x, parts,
             {'pool_kind': 'GlobalAveragePool', 'head_kind': 'linear', 'linear_op': 'Gemm',
              'arch': 'torchvision DenseNet(growth 8, blocks (6,12,24,16), init 16) = densenet121 at 1/4 width'},
             linear=dense.classifier)

    torch.manual_seed(3)
    vgg = SlimVGG()
    fill_bn(vgg, (3, 64, 64))
    x = torch.randn((2, 3, 64, 64), generator=gen)
    parts = capture(vgg, x, vgg.avgpool, 'input', vgg.classifier)
    for op in (13, 17):
        save(f'vgg_mlp_op{op}', vgg, op, x, parts,
             {'pool_kind': 'GlobalAveragePool', 'head_kind': 'mlp', 'linear_op': None,
              'arch': 'torchvision VGG-11-BN features at 1/8 width, global pool, 3-layer MLP head'})

    # --- small CNN in each head style ------------------------------------------------------------
    kinds = {'flatten': ('GlobalAveragePool', 'Gemm'), 'mean': ('ReduceMean', 'Gemm'),
             'view': ('AveragePool', 'Gemm'), 'matmul': ('ReduceMean', 'MatMul+Add')}
    for i, (style, (pool_kind, linear_op)) in enumerate(kinds.items()):
        torch.manual_seed(10 + i)
        net = SmallCNN(style)
        fill_bn(net, (3, 32, 32))
        x = torch.randn((2, 3, 32, 32), generator=gen)
        fmap, pooled, logits = capture(net, x, net.body, 'output', None)
        with torch.no_grad():
            pooled = net.pool(fmap)
        for op in (13, 17):
            save(f'smallcnn_{style}_op{op}', net, op, x, (fmap, pooled, logits),
                 {'pool_kind': pool_kind, 'head_kind': 'linear', 'linear_op': linear_op,
                  'arch': f'SmallCNN head style {style!r}'}, linear=net.fc)
        if style == 'mean':
            src = os.path.join(OUT, 'smallcnn_mean_op17', 'model.onnx')
            save('smallcnn_mean_op18', net, 18, x, (fmap, pooled, logits),
                 {'pool_kind': 'ReduceMean', 'head_kind': 'linear', 'linear_op': 'Gemm',
                  'arch': "SmallCNN head style 'mean', rewritten to opset 18 (ReduceMean axes as input)"},
                 linear=net.fc, make_model=lambda dst: reduce_mean_axes_as_input(src, dst))

    # --- export variants: initializers listed as graph inputs (older exports), a Softmax output ----
    torch.manual_seed(30)
    net = SmallCNN('flatten')
    fill_bn(net, (3, 32, 32))
    x = torch.randn((2, 3, 32, 32), generator=gen)
    fmap, _, logits = capture(net, x, net.body, 'output', None)
    with torch.no_grad():
        parts = (fmap, net.pool(fmap), logits)

    def export_init_inputs(dst):
        torch.onnx.export(net, x, dst, opset_version=11, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True,
                          keep_initializers_as_inputs=True)

    save('smallcnn_initinputs_op11', net, 11, x, parts,
         {'pool_kind': 'GlobalAveragePool', 'head_kind': 'linear', 'linear_op': 'Gemm',
          'arch': "SmallCNN head style 'flatten', opset 11, keep_initializers_as_inputs=True"},
         linear=net.fc, make_model=export_init_inputs)
    probs = nn.Sequential(net, nn.Softmax(dim=1)).eval()
    save('smallcnn_softmax_op13', probs, 13, x, parts,
         {'pool_kind': 'GlobalAveragePool', 'head_kind': 'linear', 'linear_op': 'Gemm', 'output_is_softmax': True,
          'arch': "SmallCNN head style 'flatten' followed by Softmax (the model outputs probabilities; logits.npy holds the logits)"},
         linear=net.fc)

    # --- bad fixtures ------------------------------------------------------------------------------
    bad = os.path.join(OUT, 'bad')
    os.makedirs(bad)
    with open(os.path.join(bad, 'not_onnx.onnx'), 'w') as f:
        f.write('this is a text file, not an ONNX model\n')
    with open(os.path.join(OUT, 'smallcnn_flatten_op13', 'model.onnx'), 'rb') as f:
        data = f.read()
    with open(os.path.join(bad, 'truncated.onnx'), 'wb') as f:
        f.write(data[: len(data) // 2])
    torch.manual_seed(20)
    two = TwoInputs().eval()
    x = torch.randn((1, 3, 32, 32))
    export(two, x, os.path.join(bad, 'two_inputs.onnx'), 13, input_names=('x', 'y'), args=(x, x))
    torch.manual_seed(21)
    export(LeNet().eval(), x, os.path.join(bad, 'no_pool.onnx'), 13)

    total = 0
    for dp, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    print(f'total {total / 1024 / 1024:.2f} MiB in {OUT}')


if __name__ == '__main__':
    main()
