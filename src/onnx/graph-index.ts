/**
 * The index the graph analysis (graph.ts) walks: producer and consumers of each tensor, the
 * initializers, constants behind a name, ancestors; and the layout questions it asks: the
 * spatial axes of a ReduceMean, Transpose perms, whether a tensor or the image input is channels
 * last.
 */
import { ancestors as nodeAncestors, attr, checkGraph, constantNodeValue, producerMap, tensorNumbers } from './nodes.js';
import type { Dim, ModelProto, NodeProto, TensorProto } from './proto.js';
import type { Layout } from '../types.js';

export interface GraphIndex {
  readonly model: ModelProto;
  /** The model's name in messages. */
  readonly file: string;
  readonly nodes: readonly NodeProto[];
  readonly producer: Map<string, number>;
  readonly consumers: Map<string, number[]>;
  readonly initializers: Map<string, TensorProto>;
}

export function index(model: ModelProto, file: string): GraphIndex {
  checkGraph(model, file); // every walk below relies on it: no cycle, one producer per tensor
  const nodes = model.graph.nodes;
  const producer = producerMap(nodes);
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      if (t === '') continue;
      let list = consumers.get(t);
      if (list === undefined) consumers.set(t, (list = []));
      list.push(i);
    }
  });
  const initializers = new Map<string, TensorProto>();
  for (const t of model.graph.initializers) initializers.set(t.name, t);
  return { model, file, nodes, producer, consumers, initializers };
}

/** Constant tensor behind a name: an initializer or the output of a Constant node. */
export function constantTensor(g: GraphIndex, name: string): TensorProto | undefined {
  const init = g.initializers.get(name);
  if (init !== undefined) return init;
  const p = g.producer.get(name);
  if (p === undefined) return undefined;
  return constantNodeValue(g.nodes[p]!);
}

/** Indices of the nodes the tensor `target` depends on, not crossing `stop`. */
export function ancestors(g: GraphIndex, target: string, stop?: string): Set<number> {
  return nodeAncestors(g.nodes, g.producer, target, stop);
}

/** ReduceMean axes (attribute, or constant input from opset 18), or undefined if not constant. */
export function reduceAxes(g: GraphIndex, n: NodeProto): number[] | undefined | 'dynamic' {
  const a = attr(n, 'axes');
  if (a !== undefined) return a.ints;
  const axesInput = n.inputs[1];
  if (axesInput === undefined || axesInput === '') return undefined; // all axes
  const t = constantTensor(g, axesInput);
  if (t === undefined) return 'dynamic';
  return Array.from(tensorNumbers(t, g.file));
}

const SPATIAL_AXES: Readonly<Record<Layout, readonly (readonly number[])[]>> = { nchw: [[2, 3], [-2, -1]], nhwc: [[1, 2], [-3, -2]] };

/** The layout whose H, W axes (of a 4-D map) are exactly `axes`, if any. */
export function spatialLayout(axes: readonly number[]): Layout | undefined {
  if (axes.length !== 2 || axes[0] === axes[1]) return undefined;
  for (const layout of ['nchw', 'nhwc'] as const) {
    if (SPATIAL_AXES[layout].some((ref) => ref.includes(axes[0]!) && ref.includes(axes[1]!))) return layout;
  }
  return undefined;
}

/** The `perm` of a Transpose node, or undefined. */
export function transposePerm(n: NodeProto): readonly number[] | undefined {
  return n.opType === 'Transpose' ? attr(n, 'perm')?.ints : undefined;
}

export const samePerm = (a: readonly number[] | undefined, b: readonly number[]): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
export const TO_NHWC = [0, 2, 3, 1];
export const TO_NCHW = [0, 3, 1, 2];

/** Ops that keep the layout of their first input (looked through to find a Transpose). */
const LAYOUT_PRESERVING = new Set(['Relu', 'Clip', 'LeakyRelu', 'Identity', 'Dropout', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Tanh']);

/**
 * Layout of a 4-D tensor, from the graph: 'nhwc' when it is (through elementwise activations) a
 * Transpose(0,2,3,1) of another tensor; 'nchw' otherwise (ONNX Conv / pooling / BatchNorm are NCHW).
 */
export function layoutOf(g: GraphIndex, t: string): Layout {
  for (let hops = 0; hops < 64; hops++) {
    const p = g.producer.get(t);
    if (p === undefined) return 'nchw';
    const n = g.nodes[p]!;
    if (samePerm(transposePerm(n), TO_NHWC)) return 'nhwc';
    if (!LAYOUT_PRESERVING.has(n.opType)) return 'nchw';
    t = n.inputs[0]!;
  }
  return 'nchw';
}

/** Non-shape consumers (Shape / Size only read the dims, as in the view(N, -1) pattern). */
export function dataConsumers(g: GraphIndex, t: string): number[] {
  return (g.consumers.get(t) ?? []).filter((i) => {
    const op = g.nodes[i]!.opType;
    return op !== 'Shape' && op !== 'Size';
  });
}

/**
 * Channels first or last: a model that transposes its input with perm (0, 3, 1, 2) before any
 * other use takes NHWC (tf2onnx's export of a Keras model); otherwise the dims decide (C is 1 or 3).
 */
export function inputLayoutOf(g: GraphIndex, name: string, shape: readonly Dim[]): { layout: Layout; why: string } {
  const uses = dataConsumers(g, name).map((i) => g.nodes[i]!);
  if (uses.length > 0 && uses.every((n) => samePerm(transposePerm(n), TO_NCHW))) {
    return { layout: 'nhwc', why: 'the model transposes it with perm (0, 3, 1, 2) before its first layer' };
  }
  if (uses.some((n) => n.opType === 'Conv')) return { layout: 'nchw', why: 'a Conv reads it directly' };
  const isChannels = (d: Dim | undefined) => d === 1 || d === 3;
  if (!isChannels(shape[1]) && isChannels(shape[3])) return { layout: 'nhwc', why: `its last dim is ${shape[3]} and its second is ${shape[1] ?? '?'}` };
  return { layout: 'nchw', why: 'channels first, as ONNX convolutions take them' };
}
