/**
 * Helpers over a decoded ModelProto shared by the graph analysis (graph.ts), the adapter and the
 * gradient generation (grad/): decoding with a NapoodError, node labels, attributes, the producer
 * of each tensor, constants, ancestors, the real graph inputs.
 */
import { NapoodError, describe, shapeString } from '../errors.js';
import { grouped, MAX_NODES, MAX_TENSOR_BYTES, tensorBytes } from './limits.js';
import {
  dataTypeName, decodeModel, tensorValues, type AttributeProto, type Dim, type ModelProto, type NodeProto,
  type TensorProto,
} from './proto.js';
import { ProtoDecodeError } from './wire.js';

/**
 * Decode ONNX bytes and check the graph's structure (`checkGraph`); a NapoodError naming `file`
 * when they are not a ModelProto (`what` names the bytes in the decoder's message).
 */
export function decodeOnnx(bytes: Uint8Array, file: string, what: string = file): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModel(bytes, what);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw new NapoodError(file, 'an ONNX model (a complete protobuf ModelProto)', e.message);
    throw e;
  }
  checkGraph(model, file);
  return model;
}

/** A node's name, or `op_type#index` when it is unnamed. */
export function nodeLabel(n: NodeProto, i: number): string {
  return n.name !== '' ? n.name : `${n.opType}#${i}`;
}

/** A node's name with its op (`name (Conv)`), or `op_type#index` when it is unnamed; names and ops past 120 characters are cut (messages). */
export function nodeTitle(n: NodeProto, i: number): string {
  const cut = (s: string) => (s.length > 120 ? s.slice(0, 117) + '...' : s);
  return n.name !== '' ? `${cut(n.name)} (${cut(n.opType)})` : `${cut(n.opType)}#${i}`;
}

export function attr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attributes.find((a) => a.name === name);
}

export function attrInt(n: NodeProto, name: string, dflt: number): number {
  return attr(n, name)?.i ?? dflt;
}

export function attrFloat(n: NodeProto, name: string, dflt: number): number {
  return attr(n, name)?.f ?? dflt;
}

/** An ints attribute (a copy), or `dflt` when it is absent or empty. */
export function attrInts(n: NodeProto, name: string, dflt: readonly number[]): number[] {
  const a = attr(n, name);
  return a !== undefined && a.ints.length > 0 ? a.ints.slice() : dflt.slice();
}

export function attrString(n: NodeProto, name: string, dflt: string): string {
  return attr(n, name)?.s ?? dflt;
}

/** The index of the node computing each tensor. */
export function producerMap(nodes: readonly NodeProto[]): Map<string, number> {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) if (o !== '') producer.set(o, i);
  });
  return producer;
}

/** The tensor of a Constant node's `value` attribute (undefined for other nodes and other value kinds). */
export function constantNodeValue(n: NodeProto): TensorProto | undefined {
  return n.opType === 'Constant' ? attr(n, 'value')?.t : undefined;
}

/** Indices of the nodes the tensor `target` depends on (through inputs), not crossing `stop`. */
export function ancestors(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>, target: string, stop?: string): Set<number> {
  const seen = new Set<number>();
  const stack = [target];
  const visited = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t === stop || visited.has(t)) continue;
    visited.add(t);
    const p = producer.get(t);
    if (p === undefined || seen.has(p)) continue;
    seen.add(p);
    for (const i of nodes[p]!.inputs) if (i !== '') stack.push(i);
  }
  return seen;
}

/**
 * The values of a constant tensor as float64, or a NapoodError naming `file`: dims ≥ 0 and under
 * 2 GiB of values are checked before anything is allocated (onnx/external.ts checks every tensor
 * of a model's bytes the same way; this guards models decoded by callers).
 */
