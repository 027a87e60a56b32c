/**
 * Input gradient of an ONNX classifier without autograd: from an inference graph, generate a new
 * ONNX model that takes the image x and the upstream gradient of the logits dL/df (N×K) and
 * outputs dL/dx = (∂f/∂x)ᵀ · dL/df (and the recomputed logits f(x)), built only from standard
 * ONNX ops that onnxruntime runs on CPU. Reverse-mode differentiation, done once on the graph:
 *
 *   - the forward nodes the logits depend on are copied as they are (their exact bytes), so every
 *     activation the backward pass needs is recomputed in the same run;
 *   - walking the nodes in reverse, each differentiable node adds, for every input that depends on
 *     x, its vector-Jacobian product; contributions to one tensor are summed (ONNX Sum).
 *
 * Vector-Jacobian products (g = gradient of the node's output y; formulas as PyTorch's autograd
 * derivatives.yaml, and torch.onnx's symbolic definitions for the forward semantics):
 *   Conv                 stride 1: Conv(g, W flipped and transposed per group) with pads
 *                        k_eff − 1 − p; strided: ConvTranspose(g, W) with the same strides /
 *                        dilations / group, pads and output_padding chosen so that the result
 *                        has x's exact size
 *   ConvTranspose        not supported (refused)
 *   Relu                 Where(y > 0, g, 0)                      (threshold_backward)
 *   LeakyRelu            Where(x > 0, g, α·g)
 *   Clip                 Where(min ≤ x ≤ max, g, 0)              (clamp_backward)
 *   Sigmoid / Tanh       g·y·(1 − y) / g·(1 − y²)
 *   Exp / Neg / Sqrt     g·y / −g / g / (2y)
 *   Erf                  g · 2/√π · exp(−x²)                      (GELU at opsets < 20)
 *   Pow (exponent e not computed from x)   g · e · xᵉ⁻¹           (LayerNorm's variance)
 *   HardSigmoid          Where(0 < αx + β < 1, α·g, 0);  HardSwish: g · (hardsigmoid(x) + Where(|x| < 3, x/6, 0))
 *   BatchNormalization   g · scale / sqrt(var + ε), per channel  (inference mode only)
 *   LayerNormalization   (1/σ)(ĝ − mean ĝ − x̂ · mean(ĝ x̂)), ĝ = g · scale, over the normalised axes
 *   Add / Sub / Mul / Div  with broadcasting: the product rule, then ReduceSum over the broadcast axes
 *   Concat / Split       Slice of g / Concat of the gradients (zeros for unused outputs)
 *   Pad (constant)       Slice of g (and Pad for negative pads);  Slice (steps 1): Pad of g
 *   MaxPool              the argmax of each window from MaxPool's Indices output, then
 *                        ScatterElements of g into zeros; overlapping windows (kernel > stride) add
 *                        up: with ScatterElements' reduction = add at opset ≥ 16, below that by
 *                        splitting the windows into ⌈k/s⌉² phases of disjoint windows, one
 *                        scatter per phase, summed
 *   AveragePool          ConvTranspose(g / divisor, ones) with group = C; the divisor of each
 *                        window is measured by running the pooling on a map of ones (onnxruntime
 *                        divides by the whole kernel when count_include_pad = 1, also where a
 *                        ceil_mode window passes the padded input, unlike PyTorch)
 *   GlobalAveragePool, ReduceMean, ReduceSum   Expand(g / count, Shape(x))
 *   Gemm / MatMul        g · Bᵀ (B constant)
 *   Flatten / Reshape / Squeeze / Unsqueeze    Reshape(g, Shape(x));  Transpose: inverse perm
 *   Identity / Dropout (inference)              g
 * Nodes that only read shapes (Shape, Size), comparisons and Constant carry no gradient. Any other
 * op on the path from x to the logits is refused with a NapoodError naming the node and op.
 *
 * Static facts the backward pass needs (tensor shapes, pads / axes computed by shape subgraphs) are
 * read from one probe run of the original model on a zero batch with those tensors as extra outputs:
 * the gradient model is therefore built for one input size (the batch stays dynamic). Every tensor
 * computed from the input must keep the batch as its first axis. Opset ≥ 11 (the ops emitted here
 * take the opset's own form: ReduceSum axes as attribute or input, ScatterElements reduction).
 */
import * as ort from 'onnxruntime-node';
import { NapoodError, describe, shapeString } from '../errors.js';
import { fixedBatchOf } from './batching.js';
import {
  DataType, ProtoDecodeError, WIRE_FIXED32, appendGraphOutputs, concatBytes, decodeModel, encodeSubModel,
  encodeVarint, lenField, numel, stringField, tensorValues, varintField,
  type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoSpec,
} from './proto.js';

/** Op types whose vector-Jacobian product napood generates. */
export const GRADIENT_OPS: readonly string[] = Object.freeze([
  'Add', 'AveragePool', 'BatchNormalization', 'Clip', 'Concat', 'Conv', 'Div', 'Dropout', 'Erf', 'Exp', 'Flatten', 'Gemm',
  'GlobalAveragePool', 'HardSigmoid', 'HardSwish', 'Identity', 'LayerNormalization', 'LeakyRelu', 'MatMul', 'MaxPool', 'Mul', 'Neg', 'Pad', 'Pow',
  'ReduceMean', 'ReduceSum', 'Relu', 'Reshape', 'Sigmoid', 'Slice', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'Transpose', 'Unsqueeze',
]);

/** Ops whose outputs carry no gradient (they read shapes, compare, or are piecewise constant). */
const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ArgMax', 'ArgMin', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And',
  'Or', 'Xor', 'IsNaN', 'IsInf', 'NonZero', 'Sign', 'Floor', 'Ceil', 'Round', 'ConstantOfShape', 'Constant',
]);

const MIN_OPSET = 11;

export interface GradientModelOptions {
  /** Tensor to differentiate (default: the logits, i.e. the first graph output or the input of a final Softmax). */
  readonly output?: string;
  /** Per-sample input dims (e.g. [C, H, W]) where the model's input dims are symbolic. */
  readonly inputShape?: readonly number[];
  /** Name used in error messages (default "model"). */
  readonly file?: string;
  /** onnxruntime intra-op threads for the probe run. */
  readonly threads?: number;
}

