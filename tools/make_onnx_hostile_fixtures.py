#!/usr/bin/python3
"""Hostile ONNX models for issue #10 in test/fixtures/onnx-hostile/ (Debian's /usr/bin/python3).

Built with onnx.helper from one tiny classifier (Conv 3→4, 3×3, pad 1 → Relu → GlobalAveragePool →
Flatten → Gemm 4→5; input [N, 3, 8, 8], numpy weights, seed 10), WITHOUT onnx.checker (it would
reject most of them). test/onnx-hostile/*.test.ts says what napood must do with each.

  tiny.onnx                 the classifier, weights inside; input.npy [4, 3, 8, 8] and logits.npy
                            (numpy float64 reference) for the runs below
  external/model.onnx       the same model saved with save_as_external_data=True,
           weights.bin      all_tensors_to_one_file=True, location='weights.bin', size_threshold=0
  external/absolute.onnx    conv_w at location "/etc/passwd"
  external/escape.onnx      conv_w at "../../../../etc/passwd"
  external/missing.onnx     conv_w at "nothere.bin"
  external/offset.onnx      conv_w at offset 1000000 of weights.bin (past its end)
  external/length.onnx      conv_w with length 100 (it needs 432 bytes)
  external/memtag.onnx      conv_w at onnxruntime's in-memory tag "*/_ORT_MEM_ADDR_/*" (offset = an address)
  external/backslash.onnx   conv_w at "..\\..\\weights.bin" (a Windows-style escape)
  stray.onnx                tiny.onnx whose conv_w also has external_data entries (location "/etc/passwd") but
                            data_location DEFAULT: its values are the ones inside (as onnxruntime reads them)
  short/model.onnx          external data in a weights.bin cut to 100 bytes
       weights.bin
  (the symlink escape and the decoy weights.bin in the working folder are made by the tests)

  cycle_identity.onnx       two Identity nodes feeding each other before the pooling (the pooling reads one)
  cycle_self.onnx           a Relu that reads its own output before the pooling
  cycle_head.onnx           a cycle between the pooled feature and the logits (Add ↔ Identity)
  dup_output.onnx           two nodes compute the same tensor
  init_huge.onnx            an initializer of dims [1000000, 1000000] (4 bytes of raw_data) on the path
  init_negative.onnx        an initializer of dims [-10, 32]
  init_mismatch.onnx        an initializer of dims [4, 3] with 8 bytes of raw_data
  const_huge.onnx           a Constant node whose value has dims [1000000, 1000000]
  sparse_huge.onnx          a sparse initializer of dense dims [60000, 60000] (onnxruntime densifies: 13.4 GiB)
  cos_huge.onnx             ConstantOfShape to the constant shape [60000, 60000] (onnxruntime folds it at load)
  expand_huge.onnx          Expand of a scalar to [60000, 60000]
  range_huge.onnx           Range(0, 1e12, 1)
  head_huge.onnx            the Gemm weight with dims [1000000, 1000000]
  conv_rank5.onnx           the Conv weight with dims [4, 3, 3, 3, 1] on the rank-4 input (onnxruntime 1.22 aborts the
                            process on it: a failed bounds assertion in Conv shape inference)
  input_rank3.onnx          input [3, 8, 8] (rank 3) into the rank-4 Conv weight (the same abort)
  input_huge.onnx           input [N, 3, 70000, 70000]
  input_zero_channels.onnx  input [N, 0, 8, 8]
  input_symbolic.onnx       input [N, C, H, W] (every dim from the caller's inputShape)
  batch_huge.onnx           input [100000, 3, 64, 64] (a fixed batch of 100000: 4.6 GiB per batch)
  opset_9999.onnx, opset_23.onnx, opset_0.onnx   ai.onnx opset out of onnxruntime 1.22's range (1 to 22)
  opset_22.onnx             the highest opset onnxruntime 1.22 supports (loads)
  ml_opset_6.onnx           ai.onnx.ml opset 6 (onnxruntime 1.22: up to 5)
  ir_11.onnx                IR version 11 (onnxruntime 1.22: up to 10)
  nested_if.onnx            If bodies nested 40 deep (then-branches; every else-branch is Identity(c))

Usage: /usr/bin/python3 tools/make_onnx_hostile_fixtures.py [out_dir]   (default test/fixtures/onnx-hostile)
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'test', 'fixtures', 'onnx-hostile')

rng = np.random.default_rng(10)
CONV_W = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
CONV_B = rng.standard_normal((4,)).astype(np.float32)
FC_W = rng.standard_normal((5, 4)).astype(np.float32)
FC_B = rng.standard_normal((5,)).astype(np.float32)
X = rng.standard_normal((4, 3, 8, 8)).astype(np.float32)


def reference_logits(x):
    """Conv (pad 1) → Relu → mean over H, W → Gemm (transB), in float64."""
    x = x.astype(np.float64)
    n, _, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, 4, h, w))
    for i in range(3):
        for j in range(3):
            out += np.einsum('nchw,oc->nohw', xp[:, :, i:i + h, j:j + w], CONV_W[:, :, i, j].astype(np.float64))
    out += CONV_B.astype(np.float64)[None, :, None, None]
    z = np.maximum(out, 0).mean(axis=(2, 3))
    return z @ FC_W.astype(np.float64).T + FC_B.astype(np.float64)


def tiny(opset=13, ir=8, input_shape=('N', 3, 8, 8), pre=(), post_pool=(), extra_inits=(), relu_in='c', pool_in='r',
         gemm_in='z', fc_w=None, sparse=()):
    """The classifier, with `pre` nodes between Relu and the pooling (the pooling reads `pool_in`),
    `post_pool` nodes between Flatten and the Gemm (the Gemm reads `gemm_in`)."""
    inits = [numpy_helper.from_array(CONV_W, 'conv_w'), numpy_helper.from_array(CONV_B, 'conv_b'),
             fc_w if fc_w is not None else numpy_helper.from_array(FC_W, 'fc_w'), numpy_helper.from_array(FC_B, 'fc_b'),
             *extra_inits]
    nodes = [helper.make_node('Conv', ['x', 'conv_w', 'conv_b'], ['c'], name='conv', pads=[1, 1, 1, 1]),
             helper.make_node('Relu', [relu_in], ['r'], name='relu'),
             *pre,
             helper.make_node('GlobalAveragePool', [pool_in], ['p'], name='gap'),
             helper.make_node('Flatten', ['p'], ['z'], name='flatten'),
             *post_pool,
             helper.make_node('Gemm', [gemm_in, 'fc_w', 'fc_b'], ['logits'], name='fc', transB=1)]
    g = helper.make_graph(nodes, 'tiny', [helper.make_tensor_value_info('x', TensorProto.FLOAT, list(input_shape))],
                          [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [input_shape[0], 5])], inits)
    g.sparse_initializer.extend(sparse)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)], producer_name='napood hostile fixtures')
    m.ir_version = ir
    return m


def raw_tensor(name, dims, nbytes):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = b'\0' * nbytes
    return t


def save(model, *path):
    p = os.path.join(OUT, *path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    onnx.save_model(model, p)
    print(f'{os.path.relpath(p, OUT)}: {os.path.getsize(p)} bytes')


def side_sum(t):
    """Nodes that reduce tensor `t` to a scalar and add it to the conv output (Relu then reads 'c2')."""
    return [helper.make_node('ReduceSum', [t], ['side_sum'], name='side_sum', keepdims=0),
            helper.make_node('Add', ['c', 'side_sum'], ['c2'], name='side_add')]


def with_external(model_path, edit):
    """A copy of external/model.onnx (external data entries kept, not loaded) with conv_w's entries edited."""
    m = onnx.load(os.path.join(OUT, 'external', 'model.onnx'), load_external_data=False)
    t = next(t for t in m.graph.initializer if t.name == 'conv_w')
    entries = {e.key: e.value for e in t.external_data}
    edit(entries)
    del t.external_data[:]
    for k, v in entries.items():
        e = t.external_data.add()
        e.key = k
        e.value = v
    onnx.save_model(m, os.path.join(OUT, *model_path))
    print(f'{os.path.join(*model_path)}: conv_w external data {entries}')


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    save(tiny(), 'tiny.onnx')
    np.save(os.path.join(OUT, 'input.npy'), X)
    np.save(os.path.join(OUT, 'logits.npy'), reference_logits(X).astype(np.float32))

    # external data
    os.makedirs(os.path.join(OUT, 'external'))
    onnx.save_model(tiny(), os.path.join(OUT, 'external', 'model.onnx'), save_as_external_data=True,
                    all_tensors_to_one_file=True, location='weights.bin', size_threshold=0)
    print('external/model.onnx + weights.bin:', os.path.getsize(os.path.join(OUT, 'external', 'weights.bin')), 'bytes')
    with_external(('external', 'absolute.onnx'), lambda e: e.update(location='/etc/passwd', offset='0'))
    with_external(('external', 'escape.onnx'), lambda e: e.update(location='../../../../etc/passwd', offset='0'))
    with_external(('external', 'missing.onnx'), lambda e: e.update(location='nothere.bin'))
    with_external(('external', 'offset.onnx'), lambda e: e.update(offset='1000000'))
    with_external(('external', 'length.onnx'), lambda e: e.update(length='100'))
    with_external(('external', 'memtag.onnx'), lambda e: e.update(location='*/_ORT_MEM_ADDR_/*', offset='4096'))
    with_external(('external', 'backslash.onnx'), lambda e: e.update(location='..\\..\\weights.bin'))
    os.makedirs(os.path.join(OUT, 'short'))
    shutil.copy(os.path.join(OUT, 'external', 'model.onnx'), os.path.join(OUT, 'short', 'model.onnx'))
    with open(os.path.join(OUT, 'external', 'weights.bin'), 'rb') as f:
        head = f.read(100)
    with open(os.path.join(OUT, 'short', 'weights.bin'), 'wb') as f:
        f.write(head)
    print('short/: weights.bin cut to 100 bytes')
    m = tiny()
    for k, v in [('location', '/etc/passwd'), ('offset', '0'), ('length', '432')]:
        e = m.graph.initializer[0].external_data.add()
        e.key = k
        e.value = v
    save(m, 'stray.onnx')

    # cycles and single assignment
    save(tiny(pre=[helper.make_node('Identity', ['b'], ['a'], name='id_a'), helper.make_node('Identity', ['a'], ['b'], name='id_b')],
              pool_in='a'), 'cycle_identity.onnx')
    save(tiny(pre=[helper.make_node('Relu', ['s'], ['s'], name='self_relu')], pool_in='s'), 'cycle_self.onnx')
    save(tiny(post_pool=[helper.make_node('Add', ['z', 'h2'], ['h1'], name='head_add'),
                         helper.make_node('Identity', ['h1'], ['h2'], name='head_id')], gemm_in='h1'), 'cycle_head.onnx')
    save(tiny(pre=[helper.make_node('Identity', ['r'], ['d'], name='dup_1'), helper.make_node('Relu', ['r'], ['d'], name='dup_2')],
              pool_in='d'), 'dup_output.onnx')

    # absurd tensors and allocation bombs (a side branch reduced to a scalar and added to the conv output)
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)  # noqa: E731
    save(side_model(side_sum('big'), [raw_tensor('big', [1000000, 1000000], 4)]), 'init_huge.onnx')
    save(side_model(side_sum('neg'), [raw_tensor('neg', [-10, 32], 4)]), 'init_negative.onnx')
    save(side_model(side_sum('mis'), [raw_tensor('mis', [4, 3], 8)]), 'init_mismatch.onnx')
    save(side_model([helper.make_node('Constant', [], ['k'], name='big_constant', value=raw_tensor('kv', [1000000, 1000000], 4)),
                     *side_sum('k')], []), 'const_huge.onnx')
    sp = helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.0], dtype=np.float32), 'sp'), i64('sp_idx', [0]), [60000, 60000])
    save(side_model(side_sum('sp'), [], sparse=[sp]), 'sparse_huge.onnx')
    save(side_model([helper.make_node('ConstantOfShape', ['shp'], ['k'], name='big_cos'), *side_sum('k')], [i64('shp', [60000, 60000])]),
         'cos_huge.onnx')
    save(side_model([helper.make_node('Expand', ['one', 'shp'], ['k'], name='big_expand'), *side_sum('k')],
                    [i64('shp', [60000, 60000]), numpy_helper.from_array(np.array([1.0], dtype=np.float32), 'one')]), 'expand_huge.onnx')
    save(side_model([helper.make_node('Range', ['r0', 'r1', 'r2'], ['k'], name='big_range'), *side_sum('k')],
                    [numpy_helper.from_array(np.array(0, dtype=np.int64), 'r0'), numpy_helper.from_array(np.array(10 ** 12, dtype=np.int64), 'r1'),
                     numpy_helper.from_array(np.array(1, dtype=np.int64), 'r2')]), 'range_huge.onnx')
    save(tiny(fc_w=raw_tensor('fc_w', [1000000, 1000000], 4)), 'head_huge.onnx')
    m = tiny()
    m.graph.initializer[0].dims.append(1)
    save(m, 'conv_rank5.onnx')
    save(tiny(input_shape=(3, 8, 8)), 'input_rank3.onnx')

    # input shapes
    save(tiny(input_shape=('N', 3, 70000, 70000)), 'input_huge.onnx')
    save(tiny(input_shape=('N', 0, 8, 8)), 'input_zero_channels.onnx')
    save(tiny(input_shape=('N', 'C', 'H', 'W')), 'input_symbolic.onnx')
    save(tiny(input_shape=(100000, 3, 64, 64)), 'batch_huge.onnx')

    # opsets and IR versions
    for name, opset in [('opset_9999', 9999), ('opset_23', 23), ('opset_0', 0), ('opset_22', 22)]:
        save(tiny(opset=opset), f'{name}.onnx')
    m = tiny()
    m.opset_import.append(helper.make_opsetid('ai.onnx.ml', 6))
    save(m, 'ml_opset_6.onnx')
    save(tiny(ir=11), 'ir_11.onnx')

    # subgraphs nested 40 deep: If(cond) { If(cond) { … Identity(c) } } on the path to the pooling
    leaf = helper.make_graph([helper.make_node('Identity', ['c'], ['deep'], name='deepest')], 'deep0', [],
                             [helper.make_tensor_value_info('deep', TensorProto.FLOAT, None)])
    body = leaf
    for k in range(40):
        node = helper.make_node('If', ['cond'], ['deep'], name=f'if{k}', then_branch=body, else_branch=leaf)
        body = helper.make_graph([node], f'deep{k + 1}', [], [helper.make_tensor_value_info('deep', TensorProto.FLOAT, None)])
    save(tiny(pre=[body.node[0]], relu_in='deep', extra_inits=[numpy_helper.from_array(np.array(True), 'cond')]), 'nested_if.onnx')


def side_model(nodes, inits, sparse=()):
    """The classifier with `nodes` right after the Conv (they compute 'c2', which the Relu reads)."""
    m = tiny(relu_in='c2', extra_inits=inits, sparse=sparse)
    g = m.graph
    kept = list(g.node)
    del g.node[:]
    g.node.extend(kept[:1] + list(nodes) + kept[1:])
    return m


if __name__ == '__main__':
    main()
