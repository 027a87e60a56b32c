/**
 * The probe run: the original model once on a zero batch, with the tensors the backward pass
 * needs as extra outputs. It gives their static shapes (the gradient model is built for one input
 * size; the batch stays dynamic) and the values of small tensors computed by shape subgraphs
 * (pads, axes, slice bounds).
 */
import { NapoodError, describe, shapeString } from '../../errors.js';
import { nodeTitle } from '../nodes.js';
import { numel } from '../proto.js';
import { appendGraphOutputs } from '../write.js';
import { openSession, ortMessage, sessionOptions, type OnnxRuntime, type OnnxTensor } from '../runtime.js';
import { isStatic, valueInputs, type Plan } from './plan.js';

export interface Probed {
  readonly dims: number[];
  /** The values of a small (≤ 64 values) numeric tensor. */
  readonly values?: number[];
}

/** Run `bytes` once on a zero batch [batch, ...inputDims] and read `names`. */
export async function probeRun(runtime: OnnxRuntime, bytes: Uint8Array, plan: Plan, names: readonly string[], inputDims: readonly number[],
  batch: number, threads?: number): Promise<Map<string, Probed>> {
  const existing = new Set(plan.model.graph.outputs.map((o) => o.name));
  const extra = names.filter((t) => !existing.has(t));
  const edited = appendGraphOutputs(bytes, extra.map((name) => ({ name })));
  const session = await openSession(runtime, edited, sessionOptions(threads, 'disabled'), plan.file,
    'a model onnxruntime can load (probe run for the gradient model)');
  const dims = [batch, ...inputDims];
  const feeds = { [plan.input]: new runtime.Tensor('float32', new Float32Array(numel(dims)), dims) };
  let result: Record<string, OnnxTensor>;
  try {
    result = await session.run(feeds); // every output: see adapter.ts on the Node binding's fetch bug
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

/** Every dependent tensor keeps the batch first; every value a rule reads was fetched. */
export function checkProbed(plan: Plan, probed: ReadonlyMap<string, Probed>, order: readonly number[], batch: number): void {
  const g = plan.model.graph;
  for (const [t, p] of probed) {
    if (plan.dependent.has(t) && p.dims[0] !== batch) {
      const prod = plan.producer.get(t);
      throw new NapoodError(plan.file, `tensors computed from the input to keep the batch as their first axis (probe batch ${batch})`,
        `${describe(t)}${prod !== undefined ? ` from ${nodeTitle(g.nodes[prod]!, prod)}` : ''} of shape ${shapeString(p.dims)}`);
    }
  }
  for (const i of order) {
    const n = g.nodes[i]!;
    for (const t of valueInputs(plan, i)) {
      if (!isStatic(plan, t) && probed.get(t)?.values === undefined) {
        throw new NapoodError(plan.file, `a small constant ${describe(t)} for the gradient of ${nodeTitle(n, i)}`, 'a large or non-numeric tensor');
      }
    }
  }
}
