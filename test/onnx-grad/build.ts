/**
 * Small single-op ONNX models for the gradient tests, encoded with src/onnx/encode.ts, and an
 * exact reference for the input gradient: the Jacobian of the model as onnxruntime runs it, read
 * column by column from forward runs (J e_i = f(x + h e_i) − f(x)) / h), then Jᵀ · seed in float64.
 */
import * as ort from 'onnxruntime-node';
import { encodeNode, encodeTensor, type AttrSpec } from '../../src/onnx/encode.js';
import { DataType } from '../../src/onnx/proto.js';
import { encodeSubModel } from '../../src/onnx/write.js';

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: AttrSpec[];
  name?: string;
}

export interface InitSpec {
  name: string;
  dims: number[];
  values: ArrayLike<number>;
  type?: 'float32' | 'int64';
}

export interface ModelSpec {
  opset: number;
  /** Per-sample input dims. */
  input: number[];
  nodes: NodeSpec[];
  inits?: InitSpec[];
  /** Graph output (default: the last node's first output). */
  output?: string;
  irVersion?: number;
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const output = spec.output ?? spec.nodes[spec.nodes.length - 1]!.outputs[0]!;
  return encodeSubModel({
    irVersion: spec.irVersion ?? 8,
    producerName: 'napood test',
    opsetImportsRaw: [new Uint8Array([...[0x10, spec.opset]])], // OperatorSetIdProto { version: opset }
    functionsRaw: [],
    graphName: 'test',
    nodesRaw: spec.nodes.map((n, i) => encodeNode(n.op, n.inputs, n.outputs, n.name ?? `node${i}`, n.attrs ?? [])),
    initializersRaw: (spec.inits ?? []).map((t) => encodeTensor(t.name, t.dims, t.values, t.type ?? 'float32')),
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', ...spec.input] }],
    outputs: [{ name: output, elemType: DataType.FLOAT }],
  });
}

/** Deterministic pseudo-random numbers in [-1, 1) (xorshift32). */
export function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** A permutation of 1 … n as float32 (distinct values, gaps of 1: max pooling is locally linear within ±0.5). */
export function distinct(n: number, seed: number): Float32Array {
  const r = rand(n, seed);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => r[a]! - r[b]!);
  const out = new Float32Array(n);
  idx.forEach((j, rank) => { out[j] = rank + 1; });
  return out;
}

/** Jacobian of a one-input model at x, float64, stored column-major: column i (q values) is ∂y/∂x_i. */
export interface Jacobian {
  readonly p: number;
  readonly q: number;
  readonly columns: Float64Array;
}

/**
 * The Jacobian as onnxruntime runs the model: one batched forward run over x and x ± h e_i.
 * One-sided differences are exact for (piecewise) linear models around x (h = 0.5 keeps a max
 * pooling's argmax when the input values are distinct integers); `central` differences are for
 * smooth nonlinear models.
 */
export async function jacobian(bytes: Uint8Array, x: Float32Array, dims: number[], h = 0.5, central = false): Promise<Jacobian> {
  const p = x.length;
  const rows = central ? 2 * p : p + 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const batch = new Float32Array(rows * p);
    for (let r = 0; r < rows; r++) batch.set(x, r * p);
    for (let i = 0; i < p; i++) {
      if (central) {
        batch[2 * i * p + i] = x[i]! + h;
        batch[(2 * i + 1) * p + i] = x[i]! - h;
      } else {
        batch[i * p + i] = x[i]! + h;
      }
    }
    const r = await session.run({ x: new ort.Tensor('float32', batch, [rows, ...dims]) });
    const y = Object.values(r)[0]!.data as Float32Array;
    const q = y.length / rows;
    const columns = new Float64Array(p * q);
    for (let i = 0; i < p; i++) {
      for (let o = 0; o < q; o++) {
        columns[i * q + o] = central
          ? (y[2 * i * q + o]! - y[(2 * i + 1) * q + o]!) / (2 * h)
          : (y[i * q + o]! - y[p * q + o]!) / h;
      }
    }
    return { p, q, columns };
  } finally {
    await session.release();
  }
}

/** Jᵀ · seed in float64. */
export function jacobianTransposeSeed(j: Jacobian, seed: ArrayLike<number>): Float64Array {
  if (seed.length !== j.q) throw new Error(`seed has ${seed.length} values, the output ${j.q}`);
  const out = new Float64Array(j.p);
  for (let i = 0; i < j.p; i++) {
    let acc = 0;
    for (let o = 0; o < j.q; o++) acc += seed[o]! * j.columns[i * j.q + o]!;
    out[i] = acc;
  }
  return out;
}
