#!/usr/bin/python3
"""Generate the fixtures of test/io/ into test/fixtures/io/ (run with /usr/bin/python3, numpy).

npy/       .npy files of every dtype napood reads, v1/v2/v3 headers, big-endian, 0-D and empty,
           and malformed files (fortran order, truncated data or header, bad magic / version /
           dict / descr, huge header length).
st/        .safetensors files written with struct + json (the `safetensors` package is not
           installed): one good file with every dtype and metadata, and malformed ones.
dump_dir/  a feature dump as a directory of .npy files (featureMap float32, logits, labels int64,
           head.weight, head.bias, plus files that must be ignored).
dump.safetensors  the same dump as safetensors (featureMap float16, pooled float32, …).
dump_nan/  a dump whose pooled.npy has a NaN at row 7.
expected.json  what numpy reads: float32 bit patterns (uint32) of `astype(float32)`, shapes, the
           pooled mean of the dump, the sha256 of all 65536 float16 values converted to float32.

Deterministic (fixed seed); rerun after changing and commit the output.
"""
import hashlib
import json
import os
import shutil
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'io')
rng = np.random.default_rng(20240229)
expected = {'npy': {}, 'st': {}, 'dump': {}}


def f32bits(a):
    with np.errstate(over='ignore'):
        a = np.asarray(a).astype(np.float32)
    return np.ascontiguousarray(a).reshape(-1).view(np.uint32).tolist()


def save_npy(name, arr, version=None):
    path = os.path.join(ROOT, 'npy', name)
    with open(path, 'wb') as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
    return path


def good_npy(name, arr, version=None, check=True):
    save_npy(name, arr, version)
    back = np.load(os.path.join(ROOT, 'npy', name))  # what numpy itself reads back
    expected['npy'][name] = {'shape': list(back.shape), 'dtype': back.dtype.str, 'f32bits': f32bits(back)}


def raw_npy(name, magic=b'\x93NUMPY', version=(1, 0), header=None, data=b'', header_len=None):
    """Write a .npy by hand (for malformed files)."""
    hb = header.encode('latin1')
    if header_len is None:
        header_len = len(hb)
    fmt = '<H' if version[0] == 1 else '<I'
    with open(os.path.join(ROOT, 'npy', name), 'wb') as f:
        f.write(magic + bytes(version) + struct.pack(fmt, header_len) + hb + data)


def header_text(descr, shape, fortran=False, pad_to=64, prefix=10):
    d = "{'descr': %r, 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, repr(tuple(shape)))
    total = prefix + len(d) + 1
    pad = (-total) % pad_to
    return d + ' ' * pad + '\n'


