/**
 * Reductions (g = gradient of the output y):
 *   GlobalAveragePool, ReduceMean, ReduceSum   Expand(g / count, Shape(x))  (the batch axis 0 is never reduced)
 */
import { describe } from '../../../errors.js';
import { attr, attrInt } from '../../nodes.js';
import { numel } from '../../proto.js';
import type { GradRule, VjpContext } from './rule.js';

function reduceBack(c: VjpContext, gy: string): void {
  const b = c.b;
  const n = c.n;
  const x = n.inputs[0]!;
  if (!c.dep(x)) return;
  const xs = c.shape(x);
  const rank = xs.length;
  let axes: number[];
  const axesAttr = attr(n, 'axes');
  if (axesAttr !== undefined) axes = axesAttr.ints.slice();
  else if (n.inputs[1] !== undefined && n.inputs[1] !== '') axes = c.value(n.inputs[1]);
  else axes = [];
  if (axes.length === 0) {
    if (attrInt(n, 'noop_with_empty_axes', 0) === 1) { c.add(x, gy); return; }
    axes = xs.map((_, k) => k);
  }
  axes = axes.map((a) => (a < 0 ? a + rank : a));
  if (axes.includes(0)) c.fail(`${n.opType} that keeps the batch axis 0`, `axes ${describe(axes)}`);
  const keep = attrInt(n, 'keepdims', 1) === 1;
  let gk = gy;
  if (!keep) {
    const target = xs.map((d, k) => (k === 0 ? -1 : axes.includes(k) ? 1 : d));
    gk = b.op1('Reshape', [gy, b.i64(target)]);
  }
  if (n.opType === 'ReduceMean') {
    const count = axes.reduce((p, a) => p * xs[a]!, 1);
    gk = b.op1('Mul', [gk, b.f32([1 / count])]);
  }
  c.add(x, b.op1('Expand', [gk, b.shape(x)]));
}

/** The axes input of ReduceMean (from opset 18) / ReduceSum (from opset 13). */
const axesInput = (from: number) => (n: { inputs: readonly string[] }, opset: number): string[] =>
  opset >= from && n.inputs[1] !== undefined && n.inputs[1] !== '' ? [n.inputs[1]] : [];

export const REDUCE_RULES: readonly GradRule[] = [
  {
    op: 'GlobalAveragePool',
    vjp(c, gy) {
      const x = c.n.inputs[0]!;
      const count = numel(c.shape(x).slice(2));
      c.add(x, c.b.op1('Expand', [c.b.op1('Mul', [gy, c.b.f32([1 / count])]), c.b.shape(x)]));
    },
  },
  { op: 'ReduceMean', valueInputs: axesInput(18), vjp: reduceBack },
  { op: 'ReduceSum', valueInputs: axesInput(13), vjp: reduceBack },
];
