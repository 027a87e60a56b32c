/**
 * Window pooling (g = gradient of the output y):
 *   MaxPool       the argmax of each window from MaxPool's Indices output, then ScatterElements of
 *                 g into zeros; overlapping windows (kernel > stride) add up: with
 *                 ScatterElements' reduction = add at opset ≥ 16, below that by splitting the
 *                 windows into ⌈k/s⌉² phases of disjoint windows, one scatter per phase, summed
 *   AveragePool   ConvTranspose(g / divisor, ones) with group = C; the divisor of each window is
 *                 measured by running the pooling on a map of ones (onnxruntime divides by the
 *                 whole kernel when count_include_pad = 1, also where a ceil_mode window passes
 *                 the padded input, unlike PyTorch)
 */
import { NapoodError, shapeString } from '../../../errors.js';
import { copyAttributes, encodeNode } from '../../encode.js';
import { attrInt } from '../../nodes.js';
import { DataType, numel } from '../../proto.js';
import { encodeSubModel } from '../../write.js';
import { openSession, ortMessage, sessionOptions, type OnnxTensor } from '../../runtime.js';
import type { GradRule, PrepareContext } from './rule.js';
import { poolGeometry, transposeWindow } from './window.js';

/**
 * AveragePool weights 1 / divisor(o) of each output position, as onnxruntime computes them: the
 * node (same attributes, same opset) is run on a map of ones, whose output is taps(o) / divisor(o)
 * with taps(o) the window taps inside the input. (onnxruntime's divisor with count_include_pad = 1
 * and ceil_mode = 1 is the whole kernel, not PyTorch's kernel clipped to the padded input, so it is
 * measured here rather than assumed.)
 */
async function averagePoolWeights(p: PrepareContext): Promise<Float64Array> {
  const { model, n } = p;
  const xs = p.shape(n.inputs[0]!);
  const ys = p.shape(n.outputs[0]!);
  const fail = (expected: string, found: string): never => {
    throw new NapoodError(p.file, `${expected} (node ${p.label})`, found);
  };
  const { r, kernel, strides, dilations, pb } = poolGeometry(n, xs, ys, fail);
  const spatial = xs.slice(2);
  const outSpatial = ys.slice(2);
  const attrs = copyAttributes(n);
  const bytes = encodeSubModel({
    irVersion: Math.max(model.irVersion, 6),
    producerName: 'napood gradient',
    opsetImportsRaw: model.opsetImports.map((o) => o.raw),
    functionsRaw: [],
    graphName: 'napood_average_pool_divisor',
    nodesRaw: [encodeNode('AveragePool', ['x'], ['y'], 'pool', attrs)],
    initializersRaw: [],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 1, ...spatial] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT }],
  });
  let v: OnnxTensor;
  const session = await openSession(p.runtime, bytes, sessionOptions(p.threads), p.file, `an AveragePool onnxruntime can run alone (node ${p.label})`);
  try {
    v = (await session.run({ x: new p.runtime.Tensor('float32', new Float32Array(numel(spatial)).fill(1), [1, 1, ...spatial]) })).y!;
  } catch (e) {
    throw new NapoodError(p.file, `an AveragePool onnxruntime can run alone (node ${p.label})`, ortMessage(e));
  } finally {
    await session.release();
  }
  if (v.dims.slice(2).join(',') !== outSpatial.join(',')) {
    fail(`AveragePool output ${shapeString(outSpatial)} on a ${shapeString(spatial)} map`, `${shapeString(v.dims.slice(2))}`);
  }
  const ones = v.data as Float32Array;
  const taps: number[][] = [];
  for (let k = 0; k < r; k++) {
    const t: number[] = [];
    for (let o = 0; o < outSpatial[k]!; o++) {
      // taps j in [0, kernel) with 0 ≤ start + j·dilation < size, counted without a loop over the kernel (its size comes from the model)
      const start = o * strides[k]! - pb[k]!;
      const d = dilations[k]!;
      const first = Math.max(0, Math.ceil(-start / d));
      const last = Math.min(kernel[k]! - 1, Math.floor((spatial[k]! - 1 - start) / d));
      t.push(Math.max(0, last - first + 1));
    }
    taps.push(t);
  }
  const weights = new Float64Array(ones.length);
  for (let idx = 0; idx < weights.length; idx++) {
    let rem = idx;
    let inside = 1;
    for (let k = r - 1; k >= 0; k--) {
      inside *= taps[k]![rem % outSpatial[k]!]!;
      rem = Math.floor(rem / outSpatial[k]!);
    }
    weights[idx] = inside > 0 ? ones[idx]! / inside : 0;
  }
  return weights;
}