export interface GradientModel {
  /** The generated ONNX model (ModelProto bytes). */
  readonly bytes: Uint8Array;
  /** Image input name (as in the original model), float32 [N, ...inputDims]. */
  readonly input: string;
  /** Second input: the upstream gradient dL/d(output), float32 [N, ...outputDims]. */
  readonly seed: string;
  /** Output dL/dx, float32 [N, ...inputDims]. */
  readonly gradient: string;
  /** The differentiated tensor (the logits), recomputed and also an output of the model. */
  readonly output: string;
  readonly inputDims: readonly number[];
  readonly outputDims: readonly number[];
  /** The original model's fixed batch size, if it has one (run the gradient model in slices of it). */
  readonly fixedBatch?: number;
  readonly opset: number;
  /** How many nodes of each op type were differentiated. */
  readonly differentiated: Readonly<Record<string, number>>;
  /** Nodes in the generated model (forward copy + backward). */
  readonly nodeCount: number;
}

// ---------------------------------------------------------------------------------------------
// Encoding of new nodes and tensors
// ---------------------------------------------------------------------------------------------

/** An attribute of a generated node. */
export interface AttrSpec {
  readonly name: string;
  readonly i?: number;
  readonly f?: number;
  readonly s?: string;
  readonly ints?: readonly number[];
  readonly floats?: readonly number[];
}

function fixed32Field(no: number, value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return concatBytes([encodeVarint(no * 8 + WIRE_FIXED32), b]);
}

export function encodeAttribute(a: AttrSpec): Uint8Array {
  const parts: Uint8Array[] = [stringField(1, a.name)];
  if (a.i !== undefined) parts.push(varintField(20, 2), varintField(3, a.i));
  else if (a.f !== undefined) parts.push(varintField(20, 1), fixed32Field(2, a.f));
  else if (a.s !== undefined) parts.push(varintField(20, 3), stringField(4, a.s));
  else if (a.ints !== undefined) parts.push(varintField(20, 7), ...a.ints.map((v) => varintField(8, v)));
  else if (a.floats !== undefined) parts.push(varintField(20, 6), ...a.floats.map((v) => fixed32Field(7, v)));
  else throw new RangeError(`attribute ${a.name} has no value`);
  return concatBytes(parts);
}

export function encodeNode(opType: string, inputs: readonly string[], outputs: readonly string[], name: string,
  attrs: readonly AttrSpec[] = [], domain = ''): Uint8Array {
  return concatBytes([
    ...inputs.map((s) => stringField(1, s)),
    ...outputs.map((s) => stringField(2, s)),
    stringField(3, name),
    stringField(4, opType),
    ...attrs.map((a) => lenField(5, encodeAttribute(a))),
    ...(domain !== '' ? [stringField(7, domain)] : []),
  ]);
}

/** A float32 or int64 TensorProto with raw_data. */
export function encodeTensor(name: string, dims: readonly number[], values: ArrayLike<number>, type: 'float32' | 'int64'): Uint8Array {
  const n = numel(dims);
  if (values.length !== n) throw new RangeError(`tensor ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
  const size = type === 'float32' ? 4 : 8;
  const raw = new Uint8Array(n * size);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    if (type === 'float32') dv.setFloat32(i * 4, values[i]!, true);
    else dv.setBigInt64(i * 8, BigInt(values[i]!), true);
  }
  return concatBytes([
    ...dims.map((d) => varintField(1, d)),
    varintField(2, type === 'float32' ? DataType.FLOAT : DataType.INT64),
    stringField(8, name),
    lenField(9, raw),
  ]);
}

/** A decoded attribute re-encoded (numbers, number lists and strings only). */
function copyAttribute(a: AttributeProto): AttrSpec | undefined {
  switch (a.type) {
    case 1: return { name: a.name, f: a.f ?? 0 };
    case 2: return { name: a.name, i: a.i ?? 0 };
    case 3: return { name: a.name, s: a.s ?? '' };
    case 6: return { name: a.name, floats: a.floats };
    case 7: return { name: a.name, ints: a.ints };
    default:
      if (a.i !== undefined) return { name: a.name, i: a.i };
      if (a.f !== undefined) return { name: a.name, f: a.f };
      if (a.s !== undefined) return { name: a.name, s: a.s };
      if (a.ints.length > 0) return { name: a.name, ints: a.ints };
      if (a.floats.length > 0) return { name: a.name, floats: a.floats };
      return undefined;
  }
}

/** Collects generated nodes and initializers under fresh names. */
class Builder {
  readonly nodes: Uint8Array[] = [];
  readonly inits: Uint8Array[] = [];
  private counter = 0;
  constructor(private readonly taken: Set<string>, readonly opset: number) {}

  fresh(hint: string): string {
    for (;;) {
      const name = `napood_grad/${hint}_${this.counter++}`;
      if (!this.taken.has(name)) {
        this.taken.add(name);
        return name;
      }
    }
  }

  op(type: string, inputs: readonly string[], attrs: readonly AttrSpec[] = [], outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(type));
    this.nodes.push(encodeNode(type, inputs, outs, outs[0]!, attrs));
    return outs;
  }

  op1(type: string, inputs: readonly string[], attrs: readonly AttrSpec[] = []): string {
    return this.op(type, inputs, attrs, 1)[0]!;
  }

  f32(values: ArrayLike<number>, dims: readonly number[] = []): string {
    const name = this.fresh('const');
    this.inits.push(encodeTensor(name, dims, values, 'float32'));
    return name;
  }

  i64(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    const name = this.fresh('const');
    this.inits.push(encodeTensor(name, dims, values, 'int64'));
    return name;
  }

  /** ReduceSum over `axes` keeping dims (axes as attribute before opset 13, as input from 13). */
  reduceSum(x: string, axes: readonly number[]): string {
    if (this.opset < 13) return this.op1('ReduceSum', [x], [{ name: 'axes', ints: axes }, { name: 'keepdims', i: 1 }]);
    return this.op1('ReduceSum', [x, this.i64(axes)], [{ name: 'keepdims', i: 1 }]);
  }

  /** ReduceMean over `axes` keeping dims (axes as attribute before opset 18, as input from 18). */
  reduceMean(x: string, axes: readonly number[]): string {
    if (this.opset < 18) return this.op1('ReduceMean', [x], [{ name: 'axes', ints: axes }, { name: 'keepdims', i: 1 }]);
    return this.op1('ReduceMean', [x, this.i64(axes)], [{ name: 'keepdims', i: 1 }]);
  }

  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string {
    const ins = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps !== undefined) ins.push(this.i64(steps));
    return this.op1('Slice', ins);
  }

  shape(x: string): string {
    return this.op1('Shape', [x]);
  }

  /** Zeros shaped like x. */
  zerosLike(x: string): string {
    return this.op1('ConstantOfShape', [this.shape(x)]);
  }
}

// ---------------------------------------------------------------------------------------------
// Graph planning
// ---------------------------------------------------------------------------------------------

interface Probed {
  readonly dims: number[];
  readonly values?: number[];
}

interface Plan {
  readonly model: ModelProto;
  readonly file: string;
  readonly opset: number;
  readonly input: string;
  readonly output: string;
  /** Indices of the nodes the output depends on (the forward copy), in graph order. */
  readonly forward: number[];
  /** Tensors that depend differentiably on the input. */
  readonly dependent: Set<string>;
  readonly initializers: Map<string, TensorProto>;
  readonly constants: Map<string, TensorProto>;
  readonly producer: Map<string, number>;
}

function nodeLabel(n: NodeProto, i: number): string {
  return n.name !== '' ? `${n.name} (${n.opType})` : `${n.opType}#${i}`;
}

function attr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attributes.find((a) => a.name === name);
}

