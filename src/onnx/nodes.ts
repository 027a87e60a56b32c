/**
 * Helpers over a decoded ModelProto shared by the graph analysis (graph.ts), the adapter and the
 * gradient generation (grad/): decoding with a NapoodError, node labels, attributes, the producer
 * of each tensor, constants, ancestors, the real graph inputs.
 */
import { NapoodError } from '../errors.js';
import {
  ProtoDecodeError, decodeModel,
  type AttributeProto, type Dim, type ModelProto, type NodeProto, type TensorProto,
} from './proto.js';

/** Decode ONNX bytes; a NapoodError naming `file` when they are not a ModelProto (`what` names the bytes in the decoder's message). */
export function decodeOnnx(bytes: Uint8Array, file: string, what: string = file): ModelProto {
  try {
    return decodeModel(bytes, what);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw new NapoodError(file, 'an ONNX model (a complete protobuf ModelProto)', e.message);
    throw e;
  }
}

/** A node's name, or `op_type#index` when it is unnamed. */
export function nodeLabel(n: NodeProto, i: number): string {
  return n.name !== '' ? n.name : `${n.opType}#${i}`;
}

/** A node's name with its op (`name (Conv)`), or `op_type#index` when it is unnamed. */
export function nodeTitle(n: NodeProto, i: number): string {
  return n.name !== '' ? `${n.name} (${n.opType})` : `${n.opType}#${i}`;
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

/** Graph inputs that are not initializers (old exports list initializers as inputs too). */
export function realInputs(model: ModelProto): { name: string; elemType?: number; shape?: Dim[] }[] {
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  return model.graph.inputs.filter((v) => !inits.has(v.name));
}
