#!/usr/bin/env python3
"""Writes examples/zoo/MODEL_CARD.md from the training logs, the ONNX files and `napood inspect`
(run `npx tsc -p tsconfig.json` first). Rerun after each model finishes:

    /usr/bin/python3 tools/zoo_card.py [--report DIR]

DIR: the output of `napood report examples/report/zoo.json --out DIR`, whose claims and tuned-w
summaries (and bench/results/zoo-detectors.md, `node tools/zoo_detectors.mjs`) the card quotes.
"""
import json
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, 'examples', 'zoo')
RESUME = 'nice -n 19 /usr/bin/python3 tools/train_zoo.py {name} --threads 1'

ARCH = {
    'resnet': """CIFAR-style ResNet-14 for 28×28: conv3×3(1→16)-BN-ReLU, then 3 stages of 2 BasicBlocks
(conv3×3-BN-ReLU-conv3×3-BN, + identity or 1×1-conv-BN shortcut, ReLU after the sum) with 16, 32, 64
channels at 28×28, 14×14, 7×7 (stride 2 in the first block of stages 2 and 3) → global average
pooling → Linear(64, 10). Feature map for NAP: the last block's output after its ReLU, [64, 7, 7].""",
    'densenet': """DenseNet-BC (bottleneck, compression 0.5), growth rate k = 12: conv3×3(1→24), dense blocks
of 1, 6, 6 layers at 28×28, 14×14, 7×7 (each layer BN-ReLU-conv1×1(48)-BN-ReLU-conv3×3(12),
concatenated to its input), transitions BN-ReLU-conv1×1-avgpool2 halving the channels (36→18,
90→45), final BN-ReLU → global average pooling → Linear(117, 10). Feature map: the final BN-ReLU
output, [117, 7, 7]. (The 28×28 block has one layer only: dense blocks at full resolution cost
3× a ResNet here, and the 2-core budget did not allow (3, 6, 6) — 490 vs 277 ms CPU per step.)""",
    'mobilenetv2': """Width-reduced MobileNetV2: conv3×3(1→16)-BN-ReLU6, inverted residual blocks (1×1 expand-BN-ReLU6,
depthwise 3×3-BN-ReLU6, 1×1 project-BN, residual when stride 1 and shapes match) with (expansion t,
channels c, repeats n, stride s) = (1,16,1,1), (4,24,2,2), (6,32,2,1), (6,64,2,2), (6,96,1,1): 28×28 →
14×14 → 7×7; conv1×1(96→256)-BN-ReLU6 → global average pooling → Dropout(0.1) → Linear(256, 10).
ReLU6 exports as Clip(0, 6). Feature map: the last ReLU6 (Clip) output, [256, 7, 7].""",
    'vgg': """VGG-style stack with BN: [conv3×3-BN-ReLU] × 2 at 32 channels (28×28), max-pool, × 2 at 64
(14×14), max-pool, × 2 at 128 (7×7) → global average pooling → MLP head Linear(128, 256)-ReLU-
Dropout(0.3)-Linear(256, 10). The head is not one linear layer: napood runs it as a sub-model
(ReAct / ASH / SCALE modify the pooled features before it; DICE and ViM need a linear head).
Feature map: the last conv's ReLU output, [128, 7, 7].""",
    'resnet6': """The `resnet` architecture and recipe trained on 6 of the 10 classes — T-shirt/top, Trouser,
Pullover, Sandal, Sneaker, Bag (original labels 0, 1, 2, 5, 7, 8 → 0–5) — with Linear(64, 6). The 4
held-out classes (Dress, Coat, Shirt, Ankle boot) are near-OOD: each has a visually close sibling
among the kept classes (Dress ~ T-shirt/top, Coat ~ Pullover, Shirt ~ T-shirt/top and Pullover,
Ankle boot ~ Sneaker and Sandal), the same kind of object rather than another domain — the
6-known / 4-unknown open-set split. ID test: `data/fmnist6_test`, near-OOD: `data/fmnist4_test`,
fitting: `data/fmnist6_train`. Accuracy is on the 6,000 Fashion-MNIST test images of the 6 classes.""",
}
ORDER = ['resnet', 'densenet', 'mobilenetv2', 'vgg', 'resnet6']