export function tensorNumbers(t: TensorProto, file: string): Float64Array {
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new NapoodError(file, `tensor dims ≥ 0 (tensor ${describe(t.name)})`, `dims ${shapeString(t.dims)}`);
    n *= d;
  }
  if (n * 8 > MAX_TENSOR_BYTES) {
    throw new NapoodError(file, `constant tensors napood reads under 2 GiB as float64 (tensor ${describe(t.name)})`, `dims ${shapeString(t.dims)}: ${grouped(n)} values`);
  }
  try {
    return tensorValues(t);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw new NapoodError(file, `readable values of tensor ${describe(t.name)}`, e.message);
    throw e;
  }
}

/** A cycle among `nodes` (node indices in data-flow order, the first node feeding the second …, the last feeding the first), or undefined. */
export function findCycle(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>): number[] | undefined {
  const state = new Uint8Array(nodes.length); // 0 unseen, 1 on the path, 2 done
  const path: number[] = [];
  const next: number[] = [];
  for (let s = 0; s < nodes.length; s++) {
    if (state[s] !== 0) continue;
    state[s] = 1;
    path.push(s);
    next.push(0);
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const ins = nodes[top]!.inputs;
      let k = next[next.length - 1]!;
      let descended = false;
      while (k < ins.length) {
        const t = ins[k++]!;
        const p = t === '' ? undefined : producer.get(t);
        if (p === undefined || state[p] === 2) continue;
        next[next.length - 1] = k;
        if (state[p] === 1) return path.slice(path.indexOf(p)).reverse();
        state[p] = 1;
        path.push(p);
        next.push(0);
        descended = true;
        break;
      }
      if (!descended) {
        state[top] = 2;
        path.pop();
        next.pop();
      }
    }
  }
  return undefined;
}

const checkedModels = new WeakSet<ModelProto>();

/**
 * The structure every graph walk of onnx/ relies on, checked once per decoded model: at most
 * MAX_NODES nodes, each tensor defined once (graph input, initializer or one node output), no
 * cycle, and no node whose constant shape inputs ask for an output of 2 GiB or more
 * (ConstantOfShape, Expand, Tile, Resize sizes, Range, Pad: onnxruntime computes constant
 * subgraphs when it creates the session). A NapoodError naming `file` otherwise.
 */
export function checkGraph(model: ModelProto, file: string): void {
  if (checkedModels.has(model)) return;
  const g = model.graph;
  const nodes = g.nodes;
  if (nodes.length > MAX_NODES) throw new NapoodError(file, `a graph of at most ${grouped(MAX_NODES)} nodes`, `${grouped(nodes.length)} nodes`);
  const defined = new Map<string, string>();
  for (const v of g.inputs) if (v.name !== '') defined.set(v.name, 'a graph input');
  for (const t of g.initializers) if (t.name !== '' && !defined.has(t.name)) defined.set(t.name, 'an initializer');
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === '') continue;
      const before = defined.get(o);
      if (before !== undefined) {
        throw new NapoodError(file, 'each tensor defined once (an ONNX graph assigns every name once)', `${describe(o)} is ${before} and an output of ${nodeTitle(n, i)}`);
      }
      defined.set(o, `an output of ${nodeTitle(n, i)}`);
      producer.set(o, i);
    }
  });
  const cycle = findCycle(nodes, producer);
  if (cycle !== undefined) {
    const shown = cycle.length > 8 ? [...cycle.slice(0, 8).map((i) => nodeTitle(nodes[i]!, i)), `… (${cycle.length} nodes)`] : cycle.map((i) => nodeTitle(nodes[i]!, i));
    throw new NapoodError(file, 'an acyclic graph (no node may depend on its own output)',
      `a cycle: ${shown.join(' → ')} → ${nodeTitle(nodes[cycle[0]!]!, cycle[0]!)}`);
  }
  checkConstantShapes(model, file, producer);
  checkConvRanks(model, file, producer);
  checkedModels.add(model);
}