export const POOL_RULES: readonly GradRule[] = [
  {
    op: 'AveragePool',
    prepare: averagePoolWeights,
    vjp(c, gy) {
      const b = c.b;
      const x = c.n.inputs[0]!;
      const xs = c.shape(x);
      const ys = c.shape(c.n.outputs[0]!);
      const { kernel, strides, dilations, pb } = poolGeometry(c.n, xs, ys, c.fail);
      const weights = c.prepared as Float64Array | undefined;
      if (weights === undefined) throw new Error(`internal: no AveragePool weights for node ${c.i}`);
      const ch = xs[1]!;
      const scaled = b.op1('Mul', [gy, b.f32(weights, [1, 1, ...ys.slice(2)])]);
      const ones = b.f32(new Float32Array(ch * numel(kernel)).fill(1), [ch, 1, ...kernel]);
      c.add(x, transposeWindow(b, scaled, ones, xs, ys, kernel, strides, dilations, pb, ch));
    },
  },
  {
    op: 'MaxPool',
    vjp(c, gy) {
      const b = c.b;
      const n = c.n;
      const x = n.inputs[0]!;
      if (attrInt(n, 'storage_order', 0) !== 0) c.fail('MaxPool with storage_order 0', 'storage_order 1');
      const xs = c.shape(x);
      const ys = c.shape(n.outputs[0]!);
      const { r, kernel, strides, dilations } = poolGeometry(n, xs, ys, c.fail);
      // the same pooling again with its Indices output (flat indices into x, padding not counted)
      const [, indices] = b.op('MaxPool', [x], copyAttributes(n), 2);
      const flat = b.i64([-1]);
      const xShape = b.shape(x);
      const zerosFlat = (): string => b.op1('Reshape', [b.op1('ConstantOfShape', [xShape]), flat]);
      const scatter = (ind: string, upd: string, reduction?: string): string =>
        b.op1('ScatterElements', [zerosFlat(), b.op1('Reshape', [ind, flat]), b.op1('Reshape', [upd, flat])],
          [{ name: 'axis', i: 0 }, ...(reduction !== undefined ? [{ name: 'reduction', s: reduction }] : [])]);
      const phases = kernel.map((k, j) => Math.ceil(((k - 1) * dilations[j]! + 1) / strides[j]!));
      let gxFlat: string;
      if (phases.every((m) => m <= 1)) {
        gxFlat = scatter(indices!, gy);
      } else if (b.opset >= 16) {
        gxFlat = scatter(indices!, gy, 'add');
      } else {
        // windows whose output positions differ by a multiple of m = ⌈k_eff / s⌉ along an axis are
        // disjoint: scatter each phase on its own and sum
        const parts: string[] = [];
        const total = phases.reduce((p, m) => p * m, 1);
        for (let ph = 0; ph < total; ph++) {
          const offs: number[] = [];
          let rem = ph;
          for (let k = r - 1; k >= 0; k--) { offs.unshift(rem % phases[k]!); rem = Math.floor(rem / phases[k]!); }
          if (offs.some((o, k) => o >= ys[k + 2]!)) continue;
          const axes = offs.map((_, k) => k + 2);
          const ends = offs.map(() => 2 ** 53 - 1);
          const ind = b.slice(indices!, offs, ends, axes, phases);
          const upd = b.slice(gy, offs, ends, axes, phases);
          parts.push(scatter(ind, upd));
        }
        gxFlat = parts.length === 1 ? parts[0]! : b.op1('Sum', parts);
      }
      c.add(x, b.op1('Reshape', [gxFlat, xShape]));
    },
  },
];