def parse_log(name):
    path = os.path.join(ZOO, 'logs', f'{name}.log')
    if not os.path.exists(path):
        return None
    header, rows, done = '', [], None
    for line in open(path):
        if line.startswith('# done'):
            done = line[2:].strip()
        elif line.startswith('#'):
            header = line[2:].strip()
        elif line[0].isdigit():
            rows.append(line.split('\t'))
    m = re.search(r'(\d+) parameters', header)
    e = re.search(r'(\d+) epochs', header)
    return dict(header=header, rows=rows, done=done, params=int(m.group(1)) if m else None, epochs=int(e.group(1)) if e else None)


def inspect(name):
    onnx = os.path.join(ZOO, f'{name}.onnx')
    if not os.path.exists(onnx):
        return None
    r = subprocess.run(['node', os.path.join(ROOT, 'dist', 'src', 'cli', 'bin.js'), 'inspect', os.path.relpath(onnx, ROOT)],
                       cwd=ROOT, capture_output=True, text=True)
    return (r.stdout + r.stderr).strip()


def what_holds(report_dir):
    """The claims and tuned-w summaries of a `napood report` of the zoo (tables/claims-summary.md,
    tables/tuned-w-summary.md) and the detector check (bench/results/zoo-detectors.md)."""
    out = ['', '## What holds of the paper\'s claims on this zoo', '']
    if not report_dir:
        return out + ['(run `napood report examples/report/zoo.json --out DIR` and `tools/zoo_card.py --report DIR`)', '']
    out += [f'Measured by `napood report examples/report/zoo.json` (every backbone; NAP-X at the paper\'s CIFAR-10 w,',
            'chosen before looking; nothing tuned on the OOD test sets; bootstrap intervals from 1,000 paired',
            'replicates). README, "The main job", says what the numbers mean.', '']
    for title, name in [('Claims across backbones', 'claims-summary.md'), ('w tuned without OOD data vs the paper\'s and the oracle w', 'tuned-w-summary.md')]:
        path = os.path.join(report_dir, 'tables', name)
        if os.path.exists(path):
            body = open(path).read().strip()
            if body.startswith('## '):  # the table's own heading: the card gives its own
                body = body.split('\n', 1)[1].strip()
            out += [f'### {title}', '', body, '']
    det = os.path.join(ROOT, 'bench', 'results', 'zoo-detectors.md')
    if os.path.exists(det):
        body = open(det).read().strip().split('\n', 1)[1].strip()
        out += ['### Detectors: tuned and calibrated without OOD data, checked on the test sets', '', body, '']
    return out


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('--report', help='a `napood report examples/report/zoo.json` output folder (its summary tables)')
    args = ap.parse_args()
    prep = json.load(open(os.path.join(ZOO, 'resnet.json'))) if os.path.exists(os.path.join(ZOO, 'resnet.json')) else None
    out = ['# Fashion-MNIST model zoo: model card', '',
           'Five small classifiers of the families in the NAP paper (ResNet, DenseNet-BC, MobileNetV2, VGG with an',
           'MLP head, and a ResNet on 6 of the 10 classes for near-OOD), trained here on CPU by',
           '`tools/train_zoo.py` and exported to ONNX for napood. Data sets: `data/README.md` (written by',
           '`tools/zoo_data.py`). This file is written by `tools/zoo_card.py`.', '',
           '## Common to all models', '',
           '- **Input**: [N, 1, 28, 28] float32 (dynamic batch), grayscale, x = (pixel/255 − 0.2860) / 0.3529',
           '  (mean and std of the 58,000 training images). Preprocessing file for napood: `<model>.json`',
           f'  (`--preprocess examples/zoo/<model>.json`): `{json.dumps(prep) if prep else "(not written yet)"}`.',
           '- **Training data**: the 60,000 Fashion-MNIST training images minus 2,000 held out for validation',
           '  (`tools/zoo_common.py train_val_split`, seed 20240229; the held-out images are `data/fmnist_val`):',
           '  58,000 images. Accuracy below is on the full 10,000-image test split (resnet6: the 6,000 of its classes).',
           '- **Recipe**: random crop 28 from the image zero-padded by 2 and horizontal flip (p = 0.5); batch 128;',
           '  SGD with Nesterov momentum 0.9, weight decay 5e-4 on conv/linear weights (none on BN and biases);',
           '  OneCycle learning rate (15 % warm-up from max/10, cosine down to max/1000), cross-entropy; seed 0;',
           '  `torch.use_deterministic_algorithms(True)`; PyTorch 1.13 (Debian) on CPU, 1 thread per model, two',
           '  models trained side by side at `nice -n 19` on a shared 2-core machine (the seconds below are wall',
           '  time under that load, not a benchmark: a ResNet-14 epoch takes ~60 s on an idle core, and',
           '  took 110–700 s here). To give the CPU to one model, vgg was paused (SIGSTOP) 18:24–18:31 UTC in',
           '  its epoch 6 and resnet6 18:24–18:38 UTC in its epoch 2; those epochs\' seconds include the pause.',
           '  resnet was restarted once after epoch 2 (resumed from its checkpoint, no effect on the weights).',
           '  densenet and mobilenetv2 were trained in a second session, side by side with 1 thread each while',
           '  other jobs (tests, reports) shared the cores: densenet resumed from its epoch-1 checkpoint of the',
           '  first session (its epoch 1 took 661 s there); their epoch times (173–1,003 s) are load, not model cost.',
           '- **Export**: `torch.onnx.export`, opset 13, dynamic batch axis, constant folding; the ONNX logits are',
           '  checked against PyTorch on 256 test images with onnxruntime-node (`tools/zoo_check_onnx.mjs`).', '',
           '## Summary', '',
           '| model | parameters | epochs | test accuracy | training time | ONNX bytes | ONNX vs PyTorch max abs logit diff |',
           '|---|---:|---:|---:|---:|---:|---:|']
    details = []
    for name in ORDER:
        log = parse_log(name)
        onnx = os.path.join(ZOO, f'{name}.onnx')
        if log is None:
            out.append(f'| {name} | – | – | not started | – | – | – |')
        else:
            done_epochs = len(log['rows'])
            secs = sum(float(r[6]) for r in log['rows'])
            acc = log['rows'][-1][5].strip() if log['rows'] else '–'
            diff = re.search(r'test images: (\S+)', log['done'] or '')
            status = f'{float(acc) * 100:.2f} %' if log['done'] else f'in training: epoch {done_epochs}/{log["epochs"]}' + (f' ({float(acc) * 100:.2f} %)' if log['rows'] else '')
            out.append(f'| {name} | {log["params"]:,} | {done_epochs}/{log["epochs"]} | {status} | {secs / 60:.1f} min | '
                       f'{os.path.getsize(onnx) if os.path.exists(onnx) and log["done"] else "–"} | {diff.group(1) if diff else "–"} |')
        d = [f'## {name}', '', ARCH[name], '']
        if log is not None:
            d += [f'Log: `logs/{name}.log` — {log["header"]}', '']
            if log['done']:
                d += [f'Result: {log["done"]}', '']
            else:
                d += [f'Not finished ({len(log["rows"])} of {log["epochs"]} epochs). Resume (from the checkpoint in /work/zoo-ckpt/{name}.pt):',
                      f'`{RESUME.format(name=name)}`', '']
        ins = inspect(name) if log is not None and log['done'] else None
        if ins:
            d += ['`napood inspect`:', '', '```', ins, '```', '']
        details += d
    out += what_holds(args.report)
    out += [''] + details
    with open(os.path.join(ZOO, 'MODEL_CARD.md'), 'w') as f:
        f.write('\n'.join(out).rstrip() + '\n')


if __name__ == '__main__':
    main()
