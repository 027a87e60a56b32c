/**
 * Analysis of an ONNX classifier graph: where the feature map before global pooling is, how it is
 * pooled, and what the classifier head after the pooled feature is.
 *
 * Patterns recognised (SPEC §4.1; seen in torchvision / PyTorch exports at opsets 13–18):
 *   A → GlobalAveragePool                         → Flatten | Reshape | Squeeze | nothing → head
 *   A → ReduceMean(axes {2,3} / {-2,-1}, attribute or input) → (Flatten | Reshape | Squeeze) → head
 *   A → AveragePool(kernel = H×W of A, no padding) → Flatten | Reshape (view(N, -1)) | Squeeze → head
 *   A → Transpose(0,2,3,1) → ReduceMean(axes {1,2} / {-3,-2}) → (Reshape …) → head
 *       channels-last models (Keras / TensorFlow through tf2onnx: GlobalAveragePooling2D on NHWC);
 *       the feature map is A in NCHW, or the NHWC tensor itself when no Transpose is right before
 *       the pooling (then `featureLayout` is 'nhwc' and the adapter transposes each batch)
 * The image input is NCHW, or NHWC (`inputLayout`) when the model transposes it with perm
 * (0,3,1,2) before its first layer, or, failing that, when its last dim is 1 or 3 and its second is not.
 * The head is every node between the pooled tensor z and the logits. It is "linear" when it is one
 * Gemm (transA = 0; transB, alpha, beta honoured) or MatMul (+ Add) with constant weights, so
 * W [K, C] and b [K] are read from the initializers (or Constant nodes); otherwise it is "mlp" and
 * `headSubModel` cuts it into a model of its own (input z, output logits) from the original bytes.
 *
 * The analysis is static (no shape inference): the AveragePool "covers the map" condition and the
 * ranks are checked by the adapter when it first runs the model.
 */
import { NapoodError, describe } from '../errors.js';
import { MAX_POOL_CANDIDATES } from './limits.js';
import { ancestors as nodeAncestors, attr, attrFloat, attrInt, checkGraph, constantNodeValue, nodeLabel, producerMap, realInputs, tensorNumbers } from './nodes.js';
import { DataType, dataTypeName, type Dim, type ModelProto, type NodeProto, type TensorProto } from './proto.js';
import { encodeSubModel } from './write.js';
export { realInputs };

export type PoolKind = 'GlobalAveragePool' | 'ReduceMean' | 'AveragePool';
export type HeadKind = 'linear' | 'mlp';
export type LinearOp = 'Gemm' | 'MatMul+Add' | 'MatMul';
import type { Layout } from '../types.js';
export type { Layout };

export interface PoolInfo {
  readonly kind: PoolKind;
  /** Node name (or `op_type#index` when the node is unnamed). */
  readonly node: string;
  /** The pooling node's output tensor. */
  readonly output: string;
  readonly keepdims: boolean;
  /** AveragePool only: kernel_shape, which must equal the map's H×W. */
  readonly kernel?: readonly number[];
  /** Ops between the pooling node and the pooled tensor (Flatten, Reshape, Squeeze). */
  readonly reshapeOps: readonly string[];
  /** Layout of the pooled map: 'nhwc' for a ReduceMean over axes {1, 2}. */
  readonly layout: Layout;
}

export interface LinearHeadWeights {
  readonly op: LinearOp;
  /** W, K×C row-major, alpha applied. */
  readonly weight: Float32Array;
  /** b, K, beta applied (zeros when the head has no bias). */
  readonly bias: Float32Array;
  readonly k: number;
  readonly c: number;
}

export interface GraphAnalysis {
  readonly input: { readonly name: string; readonly elemType: number; readonly shape: readonly Dim[] };
  /** Axis order of the image input. */
  readonly inputLayout: Layout;
  /** Axis order of the feature map tensor in the graph ('nhwc': transposed to NCHW when read). */
  readonly featureLayout: Layout;
  /** Tensor holding the logits (a graph output, or the input of a final Softmax / LogSoftmax). */
  readonly logits: string;
  readonly logitsIsGraphOutput: boolean;
  /** Tensor used as the feature map A (the pooling input, or the user's `featureLayer`). */
  readonly featureMap: string;
  readonly featureLayerOverride: boolean;
  /** Absent only when no pooling was found and the user named `featureLayer`. */
  readonly pool?: PoolInfo;
  /** The pooled tensor z fed to the head. */
  readonly pooled?: string;
  /** Rank of the pooled tensor as the graph holds it: 2 ([N, C]) or 4 ([N, C, 1, 1]; [N, 1, 1, C] when pool.layout is 'nhwc'). */
  readonly pooledRank?: 2 | 4;
  readonly headKind?: HeadKind;
  /** Op types of the head's nodes in graph order (Constant nodes left out). */
  readonly headOps: readonly string[];
  readonly linear?: LinearHeadWeights;
  /** Relu / Clip outputs upstream of the feature map (the feature map included), for multi-layer NAP. */
  readonly candidateLayers: readonly string[];
  /** Human-readable account of each choice. */
  readonly reasoning: readonly string[];
}