function attrInt(n: NodeProto, name: string, dflt: number): number {
  return attr(n, name)?.i ?? dflt;
}

function attrFloat(n: NodeProto, name: string, dflt: number): number {
  return attr(n, name)?.f ?? dflt;
}

function attrInts(n: NodeProto, name: string, dflt: readonly number[]): number[] {
  const a = attr(n, name);
  return a !== undefined && a.ints.length > 0 ? a.ints.slice() : dflt.slice();
}

function attrString(n: NodeProto, name: string, dflt: string): string {
  return attr(n, name)?.s ?? dflt;
}

/** The logits: the first graph output, or the input of a final Softmax / LogSoftmax. */
function defaultOutput(model: ModelProto, producer: Map<string, number>): string {
  const first = model.graph.outputs[0];
  if (first === undefined) throw new NapoodError('model', 'a graph output', 'none');
  const p = producer.get(first.name);
  if (p !== undefined) {
    const n = model.graph.nodes[p]!;
    if (n.opType === 'Softmax' || n.opType === 'LogSoftmax') return n.inputs[0]!;
  }
  return first.name;
}

function planGraph(model: ModelProto, opts: GradientModelOptions): Plan {
  const file = opts.file ?? 'model';
  const g = model.graph;
  const opsetImport = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = opsetImport?.version ?? 0;
  if (opset < MIN_OPSET) {
    throw new NapoodError(file, `an ONNX model at opset ≥ ${MIN_OPSET} for the input gradient`, `opset ${opset}`);
  }
  const initializers = new Map(g.initializers.map((t) => [t.name, t]));
  const inputs = g.inputs.filter((v) => !initializers.has(v.name));
  if (inputs.length !== 1) {
    throw new NapoodError(file, 'a model with one image input', `${inputs.length} inputs (${inputs.map((v) => describe(v.name)).join(', ')})`);
  }
  const input = inputs[0]!.name;
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => { if (o !== '') producer.set(o, i); }));
  const constants = new Map<string, TensorProto>();
  for (const n of g.nodes) {
    if (n.opType === 'Constant' && n.domain === '') {
      const v = attr(n, 'value');
      if (v?.t !== undefined) constants.set(n.outputs[0]!, v.t);
    }
  }
  const output = opts.output ?? defaultOutput(model, producer);
  if (!producer.has(output)) {
    throw new NapoodError('output', `a tensor computed by ${file}`, describe(output));
  }

  // topological order check: every input is a graph input, an initializer or an earlier output
  const known = new Set<string>([...g.inputs.map((v) => v.name), ...initializers.keys(), '']);
  g.nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      if (!known.has(t)) {
        throw new NapoodError(file, 'nodes in topological order (ONNX requires it)', `${nodeLabel(n, i)} reads ${describe(t)} before it is computed`);
      }
    }
    n.outputs.forEach((o) => known.add(o));
  });

  // tensors depending on the input through differentiable ops
  const dependent = new Set<string>([input]);
  for (const n of g.nodes) {
    if (NON_DIFFERENTIABLE.has(n.opType) && n.domain === '') continue;
    if (n.inputs.some((t) => dependent.has(t))) n.outputs.forEach((o) => { if (o !== '') dependent.add(o); });
  }
  if (!dependent.has(output)) {
    throw new NapoodError('output', `a tensor that depends on the input ${describe(input)}`, describe(output));
  }

  // ancestors of the output
  const needed = new Set<number>();
  const stack = [output];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = producer.get(t);
    if (p === undefined || needed.has(p)) continue;
    needed.add(p);
    for (const i of g.nodes[p]!.inputs) if (i !== '') stack.push(i);
  }
  const forward = [...needed].sort((a, b) => a - b);
  return { model, file, opset, input, output, forward, dependent, initializers, constants, producer };
}

/** Nodes on the path input → output, in reverse order, checked against the supported ops. */
function backwardNodes(plan: Plan): number[] {
  const g = plan.model.graph;
  const out: number[] = [];
  for (let k = plan.forward.length - 1; k >= 0; k--) {
    const i = plan.forward[k]!;
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => plan.dependent.has(o))) continue;
    if (n.domain !== '' && n.domain !== 'ai.onnx') {
      throw new NapoodError(plan.file, `ops napood can differentiate (${GRADIENT_OPS.join(', ')})`,
        `${nodeLabel(n, i)} of domain ${describe(n.domain)} on the path from the input to the logits`);
    }
    if (!GRADIENT_OPS.includes(n.opType)) {
      throw new NapoodError(plan.file, `ops napood can differentiate (${GRADIENT_OPS.join(', ')})`,
        `op ${n.opType} (node ${nodeLabel(n, i)}) on the path from the input to the logits`);
    }
    out.push(i);
  }
  return out;
}

