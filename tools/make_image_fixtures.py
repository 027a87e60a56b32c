#!/usr/bin/python3
"""Makes the image fixtures of test/images/ (run with /usr/bin/python3: Pillow, numpy, torch,
torchvision from Debian). Writes test/fixtures/images/:

  tree/cat/c1.png          RGB 20x16 PNG
  tree/cat/c2.jpg          RGB 20x16 JPEG (quality 90, 4:2:0)
  tree/cat/more/c3.webp    RGB 16x20 lossy WebP (portrait, in a nested folder)
  tree/cat/notes.txt       not an image (left out of folder listings)
  tree/dog/d1.png          grayscale (L) 20x16 PNG
  tree/dog/d2.png          RGBA 20x16 PNG (alpha is dropped, as PIL convert('RGB'))
  tree/dog/d3.PNG          palette (P) 20x16 PNG, upper-case extension
  tree/dog/x_bad.jpg       JPEG header followed by garbage (corrupt)
  tree/dog/x_cut.png       a PNG cut in the middle of its pixel data (truncated)
  tree/dog/x_text.png      a text file named .png
  extra/cmyk.jpg           CMYK JPEG 20x16 (Pillow converts CMYK -> RGB without ICC)
  extra/rgb16.png          16-bit RGB PNG 6x2, written by hand (Pillow keeps the high byte)
  list.txt                 a list file (relative paths, labels by index and by name)
  refs/*.npy               reference tensors (float32) of the six good images, see CONFIGS
  refs/resample.npy        Pillow Image.resize of a random 13x11 RGB image (uint8, concatenated)
  refs/resample.json       the cases of resample.npy (filter, w, h, offset)
  refs/manifest.json       configs and image order of the reference tensors; torchvision
                           ImageFolder's classes and sample order for tree/
  refs/pixels_*.npy        Pillow's decoded RGB pixels of the JPEG, WebP, CMYK and 16-bit files
  refs/resample_src.png    the source image of resample.npy

The references use torchvision's own transforms on PIL images (pil_loader: open + convert('RGB'),
then Grayscale / Resize / CenterCrop / ToTensor / Normalize), so they pin napood to what a
torchvision-trained model saw. Config `caffe` (BGR, 0..255, NHWC) has no torchvision transform and
is computed with PIL + numpy in float32.
"""
import json
import os
import shutil
import struct
import zlib

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.datasets import ImageFolder

torch.set_num_threads(2)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'images')
TREE = os.path.join(ROOT, 'tree')
REFS = os.path.join(ROOT, 'refs')

rng = np.random.default_rng(20240229)


