/**
 * Elementwise arithmetic (g = gradient of the output y):
 *   Add / Sub / Mul / Div  with broadcasting: the product rule, then ReduceSum over the broadcast axes
 *   Neg / Exp / Sqrt       −g / g·y / g / (2y)
 *   Erf                    g · 2/√π · exp(−x²)                      (GELU at opsets < 20)
 *   Pow (exponent e not computed from x)   g · e · xᵉ⁻¹             (LayerNorm's variance)
 */
import { DataType } from '../../proto.js';
import type { GradRule, VjpContext } from './rule.js';

/**
 * A two-input elementwise op y = a ∘ c: `da` / `dc` map g to the gradient of a / c before
 * unbroadcasting (undefined: g itself).
 */
function binary(da?: (c: VjpContext, gy: string) => string, dc?: (c: VjpContext, gy: string) => string) {
  return (c: VjpContext, gy: string): void => {
    const [a, d] = [c.n.inputs[0]!, c.n.inputs[1]!];
    const y = c.n.outputs[0]!;
    if (c.dep(a)) c.add(a, c.unbroadcast(da ? da(c, gy) : gy, a, y));
    if (c.dep(d)) c.add(d, c.unbroadcast(dc ? dc(c, gy) : gy, d, y));
  };
}

export const ARITHMETIC_RULES: readonly GradRule[] = [
  { op: 'Add', vjp: binary() },
  { op: 'Sub', vjp: binary(undefined, (c, gy) => c.b.op1('Neg', [gy])) },
  {
    op: 'Mul',
    vjp: binary((c, gy) => c.b.op1('Mul', [gy, c.n.inputs[1]!]), (c, gy) => c.b.op1('Mul', [gy, c.n.inputs[0]!])),
  },
  {
    op: 'Div', // d(a/c)/dc = −y / c
    vjp: binary((c, gy) => c.b.op1('Div', [gy, c.n.inputs[1]!]),
      (c, gy) => c.b.op1('Neg', [c.b.op1('Mul', [gy, c.b.op1('Div', [c.n.outputs[0]!, c.n.inputs[1]!])])])),
  },
  { op: 'Neg', vjp: (c, gy) => c.add(c.n.inputs[0]!, c.b.op1('Neg', [gy])) },
  { op: 'Exp', vjp: (c, gy) => c.add(c.n.inputs[0]!, c.b.op1('Mul', [gy, c.n.outputs[0]!])) },
  {
    op: 'Sqrt', // d√x = 1 / (2√x)  (LayerNorm's standard deviation)
    vjp: (c, gy) => c.add(c.n.inputs[0]!, c.b.op1('Div', [c.b.op1('Mul', [gy, c.b.f32([0.5])]), c.n.outputs[0]!])),
  },
  {
    op: 'Erf', // d erf(x) = 2/√π · exp(−x²)  (GELU as exported at opsets < 20)
    vjp(c, gy) {
      const b = c.b;
      const x = c.n.inputs[0]!;
      const d = b.op1('Mul', [b.f32([2 / Math.sqrt(Math.PI)]), b.op1('Exp', [b.op1('Neg', [b.op1('Mul', [x, x])])])]);
      c.add(x, b.op1('Mul', [gy, d]));
    },
  },
  {
    op: 'Pow', // d xᵉ = e · xᵉ⁻¹ for an exponent that does not depend on the input (LayerNorm's square)
    vjp(c, gy) {
      const b = c.b;
      const [x, e] = [c.n.inputs[0]!, c.n.inputs[1]!];
      if (c.dep(e)) c.fail('Pow with an exponent that does not depend on the input', 'an exponent computed from it');
      const ef = b.op1('Cast', [e], [{ name: 'to', i: DataType.FLOAT }]);
      const d = b.op1('Mul', [ef, b.op1('Pow', [x, b.op1('Sub', [ef, b.f32([1])])])]);
      c.add(x, c.unbroadcast(b.op1('Mul', [gy, d]), x, c.n.outputs[0]!));
    },
  },
];