/** Ops whose output has the rank of their first input. */
const SAME_RANK = new Set([
  'Relu', 'Clip', 'LeakyRelu', 'PRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Mish', 'Softplus',
  'Softsign', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Erf', 'Floor', 'Ceil', 'Round', 'Sign', 'Cast', 'Identity', 'Dropout',
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool',
  'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization', 'LRN', 'Pad', 'Resize', 'Upsample',
  'Transpose', 'Softmax', 'LogSoftmax', 'Hardmax', 'DepthToSpace', 'SpaceToDepth', 'Concat', 'Split', 'Slice', 'Tile',
]);
/** Elementwise ops with numpy broadcasting: the output has the largest rank of the inputs. */
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Greater', 'Less', 'And', 'Or']);

/**
 * Conv / ConvTranspose whose constant weight has another rank than its input, where the input's
 * rank follows from the graph (the image input through rank-keeping ops): refused. onnxruntime
 * 1.22 aborts the whole process (a failed bounds assertion in shape inference) on a weight of
 * higher rank, so this must never reach it.
 */
function checkConvRanks(model: ModelProto, file: string, producer: ReadonlyMap<string, number>): void {
  const g = model.graph;
  const rank = new Map<string, number>();
  for (const v of g.inputs) if (v.shape !== undefined) rank.set(v.name, v.shape.length);
  for (const t of g.initializers) rank.set(t.name, t.dims.length);
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const weightRank = (name: string | undefined): number | undefined => {
    if (name === undefined || name === '') return undefined;
    const t = inits.get(name);
    if (t !== undefined) return t.dims.length;
    const p = producer.get(name);
    const c = p === undefined ? undefined : constantNodeValue(g.nodes[p]!);
    return c?.dims.length;
  };
  for (const i of topologicalOrder(g.nodes, producer)) {
    const n = g.nodes[i]!;
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    const r0 = rank.get(n.inputs[0] ?? '');
    const constant = constantNodeValue(n);
    let out: number | undefined;
    if (constant !== undefined) out = constant.dims.length;
    else if (n.opType === 'Conv' || n.opType === 'ConvTranspose') {
      const rw = weightRank(n.inputs[1]);
      if (r0 !== undefined && rw !== undefined && rw !== r0) {
        throw new NapoodError(file, `a ${n.opType} weight of the rank of its input (node ${nodeTitle(n, i)})`,
          `a weight of rank ${rw} on an input of rank ${r0} (${describe(n.inputs[1])} on ${describe(n.inputs[0])})`);
      }
      out = r0;
    } else if (SAME_RANK.has(n.opType)) out = r0;
    else if (BROADCAST.has(n.opType)) {
      const rs = n.inputs.filter((t) => t !== '').map((t) => rank.get(t));
      out = rs.every((r) => r !== undefined) ? Math.max(...(rs as number[])) : undefined;
    } else if (n.opType === 'Flatten' || n.opType === 'Gemm') out = 2;
    else if (n.opType === 'Shape') out = 1;
    if (out === undefined) continue;
    if (n.opType === 'Split') for (const o of n.outputs) rank.set(o, out);
    else if (n.outputs[0]) rank.set(n.outputs[0], out);
  }
}

/** The nodes in an order where each comes after the producers of its inputs (the graph is acyclic). */
export function topologicalOrder(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>): number[] {
  const pending = new Int32Array(nodes.length);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const t of new Set(n.inputs)) {
      const p = t === '' ? undefined : producer.get(t);
      if (p !== undefined && p !== i) {
        pending[i]!++;
        users[p]!.push(i);
      }
    }
  });
  const order: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (pending[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    for (const u of users[order[k]!]!) if (--pending[u]! === 0) order.push(u);
  }
  return order;
}

