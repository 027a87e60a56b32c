#!/usr/bin/python3
"""ONNX fixtures with unusual input shapes in test/fixtures/onnx-shapes/ (Debian's /usr/bin/python3).

`torch.onnx.export` without `dynamic_axes` writes the batch size of the example input into the
model: the input is [B, C, H, W] and constant folding turns `view(x.size(0), -1)` into a Reshape to
the constant [B, -1], so onnxruntime runs nothing but batches of B. napood runs such models in
slices of B (a short last slice padded with zeros). The small CNN of tools/make_onnx_fixtures.py:

  smallcnn_view_b1    head style 'view' (AveragePool → Reshape to the constant [1, 24]), batch 1
  smallcnn_flatten_b3 head style 'flatten' (GlobalAveragePool → Flatten → Gemm), batch 3
  smallcnn_mean_dynhw head style 'mean', batch, H and W all symbolic ([N, 3, H, W]): the image size
                      comes from the user (--input-shape, or --size / --preset); rows are 32×32
  vgg_identity_pool   VGG's head as torchvision has it at 224×224: AdaptiveAvgPool2d((2, 2)) on a
                      2×2 map (an AveragePool of kernel 1×1), then the whole flattened map into the
                      classifier: no global pooling (napood refuses, naming the map to pass as
                      --feature-layer); dynamic batch, no ODIN reference
  label_first         test/fixtures/onnx/smallcnn_softmax_op13 with an int64 ArgMax "label" output
                      put first, as converted models often have (outputs: label, probabilities);
                      model.onnx only (its references are those of smallcnn_softmax_op13)

Each directory: model.onnx; input.npy float32 [5, 3, 32, 32] (5 rows: several slices, the last
one short); feature_map.npy, pooled.npy, logits.npy (PyTorch hooks); odin.json: ODIN scores by
autograd in float64 (T = 1000, η = 0.0014, std (0.229, 0.224, 0.225)) and at η = 0.

Usage: /usr/bin/python3 tools/make_onnx_shape_fixtures.py [out_dir]   (default test/fixtures/onnx-shapes)
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch
from onnx import helper
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_onnx_fixtures as base  # noqa: E402  (SmallCNN, fill_bn, capture)

torch.set_num_threads(2)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'test', 'fixtures', 'onnx-shapes')
T, ETA, STD = 1000.0, 0.0014, (0.229, 0.224, 0.225)


def odin(model, x32, eta):
    m = model.double().eval()
    x = torch.tensor(x32, dtype=torch.float64, requires_grad=True)
    f = m(x)
    F.cross_entropy(f / T, f.detach().argmax(1), reduction='sum').backward()
    sign = (x.grad >= 0).double() * 2 - 1
    xp = x.detach() - eta * sign / torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    with torch.no_grad():
        s = torch.softmax(m(xp) / T, 1).max(1).values
    model.float()
    return [float(v) for v in s]


class VggIdentityPool(torch.nn.Module):
    """Conv stages down to a 2×2 map, AdaptiveAvgPool2d((2, 2)) (identity here), flatten, Linear."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    gen = torch.Generator().manual_seed(5)
    for name, style, batch, seed in [('smallcnn_view_b1', 'view', 1, 50), ('smallcnn_flatten_b3', 'flatten', 3, 51),
                                     ('smallcnn_mean_dynhw', 'mean', None, 52)]:
        torch.manual_seed(seed)
        net = base.SmallCNN(style)
        base.fill_bn(net, (3, 32, 32))
        x = torch.randn((5, 3, 32, 32), generator=gen)
        fmap, _, logits = base.capture(net, x, net.body, 'output', None)
        with torch.no_grad():
            pooled = net.pool(fmap)
        d = os.path.join(OUT, name)
        os.makedirs(d)
        dynamic = None if batch else {'input': {0: 'N', 2: 'H', 3: 'W'}, 'logits': {0: 'N'}}
        torch.onnx.export(net, x[:batch or 2], os.path.join(d, 'model.onnx'), opset_version=13,
                          input_names=['input'], output_names=['logits'], do_constant_folding=True, dynamic_axes=dynamic)
        for f, t in [('input', x), ('feature_map', fmap), ('pooled', pooled), ('logits', logits)]:
            np.save(os.path.join(d, f'{f}.npy'), t.numpy().astype(np.float32))
        with open(os.path.join(d, 'odin.json'), 'w') as fh:
            json.dump({'batch': batch, 'temperature': T, 'noise': ETA, 'std': list(STD),
                       'scores': odin(net, x.numpy(), ETA), 'scores_noise0': odin(net, x.numpy(), 0.0)}, fh, indent=1)
        print(f'{name}: {f"fixed batch {batch}" if batch else "symbolic N, H, W"}, {os.path.getsize(os.path.join(d, "model.onnx")) / 1024:.1f} KiB')

    torch.manual_seed(53)
    vgg = VggIdentityPool().eval()
    x = torch.randn((2, 3, 32, 32), generator=gen)
    fmap, pooled, logits = base.capture(vgg, x, vgg.avgpool, 'input', vgg.classifier)
    d = os.path.join(OUT, 'vgg_identity_pool')
    os.makedirs(d)
    torch.onnx.export(vgg, x, os.path.join(d, 'model.onnx'), opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True)
    for f, t in [('input', x), ('feature_map', fmap), ('pooled', pooled), ('logits', logits)]:
        np.save(os.path.join(d, f'{f}.npy'), t.numpy().astype(np.float32))
    print('vgg_identity_pool: AveragePool kernel 1×1 on a 2×2 map')

    src = onnx.load(os.path.join(ROOT, 'test', 'fixtures', 'onnx', 'smallcnn_softmax_op13', 'model.onnx'))
    probs = src.graph.output[0].name
    src.graph.node.append(helper.make_node('ArgMax', [probs], ['label'], axis=1, keepdims=0, name='label_argmax'))
    label = helper.make_tensor_value_info('label', onnx.TensorProto.INT64, ['N'])
    outputs = [label] + list(src.graph.output)
    del src.graph.output[:]
    src.graph.output.extend(outputs)
    onnx.checker.check_model(src)
    d = os.path.join(OUT, 'label_first')
    os.makedirs(d)
    onnx.save(src, os.path.join(d, 'model.onnx'))
    print('label_first: outputs', [o.name for o in src.graph.output])


if __name__ == '__main__':
    main()
