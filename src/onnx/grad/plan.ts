/**
 * Which nodes the gradient model needs, and in what order: the forward nodes the output depends
 * on (copied as they are), the tensors that depend differentiably on the image input, the nodes
 * to differentiate in reverse graph order (each checked against the rule table), and the tensors
 * the probe run must fetch for them (shapes, and the values of small non-constant inputs).
 */
import { NapoodError, describe } from '../../errors.js';
import { ancestors, checkGraph, constantNodeValue, nodeTitle, producerMap, realInputs } from '../nodes.js';
import type { ModelProto, TensorProto } from '../proto.js';
import { GRADIENT_OPS, GRAD_RULES } from './rules/index.js';

/** Ops whose outputs carry no gradient (they read shapes, compare, or are piecewise constant). */
const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ArgMax', 'ArgMin', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And',
  'Or', 'Xor', 'IsNaN', 'IsInf', 'NonZero', 'Sign', 'Floor', 'Ceil', 'Round', 'ConstantOfShape', 'Constant',
]);

const MIN_OPSET = 11;

export interface Plan {
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

/** Plan the gradient of `output` (default: the logits) with respect to the model's one image input. */
export function planGraph(model: ModelProto, file: string, output?: string): Plan {
  checkGraph(model, file); // no cycle, one producer per tensor, bounded node count
  const g = model.graph;
  const opsetImport = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = opsetImport?.version ?? 0;
  if (opset < MIN_OPSET) {
    throw new NapoodError(file, `an ONNX model at opset ≥ ${MIN_OPSET} for the input gradient`, `opset ${opset}`);
  }
  const initializers = new Map(g.initializers.map((t) => [t.name, t]));
  const inputs = realInputs(model);
  if (inputs.length !== 1) {
    throw new NapoodError(file, 'a model with one image input', `${inputs.length} inputs (${inputs.map((v) => describe(v.name)).join(', ')})`);
  }
  const input = inputs[0]!.name;
  const producer = producerMap(g.nodes);
  const constants = new Map<string, TensorProto>();
  for (const n of g.nodes) {
    const v = n.domain === '' ? constantNodeValue(n) : undefined;
    if (v !== undefined) constants.set(n.outputs[0]!, v);
  }
  const out = output ?? defaultOutput(model, producer);
  if (!producer.has(out)) {
    throw new NapoodError('output', `a tensor computed by ${file}`, describe(out));
  }

  // topological order check: every input is a graph input, an initializer or an earlier output
  const known = new Set<string>([...g.inputs.map((v) => v.name), ...initializers.keys(), '']);
  g.nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      if (!known.has(t)) {
        throw new NapoodError(file, 'nodes in topological order (ONNX requires it)', `${nodeTitle(n, i)} reads ${describe(t)} before it is computed`);
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
  if (!dependent.has(out)) {
    throw new NapoodError('output', `a tensor that depends on the input ${describe(input)}`, describe(out));
  }

  const forward = [...ancestors(g.nodes, producer, out)].sort((a, b) => a - b);
  return { model, file, opset, input, output: out, forward, dependent, initializers, constants, producer };
}

/** Nodes on the path input → output, in reverse order, checked against the supported ops. */
export function backwardNodes(plan: Plan): number[] {
  const g = plan.model.graph;
  const out: number[] = [];
  for (let k = plan.forward.length - 1; k >= 0; k--) {
    const i = plan.forward[k]!;
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => plan.dependent.has(o))) continue;
    if (n.domain !== '' && n.domain !== 'ai.onnx') {
      throw new NapoodError(plan.file, `ops napood can differentiate (${GRADIENT_OPS.join(', ')})`,
        `${nodeTitle(n, i)} of domain ${describe(n.domain)} on the path from the input to the logits`);
    }
    if (!GRAD_RULES.has(n.opType)) {
      throw new NapoodError(plan.file, `ops napood can differentiate (${GRADIENT_OPS.join(', ')})`,
        `op ${n.opType} (node ${nodeTitle(n, i)}) on the path from the input to the logits`);
    }
    out.push(i);
  }
  return out;
}

/** True when t is an initializer or the output of a Constant node. */
export function isStatic(plan: Plan, t: string): boolean {
  return plan.initializers.has(t) || plan.constants.has(t);
}

/** The non-dependent inputs of node n whose values its rule reads. */
export function valueInputs(plan: Plan, i: number): readonly string[] {
  const n = plan.model.graph.nodes[i]!;
  return GRAD_RULES.get(n.opType)?.valueInputs?.(n, plan.opset) ?? [];
}

/**
 * What the probe run must fetch for the nodes `order`: the shape of every dependent tensor on the
 * path, the shapes of non-constant inputs the rules read (weights computed by nodes), the values
 * of non-constant value inputs (pads, axes, bounds), and the output.
 */
export function probeNames(plan: Plan, order: readonly number[]): string[] {
  const g = plan.model.graph;
  const wanted = new Set<string>();
  for (const i of order) {
    const n = g.nodes[i]!;
    for (const t of [...n.inputs, ...n.outputs]) {
      if (t === '' || t === plan.input) continue;
      if (plan.dependent.has(t)) wanted.add(t);
    }
    for (const t of GRAD_RULES.get(n.opType)?.shapeInputs?.(n) ?? []) if (!isStatic(plan, t)) wanted.add(t);
    for (const t of valueInputs(plan, i)) if (!isStatic(plan, t) && !plan.dependent.has(t)) wanted.add(t);
  }
  wanted.add(plan.output);
  return [...wanted];
}
