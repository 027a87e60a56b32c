/**
 * Normalisations (g = gradient of the output y):
 *   BatchNormalization   g · scale / sqrt(var + ε), per channel  (inference mode only)
 *   LayerNormalization   (1/σ)(ĝ − mean ĝ − x̂ · mean(ĝ x̂)), ĝ = g · scale, over the normalised axes
 */
import { attrFloat, attrInt } from '../../nodes.js';
import type { GradRule } from './rule.js';

export const NORMALIZATION_RULES: readonly GradRule[] = [
  {
    op: 'BatchNormalization',
    vjp(c, gy) {
      const b = c.b;
      const n = c.n;
      const x = n.inputs[0]!;
      if (!c.dep(x)) return;
      if (attrInt(n, 'training_mode', 0) !== 0) c.fail('BatchNormalization in inference mode', 'training_mode = 1');
      const [scale, , , variance] = n.inputs.slice(1);
      if (n.inputs.slice(1).some((t) => c.dep(t))) c.fail('BatchNormalization parameters that do not depend on the input', 'parameters computed from it');
      const eps = attrFloat(n, 'epsilon', 1e-5);
      const xs = c.shape(x);
      const factor = b.op1('Div', [scale!, b.op1('Sqrt', [b.op1('Add', [variance!, b.f32([eps])])])]);
      const target = [xs[1]!, ...new Array<number>(Math.max(xs.length - 2, 0)).fill(1)];
      const f = b.op1('Reshape', [factor, b.i64(target)]);
      c.add(x, b.op1('Mul', [gy, f]));
    },
  },
  {
    op: 'LayerNormalization',
    // y = x̂ · scale + bias, x̂ = (x − μ) / σ over the axes from `axis` on (ConvNeXt, ViT; opset ≥ 17):
    // dx = (1/σ) · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)),  ĝ = g · scale   (native_layer_norm_backward)
    vjp(c, gy) {
      const b = c.b;
      const n = c.n;
      const x = n.inputs[0]!;
      if (!c.dep(x)) return;
      if (n.inputs.slice(1).some((t) => t !== '' && c.dep(t))) c.fail('LayerNormalization scale and bias that do not depend on the input', 'parameters computed from it');
      const rank = c.shape(x).length;
      const axis0 = attrInt(n, 'axis', -1);
      const first = axis0 < 0 ? axis0 + rank : axis0;
      const axes = Array.from({ length: rank - first }, (_, k) => first + k);
      const mean = (t: string): string => b.reduceMean(t, axes);
      const xc = b.op1('Sub', [x, mean(x)]);
      const rstd = b.op1('Reciprocal', [b.op1('Sqrt', [b.op1('Add', [mean(b.op1('Mul', [xc, xc])), b.f32([attrFloat(n, 'epsilon', 1e-5)])])])]);
      const xhat = b.op1('Mul', [xc, rstd]);
      const gh = b.op1('Mul', [gy, n.inputs[1]!]);
      const inner = b.op1('Sub', [b.op1('Sub', [gh, mean(gh)]), b.op1('Mul', [xhat, mean(b.op1('Mul', [gh, xhat]))])]);
      c.add(x, b.op1('Mul', [rstd, inner]));
    },
  },
];
