#!/usr/bin/env python3
"""Golden outputs of the 19 corruptions for test/corrupt (src/images/corrupt).

The reference is hendrycks/robustness (ImageNet-C/imagenet_c/imagenet_c/corruptions.py for large
images, ImageNet-C/create_c/make_cifar_c.py for images whose longer side is <= 64), re-written
here function by function with the same libraries and the same operations in the same order
(numpy, scipy.ndimage, skimage, OpenCV, ImageMagick through Wand, Pillow), with three changes
that are part of napood's definition and documented in src/images/corrupt/*.ts:

* Randomness is injected instead of drawn from numpy: every random field comes from napood's
  xoshiro128** stream (re-implemented below, bit-identical to src/math/random.ts), except the
  standard-normal fields, which are drawn here with numpy and stored (z.npy), because napood's
  normal sampler (Marsaglia polar on log/sqrt) could differ from Python's by an ulp.
* Sizes: the reference hard-codes 32 / 224 (glass_blur's loops, pixelate, snow's reshape, fog's
  crop, clipped_zoom's square crop); here they are the image's own height and width, per axis.
  elastic_transform's constants scale with min(H, W) (CIFAR: IMSIZE = min(H, W); ImageNet:
  244 * min(H, W) / 224). fog's plasma side is 32 / 256, or the next power of two >= max(H, W).
* frost: the frost photos are not reachable; the golden test feeds an arbitrary uint8 texture
  (napood's own texture generator is tested for determinism and range only).
* Grey images (H, W, 1): the colour corruptions (snow, frost, brightness, spatter, saturate) run on
  the image replicated to RGB and go back with Pillow's convert('L'); the others run on the one
  channel (the reference's own behaviour on a 2-D array).

The final step is make_*_c.py's np.uint8(corruption(img)) (truncation).

Needs: /usr/bin/python3 with python3-numpy python3-scipy python3-skimage python3-pil
python3-opencv python3-wand (Debian; ImageMagick 6 comes with python3-wand).
Run from the repository root:  /usr/bin/python3 tools/golden_corruptions.py
Writes test/fixtures/corrupt/{manifest.json, <image>.npy, <image>_z.npy, <image>_expected.npy}.
"""
import ctypes
import json
import math
import os
import sys
import warnings
from io import BytesIO

import numpy as np
from PIL import Image
import cv2
import scipy
import scipy.stats
import skimage
import skimage.color
import skimage.data
import skimage.util
from scipy.ndimage import map_coordinates
from scipy.ndimage import zoom as scizoom
from skimage.filters import gaussian
from wand.api import library as wandlibrary
from wand.image import Image as WandImage

