/**
 * Matrix products with a constant right-hand side (g = gradient of the output y):
 *   Gemm (transA = 0)    α · g · Bᵀ (Gemm with transB flipped)
 *   MatMul [.., N, C] × [C, K]   g · Bᵀ
 */
import { shapeString } from '../../../errors.js';
import { attrFloat, attrInt } from '../../nodes.js';
import type { GradRule } from './rule.js';

export const LINEAR_RULES: readonly GradRule[] = [
  {
    op: 'Gemm',
    vjp(c, gy) {
      const [a, w, bias] = c.n.inputs;
      if (c.dep(w) || c.dep(bias)) c.fail('Gemm whose B and C do not depend on the input', 'B or C computed from it');
      if (!c.dep(a)) return;
      // transA = 1 would put the batch on A's second axis (refused by the probe check before this)
      if (attrInt(c.n, 'transA', 0) !== 0) c.fail('Gemm with transA = 0', 'transA = 1');
      const alpha = attrFloat(c.n, 'alpha', 1);
      const transB = attrInt(c.n, 'transB', 0);
      c.add(a, c.b.op1('Gemm', [gy, w!], [{ name: 'alpha', f: alpha }, { name: 'transB', i: 1 - transB }]));
    },
  },
  {
    op: 'MatMul',
    shapeInputs: (n) => [n.inputs[1]!],
    vjp(c, gy) {
      const [a, w] = c.n.inputs;
      if (c.dep(w)) c.fail('MatMul whose second input does not depend on the input', 'both inputs computed from it');
      if (!c.dep(a)) return;
      const ws = c.shape(w!);
      const as = c.shape(a);
      if (ws.length !== 2 || as.length < 2) c.fail('MatMul of an [..., N, C] activation by a [C, K] matrix', `${shapeString(as)} × ${shapeString(ws)}`);
      const wt = c.b.op1('Transpose', [w!], [{ name: 'perm', ints: [1, 0] }]);
      c.add(a, c.b.op1('MatMul', [gy, wt]));
    },
  },
];
