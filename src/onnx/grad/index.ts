/**
 * Input gradient of an ONNX classifier without autograd: from an inference graph, generate a new
 * ONNX model that takes the image x and the upstream gradient of the logits dL/df (N×K) and
 * outputs dL/dx = (∂f/∂x)ᵀ · dL/df (and the recomputed logits f(x)), built only from standard
 * ONNX ops that onnxruntime runs on CPU. Any scalar loss of the logits is differentiated by
 * feeding its dL/df, computed by the caller. Reverse-mode differentiation, done once on the graph:
 *
 *   - plan.ts: the forward nodes the logits depend on are copied as they are (their exact bytes),
 *     so every activation the backward pass needs is recomputed in the same run;
 *   - backward.ts: walking the nodes in reverse, each differentiable node adds, for every input
 *     that depends on x, its vector-Jacobian product; contributions to one tensor are summed;
 *   - rules/: the table of vector-Jacobian products, one entry per op, by op family (formulas as
 *     PyTorch's autograd derivatives.yaml, torch.onnx's symbolic definitions for the forward
 *     semantics). Nodes that only read shapes (Shape, Size), comparisons and Constant carry no
 *     gradient. Any other op on the path from x to the logits is refused with a NapoodError
 *     naming the node and op.
 *
 * Static facts the backward pass needs (tensor shapes, pads / axes computed by shape subgraphs) are
 * read from one probe run of the original model on a zero batch with those tensors as extra outputs
 * (probe.ts): the gradient model is therefore built for one input size (the batch stays dynamic).
 * Every tensor computed from the input must keep the batch as its first axis. Opset ≥ 11 (the ops
 * emitted here take the opset's own form: ReduceSum axes as attribute or input, ScatterElements
 * reduction).
 */
import { NapoodError, describe, shapeString } from '../../errors.js';
import { fixedBatchOf } from '../batching.js';
import { Builder, encodeNode } from '../encode.js';
import { prepareModelBytes } from '../external.js';
import { bytesText, MAX_BATCH_BYTES } from '../limits.js';
import { decodeOnnx, nodeTitle } from '../nodes.js';
import { DataType } from '../proto.js';
import { encodeSubModel, type ValueInfoSpec } from '../write.js';
import { checkRuntimeSupport, type OnnxRuntime } from '../runtime.js';
import { Backward } from './backward.js';
import { backwardNodes, planGraph, probeNames } from './plan.js';
import { checkProbed, probeRun } from './probe.js';
import { GRAD_RULES } from './rules/index.js';

export { GRADIENT_OPS } from './rules/index.js';
export type { GradRule, PrepareContext, VjpContext } from './rules/index.js';

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

/**
 * Build the gradient model of `bytes` (an ONNX classifier): inputs x and dL/d(output), outputs
 * dL/dx and the output itself. Runs the original model once on `runtime` (probe) to learn the
 * static shapes.
 */
export async function buildGradientModel(bytes: Uint8Array, opts: GradientModelOptions, runtime: OnnxRuntime): Promise<GradientModel> {
  const file = opts.file ?? 'model';
  bytes = await prepareModelBytes(bytes, file); // every tensor checked; external data refused (no folder to read it from)
  const model = decodeOnnx(bytes, file);
  checkRuntimeSupport(model, file, runtime);
  const plan = planGraph(model, file, opts.output);
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
    if (dim === 0) {
      throw new NapoodError(file, `an input with no dim of 0 (${describe(plan.input)})`, `dims [${declared.map((v) => v ?? '?').join(', ')}]`);
    }
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
  const perBytes = inputDims.reduce((a, b) => a * b, 4);
  if (perBytes * batch > MAX_BATCH_BYTES) {
    throw new NapoodError(opts.inputShape !== undefined ? 'inputShape' : file,
      `an input under 2 GiB per batch of ${batch} as float32 (${describe(plan.input)})`, `[${[batch, ...inputDims].join(', ')}]: ${bytesText(perBytes * batch)}`);
  }

  // the probe: shapes of every dependent tensor on the path, weights computed by nodes, values
  const order = backwardNodes(plan);
  const probed = await probeRun(runtime, bytes, plan, probeNames(plan, order), inputDims, batch, opts.threads);
  probed.set(plan.input, { dims: [batch, ...inputDims] });
  checkProbed(plan, probed, order, batch);

  // per-node work before emission (AveragePool divisors as onnxruntime computes them)
  const prepared = new Map<number, unknown>();
  for (const i of order) {
    const n = g.nodes[i]!;
    const prepare = GRAD_RULES.get(n.opType)?.prepare;
    if (prepare === undefined) continue;
    prepared.set(i, await prepare({
      model, n, i, file, label: nodeTitle(n, i), runtime, threads: opts.threads,
      shape: (t) => {
        const p = probed.get(t);
        if (p === undefined) throw new Error(`internal: no probed shape for ${t}`);
        return p.dims;
      },
    }));
  }

  // names
  const taken = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name)]);
  for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) taken.add(t);
  const builder = new Builder(taken, plan.opset);
  const seed = builder.fresh('dL_doutput');
  const back = new Backward(plan, builder, probed, prepared);
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
