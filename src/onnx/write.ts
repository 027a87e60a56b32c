/**
 * Writing ONNX models from encoded pieces of another, never re-encoding what is copied.
 *
 * Lossless edits: a protobuf parser merges an embedded message field that appears twice
 * (repeated fields are concatenated), so `appendGraphOutputs` appends one extra `ModelProto.graph`
 * field holding only `GraphProto.output` entries to the model bytes: every original byte is
 * kept, in place. `encodeSubModel` assembles a new model from the `raw` bytes of decoded nodes,
 * initializers, opset imports and functions (proto.ts).
 */
import type { Dim } from './proto.js';
import { EMPTY, concatBytes, lenField, stringField, varintField } from './wire.js';

/** What to write into a ValueInfoProto: a name and, optionally, a tensor type. */
export interface ValueInfoSpec {
  readonly name: string;
  readonly elemType?: number;
  /** Dims; strings are symbolic (dim_param), null leaves a dimension unknown. */
  readonly shape?: readonly Dim[];
}

export function encodeValueInfo(v: ValueInfoSpec): Uint8Array {
  const parts = [stringField(1, v.name)];
  if (v.elemType !== undefined || v.shape !== undefined) {
    const tensor: Uint8Array[] = [];
    if (v.elemType !== undefined) tensor.push(varintField(1, v.elemType));
    if (v.shape !== undefined) {
      const dims = v.shape.map((d) =>
        lenField(1, d === null ? EMPTY : typeof d === 'number' ? varintField(1, d) : stringField(2, d)),
      );
      tensor.push(lenField(2, concatBytes(dims)));
    }
    parts.push(lenField(2, lenField(1, concatBytes(tensor))));
  }
  return concatBytes(parts);
}

/**
 * Append graph outputs to an encoded ModelProto without touching its bytes: the result is
 * `model` followed by one `ModelProto.graph` field (7) holding only `GraphProto.output` (12)
 * entries, which a protobuf parser merges into the existing graph.
 */
export function appendGraphOutputs(model: Uint8Array, outputs: readonly ValueInfoSpec[]): Uint8Array {
  if (outputs.length === 0) return model;
  const graph = concatBytes(outputs.map((o) => lenField(12, encodeValueInfo(o))));
  return concatBytes([model, lenField(7, graph)]);
}

/** Parts of a new model assembled from encoded pieces of another (see graph.ts `headSubModel`). */
export interface SubModelSpec {
  readonly irVersion: number;
  readonly producerName: string;
  readonly opsetImportsRaw: readonly Uint8Array[];
  readonly functionsRaw: readonly Uint8Array[];
  readonly graphName: string;
  readonly nodesRaw: readonly Uint8Array[];
  readonly initializersRaw: readonly Uint8Array[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
}

export function encodeSubModel(s: SubModelSpec): Uint8Array {
  const graph = concatBytes([
    ...s.nodesRaw.map((n) => lenField(1, n)),
    stringField(2, s.graphName),
    ...s.initializersRaw.map((t) => lenField(5, t)),
    ...s.inputs.map((v) => lenField(11, encodeValueInfo(v))),
    ...s.outputs.map((v) => lenField(12, encodeValueInfo(v))),
  ]);
  return concatBytes([
    varintField(1, s.irVersion),
    stringField(2, s.producerName),
    lenField(7, graph),
    ...s.opsetImportsRaw.map((o) => lenField(8, o)),
    ...s.functionsRaw.map((f) => lenField(25, f)),
  ]);
}
