/**
 * Recognising the global pooling before the classifier (graph.ts): GlobalAveragePool, ReduceMean
 * over the spatial axes (NCHW or NHWC), or AveragePool without padding, followed by Flatten /
 * Reshape / Squeeze to the pooled tensor; and looking through the no-op nodes (Identity,
 * Dropout, zero Pad) between the last activation and the pooling.
 */
import { describe } from '../errors.js';
import { attr, attrInt, nodeLabel, tensorNumbers } from './nodes.js';
import { constantTensor, dataConsumers, reduceAxes, spatialLayout, type GraphIndex } from './graph-index.js';
import type { Layout } from '../types.js';

export type PoolKind = 'GlobalAveragePool' | 'ReduceMean' | 'AveragePool';

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

export interface PoolCandidate {
  readonly nodeIndex: number;
  readonly info: PoolInfo;
  readonly input: string;
  readonly pooled: string;
  readonly pooledRank: 2 | 4;
}

/** If node i is a global pooling of a 4-D map, describe it (reasons for skipping go to `reasoning`). */
export function asPool(g: GraphIndex, i: number, reasoning: string[]): PoolCandidate | undefined {
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
export function skipNoOps(g: GraphIndex, t: string, reasoning: string[]): string {
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
