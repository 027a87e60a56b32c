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
 *
 * Here: `analyseGraph`, the candidate layers for multi-layer NAP and `headSubModel`; the graph
 * index and layout tests are in graph-index.ts, the pooling patterns in graph-pool.ts, the
 * logits and the head in graph-head.ts.
 */
import { NapoodError, describe } from '../errors.js';
import { MAX_POOL_CANDIDATES } from './limits.js';
import { attr, realInputs } from './nodes.js';
import { DataType, dataTypeName, type Dim, type ModelProto, type NodeProto } from './proto.js';
import { encodeSubModel } from './write.js';
import { ancestors, index, inputLayoutOf, layoutOf, reduceAxes, samePerm, TO_NHWC, transposePerm, type GraphIndex } from './graph-index.js';
import { findLogits, headNodes, linearWeights, type LinearHeadWeights } from './graph-head.js';
import { asPool, skipNoOps, type PoolCandidate, type PoolInfo } from './graph-pool.js';

export type HeadKind = 'linear' | 'mlp';
import type { Layout } from '../types.js';
export type { Layout };

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
