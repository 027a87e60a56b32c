#!/usr/bin/python3
"""Makes the PNG decoder and header fixtures of test/images/png.test.ts and header.test.ts (run
with /usr/bin/python3: Pillow, numpy). Writes test/fixtures/images/png/:

  *.png           small PNGs of every colour type and bit depth, each of the five filter types
                  and mixed filters, split / empty IDAT chunks, ancillary chunks (tRNS, gAMA,
                  sBIT, iCCP, tEXt, pHYs, malformed ones), Adam7-interlaced files, files written by
                  Pillow (plain and optimize=True) and damaged files (bad CRC, truncated, bad
                  filter byte, bad PLTE, ...). Most are written by hand (numpy rows, explicit
                  filters, zlib) so that every filter meets every bytes-per-pixel; Pillow cannot
                  write 2/4-bit grey, 16-bit or interlaced PNGs.
  refs.npy        uint8, the expected pixels of the files that have a reference, concatenated
  manifest.json   per file: "path": "fast" (png.ts decodes it) or "sharp" (png.ts leaves it to
                  sharp); "sharp": "ok" or "skip" (what napood's sharp path does with it); a note;
                  "offset" and "shape" (H, W, C) in refs.npy when napood's pixels are Pillow's
  headers/        small JPEG and WebP variants for header.ts (grey, CMYK with Adobe APP14,
                  progressive, ICC, EXIF, a fake SOF inside an APP segment, fill bytes; WebP
                  lossy, lossless, with alpha, ICC, animated)

References are Pillow's `Image.open(f).convert('RGB')` for colour files (colour types 2, 3, 6)
and `.convert('L')` for grey files (types 0, 4): napood's loader semantics (alpha dropped, not
composited; tRNS ignored). No reference (compared with sharp only) where napood differs from
Pillow: 16-bit grey (libvips' grey16 conversion, Pillow clips I;16 to 255), palette indices past
the end of PLTE (libspng: black, Pillow: its grey ramp), and damaged files that libvips decodes.

Deterministic (seeded numpy, ICC profiles without date and ID); ~76 kB.
Usage: /usr/bin/python3 tools/make_png_fixtures.py
"""
import io
import json
import os
import shutil
import struct
import zlib

import numpy as np
from PIL import Image, ImageCms

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'images', 'png')
rng = np.random.default_rng(20250321)

SIG = b'\x89PNG\r\n\x1a\n'
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(t, d, crc=None):
    c = zlib.crc32(t + d) & 0xffffffff if crc is None else crc
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', c)


