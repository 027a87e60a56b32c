/**
 * Ops that move values without changing them (g = gradient of the output y):
 *   Identity / Dropout (inference)              g
 *   Flatten / Reshape / Squeeze / Unsqueeze    Reshape(g, Shape(x))
 *   Transpose                                   Transpose(g, inverse perm)
 *   Concat / Split                              Slice of g / Concat of the gradients (zeros for unused outputs)
 *   Slice (steps 1)                             Pad of g
 *   Pad (constant)                              Slice of g (and Pad for negative pads)
 */
import { describe } from '../../../errors.js';
import { attrInt, attrInts, attrString } from '../../nodes.js';
import type { NodeProto } from '../../proto.js';
import type { GradRule, VjpContext } from './rule.js';

const pick = (n: NodeProto, ...idx: number[]): string[] => idx.map((k) => n.inputs[k]).filter((t): t is string => t !== undefined && t !== '');

function passThrough(c: VjpContext, gy: string): void {
  const x = c.n.inputs[0]!;
  if (c.dep(x)) c.add(x, gy);
}

function reshapeBack(c: VjpContext, gy: string): void {
  const x = c.n.inputs[0]!;
  if (c.dep(x)) c.add(x, c.b.op1('Reshape', [gy, c.b.shape(x)]));
}

/** The normalised `axis` attribute of a node, against a tensor of rank `rank`. */
function axisOf(n: NodeProto, rank: number): number {
  const axis = attrInt(n, 'axis', 0);
  return axis < 0 ? axis + rank : axis;
}

export const SHAPE_RULES: readonly GradRule[] = [
  { op: 'Identity', vjp: passThrough },
  { op: 'Dropout', vjp: passThrough },
  { op: 'Flatten', vjp: reshapeBack },
  { op: 'Reshape', vjp: reshapeBack },
  { op: 'Squeeze', vjp: reshapeBack },
  { op: 'Unsqueeze', vjp: reshapeBack },
  {
    op: 'Transpose',
    vjp(c, gy) {
      const x = c.n.inputs[0]!;
      const rank = c.shape(x).length;
      const perm = attrInts(c.n, 'perm', Array.from({ length: rank }, (_, k) => rank - 1 - k));
      const inv = new Array<number>(rank);
      perm.forEach((p, k) => { inv[p] = k; });
      if (c.dep(x)) c.add(x, c.b.op1('Transpose', [gy], [{ name: 'perm', ints: inv }]));
    },
  },
  {
    op: 'Concat',
    shapeInputs: (n) => n.inputs,
    vjp(c, gy) {
      const axis = axisOf(c.n, c.shape(c.n.outputs[0]!).length);
      let offset = 0;
      for (const t of c.n.inputs) {
        const size = c.shape(t)[axis]!;
        if (c.dep(t)) c.add(t, c.b.slice(gy, [offset], [offset + size], [axis]));
        offset += size;
      }
    },
  },
  {
    op: 'Split',
    multiOutput: true,
    valueInputs: (n) => pick(n, 1),
    vjp(c) {
      const x = c.n.inputs[0]!;
      if (!c.dep(x)) return;
      const axis = axisOf(c.n, c.shape(x).length);
      const parts = c.n.outputs.filter((o) => o !== '').map((o) => c.grad(o) ?? c.b.zerosLike(o));
      c.add(x, c.b.op1('Concat', parts, [{ name: 'axis', i: axis }]));
    },
  },
  {
    op: 'Slice',
    valueInputs: (n) => pick(n, 1, 2, 3, 4),
    vjp(c, gy) {
      const n = c.n;
      const x = n.inputs[0]!;
      if (!c.dep(x)) return;
      if (n.inputs.slice(1).some((t) => c.dep(t))) c.fail('Slice bounds that do not depend on the input', 'bounds computed from it');
      const xs = c.shape(x);
      const rank = xs.length;
      const starts = c.value(n.inputs[1]!);
      const ends = c.value(n.inputs[2]!);
      const axes = n.inputs[3] ? c.value(n.inputs[3]) : starts.map((_, k) => k);
      const steps = n.inputs[4] ? c.value(n.inputs[4]) : starts.map(() => 1);
      const pads = new Array<number>(2 * rank).fill(0);
      axes.forEach((a0, k) => {
        const a = a0 < 0 ? a0 + rank : a0;
        if (steps[k] !== 1) c.fail('Slice with steps 1', `steps ${describe(steps)}`);
        const dim = xs[a]!;
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
        const s = clamp(starts[k]!);
        const e = Math.max(clamp(ends[k]!), s);
        pads[a] = s;
        pads[a + rank] = dim - e;
      });
      c.add(x, c.b.op1('Pad', [gy, c.b.i64(pads)]));
    },
  },
  {
    op: 'Pad',
    valueInputs: (n) => pick(n, 1, 3),
    vjp(c, gy) {
      const n = c.n;
      const b = c.b;
      const x = n.inputs[0]!;
      if (!c.dep(x)) return;
      const mode = attrString(n, 'mode', 'constant');
      if (mode !== 'constant') c.fail('Pad mode "constant"', describe(mode));
      const xs = c.shape(x);
      const rank = xs.length;
      const raw = c.value(n.inputs[1]!);
      const pads = new Array<number>(2 * rank).fill(0);
      const axes = n.inputs[3] ? c.value(n.inputs[3]).map((a) => (a < 0 ? a + rank : a)) : xs.map((_, k) => k);
      axes.forEach((a, k) => {
        pads[a] = raw[k]!;
        pads[a + rank] = raw[k + axes.length]!;
      });
      const ys = c.shape(n.outputs[0]!);
      const sAxes: number[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      const back = new Array<number>(2 * rank).fill(0);
      for (let a = 0; a < rank; a++) {
        const pb = pads[a]!;
        const pe = pads[a + rank]!;
        if (pb > 0 || pe > 0) {
          sAxes.push(a);
          starts.push(Math.max(pb, 0));
          ends.push(ys[a]! - Math.max(pe, 0));
        }
        back[a] = Math.max(-pb, 0);
        back[a + rank] = Math.max(-pe, 0);
      }
      let gx = sAxes.length > 0 ? b.slice(gy, starts, ends, sAxes) : gy;
      if (back.some((v) => v > 0)) gx = b.op1('Pad', [gx, b.i64(back)]);
      c.add(x, gx);
    },
  },
];