def smooth_rgb(w, h, phase):
    """A smooth colour image with some detail (compresses well, exercises the filters)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 110 * np.sin(x / 2.3 + phase) * np.cos(y / 3.1)
    g = 128 + 100 * np.cos((x + y) / 2.9 + phase)
    b = 255 * ((x * 7 + y * 13 + phase * 40) % 64) / 63
    img = np.stack([r, g, b], -1) + rng.normal(0, 6, (h, w, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png16(path):
    """A 16-bit RGB PNG (Pillow cannot write one): rows with filter byte 0, zlib, CRCs."""
    w, h = 6, 2
    a = (np.arange(w * h * 3).reshape(h, w, 3) * 3001 + 77).astype('>u2')
    raw = b''.join(b'\x00' + a[y].tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)

    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def write_tree():
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    for d in ['cat/more', 'dog']:
        os.makedirs(os.path.join(TREE, d))
    os.makedirs(REFS)
    os.makedirs(os.path.join(ROOT, 'extra'))
    Image.fromarray(smooth_rgb(20, 16, 7.0)).convert('CMYK').save(os.path.join(ROOT, 'extra/cmyk.jpg'), quality=90)
    png16(os.path.join(ROOT, 'extra/rgb16.png'))
    Image.fromarray(smooth_rgb(20, 16, 0.0)).save(os.path.join(TREE, 'cat/c1.png'))
    Image.fromarray(smooth_rgb(20, 16, 1.0)).save(os.path.join(TREE, 'cat/c2.jpg'), quality=90, subsampling=2)
    Image.fromarray(smooth_rgb(16, 20, 2.0)).save(os.path.join(TREE, 'cat/more/c3.webp'), quality=80)
    with open(os.path.join(TREE, 'cat/notes.txt'), 'w') as f:
        f.write('not an image\n')
    Image.fromarray(smooth_rgb(20, 16, 3.0)).convert('L').save(os.path.join(TREE, 'dog/d1.png'))
    rgba = np.concatenate([smooth_rgb(20, 16, 4.0), rng.integers(0, 256, (16, 20, 1), dtype=np.uint8)], -1)
    Image.fromarray(rgba, 'RGBA').save(os.path.join(TREE, 'dog/d2.png'))
    Image.fromarray(smooth_rgb(20, 16, 5.0)).quantize(16).save(os.path.join(TREE, 'dog/d3.PNG'))
    # Corrupt JPEG: a valid start of image, then noise.
    with open(os.path.join(TREE, 'dog/x_bad.jpg'), 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0' + rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    # Truncated PNG: the first 60% of a valid one (the header parses, the pixel data ends early).
    Image.fromarray(smooth_rgb(20, 16, 6.0)).save(os.path.join(TREE, 'dog/x_cut.png'))
    with open(os.path.join(TREE, 'dog/x_cut.png'), 'rb') as f:
        data = f.read()
    with open(os.path.join(TREE, 'dog/x_cut.png'), 'wb') as f:
        f.write(data[: int(len(data) * 0.6)])
    with open(os.path.join(TREE, 'dog/x_text.png'), 'w') as f:
        f.write('this is a text file, not a PNG\n')
    with open(os.path.join(ROOT, 'list.txt'), 'w') as f:
        f.write('# images with labels: index, class name, none\n')
        f.write('tree/cat/c2.jpg\t1\n')
        f.write('tree/dog/d1.png\tcat\n')
        f.write('\n')
        f.write('tree/dog/d2.png\n')
        f.write('tree/cat/more/c3.webp\t-1\n')


GOOD = ['cat/c1.png', 'cat/c2.jpg', 'cat/more/c3.webp', 'dog/d1.png', 'dog/d2.png', 'dog/d3.PNG']
IMNET_MEAN = [0.485, 0.456, 0.406]
IMNET_STD = [0.229, 0.224, 0.225]

# name -> (napood settings, torchvision transform or None)
CONFIGS = {
    # Already at size: no resampling, checks decoding, channel conversion, normalisation, layout.
    'identity': ({'size': [16, 20], 'mean': IMNET_MEAN, 'std': IMNET_STD, 'channels': 'rgb'},
                 T.Compose([T.Resize((16, 20)), T.ToTensor(), T.Normalize(IMNET_MEAN, IMNET_STD)])),
    # torchvision's ImageNet evaluation transform, scaled down: Resize(14) + CenterCrop(12).
    'crop': ({'size': 12, 'resize': 14, 'mean': IMNET_MEAN, 'std': IMNET_STD, 'channels': 'rgb'},
             T.Compose([T.Resize(14), T.CenterCrop(12), T.ToTensor(), T.Normalize(IMNET_MEAN, IMNET_STD)])),
    # Grayscale model, bicubic resize to 8x8 (aspect not kept), Normalize(0.5, 0.5).
    'gray': ({'size': 8, 'channels': 'gray', 'interpolation': 'bicubic', 'mean': 0.5, 'std': 0.5},
             T.Compose([T.Grayscale(), T.Resize((8, 8), T.InterpolationMode.BICUBIC), T.ToTensor(), T.Normalize([0.5], [0.5])])),
    # Upscaling with lanczos and a centre crop of a non-square size.
    'lanczos': ({'size': [24, 20], 'resize': 25, 'interpolation': 'lanczos', 'channels': 'rgb'},
                T.Compose([T.Resize(25, T.InterpolationMode.LANCZOS), T.CenterCrop((24, 20)), T.ToTensor()])),
    # Caffe style: nearest, BGR, values 0..255 minus a BGR mean, NHWC (PIL + numpy).
    'caffe': ({'size': [10, 12], 'interpolation': 'nearest', 'channels': 'bgr', 'maxValue': 255, 'mean': [104, 117, 123], 'std': 1, 'layout': 'nhwc'},
              None),
}


def pil_loader(path):
    with open(path, 'rb') as f:
        return Image.open(f).convert('RGB')


def reference(name, settings, tf):
    out = []
    for rel in GOOD:
        img = pil_loader(os.path.join(TREE, rel))
        if tf is not None:
            x = tf(img).numpy().astype(np.float32)
        else:
            h, w = settings['size']
            u = np.asarray(img.resize((w, h), Image.NEAREST))[:, :, ::-1].astype(np.float32)
            x = (u - np.array(settings['mean'], np.float32)) / np.float32(settings['std'])
        out.append(x)
    return np.stack(out).astype(np.float32)


def decoded(rel):
    """Pillow's decoded pixels (after convert('RGB')), uint8 H x W x 3."""
    return np.asarray(pil_loader(os.path.join(ROOT, rel)))