def make_npy():
    os.makedirs(os.path.join(ROOT, 'npy'))
    base = rng.standard_normal((3, 4)) * 10
    good_npy('f4_v1.npy', base.astype('<f4'))
    good_npy('f8_v1.npy', np.array([[1e-310, -0.0, np.inf, -np.inf], [3.4e38, 3.5e38, 1e-46, np.pi]], dtype='<f8'))
    half_specials = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 6.1035156e-05, 5.9604645e-08,
                              3.0e-7, -1.2e-6, np.inf, -np.inf], dtype='<f2').reshape(3, 4)
    good_npy('f2_v1.npy', half_specials)
    ints64 = np.array([0, -1, 2**31 - 1, -2**31, 2**53 + 1, 2**62 + 2**38 + 1, -(2**63), 2**63 - 1,
                       123456789012, 16777217, 33554435, -7], dtype='<i8').reshape(2, 6)
    good_npy('i8_v1.npy', ints64)
    good_npy('i4_v1.npy', np.array([0, 1, -1, 2**31 - 1, -2**31, 16777217], dtype='<i4'))
    good_npy('i2_v1.npy', np.array([[-32768, 32767], [5, -5]], dtype='<i2'))
    good_npy('u1_v1.npy', np.arange(0, 256, 17, dtype='u1').reshape(4, 4))
    good_npy('i1_v1.npy', np.array([-128, -1, 0, 1, 127], dtype='i1'))
    # Big-endian variants.
    good_npy('f4_be.npy', base.astype('>f4'))
    good_npy('f8_be.npy', base.astype('>f8'))
    good_npy('f2_be.npy', half_specials.astype('>f2'))
    good_npy('i8_be.npy', ints64.astype('>i8'))
    good_npy('i4_be.npy', np.array([7, -300000, 2**31 - 1], dtype='>i4'))
    # Header versions.
    good_npy('f4_v2.npy', base.astype('<f4'), version=(2, 0))
    good_npy('f4_v3.npy', base.astype('<f4'), version=(3, 0))
    # 0-D, empty, 1-D fortran (same bytes as C order), 3-D.
    good_npy('f4_scalar.npy', np.array(2.5, dtype='<f4'))
    good_npy('f4_empty.npy', np.zeros((0, 4), dtype='<f4'))
    good_npy('f4_3d.npy', rng.standard_normal((2, 3, 4)).astype('<f4'))
    # numpy never writes fortran_order True for 1-D, but it reads such a file (same bytes as C order).
    raw_npy('f4_1d_fortran.npy', header=header_text('<f4', (5,), fortran=True), data=np.arange(5, dtype='<f4').tobytes())
    assert np.load(os.path.join(ROOT, 'npy', 'f4_1d_fortran.npy')).tolist() == [0, 1, 2, 3, 4]
    expected['npy']['f4_1d_fortran.npy'] = {'shape': [5], 'dtype': '<f4', 'f32bits': f32bits(np.arange(5))}
    # A v1 header written by numpy 1.x with a 16-byte aligned header and Python 2 long suffixes.
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L), }"
    hdr = hdr + ' ' * ((-(10 + len(hdr) + 1)) % 16) + '\n'
    raw_npy('f4_py2.npy', header=hdr, data=np.array([1, 2, 3, 4], dtype='<f4').tobytes())
    expected['npy']['f4_py2.npy'] = {'shape': [2, 2], 'dtype': '<f4', 'f32bits': f32bits([1, 2, 3, 4])}
    # float16: all 65536 bit patterns, and the sha256 of numpy's float32 conversion.
    all_half = np.arange(65536, dtype='<u2').view('<f2')
    save_npy('f2_all.npy', all_half)
    expected['f2_all_sha256'] = hashlib.sha256(all_half.astype('<f4').tobytes()).hexdigest()
    expected['f2_all_nan_count'] = int(np.isnan(all_half).sum())

    # Malformed files.
    save_npy('fortran.npy', np.asfortranarray(base.astype('<f4')))
    full = open(save_npy('truncated.npy', base.astype('<f4')), 'rb').read()
    with open(os.path.join(ROOT, 'npy', 'truncated.npy'), 'wb') as f:
        f.write(full[:-5])  # 43 of 48 data bytes
    expected['truncated'] = {'need': len(full), 'have': len(full) - 5}
    with open(os.path.join(ROOT, 'npy', 'truncated_header.npy'), 'wb') as f:
        f.write(full[:40])
    with open(os.path.join(ROOT, 'npy', 'tiny.npy'), 'wb') as f:
        f.write(b'\x93NUM')
    raw_npy('bad_magic.npy', magic=b'\x93NUMPZ', header=header_text('<f4', (2,)), data=b'\0' * 8)
    raw_npy('bad_version.npy', version=(4, 0), header=header_text('<f4', (2,)), data=b'\0' * 8)
    raw_npy('bad_dict.npy', header="{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ".ljust(117) + '\n', data=b'\0' * 8)
    raw_npy('bad_descr.npy', header=header_text('<c8', (2,)), data=b'\0' * 16)
    raw_npy('bad_descr_order.npy', header=header_text('|f4', (2,)), data=b'\0' * 8)
    raw_npy('structured.npy', header="{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }".ljust(117) + '\n', data=b'\0' * 16)
    raw_npy('missing_shape.npy', header="{'descr': '<f4', 'fortran_order': False, }".ljust(53) + '\n', data=b'\0' * 8)
    raw_npy('negative_shape.npy', header=header_text('<f4', (2, -3)), data=b'\0' * 8)
    raw_npy('huge_header.npy', version=(2, 0), header=header_text('<f4', (2,), prefix=12), data=b'\0' * 8, header_len=0xFFFFFFF0)
    raw_npy('not_a_dict.npy', header="['<f4', False, (2,)]".ljust(53) + '\n', data=b'\0' * 8)