export interface AnalyseOptions {
  /** Use this tensor as the feature map instead of the pooling input. */
  readonly featureLayer?: string;
  /** File name for error messages. */
  readonly file?: string;
}

interface GraphIndex {
  readonly model: ModelProto;
  /** The model's name in messages. */
  readonly file: string;
  readonly nodes: readonly NodeProto[];
  readonly producer: Map<string, number>;
  readonly consumers: Map<string, number[]>;
  readonly initializers: Map<string, TensorProto>;
}

function index(model: ModelProto, file: string): GraphIndex {
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
function constantTensor(g: GraphIndex, name: string): TensorProto | undefined {
  const init = g.initializers.get(name);
  if (init !== undefined) return init;
  const p = g.producer.get(name);
  if (p === undefined) return undefined;
  return constantNodeValue(g.nodes[p]!);
}

function isConstant(g: GraphIndex, name: string): boolean {
  if (g.initializers.has(name)) return true;
  const p = g.producer.get(name);
  return p !== undefined && g.nodes[p]!.opType === 'Constant';
}

/** Indices of the nodes the tensor `target` depends on, not crossing `stop`. */
function ancestors(g: GraphIndex, target: string, stop?: string): Set<number> {
  return nodeAncestors(g.nodes, g.producer, target, stop);
}

/** ReduceMean axes (attribute, or constant input from opset 18), or undefined if not constant. */
function reduceAxes(g: GraphIndex, n: NodeProto): number[] | undefined | 'dynamic' {
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
function spatialLayout(axes: readonly number[]): Layout | undefined {
  if (axes.length !== 2 || axes[0] === axes[1]) return undefined;
  for (const layout of ['nchw', 'nhwc'] as const) {
    if (SPATIAL_AXES[layout].some((ref) => ref.includes(axes[0]!) && ref.includes(axes[1]!))) return layout;
  }
  return undefined;
}

/** The `perm` of a Transpose node, or undefined. */
function transposePerm(n: NodeProto): readonly number[] | undefined {
  return n.opType === 'Transpose' ? attr(n, 'perm')?.ints : undefined;
}

const samePerm = (a: readonly number[] | undefined, b: readonly number[]): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** Ops that keep the layout of their first input (looked through to find a Transpose). */
const LAYOUT_PRESERVING = new Set(['Relu', 'Clip', 'LeakyRelu', 'Identity', 'Dropout', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Tanh']);

/**
 * Layout of a 4-D tensor, from the graph: 'nhwc' when it is (through elementwise activations) a
 * Transpose(0,2,3,1) of another tensor; 'nchw' otherwise (ONNX Conv / pooling / BatchNorm are NCHW).
 */
function layoutOf(g: GraphIndex, t: string): Layout {
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
function dataConsumers(g: GraphIndex, t: string): number[] {
  return (g.consumers.get(t) ?? []).filter((i) => {
    const op = g.nodes[i]!.opType;
    return op !== 'Shape' && op !== 'Size';
  });
}

interface PoolCandidate {
  readonly nodeIndex: number;
  readonly info: PoolInfo;
  readonly input: string;
  readonly pooled: string;
  readonly pooledRank: 2 | 4;
}

/** If node i is a global pooling of a 4-D map, describe it (reasons for skipping go to `reasoning`). */
function asPool(g: GraphIndex, i: number, reasoning: string[]): PoolCandidate | undefined {
  const n = g.nodes[i]!;
  if (n.domain !== '' && n.domain !== 'ai.onnx') return undefined;
  let kind: PoolKind;
  let keepdims = true;
  let kernel: number[] | undefined;
  let layout: Layout | undefined = 'nchw';
  const label = nodeLabel(n, i);
  if (n.opType === 'GlobalAveragePool') {
    kind = 'GlobalAveragePool';
  } else if (n.opType === 'ReduceMean') {
    const axes = reduceAxes(g, n);
    if (axes === 'dynamic') {
      reasoning.push(`skipped ReduceMean ${describe(label)}: its axes come from a computed tensor`);
      return undefined;
    }
    layout = axes === undefined ? undefined : spatialLayout(axes);
    if (layout === undefined) {
      reasoning.push(`skipped ReduceMean ${describe(label)}: axes ${axes === undefined ? 'all' : `[${axes.join(', ')}]`} are not the spatial pair [2, 3] (NCHW) or [1, 2] (NHWC)`);
      return undefined;
    }
    kind = 'ReduceMean';
    keepdims = attrInt(n, 'keepdims', 1) !== 0;
  } else if (n.opType === 'AveragePool') {
    const pads = attr(n, 'pads')?.ints ?? [];
    const autoPad = attr(n, 'auto_pad')?.s ?? 'NOTSET';
    kernel = attr(n, 'kernel_shape')?.ints ?? [];
    if (kernel.length !== 2 || pads.some((p) => p !== 0) || (autoPad !== 'NOTSET' && autoPad !== 'VALID')) {
      reasoning.push(`skipped AveragePool ${describe(label)}: kernel [${kernel.join(', ')}] with padding cannot be a global pooling`);
      return undefined;
    }
    kind = 'AveragePool';
  } else {
    return undefined;
  }
  // follow Flatten / Reshape / Squeeze to the tensor the head reads
  let pooled = n.outputs[0]!;
  let rank: 2 | 4 = keepdims ? 4 : 2;
  const reshapeOps: string[] = [];
  for (;;) {
    const cons = dataConsumers(g, pooled);
    if (cons.length !== 1) break;
    const c = g.nodes[cons[0]!]!;
    if (c.inputs[0] !== pooled || !['Flatten', 'Reshape', 'Squeeze'].includes(c.opType) || rank !== 4) break;
    if (c.opType === 'Flatten' && attrInt(c, 'axis', 1) !== 1) break;
    reshapeOps.push(c.opType);
    pooled = c.outputs[0]!;
    rank = 2;
  }
  return {
    nodeIndex: i,
    input: n.inputs[0]!,
    pooled,
    pooledRank: rank,
    info: { kind, node: label, output: n.outputs[0]!, keepdims, kernel, reshapeOps, layout: layout! },
  };
}

/**
 * Look through ops that leave the map unchanged between the last activation and the pooling:
 * Identity, inference-time Dropout, and Pad with all-zero pads (PyTorch exports avg_pool2d as
 * Pad(0) → AveragePool).
 */
function skipNoOps(g: GraphIndex, t: string, reasoning: string[]): string {
  for (let hops = 0; hops <= g.nodes.length; hops++) { // the graph is acyclic (checkGraph): each hop is a new node
    const p = g.producer.get(t);
    if (p === undefined) return t;
    const n = g.nodes[p]!;
    let noop = n.opType === 'Identity' || (n.opType === 'Dropout' && n.outputs.filter((o) => o !== '').length === 1);
    if (n.opType === 'Pad') {
      let pads: number[] | undefined = attr(n, 'pads')?.ints;
      if (pads === undefined && n.inputs[1]) {
        const c = constantTensor(g, n.inputs[1]);
        pads = c === undefined ? undefined : Array.from(tensorNumbers(c, g.file));
      }
      noop = pads !== undefined && pads.every((x) => x === 0);
    }
    if (!noop) return t;
    reasoning.push(`looked through ${n.opType} ${describe(nodeLabel(n, p))} (changes nothing) to ${describe(n.inputs[0])}`);
    t = n.inputs[0]!;
  }
  return t;
}

/** The head's nodes: those between `pooled` and `logits`, or a reason why there is no clean cut. */
function headNodes(g: GraphIndex, pooled: string, logits: string): number[] | string {
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
function linearWeights(g: GraphIndex, nodes: readonly number[], pooled: string): LinearHeadWeights | string {
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
function findLogits(g: GraphIndex, reasoning: string[]): { name: string; isOutput: boolean } {
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

/**
 * Analyse a decoded model. Throws NapoodError (argument = the file) when the model has not one
 * float image input, or when no global pooling before the classifier is found and no
 * `featureLayer` is given.
 */
export function analyseGraph(model: ModelProto, opts: AnalyseOptions = {}): GraphAnalysis {
  const file = opts.file ?? 'model';
  const g = index(model, file);
  const reasoning: string[] = [];

  const inputs = realInputs(model);
  if (inputs.length !== 1) {
    throw new NapoodError(file, 'a model with exactly one image input',
      `${inputs.length} inputs${inputs.length ? ': ' + inputs.map((v) => describe(v.name)).join(', ') : ''}`);
  }
  const input = inputs[0]!;
  if (input.elemType !== DataType.FLOAT) {
    throw new NapoodError(file, `a float32 image input`, `input ${describe(input.name)} of ${input.elemType === undefined ? 'unknown type' : dataTypeName(input.elemType)}`);
  }
  const inShape = input.shape ?? [];
  if (inShape.length !== 4) {
    throw new NapoodError(file, 'a 4-D image input [N, C, H, W] or [N, H, W, C]', `input ${describe(input.name)} of rank ${input.shape === undefined ? 'unknown' : inShape.length}`);
  }
  const inputLayout = inputLayoutOf(g, input.name, inShape);
  reasoning.push(`input ${describe(input.name)}: float32 [${inShape.map((d) => (d === null ? '?' : String(d))).join(', ')}], ${inputLayout.layout === 'nchw' ? 'NCHW' : 'NHWC (channels last)'}: ${inputLayout.why}`);
  if (model.graph.outputs.length === 0) throw new NapoodError(file, 'a model with at least one output', 'none');

  const logits = findLogits(g, reasoning);
  const toLogits = ancestors(g, logits.name);

  // the pooling nearest to the logits whose pooled tensor cleanly feeds the head
  let chosen: { cand: PoolCandidate; head: number[] } | undefined;
  const order = [...toLogits].sort((a, b) => b - a);
  const looked: string[] = [];
  // each candidate costs a walk of the graph, each skipped node a line: both are bounded
  const skipNotes: string[] = [];
  let candidates = 0;
  for (const i of order) {
    const cand = asPool(g, i, skipNotes);
    if (cand === undefined) continue;
    if (++candidates > MAX_POOL_CANDIDATES) {
      reasoning.push(`stopped after ${MAX_POOL_CANDIDATES} pooling candidates nearest the logits`);
      break;
    }
    const head = headNodes(g, cand.pooled, logits.name);
    if (typeof head === 'string') {
      looked.push(`${cand.info.kind} ${describe(cand.info.node)}: ${head}`);
      reasoning.push(`skipped ${cand.info.kind} ${describe(cand.info.node)}: ${head}`);
      continue;
    }
    chosen = { cand, head };
    break;
  }
  reasoning.push(...skipNotes.slice(0, 16));
  if (skipNotes.length > 16) reasoning.push(`… and ${skipNotes.length - 16} more nodes skipped`);

  let featureMap: string;
  const override = opts.featureLayer !== undefined;
  if (override) {
    const name = opts.featureLayer!;
    if (!g.producer.has(name)) {
      const some = activationLayerNames(g, logits.name).slice(-5);
      throw new NapoodError('featureLayer', `the name of a tensor computed by ${file}` + (some.length ? ` (e.g. ${some.map((s) => describe(s)).join(', ')})` : ''), describe(name));
    }
    if (!toLogits.has(g.producer.get(name)!)) reasoning.push(`note: featureLayer ${describe(name)} does not feed the logits`);
    featureMap = name;
  }

  if (chosen === undefined) {
    const ops = [...new Set(order.map((i) => g.nodes[i]!.opType))].join(', ');
    if (!override) {
      throw new NapoodError(file,
        'a global pooling before the classifier (GlobalAveragePool, ReduceMean over axes [2, 3] (or [1, 2] on a channels-last map), or AveragePool whose kernel covers the map, ' +
        'then Flatten / Reshape / Squeeze or nothing, then the layers that compute the logits); name the feature tensor with featureLayer (CLI: --feature-layer NAME)',
        (looked.length ? `only ${looked.join('; ')}` : `none on the path to ${describe(logits.name)} (ops: ${ops})`) + lastActivations(g, logits.name));
    }
    reasoning.push(`no global pooling before the classifier; featureLayer ${describe(featureMap!)} is the feature map, no pooled feature or head`);
    const featureLayout = layoutOf(g, featureMap!);
    if (featureLayout === 'nhwc') reasoning.push(`featureLayer ${describe(featureMap!)} is channels last (a Transpose(0, 2, 3, 1) output): each batch is transposed to NCHW`);
    return {
      input: { name: input.name, elemType: input.elemType, shape: inShape },
      inputLayout: inputLayout.layout,
      featureLayout,
      logits: logits.name, logitsIsGraphOutput: logits.isOutput,
      featureMap: featureMap!, featureLayerOverride: true,
      headOps: [], candidateLayers: candidateLayerNames(g, featureMap!), reasoning,
    };
  }

  const { cand, head } = chosen;
  const n = g.nodes[cand.nodeIndex]!;
  const producerOfA = g.producer.get(cand.input);
  const before = producerOfA === undefined ? 'the graph input' : g.nodes[producerOfA]!.opType;
  let poolText = `pooling: ${cand.info.kind} ${describe(cand.info.node)} over ${describe(cand.input)} (output of ${before})`;
  if (cand.info.kind === 'ReduceMean') poolText += `, axes [${(reduceAxes(g, n) as number[]).join(', ')}] ${attr(n, 'axes') ? 'as attribute' : 'as input'}, keepdims ${cand.info.keepdims ? 1 : 0}`;
  if (cand.info.kind === 'AveragePool') poolText += `, kernel [${cand.info.kernel!.join(', ')}] (must equal the map's H×W; checked on the first run)`;
  reasoning.push(poolText);
  reasoning.push(`pooled feature z: ${describe(cand.pooled)}` + (cand.info.reshapeOps.length ? ` after ${cand.info.reshapeOps.join(' → ')}` : '') + ` (rank ${cand.pooledRank})`);
  let featureLayout: Layout;
  if (!override) {
    featureMap = skipNoOps(g, cand.input, reasoning);
    featureLayout = cand.info.layout;
    const p = g.producer.get(featureMap);
    if (featureLayout === 'nhwc' && p !== undefined && samePerm(transposePerm(g.nodes[p]!), TO_NHWC)) {
      reasoning.push(`the pooling reads ${describe(featureMap)} = Transpose(0, 2, 3, 1) of ${describe(g.nodes[p]!.inputs[0])}: that NCHW tensor is the same map`);
      featureMap = skipNoOps(g, g.nodes[p]!.inputs[0]!, reasoning);
      featureLayout = 'nchw';
    }
    reasoning.push(`feature map A: ${describe(featureMap)}, the pooling input` + (featureLayout === 'nhwc' ? ' (channels last [N, H, W, C]: each batch is transposed to NCHW)' : ''));
  } else {
    featureLayout = layoutOf(g, featureMap!);
    reasoning.push(`feature map A: featureLayer ${describe(featureMap!)} (given), instead of the pooling input ${describe(cand.input)}` + (featureLayout === 'nhwc' ? ' (channels last: a Transpose(0, 2, 3, 1) output; each batch is transposed to NCHW)' : ''));
  }

  const headOps = head.map((i) => g.nodes[i]!.opType).filter((op) => op !== 'Constant');
  let headKind: HeadKind = 'mlp';
  let linear: LinearHeadWeights | undefined;
  const lin = cand.pooledRank === 2 ? linearWeights(g, head, cand.pooled) : 'the pooled tensor is 4-D';
  if (typeof lin === 'string') {
    reasoning.push(`head: not one linear layer (${lin}); it runs as a sub-model ${describe(cand.pooled)} → ${describe(logits.name)}`);
  } else {
    headKind = 'linear';
    linear = lin;
    reasoning.push(`head: one linear layer (${lin.op}), W [${lin.k}, ${lin.c}] and b [${lin.k}] read from the initializers`);
  }

  return {
    input: { name: input.name, elemType: input.elemType, shape: inShape },
    inputLayout: inputLayout.layout,
    featureLayout,
    logits: logits.name,
    logitsIsGraphOutput: logits.isOutput,
    featureMap: featureMap!,
    featureLayerOverride: override,
    pool: cand.info,
    pooled: cand.pooled,
    pooledRank: cand.pooledRank,
    headKind,
    headOps,
    linear,
    candidateLayers: candidateLayerNames(g, featureMap!),
    reasoning,
  };
}

/**
 * Channels first or last: a model that transposes its input with perm (0, 3, 1, 2) before any
 * other use takes NHWC (tf2onnx's export of a Keras model); otherwise the dims decide (C is 1 or 3).
 */
function inputLayoutOf(g: GraphIndex, name: string, shape: readonly Dim[]): { layout: Layout; why: string } {
  const uses = dataConsumers(g, name).map((i) => g.nodes[i]!);
  if (uses.length > 0 && uses.every((n) => samePerm(transposePerm(n), TO_NCHW))) {
    return { layout: 'nhwc', why: 'the model transposes it with perm (0, 3, 1, 2) before its first layer' };
  }
  if (uses.some((n) => n.opType === 'Conv')) return { layout: 'nchw', why: 'a Conv reads it directly' };
  const isChannels = (d: Dim | undefined) => d === 1 || d === 3;
  if (!isChannels(shape[1]) && isChannels(shape[3])) return { layout: 'nhwc', why: `its last dim is ${shape[3]} and its second is ${shape[1] ?? '?'}` };
  return { layout: 'nchw', why: 'channels first, as ONNX convolutions take them' };
}

/** Activation ops whose outputs are candidate layers for multi-layer NAP. */
const ACTIVATIONS = new Set(['Relu', 'Clip', 'LeakyRelu', 'HardSwish', 'Elu', 'Selu', 'Gelu', 'Mish']);

/** Mul(a, Sigmoid(a)) or Mul(a, HardSigmoid(a)): SiLU / HardSwish as exported (EfficientNet, MobileNetV3). */
function isGatedActivation(g: GraphIndex, n: NodeProto): boolean {
  if (n.opType !== 'Mul' || n.inputs.length !== 2) return false;
  return n.inputs.some((t, k) => {
    const p = g.producer.get(t);
    const gate = p === undefined ? undefined : g.nodes[p]!;
    return gate !== undefined && (gate.opType === 'Sigmoid' || gate.opType === 'HardSigmoid') && gate.inputs[0] === n.inputs[1 - k];
  });
}

/** Activation outputs (Relu, Clip, LeakyRelu, HardSwish, SiLU as Sigmoid · Mul, …) among the ancestors of `target`, in graph order. */
function activationLayerNames(g: GraphIndex, target: string): string[] {
  return [...ancestors(g, target)].sort((a, b) => a - b)
    .filter((i) => ACTIVATIONS.has(g.nodes[i]!.opType) || isGatedActivation(g, g.nodes[i]!))
    .map((i) => g.nodes[i]!.outputs[0]!);
}

/** For a refusal: the last activations before the logits, the likely feature maps to name. */
function lastActivations(g: GraphIndex, logits: string): string {
  const names = activationLayerNames(g, logits).slice(-3);
  return names.length ? `; the last activations before the logits: ${names.map((n) => describe(n)).join(', ')}` : '';
}

/** Candidate layers for multi-layer NAP: the activations up to the feature map, and the feature map itself last. */
function candidateLayerNames(g: GraphIndex, featureMap: string): string[] {
  const names = activationLayerNames(g, featureMap);
  if (g.producer.has(featureMap) && !names.includes(featureMap)) names.push(featureMap);
  return names;
}

/**
 * A model of its own for the head: input z (float32, [N, C], [N, C, 1, 1] or [N, 1, 1, C]), output the logits;
 * its nodes, initializers, opset imports and functions are copied byte for byte from `model`.
 */
export function headSubModel(model: ModelProto, analysis: GraphAnalysis, pooledDim?: number): Uint8Array {
  if (analysis.pooled === undefined) throw new Error('headSubModel: the analysis found no pooled tensor');
  const g = index(model, 'model');
  const head = headNodes(g, analysis.pooled, analysis.logits);
  if (typeof head === 'string') throw new Error(`headSubModel: ${head}`);
  const used = new Set<string>();
  for (const i of head) for (const t of g.nodes[i]!.inputs) used.add(t);
  const inits = model.graph.initializers.filter((t) => used.has(t.name));
  const c: Dim = pooledDim ?? null;
  return encodeSubModel({
    irVersion: model.irVersion,
    producerName: 'napood head',
    opsetImportsRaw: model.opsetImports.map((o) => o.raw),
    functionsRaw: model.functionsRaw,
    graphName: 'head',
    nodesRaw: head.map((i) => g.nodes[i]!.raw),
    initializersRaw: inits.map((t) => t.raw),
    inputs: [{ name: analysis.pooled, elemType: DataType.FLOAT, shape: analysis.pooledRank === 4 ? (analysis.pool?.layout === 'nhwc' ? ['N', 1, 1, c] : ['N', c, 1, 1]) : ['N', c] }],
    outputs: [{ name: analysis.logits }],
  });
}
