/**
 * Conv (g = gradient of the output y; weight and bias constant or at least not computed from x):
 *   stride 1   Conv(g, W flipped and transposed per group) with pads k_eff − 1 − p
 *   strided    ConvTranspose(g, W) with the same strides / dilations / group, pads and
 *              output_padding chosen so that the result has x's exact size
 * ConvTranspose itself is not differentiated (refused).
 */
import { attrInt, attrInts } from '../../nodes.js';
import type { GradRule } from './rule.js';
import { transposeWindow, windowPads } from './window.js';

export const CONV_RULES: readonly GradRule[] = [
  {
    op: 'Conv',
    shapeInputs: (n) => [n.inputs[1]!],
    vjp(c, gy) {
      const n = c.n;
      const [x, w, bias] = n.inputs;
      if (c.dep(w) || c.dep(bias)) c.fail('Conv whose weight and bias do not depend on the input', 'weight or bias computed from it');
      if (!c.dep(x)) return;
      const xs = c.shape(x);
      const ys = c.shape(n.outputs[0]!);
      const ws = c.shape(w!);
      const r = xs.length - 2;
      const kernel = ws.slice(2);
      const strides = attrInts(n, 'strides', new Array<number>(r).fill(1));
      const dilations = attrInts(n, 'dilations', new Array<number>(r).fill(1));
      const group = attrInt(n, 'group', 1);
      const kEff = kernel.map((k, j) => (k - 1) * dilations[j]! + 1);
      const [pb, pe] = windowPads(n, xs, ys, kEff, strides, c.fail);
      const flippedPads = [...kEff.map((k, j) => k - 1 - pb[j]!), ...kEff.map((k, j) => k - 1 - pe[j]!)];
      const b = c.b;
      if (strides.every((v) => v === 1) && flippedPads.every((v) => v >= 0)) {
        // stride 1: a plain Conv of g with the flipped, in/out-transposed kernel (onnxruntime runs
        // Conv much faster than ConvTranspose, depthwise above all); the kernel is rearranged by
        // constant-foldable ops: W [M, C/G, k…] → flip k → [G, M/G, C/G, k…] → [G, C/G, M/G, k…] → [C, M/G, k…]
        const m = ws[0]!;
        const cg = ws[1]!;
        const spatialAxes = kernel.map((_, j) => j + 2);
        const flipped = b.slice(w!, kernel.map(() => -1), kernel.map(() => -(2 ** 53 - 1)), spatialAxes, kernel.map(() => -1));
        const grouped = b.op1('Reshape', [flipped, b.i64([group, m / group, cg, ...kernel])]);
        const swapped = b.op1('Transpose', [grouped], [{ name: 'perm', ints: [0, 2, 1, ...kernel.map((_, j) => j + 3)] }]);
        const wt = b.op1('Reshape', [swapped, b.i64([group * cg, m / group, ...kernel])]);
        c.add(x, b.op1('Conv', [gy, wt], [
          { name: 'kernel_shape', ints: kernel }, { name: 'dilations', ints: dilations }, { name: 'pads', ints: flippedPads },
          { name: 'group', i: group },
        ]));
        return;
      }
      c.add(x, transposeWindow(b, gy, w!, xs, ys, kernel, strides, dilations, pb, group));
    },
  },
];