def write_st(path, tensors, metadata=None, mutate=None, header_len=None, cut=0):
    """tensors: list of (name, safetensors dtype, numpy array). mutate(header dict) may corrupt it."""
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    blobs = []
    off = 0
    for name, dt, arr in tensors:
        b = np.ascontiguousarray(arr).tobytes()
        header[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    if mutate:
        mutate(header)
    hb = json.dumps(header, separators=(',', ':')).encode('utf8')
    hb += b' ' * ((-len(hb)) % 8)
    data = struct.pack('<Q', len(hb) if header_len is None else header_len) + hb + b''.join(blobs)
    with open(path, 'wb') as f:
        f.write(data[:len(data) - cut] if cut else data)


def bf16_bits(a):
    """bfloat16 bit patterns of float32 values, round-to-nearest-even (as torch does)."""
    u = np.asarray(a, dtype='<f4').view('<u4').astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype('<u2')
    return r


def make_st():
    d = os.path.join(ROOT, 'st')
    os.makedirs(d)
    f32 = rng.standard_normal((2, 3)).astype('<f4')
    f16 = np.array([[0.5, -0.0, 6.0e-8], [65504, np.inf, -3.25]], dtype='<f2')
    bf = bf16_bits(np.array([1.0, -2.0, 3.14159, 1e30, -1e-30, 0.1], dtype='<f4')).reshape(3, 2)
    f64 = np.array([1.0 / 3.0, -1e-40, 2.0**100], dtype='<f8')
    i64 = np.array([[3, -1], [2**40 + 3, 9]], dtype='<i8')
    i32 = np.array([1, -2, 2**31 - 1], dtype='<i4')
    u8 = np.array([[0, 255, 7]], dtype='u1')
    tensors = [('a.f32', 'F32', f32), ('b.f16', 'F16', f16), ('c.bf16', 'BF16', bf), ('d.f64', 'F64', f64),
               ('e.i64', 'I64', i64), ('f.i32', 'I32', i32), ('g.u8', 'U8', u8), ('h.empty', 'F32', np.zeros((0, 3), '<f4'))]
    write_st(os.path.join(d, 'good.safetensors'), tensors, metadata={'format': 'pt', 'note': 'napood fixture'})
    bf_f32 = (bf.astype(np.uint32) << 16).view('<f4')
    values = {'a.f32': f32, 'b.f16': f16, 'c.bf16': bf_f32, 'd.f64': f64, 'e.i64': i64, 'f.i32': i32, 'g.u8': u8,
              'h.empty': np.zeros((0, 3), '<f4')}
    expected['st']['good.safetensors'] = {
        'metadata': {'format': 'pt', 'note': 'napood fixture'},
        'tensors': {k: {'shape': list(v.shape), 'f32bits': f32bits(v)} for k, v in values.items()},
    }
    small = [('x', 'F32', f32)]
    write_st(os.path.join(d, 'huge_header_len.safetensors'), small, header_len=2**60)
    write_st(os.path.join(d, 'header_past_end.safetensors'), small, header_len=10**6)
    with open(os.path.join(d, 'bad_json.safetensors'), 'wb') as f:
        hb = b'{"x": {"dtype": "F32", "shape": [2, 3], '
        f.write(struct.pack('<Q', len(hb)) + hb + f32.tobytes())
    with open(os.path.join(d, 'not_object.safetensors'), 'wb') as f:
        hb = b'[1, 2, 3]'
        f.write(struct.pack('<Q', len(hb)) + hb)
    with open(os.path.join(d, 'tiny.safetensors'), 'wb') as f:
        f.write(b'\x10\x00\x00')
    write_st(os.path.join(d, 'offsets_past_end.safetensors'), small, mutate=lambda h: h['x'].update(data_offsets=[24, 48]))
    write_st(os.path.join(d, 'size_mismatch.safetensors'), small, mutate=lambda h: h['x'].update(shape=[2, 4]))
    write_st(os.path.join(d, 'bad_dtype.safetensors'), small, mutate=lambda h: h['x'].update(dtype='F8_E4M3'))
    write_st(os.path.join(d, 'negative_shape.safetensors'), small, mutate=lambda h: h['x'].update(shape=[-2, -3]))
    write_st(os.path.join(d, 'bad_offsets.safetensors'), small, mutate=lambda h: h['x'].update(data_offsets=[24, 0]))
    write_st(os.path.join(d, 'overlap.safetensors'), [('x', 'F32', f32), ('y', 'F32', f32)],
             mutate=lambda h: h['y'].update(data_offsets=[12, 36]))
    write_st(os.path.join(d, 'truncated.safetensors'), small, cut=4)
    write_st(os.path.join(d, 'bad_metadata.safetensors'), small, metadata={'n': 3})


def make_dumps():
    n, c, h, w, k = 10, 4, 3, 3, 5
    fmap = np.maximum(rng.standard_normal((n, c, h, w)), 0).astype('<f4') * 3
    weight = rng.standard_normal((k, c)).astype('<f4')
    bias = rng.standard_normal(k).astype('<f4')
    pooled = fmap.mean(axis=(2, 3), dtype=np.float64)
    logits = (pooled @ weight.T.astype(np.float64) + bias).astype('<f4')
    labels = rng.integers(0, k, n).astype('<i8')

    d = os.path.join(ROOT, 'dump_dir')
    os.makedirs(d)
    np.save(os.path.join(d, 'featureMap.npy'), fmap)
    np.save(os.path.join(d, 'logits.npy'), logits)
    np.save(os.path.join(d, 'labels.npy'), labels)
    np.save(os.path.join(d, 'head.weight.npy'), weight)
    np.save(os.path.join(d, 'head.bias.npy'), bias)
    np.save(os.path.join(d, 'extra.npy'), np.zeros(3))  # ignored
    with open(os.path.join(d, 'README.txt'), 'w') as f:
        f.write('ignored by napood\n')

    fmap16 = fmap.astype('<f2')
    write_st(os.path.join(ROOT, 'dump.safetensors'), [
        ('featureMap', 'F16', fmap16), ('pooled', 'F32', pooled.astype('<f4')), ('logits', 'F32', logits),
        ('labels', 'I64', labels), ('head.weight', 'F32', weight), ('head.bias', 'F32', bias), ('other', 'U8', np.zeros(2, 'u1'))],
        metadata={'model': 'fixture'})

    dn = os.path.join(ROOT, 'dump_nan')
    os.makedirs(dn)
    pn = pooled.astype('<f4').copy()
    pn[7, 2] = np.nan
    pn[9, 0] = np.inf
    np.save(os.path.join(dn, 'pooled.npy'), pn)
    np.save(os.path.join(dn, 'labels.npy'), labels.astype('<f4'))

    expected['dump'] = {
        'n': n, 'c': c, 'h': h, 'w': w, 'k': k,
        'featureMap_f32bits': f32bits(fmap),
        'featureMap16_f32bits': f32bits(fmap16),
        'pooled_mean_f64': pooled.reshape(-1).tolist(),
        'pooled16_mean_f64': fmap16.astype(np.float64).mean(axis=(2, 3)).reshape(-1).tolist(),
        'pooled_f32bits': f32bits(pooled),
        'logits_f32bits': f32bits(logits),
        'labels': labels.tolist(),
        'weight_f32bits': f32bits(weight),
        'bias_f32bits': f32bits(bias),
    }


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    make_npy()
    make_st()
    make_dumps()
    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=None, separators=(',', ':'))
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(ROOT) for fn in fns)
    print(f'wrote {ROOT} ({total} bytes)')


if __name__ == '__main__':
    main()