def pack_rows(a, bits):
    """a: H x W x C samples (uint8 or uint16) -> list of raw scanlines (bytes, no filter byte)."""
    h, w, c = a.shape
    rows = []
    for y in range(h):
        if bits == 16:
            rows.append(a[y].astype('>u2').tobytes())
        elif bits == 8:
            rows.append(a[y].astype(np.uint8).tobytes())
        else:
            s = a[y].reshape(-1).astype(np.uint8)
            per = 8 // bits
            n = (len(s) + per - 1) // per
            s = np.concatenate([s, np.zeros(n * per - len(s), np.uint8)]).reshape(n, per)
            out = np.zeros(n, np.uint8)
            for k in range(per):
                out |= (s[:, k] << (8 - bits * (k + 1))).astype(np.uint8)
            rows.append(out.tobytes())
    return rows


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp, filters):
    """Filter each scanline with filters[y % len(filters)]; returns the bytes to deflate."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b''
    for y, row in enumerate(rows):
        f = filters[y % len(filters)]
        r = bytearray(len(row))
        for i in range(len(row)):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            r[i] = (row[i] - pred) & 255
        out.append(f)
        out += r
        prev = row
    return bytes(out)


def scan_data(a, bits, filters, interlace):
    c = a.shape[2]
    bpp = max(1, bits * c // 8)
    if not interlace:
        return filter_rows(pack_rows(a, bits), bpp, filters)
    out = b''
    for (x0, y0, dx, dy) in ADAM7:
        sub = a[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        out += filter_rows(pack_rows(sub, bits), bpp, filters)
    return out


def png(a, bits, ctype, filters=(0, 1, 2, 3, 4), interlace=False, palette=None, extra=(), idat_split=None,
        level=6, after_ihdr=()):
    """A PNG of samples a (H x W x C); extra: chunks before IDAT; idat_split: IDAT sizes."""
    h, w, _ = a.shape
    data = zlib.compress(scan_data(a, bits, filters, interlace), level)
    body = chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, bits, ctype, 0, 0, 1 if interlace else 0))
    for c in after_ihdr:
        body += c
    if palette is not None:
        body += chunk(b'PLTE', np.asarray(palette, np.uint8).tobytes())
    for c in extra:
        body += c
    if idat_split is None:
        body += chunk(b'IDAT', data)
    else:
        pos = 0
        for n in idat_split:
            body += chunk(b'IDAT', data[pos:pos + n])
            pos += n
        body += chunk(b'IDAT', data[pos:])
    return SIG + body + chunk(b'IEND', b'')


def noise(h, w, c, hi=256, dtype=np.uint8):
    """Random samples with some smooth structure (so that the filters do something)."""
    y, x = np.mgrid[0:h, 0:w]
    base = ((x * 37 + y * 91)[:, :, None] * (np.arange(c) + 1)[None, None, :]) % hi
    r = rng.integers(0, hi, (h, w, c))
    keep = rng.random((h, w, c)) < 0.5
    return np.where(keep, base, r).astype(dtype)


files = {}   # name -> bytes
notes = {}   # name -> manifest entry


def add(name, data, path, note, sharp='ok', ref=True):
    """path: 'fast' (png.ts decodes it) or 'sharp' (png.ts leaves it to sharp); sharp: 'ok' or
    'skip' (what napood's sharp path does with it); ref: napood's pixels are Pillow's."""
    files[name] = data
    notes[name] = {'path': path, 'sharp': sharp, 'note': note, 'ref': ref and sharp == 'ok'}


def icc_profile(kind):
    """A LittleCMS profile with its creation date and profile ID zeroed (deterministic bytes)."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile(kind)).tobytes())
    icc[24:36] = bytes(12)
    icc[84:100] = bytes(16)
    return bytes(icc)


def pil_bytes(im, **kw):
    f = io.BytesIO()
    im.save(f, 'PNG', **kw)
    return f.getvalue()


def make():
    # Every colour type at 8 bits, each filter type alone and mixed; odd sizes.
    for ctype, cname in [(0, 'g'), (2, 'rgb'), (4, 'ga'), (6, 'rgba')]:
        c = CHANNELS[ctype]
        for f in range(5):
            add(f'{cname}8_f{f}.png', png(noise(7, 13, c), 8, ctype, filters=(f,)), 'fast', f'colour type {ctype}, 8 bits, filter {f}')
        add(f'{cname}8_mixed.png', png(noise(11, 17, c), 8, ctype), 'fast', f'colour type {ctype}, 8 bits, filters 0-4 by row')
    # 16 bits (napood: high byte, Pillow too for colour; its I;16 grey is clipped, see notes).
    for ctype, cname in [(0, 'g'), (2, 'rgb'), (4, 'ga'), (6, 'rgba')]:
        c = CHANNELS[ctype]
        a = noise(9, 11, c, hi=65536, dtype=np.uint16)
        if ctype in (0, 4):
            # libvips converts grey16 to 8 bits through its colour pipeline (within one level of
            # the high byte); Pillow clips I;16 to 255: left to sharp, no Pillow reference.
            add(f'{cname}16_mixed.png', png(a, 16, ctype), 'sharp', f'colour type {ctype}, 16 bits (left to sharp)', ref=False)
        else:
            add(f'{cname}16_mixed.png', png(a, 16, ctype), 'fast', f'colour type {ctype}, 16 bits, filters 0-4 by row (high byte)')
    # Grey at 1, 2, 4 bits (Pillow scales to 0..255).
    for bits in (1, 2, 4):
        for w in (1, 7, 13):
            add(f'g{bits}_w{w}.png', png(noise(5, w, 1, hi=1 << bits), bits, 0), 'fast', f'grey, {bits} bits, width {w} (row padding)')
    # Palette at 1, 2, 4, 8 bits; PLTE shorter than 2^bits.
    for bits in (1, 2, 4, 8):
        n = min(1 << bits, 200)
        pal = rng.integers(0, 256, (n, 3))
        add(f'p{bits}_mixed.png', png(noise(9, 13, 1, hi=n), bits, 3, palette=pal), 'fast', f'palette, {bits} bits, {n} entries')
    # Palette with tRNS (alpha dropped: Pillow convert('RGB') of P with transparency).
    pal = rng.integers(0, 256, (16, 3))
    trns = chunk(b'tRNS', rng.integers(0, 256, 10).astype(np.uint8).tobytes())
    add('p4_trns.png', png(noise(8, 9, 1, hi=16), 4, 3, palette=pal, extra=(trns,)), 'fast', 'palette with tRNS (ignored)')
    # An all-grey palette is still a colour image (Pillow: P -> RGB).
    graypal = np.repeat(np.arange(0, 256, 17)[:, None], 3, 1)
    add('p4_greypal.png', png(noise(8, 9, 1, hi=16), 4, 3, palette=graypal), 'fast', 'palette whose entries are all grey')
    # Grey and RGB with tRNS (a transparent colour key).
    add('g8_trns.png', png(noise(6, 7, 1), 8, 0, extra=(chunk(b'tRNS', struct.pack('>H', 17)),)), 'fast', 'grey with tRNS (ignored)')
    add('rgb8_trns.png', png(noise(6, 7, 3), 8, 2, extra=(chunk(b'tRNS', struct.pack('>HHH', 1, 2, 3)),)), 'fast', 'RGB with tRNS (ignored)')
    # Ancillary chunks that colour-managing decoders would apply; napood (sharp with ignoreIcc,
    # Pillow's convert) does not.
    icc = icc_profile('LAB')
    iccp = chunk(b'iCCP', b'lab\x00\x00' + zlib.compress(icc))
    add('rgb8_iccp.png', png(noise(6, 7, 3), 8, 2, extra=(iccp,)), 'fast', 'RGB with an iCCP profile (a Lab profile: ignored)')
    add('rgb8_gama.png', png(noise(6, 7, 3), 8, 2, extra=(chunk(b'gAMA', struct.pack('>I', 100000)), chunk(b'sBIT', b'\x05\x06\x05'))), 'fast', 'RGB with gAMA 1.0 and sBIT 5/6/5 (ignored)')
    add('g8_text.png', png(noise(6, 7, 1), 8, 0, after_ihdr=(chunk(b'tEXt', b'Comment\x00hello'),), extra=(chunk(b'pHYs', struct.pack('>IIB', 2835, 2835, 1)),)), 'fast', 'grey with tEXt and pHYs')
    # IDAT split in several chunks, one of them empty; compression level 0 (stored blocks).
    add('rgb8_split.png', png(noise(10, 12, 3), 8, 2, idat_split=(5, 0, 1, 30)), 'fast', 'RGB, IDAT split in 5 chunks (one empty)')
    add('rgba8_stored.png', png(noise(5, 6, 4), 8, 6, level=0), 'fast', 'RGBA, zlib level 0 (stored blocks)')
    # Tiny sizes.
    add('rgb8_1x1.png', png(noise(1, 1, 3), 8, 2), 'fast', '1 x 1 RGB')
    add('g8_1xN.png', png(noise(9, 1, 1), 8, 0), 'fast', 'width 1, grey')
    # Written by Pillow (its own filter choice; optimize picks filters and zlib settings).
    im = Image.fromarray(noise(16, 20, 3))
    add('pil_rgb.png', pil_bytes(im), 'fast', 'Pillow RGB')
    add('pil_rgb_opt.png', pil_bytes(im, optimize=True), 'fast', 'Pillow RGB, optimize=True')
    add('pil_l_opt.png', pil_bytes(im.convert('L'), optimize=True), 'fast', 'Pillow L, optimize=True')
    add('pil_la.png', pil_bytes(im.convert('LA')), 'fast', 'Pillow LA')
    add('pil_rgba.png', pil_bytes(im.convert('RGBA')), 'fast', 'Pillow RGBA')
    add('pil_p.png', pil_bytes(im.quantize(64)), 'fast', 'Pillow P (quantize 64)')
    add('pil_p_opt.png', pil_bytes(im.quantize(7), optimize=True), 'fast', 'Pillow P, 7 colours, optimize=True (3 bits -> 4)')
    add('pil_p_trns.png', pil_bytes(im.quantize(16), transparency=3), 'fast', 'Pillow P with transparency')
    add('pil_1.png', pil_bytes(im.convert('1')), 'fast', 'Pillow 1 (1-bit grey)')
    # Interlaced (left to sharp).
    add('rgb8_adam7.png', png(noise(11, 13, 3), 8, 2, interlace=True), 'sharp', 'RGB, Adam7 interlaced')
    add('g2_adam7.png', png(noise(3, 5, 1, hi=4), 2, 0, interlace=True), 'sharp', 'grey 2 bits, Adam7, some passes empty')
    add('p8_adam7.png', png(noise(9, 10, 1, hi=32), 8, 3, palette=rng.integers(0, 256, (32, 3)), interlace=True), 'sharp', 'palette, Adam7')

    # Damaged files: the decoder must not crash and napood must skip them (as sharp does).
    good_a = noise(8, 10, 3)
    good = png(good_a, 8, 2)
    good_z = zlib.compress(scan_data(good_a, 8, (1,), False))
    ihdr_end = 8 + 25
    idat_at = good.index(b'IDAT') - 4
    add('bad_cut_idat.png', good[:idat_at + 30], 'sharp', 'truncated inside IDAT', sharp='skip')
    add('bad_cut_header.png', good[:20], 'sharp', 'truncated inside IHDR', sharp='skip')
    add('bad_no_iend.png', good[:-12], 'sharp', 'ends after the last IDAT (no IEND; libvips decodes it)', ref=False)
    bad_crc = bytearray(good)
    bad_crc[len(good) - 13] ^= 0x55   # last byte of the IDAT CRC
    add('bad_crc_idat.png', bytes(bad_crc), 'sharp', 'IDAT CRC wrong (libvips decodes it)', ref=False)
    bad_crc = bytearray(good)
    bad_crc[32] ^= 0x55   # last byte of the IHDR CRC
    add('bad_crc_ihdr.png', bytes(bad_crc), 'sharp', 'IHDR CRC wrong', sharp='skip')
    add('bad_critical.png', good[:ihdr_end] + chunk(b'ABCD', b'xyz') + good[ihdr_end:], 'sharp', 'an unknown critical chunk', sharp='skip')
    zt = zlib.compress(scan_data(noise(8, 10, 3), 8, (2,), False)) + b'more'
    add('idat_trailing.png', SIG + good[8:ihdr_end] + chunk(b'IDAT', zt) + chunk(b'IEND', b''), 'sharp', 'bytes after the zlib stream in IDAT', ref=False)
    z = bytearray(zlib.compress(scan_data(noise(8, 10, 3), 8, (0,), False)))
    for i in range(2, len(z) - 4, 7):
        z[i] ^= 0xa5
    add('bad_zlib.png', SIG + good[8:ihdr_end] + chunk(b'IDAT', bytes(z)) + chunk(b'IEND', b''), 'sharp', 'IDAT is not a valid zlib stream', sharp='skip')
    short = zlib.compress(scan_data(noise(4, 10, 3), 8, (1,), False))
    add('bad_short_data.png', SIG + good[8:ihdr_end] + chunk(b'IDAT', short) + chunk(b'IEND', b''), 'sharp', 'zlib stream ends after 4 of 8 rows', sharp='skip')
    raw = bytearray(scan_data(noise(8, 10, 3), 8, (1,), False))
    raw[31 * 3] = 7
    add('bad_filter.png', SIG + good[8:ihdr_end] + chunk(b'IDAT', zlib.compress(bytes(raw))) + chunk(b'IEND', b''), 'sharp', 'filter type 7 in row 3', sharp='skip')
    add('bad_plte_long.png', png(noise(3, 4, 1, hi=4), 2, 3, palette=np.zeros((5, 3))), 'sharp', '2-bit palette with 5 PLTE entries', sharp='skip')
    add('bad_plte_in_rgb.png', png(noise(3, 4, 3), 8, 2, extra=(chunk(b'PLTE', bytes(4)),)), 'sharp', 'RGB with a PLTE of 4 bytes', sharp='skip')
    add('bad_idat_text_idat.png', SIG + good[8:ihdr_end] + chunk(b'IDAT', good_z[:10]) + chunk(b'tEXt', b'a\x00b') + chunk(b'IDAT', good_z[10:]) + chunk(b'IEND', b''), 'sharp', 'a chunk between two IDATs', sharp='skip')
    add('bad_no_plte.png', png(noise(4, 4, 1, hi=4), 8, 3), 'sharp', 'palette image without PLTE', sharp='skip')
    # Index past the end of a short palette: libspng and Pillow both accept it (black).
    add('p8_short_plte.png', png(np.full((3, 4, 1), 9, np.uint8), 8, 3, palette=rng.integers(0, 256, (4, 3))), 'sharp', 'palette indices past the end of PLTE (libspng: black, Pillow: its grey ramp)', ref=False)
    # Ancillary chunk with a wrong CRC.
    add('bad_crc_text.png', png(noise(6, 7, 3), 8, 2, extra=(chunk(b'tEXt', b'a\x00b', crc=1),)), 'fast', 'tEXt chunk CRC wrong (libspng ignores it, so does png.ts)', ref=False)
    # Bytes after IEND.
    add('trailing_bytes.png', png(noise(6, 7, 3), 8, 2) + b'garbage after IEND', 'fast', 'bytes after IEND (ignored)')
    add('bad_idat_after_iend.png', good + chunk(b'IDAT', b'\x78\x9c'), 'fast', 'an IDAT after IEND (ignored)')
    # Malformed ancillary chunks: libspng discards them and decodes the image, so does png.ts.
    a = noise(6, 7, 3)
    for name, extra in [
        ('trns_len', chunk(b'tRNS', b'\x00\x01\x00')),
        ('gama_zero', chunk(b'gAMA', struct.pack('>I', 0))),
        ('iccp_bad', chunk(b'iCCP', b'x\x00\x00not zlib')),
        ('text_nokey', chunk(b'tEXt', b'\x00value')),
        ('unknown_anc', chunk(b'abCD', b'whatever')),
    ]:
        add(f'anc_{name}.png', png(a, 8, 2, extra=(extra,)), 'fast', f'malformed ancillary chunk ({name})', ref=False)
    pal = rng.integers(0, 256, (4, 3))
    z = noise(3, 5, 1, hi=4)
    for name, extra, after_ihdr in [
        ('p_trns_long', chunk(b'tRNS', bytes(5)), ()),
        ('p_trns_empty', chunk(b'tRNS', b''), ()),
        ('p_trns_before_plte', None, (chunk(b'tRNS', bytes(2)),)),
    ]:
        add(f'anc_{name}.png', png(z, 8, 3, palette=pal, extra=(extra,) if extra else (), after_ihdr=after_ihdr), 'fast', f'palette, tRNS that libspng discards ({name})', ref=False)
    add('anc_g_trns_len3.png', png(noise(3, 5, 1), 8, 0, extra=(chunk(b'tRNS', bytes(3)),)), 'fast', 'grey, tRNS of 3 bytes (discarded)', ref=False)
    add('anc_after_iend.png', png(a, 8, 2) + chunk(b'tEXt', b'a\x00b'), 'fast', 'a chunk after IEND', ref=False)
    # More deflate output than the image needs.
    extra_rows = zlib.compress(scan_data(noise(9, 10, 3), 8, (0,), False))
    add('extra_data.png', SIG + good[8:ihdr_end] + chunk(b'IDAT', extra_rows) + chunk(b'IEND', b''), 'sharp', 'zlib stream holds one row more than the image')


def headers():
    """JPEG and WebP variants for the header reader (header.ts), written to headers/."""
    out = {}
    im = Image.fromarray(noise(12, 17, 3))
    icc = icc_profile('sRGB')

    def save(name, img, fmt, **kw):
        f = io.BytesIO()
        img.save(f, fmt, **kw)
        out[name] = f.getvalue()

    save('rgb.jpg', im, 'JPEG', quality=80)
    save('rgb_444.jpg', im, 'JPEG', quality=80, subsampling=0)
    save('grey.jpg', im.convert('L'), 'JPEG')
    save('cmyk.jpg', im.convert('CMYK'), 'JPEG')   # Pillow writes an Adobe APP14 marker
    save('progressive.jpg', im, 'JPEG', progressive=True)
    save('icc.jpg', im, 'JPEG', icc_profile=icc)
    save('exif.jpg', im, 'JPEG', exif=b'Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00')
    j = out['rgb.jpg']
    # An APP segment holding the bytes of a fake SOF0 (as an EXIF thumbnail would), and fill bytes.
    fake = b'\xff\xc0\x00\x11\x08\x00\x07\x00\x05\x03' + bytes(9)
    out['app_fake_sof.jpg'] = j[:2] + b'\xff\xe5' + struct.pack('>H', 2 + len(fake)) + fake + j[2:]
    out['fill_bytes.jpg'] = j[:2] + b'\xff\xff\xff' + j[3:]
    save('lossy.webp', im, 'WEBP', quality=80)
    save('lossless.webp', im, 'WEBP', lossless=True)
    rgba = im.convert('RGBA')
    rgba.putalpha(Image.fromarray(noise(12, 17, 1)[:, :, 0]))
    save('lossy_alpha.webp', rgba, 'WEBP', quality=80)
    save('lossless_alpha.webp', rgba, 'WEBP', lossless=True)
    save('icc.webp', im, 'WEBP', icc_profile=icc)
    frames = [im, Image.fromarray(noise(12, 17, 3))]
    save('animated.webp', frames[0], 'WEBP', save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out


def expected(data):
    im = Image.open(io.BytesIO(data))
    if data[25] in (0, 4):
        return np.asarray(im.convert('L'))[:, :, None]
    return np.asarray(im.convert('RGB'))


def main():
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    make()
    refs = []
    offset = 0
    manifest = {}
    for name, data in files.items():
        with open(os.path.join(ROOT, name), 'wb') as f:
            f.write(data)
        entry = dict(notes[name])
        if entry.pop('ref'):
            a = np.ascontiguousarray(expected(data), np.uint8)
            entry['offset'] = offset
            entry['shape'] = list(a.shape)
            refs.append(a.reshape(-1))
            offset += a.size
        manifest[name] = entry
    np.save(os.path.join(ROOT, 'refs.npy'), np.concatenate(refs))
    os.makedirs(os.path.join(ROOT, 'headers'))
    for name, data in headers().items():
        with open(os.path.join(ROOT, 'headers', name), 'wb') as f:
            f.write(data)
        offset += len(data)
    with open(os.path.join(ROOT, 'manifest.json'), 'w') as f:
        f.write('{\n' + ',\n'.join(f' {json.dumps(k)}: {json.dumps(v)}' for k, v in manifest.items()) + '\n}\n')
    total = sum(len(d) for d in files.values()) + offset
    print(f"{len(files)} PNGs + headers/, {total} bytes with refs.npy, in {ROOT}")


if __name__ == '__main__':
    main()
