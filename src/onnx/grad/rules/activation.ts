/**
 * Activations (g = gradient of the output y; as PyTorch's autograd derivatives.yaml):
 *   Relu                 Where(y > 0, g, 0)                      (threshold_backward)
 *   LeakyRelu            Where(x > 0, g, α·g)
 *   Clip                 Where(min ≤ x ≤ max, g, 0)              (clamp_backward)
 *   Sigmoid / Tanh       g·y·(1 − y) / g·(1 − y²)
 *   HardSigmoid          Where(0 < αx + β < 1, α·g, 0)
 *   HardSwish            g · (hardsigmoid(x) + Where(|x| < 3, x/6, 0))
 */
import { attrFloat } from '../../nodes.js';
import type { GradRule } from './rule.js';

export const ACTIVATION_RULES: readonly GradRule[] = [
  {
    op: 'Relu',
    vjp(c, gy) {
      const mask = c.b.op1('Greater', [c.n.outputs[0]!, c.b.f32([0])]);
      c.add(c.n.inputs[0]!, c.b.op1('Where', [mask, gy, c.b.f32([0])]));
    },
  },
  {
    op: 'LeakyRelu',
    vjp(c, gy) {
      const b = c.b;
      const x = c.n.inputs[0]!;
      const alpha = attrFloat(c.n, 'alpha', 0.01);
      const mask = b.op1('Greater', [x, b.f32([0])]);
      c.add(x, b.op1('Where', [mask, gy, b.op1('Mul', [gy, b.f32([alpha])])]));
    },
  },
  {
    op: 'Clip',
    vjp(c, gy) {
      const b = c.b;
      const [x, lo, hi] = c.n.inputs;
      if (c.dep(lo) || c.dep(hi)) c.fail('Clip bounds that do not depend on the input', 'bounds computed from it');
      let mask: string | undefined;
      if (lo !== undefined && lo !== '') mask = b.op1('Not', [b.op1('Less', [x!, lo])]);
      if (hi !== undefined && hi !== '') {
        const m2 = b.op1('Not', [b.op1('Greater', [x!, hi])]);
        mask = mask === undefined ? m2 : b.op1('And', [mask, m2]);
      }
      c.add(x!, mask === undefined ? gy : b.op1('Where', [mask, gy, b.f32([0])]));
    },
  },
  {
    op: 'Sigmoid',
    vjp(c, gy) {
      const y = c.n.outputs[0]!;
      const d = c.b.op1('Mul', [y, c.b.op1('Sub', [c.b.f32([1]), y])]);
      c.add(c.n.inputs[0]!, c.b.op1('Mul', [gy, d]));
    },
  },
  {
    op: 'Tanh',
    vjp(c, gy) {
      const y = c.n.outputs[0]!;
      const d = c.b.op1('Sub', [c.b.f32([1]), c.b.op1('Mul', [y, y])]);
      c.add(c.n.inputs[0]!, c.b.op1('Mul', [gy, d]));
    },
  },
  {
    op: 'HardSigmoid', // y = max(0, min(1, αx + β)): slope α where 0 < αx + β < 1
    vjp(c, gy) {
      const b = c.b;
      const x = c.n.inputs[0]!;
      const alpha = attrFloat(c.n, 'alpha', 0.2);
      const v = b.op1('Add', [b.op1('Mul', [x, b.f32([alpha])]), b.f32([attrFloat(c.n, 'beta', 0.5)])]);
      const inside = b.op1('And', [b.op1('Greater', [v, b.f32([0])]), b.op1('Less', [v, b.f32([1])])]);
      c.add(x, b.op1('Where', [inside, b.op1('Mul', [gy, b.f32([alpha])]), b.f32([0])]));
    },
  },
  {
    op: 'HardSwish', // y = x · hardsigmoid(x; 1/6, 1/2): dy/dx = hardsigmoid(x) + x/6 where −3 < x < 3
    vjp(c, gy) {
      const b = c.b;
      const x = c.n.inputs[0]!;
      const hs = b.op1('HardSigmoid', [x], [{ name: 'alpha', f: 1 / 6 }, { name: 'beta', f: 0.5 }]);
      const inside = b.op1('And', [b.op1('Greater', [x, b.f32([-3])]), b.op1('Less', [x, b.f32([3])])]);
      const d = b.op1('Add', [hs, b.op1('Where', [inside, b.op1('Mul', [x, b.f32([1 / 6])]), b.f32([0])])]);
      c.add(x, b.op1('Mul', [gy, d]));
    },
  },
];