warnings.simplefilter("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "corrupt")
from napood_random import M32, Xoshiro128  # noqa: E402  (tools/napood_random.py)

NAMES = [
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
    "speckle_noise", "gaussian_blur", "spatter", "saturate",
]


def stream_seed(image_index, corruption_index, severity):
    """The golden tests' stream seed (the TS test computes the same)."""
    return (7919 * (image_index + 1) + 104729 * (corruption_index + 1) + 31 * severity) & M32


# ---------------------------------------------------------------------------------------------
# Parameters (the reference's tables).

P = {
    "cifar": {
        "gaussian_noise": [0.04, 0.06, .08, .09, .10],
        "shot_noise": [500, 250, 100, 75, 50],
        "impulse_noise": [.01, .02, .03, .05, .07],
        "speckle_noise": [.06, .1, .12, .16, .2],
        "gaussian_blur": [.4, .6, 0.7, .8, 1],
        "glass_blur": [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)],
        "defocus_blur": [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)],
        "motion_blur": [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)],
        "zoom_blur": [np.arange(1, 1.06, 0.01), np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01),
                      np.arange(1, 1.21, 0.01), np.arange(1, 1.26, 0.01)],
        "fog": [(.2, 3), (.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)],
        "frost": [(1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)],
        "snow": [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
                 (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)],
        "spatter": [(0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0), (0.65, 0.3, 1, 0.69, 0.5, 0),
                    (0.65, 0.1, 0.7, 0.69, 0.6, 1), (0.65, 0.1, 0.5, 0.68, 0.6, 1)],
        "contrast": [.75, .5, .4, .3, 0.15],
        "brightness": [.05, .1, .15, .2, .3],
        "saturate": [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)],
        "jpeg_compression": [80, 65, 58, 50, 40],
        "pixelate": [0.95, 0.9, 0.85, 0.75, 0.65],
        "elastic_transform": [(0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)],
    },
    "imagenet": {
        "gaussian_noise": [.08, .12, 0.18, 0.26, 0.38],
        "shot_noise": [60, 25, 12, 5, 3],
        "impulse_noise": [.03, .06, .09, 0.17, 0.27],
        "speckle_noise": [.15, .2, 0.35, 0.45, 0.6],
        "gaussian_blur": [1, 2, 3, 4, 6],
        "glass_blur": [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)],
        "defocus_blur": [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)],
        "motion_blur": [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)],
        "zoom_blur": [np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01), np.arange(1, 1.21, 0.02),
                      np.arange(1, 1.26, 0.02), np.arange(1, 1.31, 0.03)],
        "fog": [(1.5, 2), (2., 2), (2.5, 1.7), (2.5, 1.5), (3., 1.4)],
        "frost": [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)],
        "snow": [(0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
                 (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)],
        "spatter": [(0.65, 0.3, 4, 0.69, 0.6, 0), (0.65, 0.3, 3, 0.68, 0.6, 0), (0.65, 0.3, 2, 0.68, 0.5, 0),
                    (0.65, 0.3, 1, 0.65, 1.5, 1), (0.67, 0.4, 1, 0.65, 1.5, 1)],
        "contrast": [0.4, .3, .2, .1, .05],
        "brightness": [.1, .2, .3, .4, .5],
        "saturate": [(0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)],
        "jpeg_compression": [25, 18, 15, 10, 7],
        "pixelate": [0.6, 0.5, 0.4, 0.3, 0.25],
        "elastic_transform": [(244 * 2, 244 * 0.7, 244 * 0.1), (244 * 2, 244 * 0.08, 244 * 0.2),
                              (244 * 0.05, 244 * 0.01, 244 * 0.02), (244 * 0.07, 244 * 0.01, 244 * 0.02),
                              (244 * 0.12, 244 * 0.01, 244 * 0.02)],
    },
}

ELASTIC_CIFAR_FACTORS = [(0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)]
ELASTIC_IMAGENET_FACTORS = [(2, 0.7, 0.1), (2, 0.08, 0.2), (0.05, 0.01, 0.02), (0.07, 0.01, 0.02), (0.12, 0.01, 0.02)]


# ---------------------------------------------------------------------------------------------
# Helpers of the reference, generalised per axis.

def disk(radius, alias_blur=0.1, dtype=np.float32):
    if radius <= 8:
        L = np.arange(-8, 8 + 1)
        ksize = (3, 3)
    else:
        L = np.arange(-radius, radius + 1)
        ksize = (5, 5)
    X, Y = np.meshgrid(L, L)
    aliased_disk = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=dtype)
    aliased_disk /= np.sum(aliased_disk)
    return cv2.GaussianBlur(aliased_disk, ksize=ksize, sigmaX=alias_blur)


wandlibrary.MagickMotionBlurImage.argtypes = (ctypes.c_void_p, ctypes.c_double, ctypes.c_double, ctypes.c_double)


class MotionImage(WandImage):
    def motion_blur(self, radius=0.0, sigma=0.0, angle=0.0):
        wandlibrary.MagickMotionBlurImage(self.wand, radius, sigma, angle)


def magick_motion_blur(pil_img, radius, sigma, angle):
    """PNG through ImageMagick's MotionBlurImage and back, as the reference (uint8 out)."""
    output = BytesIO()
    pil_img.save(output, format="PNG")
    with MotionImage(blob=output.getvalue()) as img:
        img.motion_blur(radius=radius, sigma=sigma, angle=angle)
        blob = img.make_blob()
    x = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED)
    return x


