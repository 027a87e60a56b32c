/**
 * The classifier head of the graph analysis (graph.ts): the logits tensor (looking through a final
 * Softmax), the nodes between the pooled tensor and the logits, and the weights W [K, C] and
 * b [K] of a one-layer head (Gemm, MatMul, MatMul + Add with constant weights).
 */
import { describe } from '../errors.js';
import { attrFloat, attrInt, realInputs, tensorNumbers } from './nodes.js';
import { DataType } from './proto.js';
import { ancestors, constantTensor, type GraphIndex } from './graph-index.js';

export type LinearOp = 'Gemm' | 'MatMul+Add' | 'MatMul';

export interface LinearHeadWeights {
  readonly op: LinearOp;
  /** W, K×C row-major, alpha applied. */
  readonly weight: Float32Array;
  /** b, K, beta applied (zeros when the head has no bias). */
  readonly bias: Float32Array;
  readonly k: number;
  readonly c: number;
}

/** The head's nodes: those between `pooled` and `logits`, or a reason why there is no clean cut. */
export function headNodes(g: GraphIndex, pooled: string, logits: string): number[] | string {
  const set = ancestors(g, logits, pooled);
  const nodes = [...set].sort((a, b) => a - b);
  const inputs = new Set(realInputs(g.model).map((v) => v.name));
  for (const i of nodes) {
    for (const t of g.nodes[i]!.inputs) {
      if (t === '' || t === pooled || g.initializers.has(t)) continue;
      if (g.producer.has(t)) continue;
      if (inputs.has(t)) return `the logits also depend on the graph input ${describe(t)} by another path`;
      return `the logits depend on ${describe(t)}, which no node produces`;
    }
  }
  // the pooled tensor must actually reach the logits
  if (!nodes.some((i) => g.nodes[i]!.inputs.includes(pooled))) return 'the logits do not depend on it';
  return nodes;
}

function toFloat32(v: Float64Array, scale = 1): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * scale;
  return out;
}

/** Read W [K, C] and b [K] of a one-layer head, or return why it is not one. */
export function linearWeights(g: GraphIndex, nodes: readonly number[], pooled: string): LinearHeadWeights | string {
  const real = nodes.map((i) => g.nodes[i]!).filter((n) => n.opType !== 'Constant');
  const ops = real.map((n) => n.opType).join(' → ');
  const values = (name: string): { v: Float64Array; dims: number[] } | undefined => {
    const t = constantTensor(g, name);
    return t === undefined ? undefined : { v: tensorNumbers(t, g.file), dims: t.dims };
  };
  const bias = (name: string | undefined, k: number, beta: number): Float32Array | string => {
    if (name === undefined || name === '') return new Float32Array(k);
    const b = values(name);
    if (b === undefined) return `its bias ${describe(name)} is not a constant`;
    if (b.v.length !== k && b.v.length !== 1) return `its bias has ${b.v.length} values, expected ${k}`;
    const out = new Float32Array(k);
    for (let j = 0; j < k; j++) out[j] = (b.v.length === 1 ? b.v[0]! : b.v[j]!) * beta;
    return out;
  };
  if (real.length === 1 && real[0]!.opType === 'Gemm') {
    const n = real[0]!;
    if (n.inputs[0] !== pooled) return 'its Gemm does not read the pooled tensor as A';
    if (attrInt(n, 'transA', 0) !== 0) return 'its Gemm has transA = 1';
    const w = values(n.inputs[1]!);
    if (w === undefined || w.dims.length !== 2) return 'its Gemm weight is not a constant matrix';
    const transB = attrInt(n, 'transB', 0) !== 0;
    const alpha = attrFloat(n, 'alpha', 1);
    const beta = attrFloat(n, 'beta', 1);
    const [k, c] = transB ? [w.dims[0]!, w.dims[1]!] : [w.dims[1]!, w.dims[0]!];
    const weight = transB ? toFloat32(w.v, alpha) : transpose(w.v, c, k, alpha);
    const b = bias(n.inputs[2], k, beta);
    if (typeof b === 'string') return b;
    return { op: 'Gemm', weight, bias: b, k, c };
  }
  if ((real.length === 1 || real.length === 2) && real[0]!.opType === 'MatMul') {
    const mm = real[0]!;
    if (mm.inputs[0] !== pooled) return 'its MatMul does not take the pooled tensor on the left';
    const w = values(mm.inputs[1]!);
    if (w === undefined || w.dims.length !== 2) return 'its MatMul weight is not a constant matrix';
    const [c, k] = [w.dims[0]!, w.dims[1]!];
    const weight = transpose(w.v, c, k, 1);
    if (real.length === 1) return { op: 'MatMul', weight, bias: new Float32Array(k), k, c };
    const add = real[1]!;
    if (add.opType !== 'Add') return `it is ${ops}`;
    const other = add.inputs[0] === mm.outputs[0] ? add.inputs[1] : add.inputs[1] === mm.outputs[0] ? add.inputs[0] : undefined;
    if (other === undefined) return 'its Add does not read the MatMul output';
    const b = bias(other, k, 1);
    if (typeof b === 'string') return b;
    return { op: 'MatMul+Add', weight, bias: b, k, c };
  }
  return `it is ${ops === '' ? 'empty' : ops}`;
}

/** Transpose an r×c matrix (row-major) into c×r, scaled, as float32. */
function transpose(v: Float64Array, r: number, c: number, scale: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j]! * scale;
  return out;
}

/** The logits tensor: the first graph output, looking through a final Softmax / LogSoftmax. */
export function findLogits(g: GraphIndex, reasoning: string[]): { name: string; isOutput: boolean } {
  const outputs = g.model.graph.outputs;
  // the class scores: the first float output that is not known to have another rank than [N, K]
  // (converted models often output the predicted label first: int64 ArgMax)
  const scores = outputs.find((o) => (o.elemType === undefined || o.elemType === DataType.FLOAT) && (o.shape === undefined || o.shape.length === 2));
  const first = scores ?? outputs[0]!;
  if (outputs.length > 1) {
    reasoning.push(`the model has ${outputs.length} outputs (${outputs.map((o) => describe(o.name)).join(', ')}); using ${first === outputs[0] ? 'the first' : 'the first float [N, K] one'}, ${describe(first.name)}`);
  }
  const p = g.producer.get(first.name);
  if (p !== undefined) {
    const n = g.nodes[p]!;
    if (n.opType === 'Softmax' || n.opType === 'LogSoftmax') {
      reasoning.push(`output ${describe(first.name)} is ${n.opType} of ${describe(n.inputs[0])}: using that as the logits`);
      return { name: n.inputs[0]!, isOutput: false };
    }
  }
  reasoning.push(`logits: graph output ${describe(first.name)}`);
  return { name: first.name, isOutput: true };
}