def resample_golden():
    src = rng.integers(0, 256, (11, 13, 3), dtype=np.uint8)
    Image.fromarray(src).save(os.path.join(REFS, 'resample_src.png'))
    img = Image.fromarray(src)
    filters = [('nearest', Image.NEAREST), ('box', Image.BOX), ('bilinear', Image.BILINEAR),
               ('hamming', Image.HAMMING), ('bicubic', Image.BICUBIC), ('lanczos', Image.LANCZOS)]
    sizes = [(5, 4), (26, 22), (7, 17), (1, 1), (30, 3), (13, 6), (4, 11)]
    cases, parts, off = [], [], 0
    for fname, f in filters:
        for (w, h) in sizes:
            r = np.asarray(img.resize((w, h), f))
            cases.append({'filter': fname, 'w': w, 'h': h, 'offset': off})
            parts.append(r.ravel())
            off += r.size
        # Same, for a grayscale (L) image.
        g = np.asarray(img.convert('L').resize((9, 5), f))
        cases.append({'filter': fname, 'w': 9, 'h': 5, 'offset': off, 'gray': True})
        parts.append(g.ravel())
        off += g.size
    np.save(os.path.join(REFS, 'resample.npy'), np.concatenate(parts))
    with open(os.path.join(REFS, 'resample.json'), 'w') as f:
        json.dump({'source': 'resample_src.png (13x11 RGB); gray cases use convert("L")', 'cases': cases}, f, indent=1)


def main():
    write_tree()
    manifest = {'images': ['tree/' + g for g in GOOD], 'configs': {}}
    # torchvision's ImageFolder order and labels for the tree (listing only, nothing decoded).
    folder = ImageFolder(TREE, loader=lambda p: None)
    manifest['imagefolder'] = {'classes': folder.classes,
                               'samples': [[os.path.relpath(p, ROOT), k] for p, k in folder.samples]}
    for name, (settings, tf) in CONFIGS.items():
        ref = reference(name, settings, tf)
        np.save(os.path.join(REFS, f'{name}.npy'), ref)
        manifest['configs'][name] = {'settings': settings, 'shape': list(ref.shape), 'file': f'refs/{name}.npy'}
    # Pillow's decoded pixels of the lossy files (to compare decoders).
    np.save(os.path.join(REFS, 'pixels_c2_jpg.npy'), decoded('tree/cat/c2.jpg'))
    np.save(os.path.join(REFS, 'pixels_c3_webp.npy'), decoded('tree/cat/more/c3.webp'))
    np.save(os.path.join(REFS, 'pixels_cmyk_jpg.npy'), decoded('extra/cmyk.jpg'))
    np.save(os.path.join(REFS, 'pixels_rgb16_png.npy'), decoded('extra/rgb16.png'))
    resample_golden()
    with open(os.path.join(REFS, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(ROOT) for x in fs)
    print(f'wrote {ROOT} ({total} bytes)')


if __name__ == '__main__':
    main()