def plasma_fractal(mapsize, wibbledecay, uniforms):
    """The reference's diamond-square with numpy's uniform(-w, w) = -w + 2w*u, u from `uniforms(n)`."""
    assert mapsize & (mapsize - 1) == 0
    maparray = np.empty((mapsize, mapsize), dtype=np.float64)
    maparray[0, 0] = 0
    stepsize = mapsize
    wibble = 100

    def wibbledmean(array):
        u = np.asarray(uniforms(array.size), dtype=np.float64).reshape(array.shape)
        return array / 4 + wibble * (-wibble + (wibble - -wibble) * u)

    def fillsquares():
        cornerref = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squareaccum = cornerref + np.roll(cornerref, shift=-1, axis=0)
        squareaccum += np.roll(squareaccum, shift=-1, axis=1)
        maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(squareaccum)

    def filldiamonds():
        mapsize_ = maparray.shape[0]
        drgrid = maparray[stepsize // 2:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize]
        ulgrid = maparray[0:mapsize_:stepsize, 0:mapsize_:stepsize]
        ldrsum = drgrid + np.roll(drgrid, 1, axis=0)
        lulsum = ulgrid + np.roll(ulgrid, -1, axis=1)
        ltsum = ldrsum + lulsum
        maparray[0:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize] = wibbledmean(ltsum)
        tdrsum = drgrid + np.roll(drgrid, 1, axis=1)
        tulsum = ulgrid + np.roll(ulgrid, -1, axis=0)
        ttsum = tdrsum + tulsum
        maparray[stepsize // 2:mapsize_:stepsize, 0:mapsize_:stepsize] = wibbledmean(ttsum)

    while stepsize >= 2:
        fillsquares()
        filldiamonds()
        stepsize //= 2
        wibble /= wibbledecay

    maparray -= maparray.min()
    return maparray / maparray.max()


def plasma_size(h, w, pset):
    size = 32 if pset == "cifar" else 256
    while size < max(h, w):
        size *= 2
    return size


def clipped_zoom(img, zoom_factor):
    h, w = img.shape[:2]
    chh = int(np.ceil(h / float(zoom_factor)))
    chw = int(np.ceil(w / float(zoom_factor)))
    top = (h - chh) // 2
    left = (w - chw) // 2
    img = scizoom(img[top:top + chh, left:left + chw], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    trim_left = (img.shape[1] - w) // 2
    return img[trim_top:trim_top + h, trim_left:trim_left + w]


# ---------------------------------------------------------------------------------------------
# The corruptions: x is an HWC uint8 array (C = 1 or 3), f holds the random fields.

def gaussian_noise(x, c, f):
    x = np.array(x) / 255.
    return np.clip(x + c * f["z"], 0, 1) * 255


def shot_noise(x, c, f):
    x = np.array(x) / 255.
    counts = scipy.stats.poisson.ppf(f["u"], x * c)
    counts = np.where(f["u"] == 0, 0, counts)
    return np.clip(counts / float(c), 0, 1) * 255


def impulse_noise(x, c, f):
    out = np.array(x) / 255.
    flipped = f["flip"] <= c
    salted = f["salt"] <= 0.5
    out = out.copy()
    out[flipped & salted] = 1
    out[flipped & ~salted] = 0
    out = np.clip(out, 0, 1.0)
    return np.clip(out, 0, 1) * 255


def speckle_noise(x, c, f):
    x = np.array(x) / 255.
    return np.clip(x + x * (c * f["z"]), 0, 1) * 255


def gaussian_blur(x, c, f):
    x = gaussian(np.array(x) / 255., sigma=c, channel_axis=-1)
    return np.clip(x, 0, 1) * 255


def glass_blur(x, c, f):
    H, W = x.shape[:2]
    x = np.uint8(gaussian(np.array(x) / 255., sigma=c[0], channel_axis=-1) * 255)
    u = f["stream"]
    d = c[1]
    for i in range(c[2]):
        for h in range(H - d, d, -1):
            for w in range(W - d, d, -1):
                dx = int(math.floor(u.uniform() * 2 * d)) - d
                dy = int(math.floor(u.uniform() * 2 * d)) - d
                h_prime, w_prime = h + dy, w + dx
                # the reference's swap on numpy pixel views (a copy of x[h', w'] into x[h, w])
                x[h, w], x[h_prime, w_prime] = x[h_prime, w_prime], x[h, w]
    return np.clip(gaussian(x / 255., sigma=c[0], channel_axis=-1), 0, 1) * 255


def defocus_blur(x, c, f):
    x = np.array(x) / 255.
    kernel = disk(radius=c[0], alias_blur=c[1])
    channels = []
    for d in range(x.shape[2]):
        channels.append(cv2.filter2D(x[:, :, d], -1, kernel))
    channels = np.array(channels).transpose((1, 2, 0))
    return np.clip(channels, 0, 1) * 255


def motion_blur(x, c, f):
    angle = -45 + (45 - -45) * f["stream"].uniform()
    pil = Image.fromarray(x[..., 0]) if x.shape[2] == 1 else Image.fromarray(x)
    y = magick_motion_blur(pil, c[0], c[1], angle)
    if y.ndim == 2:
        return y[..., None].astype(np.float64)
    return np.clip(y[..., [2, 1, 0]], 0, 255)


def zoom_blur(x, c, f):
    x = (np.array(x) / 255.).astype(np.float32)
    out = np.zeros_like(x)
    for zoom_factor in c:
        out += clipped_zoom(x, zoom_factor)
    x = (x + out) / (len(c) + 1)
    return np.clip(x, 0, 1) * 255


def fog(x, c, f):
    h, w = x.shape[:2]
    size = plasma_size(h, w, f["set"])
    plasma = plasma_fractal(size, c[1], f["stream"].uniforms)
    x = np.array(x) / 255.
    max_val = x.max()
    x += c[0] * plasma[:h, :w][..., np.newaxis]
    return np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255


def frost(x, c, f):
    h, w = x.shape[:2]
    u = f["stream"].uniforms(h * w * 3)
    tex = np.floor(u * 256).astype(np.uint8).reshape(h, w, 3)
    return np.clip(c[0] * np.array(x) + c[1] * tex, 0, 255)


def snow(x, c, f):
    h, w = x.shape[:2]
    x = np.array(x, dtype=np.float32) / 255.
    snow_layer = c[0] + c[1] * f["z"][..., 0]
    snow_layer = clipped_zoom(snow_layer[..., np.newaxis], c[2])
    snow_layer[snow_layer < c[3]] = 0
    snow_layer = Image.fromarray((np.clip(snow_layer.squeeze(), 0, 1) * 255).astype(np.uint8), mode="L")
    angle = -135 + (-45 - -135) * f["stream"].uniform()
    snow_layer = magick_motion_blur(snow_layer, c[4], c[5], angle) / 255.
    snow_layer = snow_layer[..., np.newaxis]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).reshape(h, w, 1) * 1.5 + 0.5)
    return np.clip(x + snow_layer + np.rot90(snow_layer, k=2), 0, 1) * 255


def spatter(x, c, f):
    x = np.array(x, dtype=np.float32) / 255.
    liquid_layer = c[0] + c[1] * f["z"][..., 1]
    liquid_layer = gaussian(liquid_layer, sigma=c[2])
    liquid_layer[liquid_layer < c[3]] = 0
    if c[5] == 0:
        liquid_layer = (liquid_layer * 255).astype(np.uint8)
        dist = 255 - cv2.Canny(liquid_layer, 50, 150)
        dist = cv2.distanceTransform(dist, cv2.DIST_L2, 5)
        _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
        dist = cv2.blur(dist, (3, 3)).astype(np.uint8)
        dist = cv2.equalizeHist(dist)
        ker = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
        dist = cv2.filter2D(dist, cv2.CV_8U, ker)
        dist = cv2.blur(dist, (3, 3)).astype(np.float32)
        m = cv2.cvtColor(liquid_layer * dist, cv2.COLOR_GRAY2BGRA)
        m /= np.max(m, axis=(0, 1))
        m *= c[4]
        color = np.concatenate((175 / 255. * np.ones_like(m[..., :1]),
                                238 / 255. * np.ones_like(m[..., :1]),
                                238 / 255. * np.ones_like(m[..., :1])), axis=2)
        color = cv2.cvtColor(color, cv2.COLOR_BGR2BGRA)
        x = cv2.cvtColor(x, cv2.COLOR_BGR2BGRA)
        return cv2.cvtColor(np.clip(x + m * color, 0, 1), cv2.COLOR_BGRA2BGR) * 255
    m = np.where(liquid_layer > c[3], 1, 0)
    m = gaussian(m.astype(np.float32), sigma=c[4])
    m[m < 0.8] = 0
    color = np.concatenate((63 / 255. * np.ones_like(x[..., :1]),
                            42 / 255. * np.ones_like(x[..., :1]),
                            20 / 255. * np.ones_like(x[..., :1])), axis=2)
    color *= m[..., np.newaxis]
    x *= (1 - m[..., np.newaxis])
    return np.clip(x + color, 0, 1) * 255


def contrast(x, c, f):
    x = np.array(x) / 255.
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return np.clip((x - means) * c + means, 0, 1) * 255


def brightness(x, c, f):
    x = np.array(x) / 255.
    x = skimage.color.rgb2hsv(x)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    x = skimage.color.hsv2rgb(x)
    return np.clip(x, 0, 1) * 255


def saturate(x, c, f):
    x = np.array(x) / 255.
    x = skimage.color.rgb2hsv(x)
    x[:, :, 1] = np.clip(x[:, :, 1] * c[0] + c[1], 0, 1)
    x = skimage.color.hsv2rgb(x)
    return np.clip(x, 0, 1) * 255


def pil_of(x):
    return Image.fromarray(x[..., 0]) if x.shape[2] == 1 else Image.fromarray(x)


def array_of(img, channels):
    a = np.array(img)
    return a[..., None] if channels == 1 else a


def jpeg_compression(x, c, f):
    output = BytesIO()
    pil_of(x).save(output, "JPEG", quality=c)
    return array_of(Image.open(output), x.shape[2])


def pixelate(x, c, f):
    h, w = x.shape[:2]
    img = pil_of(x).resize((int(w * c), int(h * c)), Image.BOX).resize((w, h), Image.BOX)
    return array_of(img, x.shape[2])


def elastic_transform(image, c, f):
    image = np.array(image, dtype=np.float32) / 255.
    shape = image.shape
    shape_size = shape[:2]
    center_square = np.float32(shape_size) // 2
    square_size = min(shape_size) // 3
    pts1 = np.float32([center_square + square_size,
                       [center_square[0] + square_size, center_square[1] - square_size],
                       center_square - square_size])
    u = f["stream"]
    pts2 = pts1 + (-c[2] + (c[2] - -c[2]) * u.uniforms(6).reshape(3, 2)).astype(np.float32)
    M = cv2.getAffineTransform(pts1, pts2)
    image = cv2.warpAffine(image, M, shape_size[::-1], borderMode=cv2.BORDER_REFLECT_101)
    if image.ndim == 2:
        image = image[..., None]
    n = shape[0] * shape[1]
    dxu = -1 + (1 - -1) * u.uniforms(n).reshape(shape[:2])
    dyu = -1 + (1 - -1) * u.uniforms(n).reshape(shape[:2])
    dx = (gaussian(dxu, c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dy = (gaussian(dyu, c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    indices = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    return np.clip(map_coordinates(image, indices, order=1, mode="reflect").reshape(shape), 0, 1) * 255


FUNCS = {n: globals()[n] for n in NAMES}
COLOUR = {"snow", "frost", "brightness", "spatter", "saturate"}


def params_for(name, severity, pset, h, w):
    if name == "elastic_transform":
        side = min(h, w)
        if pset == "cifar":
            a, b, c = ELASTIC_CIFAR_FACTORS[severity - 1]
            return (side * a, side * b, side * c)
        a, b, c = ELASTIC_IMAGENET_FACTORS[severity - 1]
        s = side / 224
        return (244 * a * s, 244 * b * s, 244 * c * s)
    return P[pset][name][severity - 1]


def corrupt(x, name, severity, pset, image_index, z, stream=None):
    """Reference output (uint8 HWC, C as x) of one corruption at one severity.

    `stream` (uniform() and uniforms(n)) defaults to the golden tests' xoshiro stream; the
    benchmark passes numpy's generator instead.
    """
    h, w, ch = x.shape
    c = params_for(name, severity, pset, h, w)
    if stream is None:
        stream = Xoshiro128(stream_seed(image_index, NAMES.index(name), severity))
    if name in COLOUR and ch == 1:
        rgb = np.repeat(x, 3, axis=2)
        f = {"z": z, "stream": stream, "set": pset}
        y = np.uint8(FUNCS[name](rgb, c, f))
        return np.array(Image.fromarray(y).convert("L"))[..., None]
    f = {"z": z[..., :ch], "stream": stream, "set": pset}
    if name in ("shot_noise",):
        f["u"] = stream.uniforms(h * w * ch).reshape(h, w, ch)
    if name == "impulse_noise":
        f["flip"] = stream.uniforms(h * w * ch).reshape(h, w, ch)
        f["salt"] = stream.uniforms(h * w * ch).reshape(h, w, ch)
    if name in ("snow", "spatter"):
        f["z"] = z
    y = np.uint8(FUNCS[name](x, c, f))
    return y.reshape(h, w, ch)


def images():
    astro = skimage.data.astronaut()
    camera = skimage.data.camera()
    coins = skimage.data.coins()
    cat = skimage.data.chelsea()
    return [
        ("rgb32", np.array(Image.fromarray(astro[0:300, 100:400]).resize((32, 32), Image.BILINEAR)), "cifar", [1, 2, 3, 4, 5]),
        ("gray32", np.array(Image.fromarray(camera[40:300, 150:410]).resize((32, 32), Image.BILINEAR))[..., None], "cifar", [1, 2, 3, 4, 5]),
        ("gray28", np.array(Image.fromarray(coins[0:150, 120:270]).resize((28, 28), Image.BILINEAR))[..., None], "cifar", [1, 2, 3, 4, 5]),
        ("rgb72x64", np.array(Image.fromarray(cat[20:280, 60:352]).resize((72, 64), Image.BILINEAR)), "imagenet", [2, 5]),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240612)
    manifest = {
        "generator": "tools/golden_corruptions.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "skimage": skimage.__version__,
                     "PIL": Image.__version__, "cv2": cv2.__version__},
        "corruptions": NAMES,
        "seed_rule": "stream seed = (7919*(image+1) + 104729*(corruption+1) + 31*severity) mod 2^32",
        "images": [],
    }
    for index, (name, x, pset, severities) in enumerate(images()):
        x = np.ascontiguousarray(x.astype(np.uint8))
        h, w, ch = x.shape
        z = rng.standard_normal((h, w, 3)).astype(np.float32)
        zz = z.astype(np.float64)
        expected = np.zeros((len(NAMES), len(severities), h, w, ch), dtype=np.uint8)
        for ci, cname in enumerate(NAMES):
            for si, sev in enumerate(severities):
                expected[ci, si] = corrupt(x, cname, sev, pset, index, zz)
        np.save(os.path.join(OUT, f"{name}.npy"), x)
        np.save(os.path.join(OUT, f"{name}_z.npy"), z)
        np.save(os.path.join(OUT, f"{name}_expected.npy"), expected)
        manifest["images"].append({"name": name, "index": index, "width": w, "height": h, "channels": ch,
                                   "params": pset, "severities": severities})
        print(f"{name}: {w}x{h}x{ch} {pset}", file=sys.stderr)
    # JPEG round trips of a larger image at the ImageNet-C qualities (the codec alone).
    cat = np.array(Image.fromarray(skimage.data.chelsea()[0:250, 40:330]).resize((93, 77), Image.BILINEAR))
    jpeg = {}
    for q in [7, 15, 25, 40, 65, 80]:
        out = BytesIO()
        Image.fromarray(cat).save(out, "JPEG", quality=q)
        jpeg[str(q)] = np.array(Image.open(out))
    np.save(os.path.join(OUT, "jpeg_src.npy"), cat)
    np.save(os.path.join(OUT, "jpeg_expected.npy"), np.stack([jpeg[k] for k in sorted(jpeg, key=int)]))
    manifest["jpeg"] = {"width": cat.shape[1], "height": cat.shape[0], "qualities": sorted(int(k) for k in jpeg)}
    # The diamond-square map itself for one stream (plasma_fractal(32, 3) and (64, 1.75)).
    plasma = [plasma_fractal(32, 3, Xoshiro128(99).uniforms), plasma_fractal(64, 1.75, Xoshiro128(100).uniforms)]
    np.save(os.path.join(OUT, "plasma_32_3_seed99.npy"), plasma[0])
    np.save(os.path.join(OUT, "plasma_64_1.75_seed100.npy"), plasma[1])
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
