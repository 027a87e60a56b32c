/**
 * Reverse-mode emission: walking the planned nodes in reverse, each node's rule adds, for every
 * input that depends on x, its vector-Jacobian product; contributions to one tensor are summed
 * (ONNX Sum). Shapes and small values come from the probe run.
 */
import { NapoodError, describe, shapeString } from '../../errors.js';
import type { Builder } from '../encode.js';
import { nodeTitle, tensorNumbers } from '../nodes.js';
import type { Plan } from './plan.js';
import type { Probed } from './probe.js';
import { GRAD_RULES, type VjpContext } from './rules/index.js';

export class Backward {
  private readonly grads = new Map<string, string[]>();
  readonly counts: Record<string, number> = {};

  /** `prepared`: what each node's rule `prepare` returned, by node index. */
  constructor(private readonly plan: Plan, private readonly b: Builder, private readonly probed: ReadonlyMap<string, Probed>,
    private readonly prepared: ReadonlyMap<number, unknown>) {}

  shape(t: string): number[] {
    const p = this.probed.get(t);
    if (p !== undefined) return p.dims;
    const init = this.plan.initializers.get(t) ?? this.plan.constants.get(t);
    if (init !== undefined) return init.dims.slice();
    throw new Error(`internal: no shape for ${t}`);
  }

  value(t: string): number[] {
    const init = this.plan.initializers.get(t) ?? this.plan.constants.get(t);
    if (init !== undefined) return Array.from(tensorNumbers(init, this.plan.file));
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

  /** The context a rule sees for node i. */
  private context(i: number): VjpContext {
    const n = this.plan.model.graph.nodes[i]!;
    const fail = (expected: string, found: string): never => {
      throw new NapoodError(this.plan.file, `${expected} (node ${nodeTitle(n, i)})`, found);
    };
    return {
      n, i, b: this.b, opset: this.plan.opset, prepared: this.prepared.get(i), fail,
      shape: (t) => this.shape(t),
      value: (t) => this.value(t),
      dep: (t): t is string => this.dep(t),
      add: (t, g) => this.add(t, g),
      grad: (t) => this.grad(t),
      unbroadcast: (g, inT, outT) => {
        const si = this.shape(inT);
        const so = this.shape(outT);
        if (si.length !== so.length) {
          fail('inputs of equal rank for a broadcasting op on the path to the logits', `${shapeString(si)} and output ${shapeString(so)}`);
        }
        const axes: number[] = [];
        for (let k = 0; k < so.length; k++) if (si[k] === 1 && so[k] !== 1) axes.push(k);
        return axes.length === 0 ? g : this.b.reduceSum(g, axes);
      },
    };
  }

  /** Emit the backward pass of the nodes `order` (reverse graph order) from the seed gradient of the output; the gradient of the input. */
  run(order: readonly number[], seed: string): string {
    const g = this.plan.model.graph;
    this.add(this.plan.output, seed);
    for (const i of order) {
      const n = g.nodes[i]!;
      const rule = GRAD_RULES.get(n.opType);
      if (rule === undefined) throw new Error(`internal: no gradient rule for ${n.opType}`);
      const gy = this.grad(n.outputs[0]!);
      for (let k = 1; k < n.outputs.length; k++) {
        const o = n.outputs[k]!;
        if (o !== '' && this.grads.has(o) && rule.multiOutput !== true) {
          throw new NapoodError(this.plan.file, `gradients through the first output only (node ${nodeTitle(n, i)})`,
            `a gradient flowing into output ${k} (${describe(o)})`);
        }
      }
      if (gy === undefined && (rule.multiOutput !== true || !n.outputs.some((o) => this.grads.has(o)))) continue;
      this.counts[n.opType] = (this.counts[n.opType] ?? 0) + 1;
      // gy is undefined only for a multi-output rule whose first output receives nothing (it reads c.grad)
      rule.vjp(this.context(i), gy as string);
    }
    const gx = this.grad(this.plan.input);
    if (gx === undefined) throw new Error('internal: no gradient reached the input');
    return gx;
  }
}