/** The values of a small constant (an initializer or a Constant node's value, ≤ 64 values), or undefined. */
function smallConstant(model: ModelProto, inits: ReadonlyMap<string, TensorProto>, producer: ReadonlyMap<string, number>, name: string | undefined): number[] | undefined {
  if (name === undefined || name === '') return undefined;
  let t = inits.get(name);
  if (t === undefined) {
    const p = producer.get(name);
    const n = p === undefined ? undefined : model.graph.nodes[p]!;
    if (n === undefined || n.opType !== 'Constant' || (n.domain !== '' && n.domain !== 'ai.onnx')) return undefined;
    const ints = attr(n, 'value_ints');
    if (ints !== undefined) return ints.ints.slice(0, 65);
    t = attr(n, 'value')?.t;
    if (t === undefined) {
      const one = attr(n, 'value_int')?.i ?? attr(n, 'value_float')?.f;
      return one === undefined ? undefined : [one];
    }
  }
  if (t.dims.some((d) => !Number.isSafeInteger(d) || d < 0) || t.dims.reduce((a, b) => a * b, 1) > 64) return undefined;
  try {
    return Array.from(tensorValues(t));
  } catch {
    return undefined;
  }
}

const MAX_OUTPUT_VALUES = Math.floor(MAX_TENSOR_BYTES / 4);

function checkConstantShapes(model: ModelProto, file: string, producer: ReadonlyMap<string, number>): void {
  const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const konst = (name: string | undefined) => smallConstant(model, inits, producer, name);
  model.graph.nodes.forEach((n, i) => {
    if (n.domain !== '' && n.domain !== 'ai.onnx') return;
    let dims: number[] | undefined;
    let what = 'shape';
    let elemType = 0;
    switch (n.opType) {
      case 'ConstantOfShape': dims = konst(n.inputs[0]); elemType = attr(n, 'value')?.t?.dataType ?? 1; break;
      case 'Expand': dims = konst(n.inputs[1]); break;
      case 'Tile': dims = konst(n.inputs[1]); what = 'repeats'; break;
      case 'Resize': dims = konst(n.inputs[3]); what = 'sizes'; break;
      case 'Range': {
        const [start, limit, delta] = [konst(n.inputs[0]), konst(n.inputs[1]), konst(n.inputs[2])].map((v) => v?.length === 1 ? v[0] : undefined);
        if (start !== undefined && limit !== undefined && delta !== undefined && delta !== 0) {
          dims = [Math.max(Math.ceil((limit - start) / delta), 0)];
          what = `start ${start}, limit ${limit}, delta ${delta}: length`;
        }
        break;
      }
      case 'Pad': {
        const pads = attr(n, 'pads')?.ints ?? konst(n.inputs[1]);
        if (pads !== undefined && pads.length % 2 === 0) {
          const r = pads.length / 2;
          dims = Array.from({ length: r }, (_, k) => Math.max(1, pads[k]! + pads[k + r]!));
          what = `pads [${pads.join(', ')}]: at least`;
        }
        break;
      }
      default: return;
    }
    if (dims === undefined || dims.length === 0) return;
    let count = 1;
    for (const d of dims) count *= Math.max(d, 0);
    const bytes = elemType !== 0 ? (tensorBytes(elemType, count) ?? count) : count * 4;
    if (!(bytes <= MAX_TENSOR_BYTES)) {
      throw new NapoodError(file, `nodes whose outputs stay under 2 GiB (node ${nodeTitle(n, i)})`,
        `${what} ${shapeString(dims)}: ${grouped(count)} values` + (elemType !== 0 ? ` of ${dataTypeName(elemType)}` : '') + (count > MAX_OUTPUT_VALUES && elemType === 0 ? ` (${grouped(MAX_OUTPUT_VALUES)} float32 values at most)` : ''));
    }
  });
}

/** Graph inputs that are not initializers (old exports list initializers as inputs too). */
export function realInputs(model: ModelProto): { name: string; elemType?: number; shape?: Dim[] }[] {
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  return model.graph.inputs.filter((v) => !inits.has(v.name));
}