/** Non-dependent inputs whose values the backward pass needs (pads, axes, slice bounds, split sizes). */
function valueInputs(n: NodeProto, opset: number): string[] {
  const pick = (...idx: number[]) => idx.map((k) => n.inputs[k]).filter((t): t is string => t !== undefined && t !== '');
  switch (n.opType) {
    case 'Pad': return pick(1, 3);
    case 'ReduceMean': return opset >= 18 ? pick(1) : [];
    case 'ReduceSum': return opset >= 13 ? pick(1) : [];
    case 'Slice': return pick(1, 2, 3, 4);
    case 'Split': return pick(1);
    default: return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Probe run
// ---------------------------------------------------------------------------------------------

function ortMessage(e: unknown): string {
  return describe(String((e as Error)?.message ?? e));
}

async function probeRun(bytes: Uint8Array, plan: Plan, names: readonly string[], inputDims: readonly number[],
  batch: number, threads?: number): Promise<Map<string, Probed>> {
  const existing = new Set(plan.model.graph.outputs.map((o) => o.name));
  const extra = names.filter((t) => !existing.has(t));
  const edited = appendGraphOutputs(bytes, extra.map((name) => ({ name })));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(edited, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'disabled',
      logSeverityLevel: 3,
      ...(threads !== undefined ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    });
  } catch (e) {
    throw new NapoodError(plan.file, 'a model onnxruntime can load (probe run for the gradient model)', ortMessage(e));
  }
  const dims = [batch, ...inputDims];
  const feeds = { [plan.input]: new ort.Tensor('float32', new Float32Array(numel(dims)), dims) };
  let result: Record<string, ort.Tensor>;
  try {
    result = await session.run(feeds); // every output: see adapter.ts on onnxruntime-node's fetch bug
  } catch (e) {
    throw new NapoodError(plan.file, `a model that onnxruntime runs on an input [${dims.join(', ')}] (probe run)`, ortMessage(e));
  } finally {
    await session.release();
  }
  const out = new Map<string, Probed>();
  for (const t of names) {
    const r = result[t];
    if (r === undefined) throw new NapoodError(plan.file, `tensor ${describe(t)} in the probe run`, 'no such output');
    let values: number[] | undefined;
    if (r.size <= 64 && (r.type === 'int64' || r.type === 'int32' || r.type === 'float32')) {
      values = Array.from(r.data as ArrayLike<number | bigint>, (v) => Number(v));
    }
    out.set(t, { dims: [...r.dims], values });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Backward emission
// ---------------------------------------------------------------------------------------------

/** Begin / end pads of a windowed op (explicit pads, or auto_pad from the probed shapes). */
function windowPads(n: NodeProto, xs: readonly number[], ys: readonly number[], kEff: readonly number[], strides: readonly number[],
  fail: (expected: string, found: string) => never): [number[], number[]] {
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
function poolGeometry(n: NodeProto, xs: readonly number[], ys: readonly number[], fail: (expected: string, found: string) => never) {
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
 * AveragePool weights 1 / divisor(o) of each output position, as onnxruntime computes them: the
 * node (same attributes, same opset) is run on a map of ones, whose output is taps(o) / divisor(o)
 * with taps(o) the window taps inside the input. (onnxruntime's divisor with count_include_pad = 1
 * and ceil_mode = 1 is the whole kernel, not PyTorch's kernel clipped to the padded input, so it is
 * measured here rather than assumed.)
 */
async function averagePoolWeights(model: ModelProto, n: NodeProto, xs: readonly number[], ys: readonly number[],
  file: string, label: string, threads?: number): Promise<Float64Array> {
  const fail = (expected: string, found: string): never => {
    throw new NapoodError(file, `${expected} (node ${label})`, found);
  };
  const { r, kernel, strides, dilations, pb } = poolGeometry(n, xs, ys, fail);
  const spatial = xs.slice(2);
  const outSpatial = ys.slice(2);
  const attrs = n.attributes.map(copyAttribute).filter((a): a is AttrSpec => a !== undefined);
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
  let v: ort.Tensor;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'], logSeverityLevel: 3,
    ...(threads !== undefined ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
  try {
    v = (await session.run({ x: new ort.Tensor('float32', new Float32Array(numel(spatial)).fill(1), [1, 1, ...spatial]) })).y!;
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
      const start = o * strides[k]! - pb[k]!;
      let c = 0;
      for (let j = 0; j < kernel[k]!; j++) {
        const p = start + j * dilations[k]!;
        if (p >= 0 && p < spatial[k]!) c++;
      }
      t.push(c);
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

class Backward {
  private readonly grads = new Map<string, string[]>();
  readonly counts: Record<string, number> = {};

  constructor(private readonly plan: Plan, private readonly b: Builder, private readonly probed: Map<string, Probed>,
    private readonly inputName: string, private readonly poolWeights: Map<number, Float64Array>) {}

  private fail(n: NodeProto, i: number, expected: string, found: string): never {
    throw new NapoodError(this.plan.file, `${expected} (node ${nodeLabel(n, i)})`, found);
  }

  shape(t: string): number[] {
    const p = this.probed.get(t);
    if (p !== undefined) return p.dims;
    const init = this.plan.initializers.get(t) ?? this.plan.constants.get(t);
    if (init !== undefined) return init.dims.slice();
    throw new Error(`internal: no shape for ${t}`);
  }

  value(t: string): number[] {
    const init = this.plan.initializers.get(t) ?? this.plan.constants.get(t);
    if (init !== undefined) {
      try {
        return Array.from(tensorValues(init));
      } catch (e) {
        if (e instanceof ProtoDecodeError) throw new NapoodError(this.plan.file, `readable values of ${describe(t)}`, e.message);
        throw e;
      }
    }
    const p = this.probed.get(t);
    if (p?.values !== undefined) return p.values;
    throw new Error(`internal: no value for ${t}`);
  }

  dep(t: string | undefined): t is string {
    return t !== undefined && t !== '' && this.plan.dependent.has(t);
  }

  add(t: string, g: string): void {
    const list = this.grads.get(t);
    if (list === undefined) this.grads.set(t, [g]);
    else list.push(g);
  }

  /** The summed gradient of t, or undefined when nothing flows into it. */
  grad(t: string): string | undefined {
    const list = this.grads.get(t);
    if (list === undefined || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const s = this.b.op1('Sum', list);
    this.grads.set(t, [s]);
    return s;
  }

  /** Sum g (shaped like `outT`) down to the shape of `inT` (numpy broadcasting). */
  private unbroadcast(g: string, inT: string, outT: string, n: NodeProto, i: number): string {
    const si = this.shape(inT);
    const so = this.shape(outT);
    if (si.length !== so.length) {
      this.fail(n, i, 'inputs of equal rank for a broadcasting op on the path to the logits', `${shapeString(si)} and output ${shapeString(so)}`);
    }
    const axes: number[] = [];
    for (let k = 0; k < so.length; k++) if (si[k] === 1 && so[k] !== 1) axes.push(k);
    return axes.length === 0 ? g : this.b.reduceSum(g, axes);
  }

  run(order: readonly number[], seed: string): string {
    const g = this.plan.model.graph;
    this.add(this.plan.output, seed);
    for (const i of order) {
      const n = g.nodes[i]!;
      const gy = this.grad(n.outputs[0]!);
      for (let k = 1; k < n.outputs.length; k++) {
        const o = n.outputs[k]!;
        if (o !== '' && this.grads.has(o) && n.opType !== 'Split') {
          this.fail(n, i, 'gradients through the first output only', `a gradient flowing into output ${k} (${describe(o)})`);
        }
      }
      if (gy === undefined && (n.opType !== 'Split' || !n.outputs.some((o) => this.grads.has(o)))) continue;
      this.counts[n.opType] = (this.counts[n.opType] ?? 0) + 1;
      this.node(n, i, gy!);
    }
    const gx = this.grad(this.inputName);
    if (gx === undefined) throw new Error('internal: no gradient reached the input');
    return gx;
  }

  private node(n: NodeProto, i: number, gy: string): void {
    const b = this.b;
    const x = n.inputs[0]!;
    const y = n.outputs[0]!;
    const zero = (): string => b.f32([0]);
    switch (n.opType) {
      case 'Identity':
      case 'Dropout':
        if (this.dep(x)) this.add(x, gy);
        return;
      case 'Flatten':
      case 'Reshape':
      case 'Squeeze':
      case 'Unsqueeze':
        if (this.dep(x)) this.add(x, b.op1('Reshape', [gy, b.shape(x)]));
        return;
      case 'Transpose': {
        const rank = this.shape(x).length;
        const perm = attrInts(n, 'perm', Array.from({ length: rank }, (_, k) => rank - 1 - k));
        const inv = new Array<number>(rank);
        perm.forEach((p, k) => { inv[p] = k; });
        if (this.dep(x)) this.add(x, b.op1('Transpose', [gy], [{ name: 'perm', ints: inv }]));
        return;
      }
      case 'Relu': {
        const mask = b.op1('Greater', [y, zero()]);
        this.add(x, b.op1('Where', [mask, gy, zero()]));
        return;
      }
      case 'LeakyRelu': {
        const alpha = attrFloat(n, 'alpha', 0.01);
        const mask = b.op1('Greater', [x, zero()]);
        this.add(x, b.op1('Where', [mask, gy, b.op1('Mul', [gy, b.f32([alpha])])]));
        return;
      }
      case 'Clip': {
        const lo = n.inputs[1];
        const hi = n.inputs[2];
        if (this.dep(lo) || this.dep(hi)) this.fail(n, i, 'Clip bounds that do not depend on the input', 'bounds computed from it');
        let mask: string | undefined;
        if (lo !== undefined && lo !== '') mask = b.op1('Not', [b.op1('Less', [x, lo])]);
        if (hi !== undefined && hi !== '') {
          const m2 = b.op1('Not', [b.op1('Greater', [x, hi])]);
          mask = mask === undefined ? m2 : b.op1('And', [mask, m2]);
        }
        this.add(x, mask === undefined ? gy : b.op1('Where', [mask, gy, zero()]));
        return;
      }
      case 'Sigmoid': {
        const d = b.op1('Mul', [y, b.op1('Sub', [b.f32([1]), y])]);
        this.add(x, b.op1('Mul', [gy, d]));
        return;
      }
      case 'Tanh': {
        const d = b.op1('Sub', [b.f32([1]), b.op1('Mul', [y, y])]);
        this.add(x, b.op1('Mul', [gy, d]));
        return;
      }
      case 'Neg':
        this.add(x, b.op1('Neg', [gy]));
        return;
      case 'Exp':
        this.add(x, b.op1('Mul', [gy, y]));
        return;
      case 'Sqrt': // d√x = 1 / (2√x)  (LayerNorm's standard deviation)
        this.add(x, b.op1('Div', [b.op1('Mul', [gy, b.f32([0.5])]), y]));
        return;
      case 'Erf': { // d erf(x) = 2/√π · exp(−x²)  (GELU as exported at opsets < 20)
        const d = b.op1('Mul', [b.f32([2 / Math.sqrt(Math.PI)]), b.op1('Exp', [b.op1('Neg', [b.op1('Mul', [x, x])])])]);
        this.add(x, b.op1('Mul', [gy, d]));
        return;
      }
      case 'Pow': { // d xᵉ = e · xᵉ⁻¹ for an exponent that does not depend on the input (LayerNorm's square)
        const e = n.inputs[1]!;
        if (this.dep(e)) this.fail(n, i, 'Pow with an exponent that does not depend on the input', 'an exponent computed from it');
        const ef = b.op1('Cast', [e], [{ name: 'to', i: DataType.FLOAT }]);
        const d = b.op1('Mul', [ef, b.op1('Pow', [x, b.op1('Sub', [ef, b.f32([1])])])]);
        this.add(x, this.unbroadcast(b.op1('Mul', [gy, d]), x, y, n, i));
        return;
      }
      case 'HardSigmoid': { // y = max(0, min(1, αx + β)): slope α where 0 < αx + β < 1
        const alpha = attrFloat(n, 'alpha', 0.2);
        const v = b.op1('Add', [b.op1('Mul', [x, b.f32([alpha])]), b.f32([attrFloat(n, 'beta', 0.5)])]);
        const inside = b.op1('And', [b.op1('Greater', [v, zero()]), b.op1('Less', [v, b.f32([1])])]);
        this.add(x, b.op1('Where', [inside, b.op1('Mul', [gy, b.f32([alpha])]), zero()]));
        return;
      }
      case 'HardSwish': { // y = x · hardsigmoid(x; 1/6, 1/2): dy/dx = hardsigmoid(x) + x/6 where −3 < x < 3
        const hs = b.op1('HardSigmoid', [x], [{ name: 'alpha', f: 1 / 6 }, { name: 'beta', f: 0.5 }]);
        const inside = b.op1('And', [b.op1('Greater', [x, b.f32([-3])]), b.op1('Less', [x, b.f32([3])])]);
        const d = b.op1('Add', [hs, b.op1('Where', [inside, b.op1('Mul', [x, b.f32([1 / 6])]), zero()])]);
        this.add(x, b.op1('Mul', [gy, d]));
        return;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const [a, c] = [n.inputs[0]!, n.inputs[1]!];
        if (this.dep(a)) {
          let ga = gy;
          if (n.opType === 'Mul') ga = b.op1('Mul', [gy, c]);
          else if (n.opType === 'Div') ga = b.op1('Div', [gy, c]);
          this.add(a, this.unbroadcast(ga, a, y, n, i));
        }
        if (this.dep(c)) {
          let gc = gy;
          if (n.opType === 'Sub') gc = b.op1('Neg', [gy]);
          else if (n.opType === 'Mul') gc = b.op1('Mul', [gy, a]);
          else if (n.opType === 'Div') gc = b.op1('Neg', [b.op1('Mul', [gy, b.op1('Div', [y, c])])]);
          this.add(c, this.unbroadcast(gc, c, y, n, i));
        }
        return;
      }
      case 'Concat': {
        const rank = this.shape(y).length;
        let axis = attrInt(n, 'axis', 0);
        if (axis < 0) axis += rank;
        let offset = 0;
        for (const t of n.inputs) {
          const size = this.shape(t)[axis]!;
          if (this.dep(t)) this.add(t, b.slice(gy, [offset], [offset + size], [axis]));
          offset += size;
        }
        return;
      }
      case 'Split': {
        if (!this.dep(x)) return;
        const rank = this.shape(x).length;
        let axis = attrInt(n, 'axis', 0);
        if (axis < 0) axis += rank;
        const parts = n.outputs.filter((o) => o !== '').map((o) => this.grad(o) ?? b.zerosLike(o));
        this.add(x, b.op1('Concat', parts, [{ name: 'axis', i: axis }]));
        return;
      }
      case 'Slice': {
        if (!this.dep(x)) return;
        if (n.inputs.slice(1).some((t) => this.dep(t))) this.fail(n, i, 'Slice bounds that do not depend on the input', 'bounds computed from it');
        const xs = this.shape(x);
        const rank = xs.length;
        const starts = this.value(n.inputs[1]!);
        const ends = this.value(n.inputs[2]!);
        const axes = n.inputs[3] ? this.value(n.inputs[3]) : starts.map((_, k) => k);
        const steps = n.inputs[4] ? this.value(n.inputs[4]) : starts.map(() => 1);
        const pads = new Array<number>(2 * rank).fill(0);
        axes.forEach((a0, k) => {
          const a = a0 < 0 ? a0 + rank : a0;
          if (steps[k] !== 1) this.fail(n, i, 'Slice with steps 1', `steps ${describe(steps)}`);
          const dim = xs[a]!;
          const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
          const s = clamp(starts[k]!);
          const e = Math.max(clamp(ends[k]!), s);
          pads[a] = s;
          pads[a + rank] = dim - e;
        });
        this.add(x, b.op1('Pad', [gy, b.i64(pads)]));
        return;
      }
      case 'Pad': {
        if (!this.dep(x)) return;
        const mode = attrString(n, 'mode', 'constant');
        if (mode !== 'constant') this.fail(n, i, 'Pad mode "constant"', describe(mode));
        const xs = this.shape(x);
        const rank = xs.length;
        const raw = this.value(n.inputs[1]!);
        const pads = new Array<number>(2 * rank).fill(0);
        const axes = n.inputs[3] ? this.value(n.inputs[3]).map((a) => (a < 0 ? a + rank : a)) : xs.map((_, k) => k);
        axes.forEach((a, k) => {
          pads[a] = raw[k]!;
          pads[a + rank] = raw[k + axes.length]!;
        });
        const ys = this.shape(y);
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
        this.add(x, gx);
        return;
      }
      case 'BatchNormalization': {
        if (!this.dep(x)) return;
        if (attrInt(n, 'training_mode', 0) !== 0) this.fail(n, i, 'BatchNormalization in inference mode', 'training_mode = 1');
        const [scale, , , variance] = n.inputs.slice(1);
        if (n.inputs.slice(1).some((t) => this.dep(t))) this.fail(n, i, 'BatchNormalization parameters that do not depend on the input', 'parameters computed from it');
        const eps = attrFloat(n, 'epsilon', 1e-5);
        const xs = this.shape(x);
        const factor = b.op1('Div', [scale!, b.op1('Sqrt', [b.op1('Add', [variance!, b.f32([eps])])])]);
        const target = [xs[1]!, ...new Array<number>(Math.max(xs.length - 2, 0)).fill(1)];
        const f = b.op1('Reshape', [factor, b.i64(target)]);
        this.add(x, b.op1('Mul', [gy, f]));
        return;
      }
      case 'LayerNormalization': {
        // y = x̂ · scale + bias, x̂ = (x − μ) / σ over the axes from `axis` on (ConvNeXt, ViT; opset ≥ 17):
        // dx = (1/σ) · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)),  ĝ = g · scale   (native_layer_norm_backward)
        if (!this.dep(x)) return;
        if (n.inputs.slice(1).some((t) => t !== '' && this.dep(t))) this.fail(n, i, 'LayerNormalization scale and bias that do not depend on the input', 'parameters computed from it');
        const rank = this.shape(x).length;
        const axis0 = attrInt(n, 'axis', -1);
        const first = axis0 < 0 ? axis0 + rank : axis0;
        const axes = Array.from({ length: rank - first }, (_, k) => first + k);
        const mean = (t: string): string => b.reduceMean(t, axes);
        const xc = b.op1('Sub', [x, mean(x)]);
        const rstd = b.op1('Reciprocal', [b.op1('Sqrt', [b.op1('Add', [mean(b.op1('Mul', [xc, xc])), b.f32([attrFloat(n, 'epsilon', 1e-5)])])])]);
        const xhat = b.op1('Mul', [xc, rstd]);
        const gh = b.op1('Mul', [gy, n.inputs[1]!]);
        const inner = b.op1('Sub', [b.op1('Sub', [gh, mean(gh)]), b.op1('Mul', [xhat, mean(b.op1('Mul', [gh, xhat]))])]);
        this.add(x, b.op1('Mul', [rstd, inner]));
        return;
      }
      case 'GlobalAveragePool': {
        const xs = this.shape(x);
        const count = numel(xs.slice(2));
        this.add(x, b.op1('Expand', [b.op1('Mul', [gy, b.f32([1 / count])]), b.shape(x)]));
        return;
      }
      case 'ReduceMean':
      case 'ReduceSum': {
        if (!this.dep(x)) return;
        const xs = this.shape(x);
        const rank = xs.length;
        let axes: number[];
        const axesAttr = attr(n, 'axes');
        if (axesAttr !== undefined) axes = axesAttr.ints.slice();
        else if (n.inputs[1] !== undefined && n.inputs[1] !== '') axes = this.value(n.inputs[1]);
        else axes = [];
        if (axes.length === 0) {
          if (attrInt(n, 'noop_with_empty_axes', 0) === 1) { this.add(x, gy); return; }
          axes = xs.map((_, k) => k);
        }
        axes = axes.map((a) => (a < 0 ? a + rank : a));
        if (axes.includes(0)) this.fail(n, i, `${n.opType} that keeps the batch axis 0`, `axes ${describe(axes)}`);
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
        this.add(x, b.op1('Expand', [gk, b.shape(x)]));
        return;
      }
      case 'Gemm': {
        const [a, w, c] = n.inputs;
        if (this.dep(w) || this.dep(c)) this.fail(n, i, 'Gemm whose B and C do not depend on the input', 'B or C computed from it');
        if (!this.dep(a)) return;
        // transA = 1 would put the batch on A's second axis (refused by the probe check before this)
        if (attrInt(n, 'transA', 0) !== 0) this.fail(n, i, 'Gemm with transA = 0', 'transA = 1');
        const alpha = attrFloat(n, 'alpha', 1);
        const transB = attrInt(n, 'transB', 0);
        this.add(a!, b.op1('Gemm', [gy, w!], [{ name: 'alpha', f: alpha }, { name: 'transB', i: 1 - transB }]));
        return;
      }
      case 'MatMul': {
        const [a, w] = n.inputs;
        if (this.dep(w)) this.fail(n, i, 'MatMul whose second input does not depend on the input', 'both inputs computed from it');
        if (!this.dep(a)) return;
        const ws = this.shape(w!);
        const as = this.shape(a!);
        if (ws.length !== 2 || as.length < 2) this.fail(n, i, 'MatMul of an [..., N, C] activation by a [C, K] matrix', `${shapeString(as)} × ${shapeString(ws)}`);
        const wt = b.op1('Transpose', [w!], [{ name: 'perm', ints: [1, 0] }]);
        this.add(a!, b.op1('MatMul', [gy, wt]));
        return;
      }
      case 'Conv':
        this.conv(n, i, gy);
        return;
      case 'AveragePool':
        this.averagePool(n, i, gy);
        return;
      case 'MaxPool':
        this.maxPool(n, i, gy);
        return;
      default:
        this.fail(n, i, `ops napood can differentiate (${GRADIENT_OPS.join(', ')})`, `op ${n.opType}`);
    }
  }

  /**
   * ConvTranspose of g with weight w back onto the input grid: pads / output_padding chosen so that
   * the output is exactly x's spatial size, aligned so that input row h receives window taps at
   * h + pb (the forward's begin padding).
   */
  private transposeWindow(g: string, w: string, xs: number[], ys: number[], kernel: number[], strides: number[],
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
    return this.b.op1('ConvTranspose', [g, w], attrs);
  }

  private conv(n: NodeProto, i: number, gy: string): void {
    const [x, w, bias] = n.inputs;
    if (this.dep(w) || this.dep(bias)) this.fail(n, i, 'Conv whose weight and bias do not depend on the input', 'weight or bias computed from it');
    if (!this.dep(x)) return;
    const xs = this.shape(x!);
    const ys = this.shape(n.outputs[0]!);
    const ws = this.shape(w!);
    const r = xs.length - 2;
    const kernel = ws.slice(2);
    const strides = attrInts(n, 'strides', new Array<number>(r).fill(1));
    const dilations = attrInts(n, 'dilations', new Array<number>(r).fill(1));
    const group = attrInt(n, 'group', 1);
    const kEff = kernel.map((k, j) => (k - 1) * dilations[j]! + 1);
    const [pb, pe] = windowPads(n, xs, ys, kEff, strides, (e, f) => this.fail(n, i, e, f));
    const flippedPads = [...kEff.map((k, j) => k - 1 - pb[j]!), ...kEff.map((k, j) => k - 1 - pe[j]!)];
    if (strides.every((v) => v === 1) && flippedPads.every((v) => v >= 0)) {
      // stride 1: a plain Conv of g with the flipped, in/out-transposed kernel (onnxruntime runs
      // Conv much faster than ConvTranspose, depthwise above all); the kernel is rearranged by
      // constant-foldable ops: W [M, C/G, k…] → flip k → [G, M/G, C/G, k…] → [G, C/G, M/G, k…] → [C, M/G, k…]
      const b = this.b;
      const m = ws[0]!;
      const cg = ws[1]!;
      const spatialAxes = kernel.map((_, j) => j + 2);
      const flipped = b.slice(w!, kernel.map(() => -1), kernel.map(() => -(2 ** 53 - 1)), spatialAxes, kernel.map(() => -1));
      const grouped = b.op1('Reshape', [flipped, b.i64([group, m / group, cg, ...kernel])]);
      const swapped = b.op1('Transpose', [grouped], [{ name: 'perm', ints: [0, 2, 1, ...kernel.map((_, j) => j + 3)] }]);
      const wt = b.op1('Reshape', [swapped, b.i64([group * cg, m / group, ...kernel])]);
      this.add(x!, b.op1('Conv', [gy, wt], [
        { name: 'kernel_shape', ints: kernel }, { name: 'dilations', ints: dilations }, { name: 'pads', ints: flippedPads },
        { name: 'group', i: group },
      ]));
      return;
    }
    this.add(x!, this.transposeWindow(gy, w!, xs, ys, kernel, strides, dilations, pb, group));
  }

  private averagePool(n: NodeProto, i: number, gy: string): void {
    const x = n.inputs[0]!;
    const xs = this.shape(x);
    const ys = this.shape(n.outputs[0]!);
    const { kernel, strides, dilations, pb } = poolGeometry(n, xs, ys, (e, f) => this.fail(n, i, e, f));
    const weights = this.poolWeights.get(i);
    if (weights === undefined) throw new Error(`internal: no AveragePool weights for node ${i}`);
    const c = xs[1]!;
    const scaled = this.b.op1('Mul', [gy, this.b.f32(weights, [1, 1, ...ys.slice(2)])]);
    const ones = this.b.f32(new Float32Array(c * numel(kernel)).fill(1), [c, 1, ...kernel]);
    this.add(x, this.transposeWindow(scaled, ones, xs, ys, kernel, strides, dilations, pb, c));
  }

  private maxPool(n: NodeProto, i: number, gy: string): void {
    const b = this.b;
    const x = n.inputs[0]!;
    if (attrInt(n, 'storage_order', 0) !== 0) this.fail(n, i, 'MaxPool with storage_order 0', 'storage_order 1');
    const xs = this.shape(x);
    const ys = this.shape(n.outputs[0]!);
    const { r, kernel, strides, dilations } = poolGeometry(n, xs, ys, (e, f) => this.fail(n, i, e, f));
    // the same pooling again with its Indices output (flat indices into x, padding not counted)
    const attrs = n.attributes.map(copyAttribute).filter((a): a is AttrSpec => a !== undefined);
    const [, indices] = b.op('MaxPool', [x], attrs, 2);
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
    this.add(x, b.op1('Reshape', [gxFlat, xShape]));
  }
}

// ---------------------------------------------------------------------------------------------
// Public entry point
// ---------------------------------------------------------------------------------------------

/** Parse ONNX bytes into a ModelProto, NapoodError naming `file` when they are not one. */
function parse(bytes: Uint8Array, file: string): ModelProto {
  try {
    return decodeModel(bytes, file);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw new NapoodError(file, 'an ONNX model (a complete protobuf ModelProto)', e.message);
    throw e;
  }
}

/**
 * Build the gradient model of `bytes` (an ONNX classifier): inputs x and dL/d(output), outputs
 * dL/dx and the output itself. Runs the original model once (probe) to learn the static shapes.
 */
export async function buildGradientModel(bytes: Uint8Array, opts: GradientModelOptions = {}): Promise<GradientModel> {
  const file = opts.file ?? 'model';
  const model = parse(bytes, file);
  const plan = planGraph(model, { ...opts, file });
  const g = model.graph;

  // per-sample input dims
  const inputInfo = g.inputs.find((v) => v.name === plan.input)!;
  const declared = inputInfo.shape ?? [];
  if (inputInfo.elemType !== undefined && inputInfo.elemType !== DataType.FLOAT) {
    throw new NapoodError(file, `a float32 image input ${describe(plan.input)}`, `element type ${inputInfo.elemType}`);
  }
  const rank = declared.length > 0 ? declared.length : (opts.inputShape?.length ?? 0) + 1;
  const inputDims: number[] = [];
  for (let d = 1; d < rank; d++) {
    const dim = declared[d];
    const given = opts.inputShape?.[d - 1];
    if (typeof dim === 'number' && dim > 0) {
      if (given !== undefined && given !== dim) {
        throw new NapoodError('inputShape', `dims matching ${file}'s input [${declared.map((v) => v ?? '?').join(', ')}]`, shapeString(opts.inputShape!));
      }
      inputDims.push(dim);
    } else if (given !== undefined && Number.isInteger(given) && given > 0) {
      inputDims.push(given);
    } else {
      throw new NapoodError('inputShape', `the per-sample input dims of ${file}, whose input ${describe(plan.input)} has symbolic dims`,
        opts.inputShape === undefined ? 'none' : shapeString(opts.inputShape));
    }
  }
  const batch = typeof declared[0] === 'number' && declared[0] > 0 ? declared[0] : 2;

  // what to probe: shapes of every dependent tensor on the path, weights computed by nodes, values
  const order = backwardNodes(plan);
  const wanted = new Set<string>();
  const isStatic = (t: string): boolean => plan.initializers.has(t) || plan.constants.has(t);
  for (const i of order) {
    const n = g.nodes[i]!;
    for (const t of [...n.inputs, ...n.outputs]) {
      if (t === '' || t === plan.input) continue;
      if (plan.dependent.has(t)) wanted.add(t);
    }
    if ((n.opType === 'Conv' || n.opType === 'MatMul') && !isStatic(n.inputs[1]!)) wanted.add(n.inputs[1]!);
    if (n.opType === 'Concat') for (const t of n.inputs) if (!isStatic(t)) wanted.add(t);
    for (const t of valueInputs(n, plan.opset)) if (!isStatic(t) && !plan.dependent.has(t)) wanted.add(t);
  }
  wanted.add(plan.output);
  const probed = await probeRun(bytes, plan, [...wanted], inputDims, batch, opts.threads);
  probed.set(plan.input, { dims: [batch, ...inputDims] });
  for (const [t, p] of probed) {
    if (plan.dependent.has(t) && p.dims[0] !== batch) {
      const prod = plan.producer.get(t);
      throw new NapoodError(file, `tensors computed from the input to keep the batch as their first axis (probe batch ${batch})`,
        `${describe(t)}${prod !== undefined ? ` from ${nodeLabel(g.nodes[prod]!, prod)}` : ''} of shape ${shapeString(p.dims)}`);
    }
  }
  for (const i of order) {
    const n = g.nodes[i]!;
    for (const t of valueInputs(n, plan.opset)) {
      if (!isStatic(t) && probed.get(t)?.values === undefined) {
        throw new NapoodError(file, `a small constant ${describe(t)} for the gradient of ${nodeLabel(n, i)}`, 'a large or non-numeric tensor');
      }
    }
  }

  // AveragePool divisors as onnxruntime computes them
  const poolWeights = new Map<number, Float64Array>();
  for (const i of order) {
    const n = g.nodes[i]!;
    if (n.opType !== 'AveragePool') continue;
    const xs = probed.get(n.inputs[0]!)!.dims;
    const ys = probed.get(n.outputs[0]!)!.dims;
    poolWeights.set(i, await averagePoolWeights(model, n, xs, ys, file, nodeLabel(n, i), opts.threads));
  }

  // names
  const taken = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name)]);
  for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) taken.add(t);
  const builder = new Builder(taken, plan.opset);
  const seed = builder.fresh('dL_doutput');
  const back = new Backward(plan, builder, probed, plan.input, poolWeights);
  const gx = back.run(order, seed);
  const gradient = builder.fresh('dL_dinput');
  builder.nodes.push(encodeNode('Identity', [gx], [gradient], gradient));

  // assemble: forward copy (original bytes), generated nodes, the initializers they use
  const forwardRaw = plan.forward.map((i) => g.nodes[i]!.raw);
  const used = new Set<string>();
  for (const i of plan.forward) for (const t of g.nodes[i]!.inputs) used.add(t);
  const outputDims = probed.get(plan.output)!.dims.slice(1);
  const vi = (name: string, dims: readonly number[]): ValueInfoSpec => ({ name, elemType: DataType.FLOAT, shape: ['N', ...dims] });
  const modelBytes = encodeSubModel({
    irVersion: Math.max(model.irVersion, 6),
    producerName: 'napood gradient',
    opsetImportsRaw: model.opsetImports.map((o) => o.raw),
    functionsRaw: model.functionsRaw,
    graphName: 'napood_input_gradient',
    nodesRaw: [...forwardRaw, ...builder.nodes],
    initializersRaw: [...g.initializers.filter((t) => used.has(t.name)).map((t) => t.raw), ...builder.inits],
    inputs: [vi(plan.input, inputDims), vi(seed, outputDims)],
    outputs: [vi(gradient, inputDims), vi(plan.output, outputDims)],
  });
  return {
    bytes: modelBytes, input: plan.input, seed, gradient, output: plan.output, inputDims, outputDims, fixedBatch: fixedBatchOf(declared[0]),
    opset: plan.opset, differentiated: { ...back.counts }, nodeCount: forwardRaw.length + builder.nodes.length,
  };
}
