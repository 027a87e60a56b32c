/**
 * Geometry of windowed ops (Conv, AveragePool, MaxPool): pads (explicit or auto_pad), kernel,
 * strides, dilations; and the ConvTranspose that spreads a window gradient back onto the input.
 */
import { describe } from '../../../errors.js';
import type { AttrSpec, Builder } from '../../encode.js';
import { attrInts, attrString } from '../../nodes.js';
import type { NodeProto } from '../../proto.js';

export type Fail = (expected: string, found: string) => never;

/** Begin / end pads of a windowed op (explicit pads, or auto_pad from the probed shapes). */
export function windowPads(n: NodeProto, xs: readonly number[], ys: readonly number[], kEff: readonly number[], strides: readonly number[],
  fail: Fail): [number[], number[]] {
  const r = kEff.length;
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET' || autoPad === '') {
    const pads = attrInts(n, 'pads', new Array<number>(2 * r).fill(0));
    return [pads.slice(0, r), pads.slice(r)];
  }
  if (autoPad === 'VALID') return [new Array<number>(r).fill(0), new Array<number>(r).fill(0)];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') fail('auto_pad NOTSET, VALID, SAME_UPPER or SAME_LOWER', describe(autoPad));
  const pb: number[] = [];
  const pe: number[] = [];
  for (let k = 0; k < r; k++) {
    const total = Math.max((ys[k + 2]! - 1) * strides[k]! + kEff[k]! - xs[k + 2]!, 0);
    const small = Math.floor(total / 2);
    if (autoPad === 'SAME_UPPER') { pb.push(small); pe.push(total - small); } else { pb.push(total - small); pe.push(small); }
  }
  return [pb, pe];
}

/** Kernel, strides, dilations, effective kernel and pads of a pooling node. */
export function poolGeometry(n: NodeProto, xs: readonly number[], ys: readonly number[], fail: Fail) {
  const r = xs.length - 2;
  const kernel = attrInts(n, 'kernel_shape', []);
  if (kernel.length !== r) fail(`kernel_shape of ${r} dims`, describe(kernel));
  const strides = attrInts(n, 'strides', new Array<number>(r).fill(1));
  const dilations = attrInts(n, 'dilations', new Array<number>(r).fill(1));
  const kEff = kernel.map((k, j) => (k - 1) * dilations[j]! + 1);
  const [pb, pe] = windowPads(n, xs, ys, kEff, strides, fail);
  return { r, kernel, strides, dilations, kEff, pb, pe };
}

/**
 * ConvTranspose of g with weight w back onto the input grid: pads / output_padding chosen so that
 * the output is exactly x's spatial size, aligned so that input row h receives window taps at
 * h + pb (the forward's begin padding).
 */
export function transposeWindow(b: Builder, g: string, w: string, xs: number[], ys: number[], kernel: number[], strides: number[],
  dilations: number[], pb: number[], group: number): string {
  const r = kernel.length;
  const padsB: number[] = [];
  const padsE: number[] = [];
  const outPad: number[] = [];
  for (let k = 0; k < r; k++) {
    const kEff = (kernel[k]! - 1) * dilations[k]! + 1;
    const full = strides[k]! * (ys[k + 2]! - 1) + kEff;
    const cut = full - pb[k]! - xs[k + 2]!;
    padsB.push(pb[k]!);
    padsE.push(Math.max(cut, 0));
    outPad.push(Math.max(-cut, 0));
  }
  const attrs: AttrSpec[] = [
    { name: 'kernel_shape', ints: kernel }, { name: 'strides', ints: strides }, { name: 'dilations', ints: dilations },
    { name: 'pads', ints: [...padsB, ...padsE] }, { name: 'group', i: group },
  ];
  if (outPad.some((v) => v > 0)) attrs.push({ name: 'output_padding', ints: outPad });
  return b.op1('ConvTranspose', [g, w], attrs);
}
